/**
 * The decision, rule by rule, on hand-built inspections against the shipped catalogue: which base
 * wins for each kind of program, and the exact reason each loser gives.
 */
import { describe, expect, it } from 'vitest'
import { advise } from '../src/advise/advise.js'
import { decide } from '../src/advise/decide.js'
import { requirementsOf } from '../src/advise/requirements.js'
import { checkGlibcVersion, checkLibc, checkStatus, END_OF_LIFE_OWN_RELEASE, runtimeCompatible } from '../src/advise/rules.js'
import type { Inspection } from '../src/inspect/types.js'
import { SlimError } from '../src/core/errors.js'
import { bases, glibcProgram, inspection, lib, loader, MUSL_LOADER, need, sourceImage, staticGo, versions } from './advise-helpers.js'

const DEBIAN12 = { id: 'debian', versionId: '12' }

function run(insp: Inspection, o: Parameters<typeof sourceImage>[0] = {}, options: Parameters<typeof advise>[0]['options'] = {}) {
  return advise({ inspection: insp, image: sourceImage(o), catalogue: bases(), options })
}

function rejection(a: ReturnType<typeof run>, name: string): string | undefined {
  return a.rejected.find((r) => r.base === name)?.reason
}

const caNeed = need('ca-certificates', ['/etc/ssl/certs/ca-certificates.crt'], { reason: 'crypto/x509 verifies TLS certificates', evidence: ['imports crypto/x509'] })
const tzNeed = need('tzdata', ['/usr/share/zoneinfo'], { reason: 'time.LoadLocation loads named zones' })
const userNeed = need('user', ['/etc/passwd', '/etc/group'], { reason: 'os/user looks users up' })

