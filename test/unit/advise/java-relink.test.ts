/**
 * The Java runtime plan for a JRE whose own lib/modules holds jdk.jlink: relinked (the steps before
 * jlink, jlink run by the home's java) when every value from the image is safe to write; the
 * trimmed copy, with the reason, when a file name is not, and when the image cannot relink at all.
 */
import { describe, expect, it } from 'vitest'
import { javaReasons, planJavaRuntime, type CopyEditor } from '../../../src/advise/java-runtime.js'
import type { Copy } from '../../../src/advise/types.js'
import type { Evaluated } from '../../../src/advise/decide.js'
import type { Inspection, JavaFacts, JavaHomeFile } from '../../../src/inspect/types.js'
import { glibcProgram, MapRootFs } from '../../advise-helpers.js'

const HOME = '/usr/lib/jvm/java-17-openjdk-amd64'
const FILES: JavaHomeFile[] = [
  { path: 'bin/java', bytes: 10, module: 'java.base', known: true },
  { path: 'lib/libnet.so', bytes: 10, module: 'java.base', known: true },
  { path: 'lib/server/libjvm.so', bytes: 10, module: 'java.base', known: true },
  { path: 'lib/libawt.so', bytes: 10, module: 'java.desktop', known: true },
  { path: 'lib/modules', bytes: 100, leftOut: 'the image' },
]

function setup(files: JavaHomeFile[], jlink: boolean) {
  const insp: Inspection = glibcProgram(['libz.so.1'], { path: `${HOME}/bin/java` })
  const java: JavaFacts = {
    read: { classes: 1, jars: 0, packagesUsed: 1 },
    unused: [{ path: `${HOME}/lib/ct.sym`, bytes: 5, why: 'javac only' }],
    ...(jlink
      ? { jlink: { kind: 'runtime-image' as const, tool: `${HOME}/bin/java`, image: `${HOME}/lib/modules`, moduleCount: 70, files }, modules: [{ name: 'java.base', why: 'every Java program' }], linked: { native: [`${HOME}/lib/libnet.so`, `${HOME}/lib/server/libjvm.so`], bytes: 1000, modules: ['java.base'] } }
      : { noModulesWhy: `${HOME} has no bin/jlink: it is a JRE, and its lib/modules has no jdk.jlink module (jimage, jmod and jlink) to relink from` }),
  }
  insp.runtime = { language: 'java', executable: `${HOME}/bin/java`, version: '17.0.21.1', home: HOME, app: { kind: 'classpath' }, appDir: '/app', trees: [`${HOME}/lib`], java }
  const rootfs = new MapRootFs({ [`${HOME}/lib/modules`]: 100, [`${HOME}/lib/ct.sym`]: 5, [`${HOME}/lib/libnet.so`]: 10, [`${HOME}/bin/java`]: 10 })
  const list: Copy[] = [{ source: `${HOME}/lib`, dest: `${HOME}/lib`, type: 'dir', kind: 'app', why: `${HOME}/lib: the JVM's home` }]
  const copies: CopyEditor = {
    get list() {
      return list
    },
    add: (source, kind, why, o) => {
      const c: Copy = { source, dest: o?.dest ?? source, type: o?.type ?? 'file', kind, why }
      list.push(c)
      return c
    },
    remove: (drop) => list.splice(0, list.length, ...list.filter((c) => !drop(c))),
  }
  const plan = planJavaRuntime({ insp, chosen: { base: {} } as unknown as Evaluated, rootfs }, copies)
  return { plan: plan!, reasons: javaReasons(plan, insp), list }
}

describe('a JRE whose lib/modules holds jdk.jlink', () => {
  it('is relinked: extract and java.base\'s jmod before jlink, run by the home\'s java; the home\'s lib/ is not copied', () => {
    const { plan, reasons, list } = setup(FILES, true)
    expect(plan.mode).toBe('jlink')
    const j = plan.jlink!
    expect(j.tool).toBe(`${HOME}/bin/java`)
    expect(j.args.slice(0, 6)).toEqual(['-m', 'jdk.jlink/jdk.tools.jlink.internal.Main', '--module-path', '/slim-jre-work', '--add-modules', 'java.base'])
    expect(j.args).toEqual(expect.arrayContaining(['--disable-plugin', 'generate-jli-classes', '--output', '/slim-jre']))
    expect(j.relink!.steps.map((s) => s[3])).toEqual(['extract', 'create'])
    expect(list.map((c) => c.source)).not.toContain(`${HOME}/lib`)
    expect(plan.leftOut.find((l) => l.path === `${HOME}/lib`)!.why).toMatch(/links from \/usr\/lib\/jvm\/java-17-openjdk-amd64\/lib\/modules/)
    expect(reasons[0]).toMatch(/own modules image \(\S+, 70 modules\) holds jdk\.jlink: it is relinked into a runtime of 1 module \(java\.base/)
  })

  it('with a file name a regex could misread: the trimmed copy, and the reason names the file', () => {
    const { plan, reasons } = setup([...FILES, { path: 'lib/lib(x).so', bytes: 1, module: 'java.base', known: false }], true)
    expect(plan.mode).toBe('trimmed-copy')
    expect(plan.why).toMatch(/holds jdk\.jlink, but .*lib\(x\)\.so/)
    expect(reasons.join('\n')).toMatch(/its own lib\/modules holds jdk\.jlink, .* but slim did not: .*lib\(x\)\.so/)
    // A link to a directory in lib/: jmod might walk into it; not relinked either.
    expect(setup([...FILES, { path: 'lib/fonts', bytes: 0, leftOut: 'a link to a directory', dirLink: true }], true).plan.why).toMatch(/lib\/fonts is a link to a directory/)
  })
})

describe('a JRE whose lib/modules has no jdk.jlink', () => {
  it('is copied trimmed, and the reasons say a 70 % cut needs jmods or a relinkable image', () => {
    const { plan, reasons, list } = setup(FILES, false)
    expect(plan.mode).toBe('trimmed-copy')
    expect(plan.leftOut.map((l) => l.path)).toEqual([`${HOME}/lib/ct.sym`])
    expect(list.map((c) => c.source)).toContain(`${HOME}/lib/modules`)
    expect(reasons.join('\n')).toMatch(/70 % smaller or more needs jlink.*this image has neither.*openjdk-17-jdk-headless/)
  })
})
