/**
 * The jimage reader on the real lib/modules of Debian 12's openjdk-17-jre-headless (the legacy-java
 * fixture's root filesystem): every module of the release file, their module-info read by ranges
 * (bytes read counted), the home's files placed in their modules; hostile variants made from the
 * real file (cut short, bad magic, a location past the file, huge counts, the other byte order)
 * are a JimageError, never a crash. A small image written here from the format (java.base only,
 * no jdk.jlink) is not relinkable: the facts say why, and the JRE is copied trimmed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bufferSource, FileSource, type ByteSource } from '../../../../src/core/byte-source.js'
import { readModuleInfo } from '../../../../src/inspect/java/class-file.js'
import { javaFacts } from '../../../../src/inspect/java/facts.js'
import { JimageError, readJimage } from '../../../../src/inspect/java/jimage.js'
import { readRuntimeImage } from '../../../../src/inspect/java/runtime-image.js'
import { relinkSteps } from '../../../../src/advise/java-relink.js'
import { ensureFixtures } from '../../../fixtures/index.js'
import { DirRootFs } from '../../../helpers/dir-rootfs.js'
import { hasTool } from '../../../helpers/tools.js'

const HOME = '/usr/lib/jvm/java-17-openjdk-amd64'
const usable = hasTool('mmdebstrap')
let root = ''
let modulesPath = ''
let work = ''

beforeAll(async () => {
  if (!usable) return
  const fx = await ensureFixtures(['legacy-java-rootfs'])
  root = fx.rootfs['legacy-java']!
  modulesPath = join(root, HOME, 'lib/modules')
  work = mkdtempSync(join(tmpdir(), 'slim-jimage-test-'))
}, 1_800_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

/** A source that counts the bytes asked for. */
function counted(src: ByteSource): ByteSource & { bytesRead: number } {
  const c = { size: src.size, bytesRead: 0, read: (o: number, n: number) => ((c.bytesRead += n), src.read(o, n)) }
  return c
}

const openFile = (fs: DirRootFs) => async (p: string): Promise<ByteSource> => new FileSource(join(fs.root, p))