describe('static programs', () => {
  it('static Go with no needs -> scratch, copying only the binary', () => {
    const a = run(staticGo(), { config: { Entrypoint: ['/app/hello'] } })
    expect(a.verdict).toBe('slim')
    expect(a.plan!.base.name).toBe('scratch')
    expect(a.plan!.copies.map((c) => c.source)).toEqual(['/app/hello'])
    expect(a.dockerfile).toMatch(/^FROM scratch$/m)
    expect(a.confidence).toBe('high')
    expect(a.lint).toEqual([])
  })

  it('static Go needing CA certs, tzdata and a user -> distroless static; scratch says what it lacks', () => {
    const a = run(staticGo([caNeed, tzNeed, userNeed]))
    expect(a.plan!.base.name).toMatch(/^distroless\/static-debian1[23]$/)
    expect(rejection(a, 'scratch')).toMatch(/^has no CA bundle; crypto\/x509 verifies TLS certificates \(imports crypto\/x509/)
    // Nothing the base provides is copied: only the program.
    expect(a.plan!.copies.map((c) => c.source)).toEqual(['/app/hello'])
    expect(a.plan!.user.spec).toBe('65532:65532')
    expect(a.plan!.base.tag).toBe('nonroot')
  })

  it('each facility alone is enough to leave scratch', () => {
    for (const n of [caNeed, tzNeed, userNeed]) {
      const a = run(staticGo([n]))
      expect(a.plan!.base.name, n.kind).not.toBe('scratch')
      expect(rejection(a, 'scratch'), n.kind).toMatch(/^has no (CA bundle|tzdata|\/etc\/passwd);/)
    }
  })

  it('--base scratch copies the CA bundle, zoneinfo and passwd from the source instead', () => {
    const a = run(staticGo([caNeed, tzNeed, userNeed]), {}, { base: 'scratch' })
    expect(a.forced).toBe(true)
    expect(a.plan!.base.name).toBe('scratch')
    expect(a.plan!.copies.map((c) => c.source).sort()).toEqual(['/app/hello', '/etc/group', '/etc/passwd', '/etc/ssl/certs/ca-certificates.crt', '/usr/share/zoneinfo'])
    expect(a.plan!.notes.some((n) => n.includes('scratch has no CA bundle: copied from the source image'))).toBe(true)
    expect(a.reasons).toContain('scratch was asked for with --base')
  })

  it('a need that is only possible is not copied, only mentioned', () => {
    const a = run(staticGo([need('tzdata', ['/usr/share/zoneinfo'], { confidence: 'possible' })]))
    expect(a.plan!.base.name).toBe('scratch')
    expect(a.plan!.notes.some((n) => n.startsWith('not copied, only possibly needed: /usr/share/zoneinfo'))).toBe(true)
  })
})

describe('glibc programs', () => {
  it('plain C -> base-nossl (same Debian release preferred); static and scratch say they have no C library', () => {
    const a = run(glibcProgram([]), { distro: DEBIAN12 })
    expect(a.plan!.base.name).toBe('distroless/base-nossl-debian12')
    expect(rejection(a, 'scratch')).toBe('needs glibc, PT_INTERP /lib64/ld-linux-x86-64.so.2; has no C library')
    expect(rejection(a, 'alpine:3.22')).toBe('needs glibc, PT_INTERP /lib64/ld-linux-x86-64.so.2; has musl')
    expect(a.plan!.copies.map((c) => c.source)).toEqual(['/app/prog'])
  })

  it('libssl in the closure -> base, not base-nossl plus copied OpenSSL', () => {
    const a = run(glibcProgram(['libssl.so.3', 'libcrypto.so.3']), { distro: DEBIAN12 })
    expect(a.plan!.base.name).toBe('distroless/base-debian12')
    const nossl = a.ranking.find((c) => c.name === 'distroless/base-nossl-debian12')!
    expect(nossl.copiedLibraries).toEqual(['libssl.so.3', 'libcrypto.so.3'])
    expect(a.plan!.base.copiedLibraries).toEqual([])
    expect(a.reasons).toContain("ranked above the smaller distroless/base-nossl-debian12, which would need 2 more copied libraries (libssl.so.3, libcrypto.so.3) frozen at the source's versions")
    expect(a.dockerfile).toContain('#   why: ranked above the smaller distroless/base-nossl-debian12')
  })

  it('without a source release, still the base-nossl / base ladder', () => {
    expect(run(glibcProgram([])).plan!.base.name).toMatch(/^distroless\/base-nossl-debian1[23]$/)
    expect(run(glibcProgram(['libssl.so.3'])).plan!.base.name).toMatch(/^distroless\/base-debian1[23]$/)
  })

  it('libraries no base ships are copied, with the loader name, onto the best base', () => {
    const a = run(glibcProgram(['libpcre2-8.so.0', 'libssl.so.3', 'libcrypto.so.3', 'libz.so.1', 'libcrypt.so.1']), { distro: DEBIAN12 })
    expect(a.plan!.base.name).toBe('distroless/base-debian12')
    expect(a.plan!.copies.filter((c) => c.kind === 'library').map((c) => c.source)).toEqual([
      '/lib/x86_64-linux-gnu/libpcre2-8.so.0',
      '/lib/x86_64-linux-gnu/libz.so.1',
      '/lib/x86_64-linux-gnu/libcrypt.so.1',
    ])
  })

  it('C++ -> cc; Rust (libgcc_s) -> cc', () => {
    const cxx = glibcProgram(['libstdc++.so.6', 'libm.so.6', 'libgcc_s.so.1'], { glibcxx: '3.4.30', cxx: true })
    expect(run(cxx, { distro: DEBIAN12 }).plan!.base.name).toBe('distroless/cc-debian12')
    const rust = glibcProgram(['libgcc_s.so.1', 'libm.so.6'])
    expect(run(rust, { distro: DEBIAN12 }).plan!.base.name).toBe('distroless/cc-debian12')
  })

  it('a libstdc++ newer than cc-debian12 -> cc-debian13, with the reason', () => {
    const a = run(glibcProgram(['libstdc++.so.6', 'libgcc_s.so.1'], { glibcxx: '3.4.32', cxx: true }))
    expect(rejection(a, 'distroless/cc-debian12')).toBe('needs GLIBCXX_3.4.32 > 3.4.30')
    expect(a.plan!.base.name).toBe('distroless/cc-debian13')
  })

  it('a glibc too new for debian12 -> debian13 base', () => {
    const a = run(glibcProgram([], { glibc: '2.38' }), { distro: { id: 'debian', versionId: '13' } })
    expect(rejection(a, 'distroless/base-debian12')).toBe('needs GLIBC_2.38 > 2.36')
    expect(rejection(a, 'distroless/base-nossl-debian12')).toBe('needs GLIBC_2.38 > 2.36')
    expect(a.plan!.base.name).toBe('distroless/base-nossl-debian13')
  })

  it('a glibc newer than every base -> keep, saying why', () => {
    const a = run(glibcProgram([], { glibc: '2.45' }))
    expect(a.verdict).toBe('keep')
    expect(a.dockerfile).toBeUndefined()
    expect(a.summary).toMatch(/^keep the current base: no catalogue base has a glibc new enough \(needs GLIBC_2\.45 > /)
  })

  it('packed relocations need a glibc that knows GLIBC_ABI_DT_RELR', () => {
    const insp = glibcProgram([])
    insp.elf!.closureVersions = versions({ glibc: '2.36', abiDtRelr: true })
    const req = requirementsOf(insp, sourceImage(), { os: 'linux', architecture: 'amd64' })
    const noRelr = { ...bases().find((b) => b.name === 'distroless/base-nossl-debian12')! }
    noRelr.provides = { ...noRelr.provides, glibcExtraVersions: ['GLIBC_PRIVATE'] }
    const d = decide(req, [noRelr], { uid: 65532 })
    expect(d.rejected).toEqual([{ base: noRelr.name, rule: 'glibc-relr', reason: 'needs GLIBC_ABI_DT_RELR (packed relocations, glibc 2.36 or later)' }])
  })

  it('a library found through RUNPATH is the app\'s own: copied even when the base has that name', () => {
    const insp = glibcProgram([])
    insp.closure.libraries.push(lib('libssl.so.3', { path: '/app/lib/libssl.so.3', rule: 'runpath' }))
    const a = run(insp, { distro: DEBIAN12 })
    expect(a.plan!.copies.map((c) => c.source)).toContain('/app/lib/libssl.so.3')
  })
})

describe('musl programs', () => {
  const musl = (): Inspection =>
    inspection({
      path: '/app/hello',
      elf: { libc: 'musl', interpreter: MUSL_LOADER, needed: ['libc.so'] },
      interpreter: loader(MUSL_LOADER, 600_000),
      libraries: [lib('libc.so', { path: MUSL_LOADER, rule: 'musl-self', neededBy: ['/app/hello'] })],
    })

  it('-> a supported alpine, never the source\'s own end-of-life release (named first among the rejected, with why)', () => {
    const a = run(musl(), { distro: { id: 'alpine', versionId: '3.10.4' }, config: { Entrypoint: ['/app/hello'] } })
    expect(a.plan!.base.family).toBe('alpine')
    expect(a.plan!.base.status).toBe('supported')
    expect(a.ranking.every((c) => c.status === 'supported')).toBe(true)
    expect(rejection(a, 'distroless/base-debian12')).toBe('needs musl, PT_INTERP /lib/ld-musl-x86_64.so.1; has glibc')
    expect(a.plan!.copies.map((c) => c.source)).toEqual(['/app/hello'])
    expect(a.rejected[0]).toEqual({ base: 'alpine:3.10', rule: 'status', reason: "end of life (no security fixes); it is the source's own release, but slim never advises an end-of-life base (--base forces it)" })
    expect(a.reasons).toContain("alpine:3.10 (the source's own release, alpine 3.10.4) is end of life: slim does not advise it; move the image to a supported release")
    // --base still gets it, with the warning.
    const forced = run(musl(), { distro: { id: 'alpine', versionId: '3.10.4' }, config: { Entrypoint: ['/app/hello'] } }, { base: 'alpine:3.10' })
    expect(forced.plan!.base.name).toBe('alpine:3.10')
    expect(forced.reasons.some((r) => r.includes('end of life'))).toBe(true)
  })

  it('rejected bases are ranked by how close they came: those that fit the program (only end of life) lead, retired runtimes that also lack musl come last', () => {
    const a = run(musl(), { distro: { id: 'alpine', versionId: '3.10.4' }, config: { Entrypoint: ['/app/hello'] } })
    const misses = (base: string) => a.rejected.find((r) => r.base === base)!.reason.split('; ').filter((x) => !/^(end of life|retired|it is the source)/.test(x)).length
    const order = a.rejected.map((r) => misses(r.base))
    expect(order).toEqual([...order].sort((x, y) => x - y))
    expect(a.rejected.filter((r) => r.rule === 'status').map((r) => r.base)).toContain('alpine:3.11')
    expect(a.rejected.findIndex((r) => r.base === 'alpine:3.11')).toBeLessThan(a.rejected.findIndex((r) => r.base === 'distroless/base-debian12'))
    // a retired runtime image says every reason, out of support last
    expect(rejection(a, 'distroless/python3-debian12')).toMatch(/^needs musl, .*; retired by its publisher \(tags are no longer rebuilt\)$/)
  })

  it('only the source\'s end-of-life release fits: keep, naming the closest supported base and what stops it', () => {
    const onlyEol = bases().filter((b) => b.family !== 'alpine' || b.status !== 'supported')
    const a = advise({ inspection: musl(), image: sourceImage({ distro: { id: 'alpine', versionId: '3.10.4' }, config: { Entrypoint: ['/app/hello'] } }), catalogue: onlyEol })
    expect(a.verdict).toBe('keep')
    expect(a.plan).toBeUndefined()
    expect(a.summary).toMatch(/^keep the current base: only bases out of support would run it \(alpine:3\.10, /)
    expect(a.summary).toMatch(/; the closest supported base is \S+, and what stops it is: needs musl, PT_INTERP \/lib\/ld-musl-x86_64\.so\.1; has (no C library|glibc)/)
    expect(a.reasons).toContain("alpine:3.10 (the source's own release, alpine 3.10.4) is end of life: slim does not advise it; move the image to a supported release")
  })

  it('-> a supported alpine when the source is not alpine (end-of-life ones refused)', () => {
    const a = run(musl())
    expect(a.plan!.base.family).toBe('alpine')
    expect(a.plan!.base.status).toBe('supported')
    expect(rejection(a, 'alpine:3.10')).toBe('end of life (no security fixes)')
  })
})

describe('interpreted apps', () => {
  const py = (version: string, o: { distro?: typeof DEBIAN12 } = {}) => {
    const exe = `/usr/bin/python${version.split('.').slice(0, 2).join('.')}`
    const insp = glibcProgram(['libz.so.1', 'libexpat.so.1', 'libm.so.6'], { path: exe })
    insp.program = { ...insp.program, kind: 'interpreted', path: '/usr/bin/python3', realPath: exe, command: ['python3', '/app/main.py'], argv: ['python3', '/app/main.py'], scripts: ['/app/main.py'], symlinks: ['/usr/bin/python3'] }
    insp.runtime = { language: 'python', executable: exe, version, home: `/usr/lib/python${version.split('.').slice(0, 2).join('.')}`, app: { kind: 'script', path: '/app/main.py' }, appDir: '/app', trees: [] }
    insp.needs.push(need('app-tree', ['/app', `/usr/lib/python${version.split('.').slice(0, 2).join('.')}`], { reason: 'the app and its standard library' }))
    return { insp, distro: o.distro }
  }

  it('Python 3.13 -> distroless python3-debian13, interpreter path rewritten, stdlib not copied', () => {
    const { insp } = py('3.13.5')
    const a = run(insp, { config: { Cmd: ['python3', '/app/main.py'] } })
    expect(a.plan!.base.name).toBe('distroless/python3-debian13')
    expect(a.plan!.runtime.cmd).toEqual(['/usr/bin/python3.13', '/app/main.py'])
    expect(a.plan!.runtime.entrypoint).toEqual([]) // resets the runtime image's ENTRYPOINT
    const sources = a.plan!.copies.map((c) => c.source)
    expect(sources).toContain('/app')
    expect(sources).not.toContain('/usr/lib/python3.13')
    expect(sources.some((s) => s.startsWith('/usr/bin/python'))).toBe(false)
    expect(a.lint).toEqual([])
  })

  it('Python 3.11 from Debian 12 -> the interpreter, stdlib and app copied onto a distroless base of the same release', () => {
    const { insp } = py('3.11.2')
    const a = run(insp, { distro: DEBIAN12, config: { Cmd: ['python3', '/app/main.py'] } })
    expect(rejection(a, 'distroless/python3-debian13')).toBe('python 3.13.5, the app has 3.11.2 (Python must match major.minor)')
    expect(rejection(a, 'distroless/python3-debian12')).toBe('retired by its publisher (tags are no longer rebuilt)')
    expect(rejection(a, 'distroless/static-debian12')).toMatch(/^needs glibc/)
    expect(a.plan!.base.name).toMatch(/^distroless\/(base-nossl|base|cc)-debian12$/)
    expect(a.ranking.map((c) => c.name)).toContain('debian:12-slim')
    expect(a.summary).toMatch(/^no distroless runtime for Python 3\.11: copy the interpreter, its standard library and the app's packages onto gcr\.io\/distroless\//)
    expect(a.plan!.copies.map((c) => c.source)).toEqual(expect.arrayContaining(['/usr/bin/python3', '/app', '/usr/lib/python3.11']))
  })

  it('a Debian 12 Python app needing the CA bundle gets a base that ships one (no retired base, nothing frozen)', () => {
    const { insp } = py('3.11.2')
    insp.needs.push(need('ca-certificates', ['/etc/ssl/certs/ca-certificates.crt'], { reason: 'the app verifies TLS peers', evidence: ['import ssl'] }))
    const a = run(insp, { distro: DEBIAN12, config: { Cmd: ['python3', '/app/main.py'] } })
    expect(a.verdict).toBe('slim')
    expect(a.plan!.base.name).toMatch(/^distroless\/(base-nossl|base|cc)-debian12$/)
    expect(a.plan!.copies.map((c) => c.source)).not.toContain('/etc/ssl/certs/ca-certificates.crt')
    expect(rejection(a, 'debian:12-slim')).toMatch(/^has no CA bundle/)
  })

  it('Python 3.9 -> "no distroless runtime for Python 3.9", the interpreter copied', () => {
    const { insp } = py('3.9.18')
    expect(run(insp).summary).toMatch(/^no distroless runtime for Python 3\.9: copy the interpreter/)
  })

  it('a JRE 17.0.21 app on the 17.0.20 runtime image: the older patch release is said', () => {
    const java = glibcProgram(['libz.so.1'], { path: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java' })
    java.program = { ...java.program, kind: 'interpreted', command: ['java', '-jar', '/app.jar'], argv: ['java', '-jar', '/app.jar'] }
    java.runtime = { language: 'java', executable: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', version: '17.0.21', home: '/usr/lib/jvm/java-17-openjdk-amd64', app: { kind: 'jar', path: '/app.jar' }, appDir: '/', trees: [] }
    const a = run(java, { distro: DEBIAN12 })
    expect(a.plan!.base.name).toBe('distroless/java17-debian13')
    expect(a.reasons.join('\n')).toMatch(/built with java 17\.0\.21; distroless\/java17-debian13 has 17\.0\.20, an older patch release than the app's \(without its fixes\): test it on that version/)
  })

  it('Node 22 and Java 17 -> the matching runtime, checked with semver', () => {
    expect(runtimeCompatible('node', 'v22.4.1', '22.23.2')).toBe(true)
    expect(runtimeCompatible('node', '20.11.0', '22.23.2')).toBe(false)
    expect(runtimeCompatible('java', '17.0.2', '21.0.12')).toBe(true)
    expect(runtimeCompatible('java', '21', '17.0.20')).toBe(false)
    expect(runtimeCompatible('python', '3.13.1', '3.13.5')).toBe(true)

    const node = glibcProgram(['libnode.so.108'], { path: '/usr/local/bin/node' })
    node.program = { ...node.program, kind: 'interpreted', command: ['node', 'server.js'], argv: ['node', 'server.js'], scripts: ['/srv/server.js'] }
    node.runtime = { language: 'node', executable: '/usr/local/bin/node', version: '22.4.1', app: { kind: 'script', path: '/srv/server.js' }, appDir: '/srv', trees: [] }
    expect(run(node).plan!.base.name).toBe('distroless/nodejs22-debian13')

    const java = glibcProgram(['libz.so.1'], { path: '/opt/java/bin/java' })
    java.program = { ...java.program, kind: 'interpreted', command: ['java', '-jar', '/app.jar'], argv: ['java', '-jar', '/app.jar'] }
    java.runtime = { language: 'java', executable: '/opt/java/bin/java', version: '17.0.9', home: '/opt/java', app: { kind: 'jar', path: '/app.jar' }, appDir: '/', trees: [] }
    const a = run(java)
    expect(a.plan!.base.name).toBe('distroless/java17-debian13')
    expect(a.ranking.map((c) => c.name)).toEqual(expect.arrayContaining(['distroless/java21-debian13', 'distroless/java25-debian13']))
  })
})

describe('users', () => {
  it('keeps the image\'s own non-root USER, numeric', () => {
    const a = run(staticGo(), { config: { Entrypoint: ['/app/hello'], User: '1000:1000' } })
    expect(a.plan!.user).toMatchObject({ spec: '1000:1000', source: 'image' })
    expect(a.dockerfile).toMatch(/^USER 1000:1000$/m)
  })

  it('a USER name whose user has supplementary groups becomes the bare uid, so the runtime still gives them', () => {
    // Debian's postgres is in ssl-cert, which may read the server's TLS key (0640 root:ssl-cert).
    const userOf = (supplementary?: { name: string; gid: number }[]) =>
      need('user', ['/etc/passwd', '/etc/group'], {
        reason: 'USER names postgres',
        confidence: 'certain',
        user: { spec: 'postgres', name: 'postgres', uid: 101, gid: 103, group: 'postgres', supplementary },
        accounts: {
          users: [{ name: 'postgres', line: 'postgres:x:101:103::/var/lib/postgresql:/bin/bash', uid: 101, gid: 103 }],
          groups: [{ name: 'postgres', line: 'postgres:x:103:', gid: 103 }, ...(supplementary ? [{ name: 'ssl-cert', line: 'ssl-cert:x:102:postgres', gid: 102 }] : [])],
        },
      })
    const key = need('program-data', ['/etc/ssl/private/server.key'], { reason: 'ssl_key_file' })
    const withGroups = glibcProgram([], { needs: [userOf([{ name: 'ssl-cert', gid: 102 }]), key] })
    const a = run(withGroups, { distro: DEBIAN12, config: { Entrypoint: ['/app/prog'], User: 'postgres' } })
    expect(a.plan!.user).toMatchObject({ spec: '101', uid: 101, gid: 103, groups: [102], source: 'image' })
    expect(a.plan!.user.note).toMatch(/supplementary group ssl-cert: USER is the bare uid 101/)
    expect(a.dockerfile).toMatch(/^USER 101$/m)
    expect(a.plan!.accounts!.groups.map((g) => g.line)).toContain('ssl-cert:x:102:postgres')
    expect(a.lint.map((l) => l.rule)).not.toContain('SLIM-USER-NUMERIC')
    // A base that defines ssl-cert itself keeps its own line: the lost membership is a named gap.
    const own = bases().map((b) => (b.name === a.plan!.base.name ? { ...b, provides: { ...b.provides, groups: [...b.provides.groups, { name: 'ssl-cert', gid: 102 }] } } : b))
    const kept = advise({ inspection: withGroups, image: sourceImage({ distro: DEBIAN12, config: { Entrypoint: ['/app/prog'], User: 'postgres' } }), catalogue: own, options: {} })
    expect(kept.plan!.base.name).toBe(a.plan!.base.name)
    expect(kept.plan!.accounts!.groups.map((g) => g.name)).not.toContain('ssl-cert')
    expect(kept.gaps.map((g) => g.message)).toContainEqual(expect.stringMatching(/defines group "ssl-cert" already, so the user's membership in it .* is not merged/))
    // Without supplementary groups nothing changes: uid:gid, as before.
    const plain = run(glibcProgram([], { needs: [userOf(undefined)] }), { distro: DEBIAN12, config: { Entrypoint: ['/app/prog'], User: 'postgres' } })
    expect(plain.plan!.user.spec).toBe('101:103')
    expect(plain.dockerfile).toMatch(/^USER 101:103$/m)
  })

  it('an image that ran as root gets nonroot 65532, and says so', () => {
    const a = run(staticGo(), { config: { Entrypoint: ['/app/hello'] } })
    expect(a.plan!.user.note).toBe('the image ran as root and nothing in it needs root: runs as nonroot 65532:65532 (distroless\'s non-root user)')
    expect(a.dockerfile).toContain('#   user: the image ran as root and nothing in it needs root')
  })

  it('a user switcher in the command keeps root', () => {
    const insp = staticGo()
    insp.program.chain.unshift({ kind: 'launcher', from: '/usr/sbin/gosu', to: '/app/hello', detail: 'gosu app runs the next words' })
    const a = run(insp)
    expect(a.plan!.user).toMatchObject({ spec: '0:0', source: 'root-kept' })
    expect(a.lint.map((l) => l.rule)).toEqual(['DL3002'])
  })

  it('writing into a directory the base owns (/run) keeps root, and says how to avoid it', () => {
    const insp = glibcProgram([])
    insp.needs.push(need('writable', ['/run'], { reason: 'nginx writes its pid file under /run', writable: true }))
    const a = run(insp, { distro: DEBIAN12 })
    expect(a.plan!.user).toMatchObject({ spec: '0:0', source: 'root-kept' })
    expect(a.plan!.user.note).toMatch(/^stays root: it writes into \/run \(nginx writes its pid file under \/run\), which the base owns as root and COPY --chown cannot hand over;/)
    expect(a.plan!.copies.map((c) => c.source)).not.toContain('/run')
    // Root runs on the tag whose USER is root (`latest`), not `:nonroot` with USER 0:0 on top.
    expect(a.plan!.base.tag).toBe('latest')
    expect(a.lint.map((l) => l.rule)).toContain('DL3002')
  })

  it('the image\'s own non-root USER that must write a base-owned directory: kept, with the gap named', () => {
    const insp = glibcProgram([])
    insp.needs.push(need('writable', ['/run', '/var/lib/app'], { reason: 'the app writes state', writable: true }))
    const a = run(insp, { distro: DEBIAN12, config: { Entrypoint: ['/app/prog'], User: '1000:1000' } })
    expect(a.plan!.user.spec).toBe('1000:1000')
    expect(a.gaps).toContainEqual({ area: 'copy', message: '/run must be writable (the app writes state), but the base already has it, owned by root; COPY cannot change that, so 1000:1000 cannot write there' })
    expect(a.plan!.copies.find((c) => c.source === '/var/lib/app')).toMatchObject({ chown: '1000:1000', kind: 'writable' })
    expect(a.plan!.copies.find((c) => c.source === '/run')).toBeUndefined()
  })

  it('names from a program\'s config are merged into the base\'s passwd, never copied over it', () => {
    const lookups = need('user', ['/etc/passwd', '/etc/group'], { reason: 'the program looks up users or groups', evidence: ['USER (root by default)', 'getpwnam'] })
    const config = need('account', ['/etc/passwd', '/etc/group'], { reason: "haproxy's config names user haproxy", accounts: { users: [{ name: 'haproxy', line: 'haproxy:x:100:101::/var/lib/haproxy:/usr/sbin/nologin', uid: 100, gid: 101 }], groups: [{ name: 'haproxy', line: 'haproxy:x:101:', gid: 101 }] } })
    const insp = glibcProgram([], { needs: [lookups, config] })
    insp.program.chain.unshift({ kind: 'launcher', from: '/usr/sbin/gosu', to: '/app/prog', detail: 'gosu' })
    const kept = run(insp, { distro: DEBIAN12 })
    expect(kept.plan!.user.source).toBe('root-kept')
    expect(kept.plan!.copies.map((c) => c.source)).not.toContain('/etc/passwd')
    expect(kept.plan!.accounts!.users.map((u) => u.name)).toEqual(['haproxy'])
    expect(kept.dockerfile).toContain(" && printf '%s\\n' 'haproxy:x:100:101::/var/lib/haproxy:/usr/sbin/nologin' >> /slim-accounts/passwd && ")
    expect(kept.dockerfile).toMatch(/^COPY --from=accounts \/slim-accounts\/passwd \/slim-accounts\/group \/etc\/$/m)
    // A hostile line (a quote would end the RUN's quoting) is refused, with a gap.
    const evil = need('account', ['/etc/passwd'], { reason: 'x', accounts: { users: [{ name: 'evil', line: "evil:x:1:1:'; rm -rf /;':/:/bin/sh", uid: 1, gid: 1 }], groups: [] } })
    const refused = run(glibcProgram([], { needs: [evil] }), { distro: DEBIAN12 })
    expect(refused.plan!.accounts!.users).toEqual([])
    expect(refused.gaps.filter((g) => g.area === 'accounts').map((g) => g.message).join('\n')).toMatch(/"evil" has characters slim will not write/)
    // Moved to the base's nonroot user: the base's passwd (which has it) stays.
    const moved = run(glibcProgram([], { needs: [lookups] }), { distro: DEBIAN12 })
    expect(moved.plan!.user.source).toBe('base-nonroot')
    expect(moved.plan!.copies.map((c) => c.source)).not.toContain('/etc/passwd')
  })

  it('a base whose passwd lacks the uid gets the source\'s entry added to its own', () => {
    const own = need('user', ['/etc/passwd', '/etc/group'], { reason: 'os/user looks users up', accounts: { users: [{ name: 'app', line: 'app:x:1000:1000::/home/app:/bin/sh', uid: 1000, gid: 1000 }], groups: [{ name: 'app', line: 'app:x:1000:', gid: 1000 }] } })
    const a = run(staticGo([own]), { config: { Entrypoint: ['/app/hello'], User: '1000:1000' } })
    expect(a.plan!.base.name).toMatch(/^distroless\/static/)
    expect(a.plan!.copies.map((c) => c.source)).not.toContain('/etc/passwd')
    expect(a.plan!.accounts!.users.map((u) => u.name)).toEqual(['app'])
    expect(a.dockerfile).toMatch(/^COPY --from=slim-base \/etc\/passwd \/etc\/group \/slim-accounts\/$/m)
  })

  it('--user takes numbers or a known name; anything else is a usage error', () => {
    expect(run(staticGo(), {}, { user: '4242:4242' }).plan!.user.spec).toBe('4242:4242')
    expect(run(staticGo(), {}, { user: 'nonroot' }).plan!.user.spec).toBe('65532:65532')
    expect(() => run(staticGo(), {}, { user: 'ghost' })).toThrow(SlimError)
  })
})

describe('shell, confidence and forced bases', () => {
  it('a wrapper script needs a shell: shell-less bases are refused with the reason', () => {
    const insp = glibcProgram([])
    insp.program.shellReasons = ['the ENTRYPOINT is the wrapper script /docker-entrypoint.sh']
    const a = run(insp)
    expect(rejection(a, 'distroless/base-nossl-debian12')).toBe('has no shell; the ENTRYPOINT is the wrapper script /docker-entrypoint.sh')
    expect(a.plan!.base.name).toMatch(/^(busybox:glibc|debian:1[23]-slim)$/)
  })

  it('a simple shell-form command becomes exec form when the shell is gone', () => {
    const insp = staticGo()
    insp.program.argv = ['/app/hello', '--port', '8080']
    insp.program.chain.unshift({ kind: 'shell-form', from: '/app/hello --port 8080', detail: 'read the string' })
    const a = run(insp, { config: { Cmd: ['/bin/sh', '-c', '/app/hello --port 8080'] } })
    expect(a.plan!.runtime.cmd).toEqual(['/app/hello', '--port', '8080'])
    expect(a.dockerfile).toMatch(/^CMD \["\/app\/hello","--port","8080"\]$/m)
    expect(a.plan!.runtime.commandNotes[0]).toMatch(/^CMD was shell form/)
  })

  it('a bare program name found on PATH is written as its path', () => {
    const insp = glibcProgram([], { path: '/usr/bin/curl' })
    insp.program.chain = [{ kind: 'path-lookup', from: 'curl', to: '/usr/bin/curl', detail: "found 'curl' on PATH in /usr/bin" }]
    const a = run(insp, { distro: DEBIAN12, config: { Entrypoint: ['curl'], Cmd: ['--help'] } })
    expect(a.plan!.runtime.entrypoint).toEqual(['/usr/bin/curl'])
    expect(a.plan!.runtime.cmd).toEqual(['--help'])
    expect(a.plan!.runtime.commandNotes).toEqual(['ENTRYPOINT names curl; it is written as /usr/bin/curl, where it was found on PATH'])
  })

  it('dlopen with unknown names lowers confidence and lists the gap', () => {
    const insp = glibcProgram([])
    insp.needs.push(need('dlopen', [], { present: false, confidence: 'possible', reason: 'dlopen() with a name computed at run time' }))
    insp.gaps.push({ area: 'elf', message: 'dlopen with a name slim cannot read' })
    const a = run(insp, { distro: DEBIAN12 })
    expect(a.confidence).toBe('medium')
    expect(a.gaps).toEqual(expect.arrayContaining([
      { area: 'elf', message: 'dlopen with a name slim cannot read' },
      { area: 'dlopen', message: 'dlopen() with a name computed at run time' },
    ]))
    expect(a.dockerfile).toContain('#   gap: dlopen: dlopen() with a name computed at run time')
    expect(a.verdict).toBe('slim')
  })

  it('an unresolved library means low confidence', () => {
    const insp = glibcProgram([])
    insp.closure.unresolved.push({ name: 'libgone.so.1', neededBy: ['/app/prog'], searched: [], skipped: [], via: 'needed' })
    expect(run(insp).confidence).toBe('low')
  })

  it('--base with a hard mismatch is refused with the reason and the fix', () => {
    expect(() => run(glibcProgram([]), {}, { base: 'alpine:3.22' })).toThrow(/--base alpine:3\.22: alpine:3\.22 cannot run this program: needs glibc, PT_INTERP \/lib64\/ld-linux-x86-64\.so\.2; has musl; drop --base/)
    expect(() => run(glibcProgram([]), {}, { base: 'nope' })).toThrow(/--base nope: no such base in the catalogue/)
  })

  it('--base scratch with a glibc program ships the source\'s own loader and libc', () => {
    const a = run(glibcProgram([]), {}, { base: 'scratch' })
    expect(a.plan!.copies.map((c) => c.source)).toEqual(['/app/prog', '/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6'])
    expect(a.confidence).toBe('low')
  })

  it('a program that is not there: nothing to run', () => {
    const insp = inspection({ program: { kind: 'missing', path: undefined, executables: [] }, findings: [{ severity: 'error', code: 'no-command', message: 'the image has no ENTRYPOINT or CMD' }] })
    const a = run(insp)
    expect(a.verdict).toBe('nothing-to-run')
    expect(a.summary).toBe('nothing to slim: the image has no ENTRYPOINT or CMD')
  })
})

describe('single rules', () => {
  const base = (name: string) => bases().find((b) => b.name === name)!
  const req = (insp: Inspection) => requirementsOf(insp, sourceImage(), { os: 'linux', architecture: 'amd64' })

  it('checkLibc lets static programs onto anything', () => {
    expect(checkLibc({ base: base('scratch'), req: req(staticGo()), forced: false, uid: 0 })).toBeUndefined()
  })

  it('checkGlibcVersion compares numbers, not strings (2.4 < 2.36)', () => {
    expect(checkGlibcVersion({ base: base('distroless/base-debian12'), req: req(glibcProgram([], { glibc: '2.4' })), forced: false, uid: 0 })).toBeUndefined()
  })

  it('checkStatus never lets an end-of-life base through unless forced, and says so for the source\'s own release', () => {
    const r = req(staticGo())
    expect(checkStatus({ base: base('alpine:3.10'), req: r, forced: false, uid: 0 })).toEqual({ reject: 'end of life (no security fixes)' })
    expect(checkStatus({ base: base('alpine:3.10'), req: { ...r, sourceDistro: { id: 'alpine', versionId: '3.10.9' } }, forced: false, uid: 0 })).toEqual({ reject: END_OF_LIFE_OWN_RELEASE })
    expect(checkStatus({ base: base('alpine:3.10'), req: r, forced: false, uid: 0, lenient: true })).toEqual({ reject: 'end of life (no security fixes)' })
    expect(checkStatus({ base: base('alpine:3.10'), req: r, forced: true, uid: 0 })).toBeUndefined()
  })

  it('arm64 programs are not offered bases without arm64', () => {
    const r = requirementsOf(staticGo(), sourceImage(), { os: 'linux', architecture: 'arm64' })
    const d = decide(r, bases(), { uid: 65532 })
    expect(d.ranking[0].candidate.name).toBe('scratch')
    const s390 = requirementsOf(staticGo(), sourceImage(), { os: 'linux', architecture: 's390x' })
    expect(decide(s390, bases(), { uid: 65532 }).rejected.find((x) => x.base === 'chainguard/static')?.reason).toBe('not published for s390x (only amd64, arm64)')
  })
})
