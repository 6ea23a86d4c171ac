/**
 * The jre stage of a plan that links its Java runtime: exec-form jlink as root in a stage on the
 * source, its output copied to the JVM's home before the other copies; a home path and tool from
 * a hostile image are written so a BuildKit reading gives back exactly those strings.
 */
import { describe, expect, it } from 'vitest'
import { renderDockerfileParts } from '../../../src/advise/dockerfile.js'
import { relinkSteps } from '../../../src/advise/java-relink.js'
import { JLINK_OPTIONS, JLINK_OUTPUT } from '../../../src/advise/java-runtime.js'
import type { Candidate, Plan, SourceImage } from '../../../src/advise/types.js'
import { readDockerfile } from '../../helpers/dockerfile-reader.js'

const base = { name: 'distroless/base-nossl-debian12', family: 'distroless', status: 'supported', tag: 'nonroot', ref: 'gcr.io/distroless/base-nossl-debian12:nonroot', publicRef: 'gcr.io/distroless/base-nossl-debian12:nonroot', copiedLibraries: [], sizeBasis: 'measured', sameDistro: true, idleShell: false, notes: [] } as unknown as Candidate

function plan(home: string): Plan {
  const tool = `${home}/bin/jlink`
  return {
    base,
    copies: [{ source: `${home}/conf`, dest: `${home}/conf`, type: 'dir', kind: 'app', why: 'conf' }, { source: '/app', dest: '/app', type: 'dir', kind: 'app', why: 'app' }],
    user: { uid: 65534, gid: 65534, spec: '65534:65534', source: 'image', note: 'image' },
    runtime: { workdir: '/app', env: [], droppedEnv: [], exposedPorts: [], volumes: [], labels: {}, entrypoint: [`${home}/bin/java`, '-cp', '/app', 'Hello'], commandNotes: [] },
    ldLibraryPath: [],
    estimate: { baseBasis: 'measured', copiedBytes: 0, unknownCopies: 0, todayBytes: 1, todayBasis: 'layer files' },
    notes: [],
    java: { home, mode: 'jlink', leftOut: [], jlink: { tool, modules: [{ name: 'java.base', why: 'base' }, { name: 'java.sql', why: 'sql' }], args: ['--add-modules', 'java.base,java.sql', ...JLINK_OPTIONS, '--output', JLINK_OUTPUT], output: JLINK_OUTPUT, estimatedBytes: 1 } },
  }
}

const source: SourceImage = { reference: 'docker://reg.io/app:1', transport: 'docker', name: 'reg.io/app', tag: '1', manifestDigest: `sha256:${'a'.repeat(64)}`, platform: { os: 'linux', architecture: 'amd64' }, config: {}, layers: [] }

describe('the jre stage', () => {
  for (const home of ['/usr/lib/jvm/java-17-openjdk-amd64', '/opt/my jdk/"17" $HOME \\x']) {
    it(`runs the image's jlink in exec form and copies its output first (${JSON.stringify(home)})`, () => {
      const p = plan(home)
      const r = renderDockerfileParts({ source, plan: p, reasons: [], rejected: [], forced: false, confidence: 'high', gaps: [] })
      expect(readDockerfile(r.text)).toEqual(r.instructions)
      const kw = r.instructions.map((i) => `${i.keyword} ${i.args[0]}`)
      const stage = kw.indexOf('FROM source')
      expect(r.instructions[stage]!.args).toEqual(['source', 'AS', 'jre'])
      expect(r.instructions[stage + 1]).toEqual({ keyword: 'USER', flags: [], args: ['0'] })
      expect(r.instructions[stage + 2]).toEqual({ keyword: 'RUN', flags: [], args: [`${home}/bin/jlink`, '--add-modules', 'java.base,java.sql', ...JLINK_OPTIONS, '--output', '/slim-jre'] })
      const copies = r.instructions.filter((i) => i.keyword === 'COPY')
      expect(copies[0]).toEqual({ keyword: 'COPY', flags: ['--from=jre'], args: ['/slim-jre', home] })
      expect(copies.slice(1).map((c) => c.args[0])).toContain(`${home}/conf`)
    })
  }

  it('a JRE relinked from its own modules image: extract, the jmods (java.base last), then jlink, each an exec-form RUN read back as written', () => {
    const home = '/usr/lib/jvm/java-17-openjdk-amd64'
    const files = [
      { path: 'bin/java', bytes: 1, module: 'java.base', known: true },
      { path: 'lib/libnet.so', bytes: 1, module: 'java.base', known: true },
      { path: 'lib/server/libjvm.so', bytes: 1, module: 'java.base', known: true },
      { path: 'lib/libawt.so', bytes: 1, module: 'java.desktop', known: true },
      { path: 'lib/modules', bytes: 1, leftOut: 'the image' },
      { path: 'conf/logging.properties', bytes: 1, module: 'java.logging', known: true },
      { path: 'lib/jar.binfmt', bytes: 1, module: 'java.base', known: false },
    ]
    const r = relinkSteps({ home, java: `${home}/bin/java`, image: `${home}/lib/modules`, modules: ['java.logging', 'java.base'], files })
    if (typeof r === 'string') throw new Error(r)
    expect(r.unknownFiles).toEqual([`${home}/lib/jar.binfmt`])
    const p = plan(home)
    p.java!.jlink = { ...p.java!.jlink!, tool: `${home}/bin/java`, args: ['-m', 'jdk.jlink/jdk.tools.jlink.internal.Main', '--module-path', r.modulePath, '--add-modules', 'java.logging'], relink: { image: `${home}/lib/modules`, workDir: '/slim-jre-work', steps: r.steps, moduleCount: 2, unknownFiles: r.unknownFiles } }
    const df = renderDockerfileParts({ source, plan: p, reasons: [], rejected: [], forced: false, confidence: 'high', gaps: [] })
    expect(readDockerfile(df.text)).toEqual(df.instructions)
    const runs = df.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)
    expect(runs).toEqual([...r.steps, [`${home}/bin/java`, ...p.java!.jlink!.args]])
    expect(runs.map((a) => a.at(-1))).toEqual([`${home}/lib/modules`, '/slim-jre-work/java.logging.jmod', '/slim-jre-work/java.base.jmod', 'java.logging'])
    // java.logging's jmod: everything but its own conf file; java.base's: everything of the others and the whole image's files.
    const exclude = (a: string[]) => a[a.indexOf('--exclude') + 1]
    expect(exclude(runs[1]!)).toBe('regex:java|libnet\\.so|server/libjvm\\.so|libawt\\.so|modules|jar\\.binfmt')
    expect(exclude(runs[2]!)).toBe('regex:libawt\\.so|modules|logging\\.properties|jdk/internal/module/SystemModules\\$.*\\.class')
    expect(runs[1]).toEqual(expect.arrayContaining(['--libs', `${home}/lib`, '--cmds', `${home}/bin`, '--config', `${home}/conf`]))
  })
})