describe.skipIf(!usable)('jimage: Debian 12 openjdk-17-jre-headless lib/modules', () => {
  it('lists the release file\'s modules and reads module-info by ranges, a small part of the file', () => {
    const release = readFileSync(join(root, HOME, 'release'), 'utf8')
    const listed = /^MODULES="([^"]+)"/m.exec(release)![1]!.split(' ').sort()
    const src = new FileSource(modulesPath)
    try {
      const c = counted(src)
      const img = readJimage(c)
      expect(img.littleEndian).toBe(true)
      expect(img.version).toBe('1.0')
      expect([...img.modules.keys()].sort()).toEqual(listed)
      const base = img.modules.get('java.base')!
      expect(base.moduleInfo!.compressed).toBe(false)
      const info = readModuleInfo(img.read(base.moduleInfo!, 1 << 20))
      expect(info.name).toBe('java.base')
      expect(info.packages).toEqual(expect.arrayContaining(['java.lang', 'jdk.internal.misc']))
      const jlink = readModuleInfo(img.read(img.modules.get('jdk.jlink')!.moduleInfo!, 1 << 20))
      expect(jlink.name).toBe('jdk.jlink')
      expect(img.resources.find((r) => r.module === 'java.base' && r.path === 'java/lang/Object.class')).toBeDefined()
      // The index and two module-info files: under 5 % of a file of over 100 MB.
      expect(src.size).toBeGreaterThan(100e6)
      expect(c.bytesRead).toBeLessThan(0.05 * src.size)
    } finally {
      src.close()
    }
  })

  it('places the home\'s files in their modules; lib/modules and the CDS archives in none; unknown files with java.base', async () => {
    const fs = new DirRootFs(root)
    const { jdk, files } = await readRuntimeImage(fs, HOME, `${HOME}/lib/modules`, 17, openFile(fs))
    expect(jdk.problems).toEqual([])
    expect(jdk.modules.size).toBe(70)
    expect(jdk.packageOwner.get('java.util.logging')).toBe('java.logging')
    expect(jdk.modules.get('java.base')!.native).toEqual(expect.arrayContaining(['lib/libnet.so', 'lib/server/libjvm.so', 'lib/libjli.so']))
    expect(jdk.modules.get('java.base')!.native).not.toContain('lib/libawt.so')
    expect(jdk.modules.get('java.desktop')!.native).toEqual(expect.arrayContaining(['lib/libawt.so', 'lib/libfontmanager.so']))
    const by = new Map(files.map((f) => [f.path, f]))
    expect(by.get('lib/modules')!.leftOut).toMatch(/jlink writes/)
    expect(by.get('lib/server/classes.jsa')!.leftOut).toMatch(/CDS archive/)
    expect(by.get('lib/libsyslookup.so')!.module).toBe('jdk.incubator.foreign')
    expect(by.get('lib/jfr/default.jfc')!.module).toBe('jdk.jfr')
    expect(by.get('conf/logging.properties')!.module).toBe('java.logging')
    // Debian's own files: not in the table, kept with java.base.
    expect(by.get('lib/jar.binfmt')).toMatchObject({ module: 'java.base', known: false })
    // Links into /etc are read through (lib/jvm.cfg, lib/security/cacerts): files of java.base.
    expect(by.get('lib/jvm.cfg')).toMatchObject({ module: 'java.base', known: true })
    expect(by.get('lib/security/cacerts')!.bytes).toBeGreaterThan(1000)
  })

  it('relinking java.base and java.logging: one extract, java.logging\'s jmod, java.base last with hashes, every value escaped', async () => {
    const fs = new DirRootFs(root)
    const { files } = await readRuntimeImage(fs, HOME, `${HOME}/lib/modules`, 17, openFile(fs))
    const r = relinkSteps({ home: HOME, java: `${HOME}/bin/java`, image: `${HOME}/lib/modules`, modules: ['java.base', 'java.logging'], files })
    if (typeof r === 'string') throw new Error(r)
    expect(r.steps.map((s) => s.at(-1))).toEqual([`${HOME}/lib/modules`, '/slim-jre-work/java.logging.jmod', '/slim-jre-work/java.base.jmod'])
    expect(r.steps[0]).toContain('regex:/(java\\.base|java\\.logging)/.*')
    const excl = (s: string[]) => s[s.indexOf('--exclude') + 1]!.slice(6).split('|')
    expect(excl(r.steps[1]!)).toEqual(expect.arrayContaining(['libnet\\.so', 'server/libjvm\\.so', 'modules']))
    expect(excl(r.steps[1]!)).not.toContain('logging\\.properties')
    expect(excl(r.steps[2]!)).toContain('logging\\.properties')
    expect(r.steps[2]!.slice(-5)).toEqual(['--hash-modules', '.*', '--module-path', '/slim-jre-work', '/slim-jre-work/java.base.jmod'])
    expect(excl(r.steps[2]!)).toContain('jdk/internal/module/SystemModules\\$.*\\.class')
    // A file name or home a regex or path list could misread: no steps, a reason.
    expect(relinkSteps({ home: HOME, java: `${HOME}/bin/java`, image: `${HOME}/lib/modules`, modules: ['java.base'], files: [...files, { path: 'lib/a|b.so', bytes: 1, module: 'java.base' }] })).toMatch(/file name slim does not write/)
    expect(relinkSteps({ home: '/opt/j:dk', java: '/opt/j:dk/bin/java', image: '/opt/j:dk/lib/modules', modules: ['java.base'], files })).toMatch(/characters slim does not write/)
    expect(relinkSteps({ home: HOME, java: `${HOME}/bin/java`, image: `${HOME}/lib/modules`, modules: ['java.base', 'x)|.*'], files })).toMatch(/not a Java module name/)
  })
})

