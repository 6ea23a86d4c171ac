/**
 * The Java readers on real class files and jmods: classes compiled in setup with the host's javac
 * (the app's references, string literals and by-name calls), the host JDK's jmods (module-info,
 * packages, native libraries), the module decision for jlink, and class files cut short or
 * corrupted (the shared corpus has no class or jar files, so the hostile inputs are made from
 * real ones here): a bad file is a ClassFileError, never a crash or a read past the end.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bufferSource } from '../../../../src/core/byte-source.js'
import { ClassFileError, classRefs, readModuleInfo } from '../../../../src/inspect/java/class-file.js'
import { readAppClasses } from '../../../../src/inspect/java/app-classes.js'
import { readJmods } from '../../../../src/inspect/java/jmods.js'
import { decideModules } from '../../../../src/inspect/java/modules.js'
import { nocoopsReason } from '../../../../src/inspect/java/unused.js'
import { JMOD_MAGIC, openZip } from '../../../../src/inspect/java/zip.js'
import { DirRootFs } from '../../../helpers/dir-rootfs.js'
import { hasTool } from '../../../helpers/tools.js'

const JDK = '/usr/lib/jvm/java-17-openjdk-amd64'
const haveJdk = hasTool('javac') && hasTool('jar') && existsSync(join(JDK, 'jmods/java.base.jmod'))

const USES = `package com.example;
import java.util.logging.Logger;
public class Uses {
  public static void main(String[] a) throws Exception {
    Logger.getLogger("x").info("hi");
    javax.net.ssl.SSLContext.getDefault();
    Class.forName("java.net.http.HttpClient");
    System.out.println(new java.text.SimpleDateFormat("yyyy").format(new java.util.Date()));
  }
  static String describe(java.sql.Connection c) { return "db"; }
}
`
const PLAIN = `package com.example.plain;
public class Plain { public static void main(String[] a) { System.out.println(java.time.Instant.EPOCH); } }
`

let work = ''
const root = () => join(work, 'root')

beforeAll(() => {
  if (!haveJdk) return
  work = mkdtempSync(join(tmpdir(), 'slim-java-test-'))
  mkdirSync(join(work, 'src'), { recursive: true })
  writeFileSync(join(work, 'src/Uses.java'), USES)
  writeFileSync(join(work, 'src/Plain.java'), PLAIN)
  execFileSync('javac', ['--release', '17', '-d', join(root(), 'app/classes'), join(work, 'src/Uses.java')])
  execFileSync('javac', ['--release', '17', '-d', join(work, 'plain'), join(work, 'src/Plain.java')])
  // A jar with a service provider file for java.sql.Driver and the Plain class.
  mkdirSync(join(work, 'plain/META-INF/services'), { recursive: true })
  writeFileSync(join(work, 'plain/META-INF/services/java.sql.Driver'), 'com.example.plain.Plain\n')
  mkdirSync(join(root(), 'app/lib'), { recursive: true })
  execFileSync('jar', ['--create', '--file', join(root(), 'app/lib/plain.jar'), '-C', join(work, 'plain'), '.'])
}, 120_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe.skipIf(!haveJdk)('class files compiled by javac', () => {
  it('names the classes, descriptors, string literals and by-name calls of a class', () => {
    const r = classRefs(readFileSync(join(root(), 'app/classes/com/example/Uses.class')))
    expect(r.name).toBe('com/example/Uses')
    expect(r.classes).toContain('java/util/logging/Logger')
    expect(r.classes).toContain('javax/net/ssl/SSLContext')
    expect(r.classes).toContain('java/sql/Connection') // only in a method descriptor
    expect(r.classes.has('com/example/Uses')).toBe(false)
    expect(r.strings).toContain('java.net.http.HttpClient')
    expect(r.calls).toContain('java/lang/Class.forName')
  })

  it('reads the host JDK\'s java.base module-info from its jmod', async () => {
    const src = bufferSource(readFileSync(join(JDK, 'jmods/java.base.jmod')))
    expect(src.read(0, 4).equals(JMOD_MAGIC)).toBe(true)
    const zip = await openZip(src, 4)
    const info = readModuleInfo(await zip.read('classes/module-info.class', 1 << 20))
    zip.close()
    expect(info.name).toBe('java.base')
    expect(info.exports).toContain('java.lang')
    expect(info.exports).not.toContain('jdk.internal.misc')
    expect(info.packages).toContain('jdk.internal.misc') // ModulePackages lists the unexported ones too
    expect(info.requires).toEqual([])
  })

  it('maps the app\'s packages to the JDK modules jlink needs, with the providers it would not add', async () => {
    const jdk = await readJmods(new DirRootFs('/'), `${JDK}/jmods`, async (p) => bufferSource(readFileSync(p)))
    expect(jdk.problems).toEqual([])
    expect(jdk.modules.size).toBeGreaterThan(60)
    expect(jdk.packageOwner.get('java.util.logging')).toBe('java.logging')
    expect(jdk.modules.get('java.base')!.native).toContain('lib/server/libjvm.so')
    const fs = new DirRootFs(root())
    const app = await readAppClasses({ rootfs: fs, open: async (p) => bufferSource(await fs.readFile(p)), readFile: (p) => fs.readFile(p) }, ['/app/classes', '/app/lib/*'])
    expect(app.classes).toBe(2)
    expect(app.jars).toEqual(['/app/lib/plain.jar'])
    expect(app.services.get('java.sql.Driver')).toBe('/app/lib/plain.jar')
    const d = decideModules(app, jdk, ['-agentlib:jdwp=transport=dt_socket'])
    const names = d.modules.map((m) => m.name)
    expect(names[0]).toBe('java.base')
    expect(names).toEqual(expect.arrayContaining(['java.logging', 'java.sql', 'java.net.http', 'jdk.crypto.ec', 'jdk.localedata', 'jdk.jdwp.agent']))
    expect(names).not.toContain('java.desktop')
    expect(d.modules.find((m) => m.name === 'java.net.http')!.why).toMatch(/string .* names java\.net\.http\.HttpClient/)
    expect(d.modules.find((m) => m.name === 'jdk.crypto.ec')!.why).toMatch(/javax\.net\.ssl.*jlink adds jdk\.crypto\.ec only when asked/)
    expect(d.unresolved).toEqual([])
    // The plain classes alone (a directory: its META-INF/services is a jar's, not read here): java.base only.
    const plain = await readAppClasses({ rootfs: new DirRootFs(work), open: async (p) => bufferSource(readFileSync(join(work, p))), readFile: async (p) => readFileSync(join(work, p)) }, ['/plain'])
    expect(decideModules(plain, jdk, []).modules.map((m) => m.name)).toEqual(['java.base'])
  }, 120_000)

  it('a class file cut at any length, or with a corrupted constant pool, is a ClassFileError', () => {
    const good = readFileSync(join(root(), 'app/classes/com/example/Uses.class'))
    let errors = 0
    for (let n = 0; n < good.length; n += 7) {
      try {
        classRefs(good.subarray(0, n))
      } catch (e) {
        expect(e).toBeInstanceOf(ClassFileError)
        errors++
      }
    }
    expect(errors).toBeGreaterThan(good.length / 14)
    // A constant pool count past the real one and an unknown tag.
    const bigCount = Buffer.from(good)
    bigCount.writeUInt16BE(0xffff, 8)
    expect(() => classRefs(bigCount)).toThrow(ClassFileError)
    const badTag = Buffer.from(good)
    badTag[10] = 99
    expect(() => classRefs(badTag)).toThrow(/unknown constant pool tag 99/)
    expect(() => readModuleInfo(good)).toThrow(/no Module attribute/)
    expect(() => classRefs(Buffer.from('not a class'))).toThrow(/CAFEBABE/)
  })
})

describe.skipIf(!haveJdk)('jars cut short or inflating past the bound', () => {
  it('a truncated jar is an error from openZip; an entry over the bound is refused before it is inflated', async () => {
    const jar = readFileSync(join(root(), 'app/lib/plain.jar'))
    for (const n of [0, 10, jar.length >> 1, jar.length - 10]) await expect(openZip(bufferSource(jar.subarray(0, n)))).rejects.toThrow()
    const zip = await openZip(bufferSource(jar))
    const cls = zip.entries.find((e) => e.name.endsWith('Plain.class'))!
    await expect(zip.read(cls.name, cls.size - 1)).rejects.toThrow(/over the \d+-byte bound/)
    expect((await zip.read(cls.name, cls.size)).readUInt32BE(0)).toBe(0xcafebabe)
    zip.close()
    // The app reader names an unreadable jar as a problem and goes on.
    const fs = new DirRootFs(root())
    writeFileSync(join(root(), 'app/lib/broken.jar'), jar.subarray(0, jar.length >> 1))
    try {
      const app = await readAppClasses({ rootfs: fs, open: async (p) => bufferSource(await fs.readFile(p)), readFile: (p) => fs.readFile(p) }, ['/app/lib/*'])
      expect(app.classes).toBe(1)
      expect(app.problems.join('\n')).toMatch(/broken\.jar: not readable as a jar/)
    } finally {
      rmSync(join(root(), 'app/lib/broken.jar'))
    }
  })
})

describe('compressed oops', () => {
  it('keeps the no-compressed-oops CDS archive only when the flags can turn compressed oops off', () => {
    expect(nocoopsReason([])).toBeUndefined()
    expect(nocoopsReason(['-Xmx4g', '-Dx=y'])).toBeUndefined()
    expect(nocoopsReason(['-Xmx32g'])).toMatch(/32 GiB/)
    expect(nocoopsReason(['-Xmx40000m'])).toMatch(/32 GiB/)
    expect(nocoopsReason(['-XX:-UseCompressedOops'])).toMatch(/UseCompressedOops/)
    expect(nocoopsReason(['-XX:MaxRAMPercentage=75'])).toMatch(/host's memory/)
  })
})