describe.skipIf(!usable)('jimage: hostile variants of the real file', () => {
  /** The real file's index and the first resources (enough for every test here). */
  const head = (): Buffer => {
    const src = new FileSource(modulesPath)
    try {
      return Buffer.from(src.read(0, 4 * 1024 * 1024))
    } finally {
      src.close()
    }
  }
  const indexBytes = (b: Buffer) => 28 + b.readUInt32LE(16) * 8 + b.readUInt32LE(20) + b.readUInt32LE(24)

  it('cut short at any length (header, tables, locations, strings, resources) is a JimageError', () => {
    const b = head()
    const idx = indexBytes(b)
    for (const n of [0, 3, 27, 28, 1000, idx >> 1, idx - 1, idx, idx + 100, b.length]) expect(() => readJimage(bufferSource(b.subarray(0, n))), `cut at ${n}`).toThrow(JimageError)
  })

  it('a bad magic, another version, huge counts and a location or name past its table are JimageErrors', () => {
    const b = head()
    const with_ = (f: (x: Buffer) => void): Buffer => {
      const x = Buffer.from(b)
      f(x)
      return x
    }
    expect(() => readJimage(bufferSource(with_((x) => x.writeUInt32LE(0xcafebabe, 0))))).toThrow(/no jimage magic/)
    expect(() => readJimage(bufferSource(with_((x) => x.writeUInt32LE(0x00020000, 4))))).toThrow(/version 2\.0/)
    expect(() => readJimage(bufferSource(with_((x) => x.writeUInt32LE(0xffffffff, 16))))).toThrow(/more than the/)
    expect(() => readJimage(bufferSource(with_((x) => x.writeUInt32LE(0x7fffffff, 20))))).toThrow(/more than the|past the end/)
    const table = b.readUInt32LE(16)
    // The first location's offset into the attributes, past them.
    expect(() => readJimage(bufferSource(with_((x) => x.writeUInt32LE(0x7ffffff0, 28 + table * 4))))).toThrow(/runs past the location attributes/)
    // A location whose first attribute is an unknown kind.
    const locAt = 28 + table * 8 + b.readUInt32LE(28 + table * 4)
    expect(() => readJimage(bufferSource(with_((x) => (x[locAt] = (9 << 3) | 0))))).toThrow(/attribute kind 9/)
  })

  it('the same image in big-endian order reads the same; a compressed resource is refused, not decompressed', () => {
    const b = head()
    const table = b.readUInt32LE(16)
    const big = Buffer.from(b)
    // Header and both tables are in the platform's order; locations and strings are byte streams.
    for (let i = 0; i < 7 + table * 2; i++) big.writeUInt32BE(b.readUInt32LE(i * 4), i * 4)
    // The swapped index over the real file's resources: the same modules, the same module-info.
    const file = new FileSource(modulesPath)
    try {
      const over: ByteSource = { size: file.size, read: (o, n) => (o + n <= big.length ? big.subarray(o, o + n) : file.read(o, n)) }
      const img = readJimage(over)
      expect(img.littleEndian).toBe(false)
      expect(img.modules.size).toBe(70)
      expect(readModuleInfo(img.read(img.modules.get('java.logging')!.moduleInfo!, 1 << 20)).name).toBe('java.logging')
    } finally {
      file.close()
    }
    const src = new FileSource(modulesPath)
    try {
      const img = readJimage(src)
      const r = img.modules.get('java.base')!.moduleInfo!
      expect(() => img.read({ ...r, compressed: true }, 1 << 20)).toThrow(/stored compressed/)
      expect(() => img.read(r, 10)).toThrow(/more than the 10/)
    } finally {
      src.close()
    }
  })
})

/** A jimage written from the format: header, redirect (unused by slim: zeros), offsets, locations, strings, resources. */
function writeJimage(resources: { module: string; path: string; bytes: Buffer }[]): Buffer {
  const strings: Buffer[] = [Buffer.from([0])]
  let stringsSize = 1
  const strAt = new Map<string, number>([['', 0]])
  const str = (s: string): number => {
    if (!strAt.has(s)) {
      strAt.set(s, stringsSize)
      strings.push(Buffer.from(`${s}\0`))
      stringsSize += s.length + 1
    }
    return strAt.get(s)!
  }
  const attr = (kind: number, v: number): number[] => {
    const bytes: number[] = []
    do bytes.unshift(v & 0xff), (v = Math.floor(v / 256))
    while (v > 0)
    return [(kind << 3) | (bytes.length - 1), ...bytes]
  }
  const locations: number[] = []
  const offsets: number[] = []
  let data = 0
  for (const r of resources) {
    const slash = r.path.lastIndexOf('/')
    const file = r.path.slice(slash + 1)
    const dot = file.lastIndexOf('.')
    offsets.push(locations.length)
    locations.push(...attr(1, str(r.module)), ...attr(2, str(slash < 0 ? '' : r.path.slice(0, slash))), ...attr(3, str(file.slice(0, dot))), ...attr(4, str(file.slice(dot + 1))), ...attr(5, data), ...attr(7, r.bytes.length), 0)
    data += r.bytes.length
  }
  const header = Buffer.alloc(28 + offsets.length * 8)
  ;[0xcafedada, 0x00010000, 0, resources.length, resources.length, locations.length, stringsSize].forEach((v, i) => header.writeUInt32LE(v, i * 4))
  offsets.forEach((o, i) => header.writeUInt32LE(o, 28 + resources.length * 4 + i * 4))
  return Buffer.concat([header, Buffer.from(locations), ...strings, ...resources.map((r) => r.bytes)])
}

describe.skipIf(!usable)('a JRE whose lib/modules has no jdk.jlink', () => {
  it('is not relinkable (the facts say why, no jlink source); with jdk.jlink written in, the same home is', async () => {
    const src = new FileSource(modulesPath)
    const img = readJimage(src)
    const info = (m: string) => img.read(img.modules.get(m)!.moduleInfo!, 1 << 20)
    const base = { module: 'java.base', path: 'module-info.class', bytes: info('java.base') }
    const jlink = { module: 'jdk.jlink', path: 'module-info.class', bytes: info('jdk.jlink') }
    src.close()
    const make = (name: string, resources: (typeof base)[]): DirRootFs => {
      const home = join(work, name, HOME)
      mkdirSync(join(home, 'bin'), { recursive: true })
      mkdirSync(join(home, 'lib/server'), { recursive: true })
      writeFileSync(join(home, 'bin/java'), 'launcher')
      writeFileSync(join(home, 'lib/server/libjvm.so'), 'jvm')
      writeFileSync(join(home, 'lib/modules'), writeJimage(resources))
      return new DirRootFs(join(work, name))
    }
    const facts = async (fs: DirRootFs) =>
      javaFacts({ rootfs: fs, home: HOME, launcher: `${HOME}/bin/java`, flags: [], classpath: ['/app'], modulePath: [], version: '17.0.21.1', open: openFile(fs), readFile: (p) => fs.readFile(p) })
    const without = await facts(make('no-jlink', [base]))
    expect(without.facts.jlink).toBeUndefined()
    expect(without.facts.noModulesWhy).toMatch(/no jmods\/ directory|no bin\/jlink/)
    expect(without.facts.noModulesWhy).toMatch(/its lib\/modules has no jdk\.jlink module/)
    const withJlink = await facts(make('with-jlink', [base, jlink]))
    expect(withJlink.facts.jlink).toMatchObject({ kind: 'runtime-image', tool: `${HOME}/bin/java`, moduleCount: 2 })
  })
})
