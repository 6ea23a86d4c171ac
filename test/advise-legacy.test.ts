/**
 * Issue 9 item 6 in the plan, on in-memory images: a symlinked library named with its target is
 * copied once; "possibly needed" notes leave out what the base has and never suggest --keep /lib;
 * an NSS module glibc would skip is no gap; confidence says why.
 */
import { describe, expect, it } from 'vitest'
import { advise } from '../src/advise/advise.js'
import { withoutLinkTargets } from '../src/advise/plan.js'
import { bases, glibcProgram, MapRootFs, need, sourceImage } from './advise-helpers.js'

const T = '/lib/x86_64-linux-gnu'
const DEBIAN12 = { id: 'debian', versionId: '12' }

describe('legacy advice: judgement without noise', () => {
  it('a symlink and its target in one need: only the name the program uses is copied', () => {
    const fs = new MapRootFs({ [`/usr${T}/libsqlite3.so.0`]: 'libsqlite3.so.0.8.6', [`/usr${T}/libsqlite3.so.0.8.6`]: 1_400_000 })
    const n = need('dlopen', [`/usr${T}/libsqlite3.so.0`, `/usr${T}/libsqlite3.so.0.8.6`])
    expect(withoutLinkTargets(n, fs).paths).toEqual([`/usr${T}/libsqlite3.so.0`])
    const insp = glibcProgram([], { needs: [n] })
    const a = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12 }), catalogue: bases(), rootfs: new MapRootFs({ '/app/prog': 1000, [`/usr${T}/libsqlite3.so.0`]: 'libsqlite3.so.0.8.6', [`/usr${T}/libsqlite3.so.0.8.6`]: 1_400_000 }) })
    const sqlite = a.plan!.copies.filter((c) => c.source.includes('libsqlite3'))
    expect(sqlite.map((c) => c.source)).toEqual([`/usr${T}/libsqlite3.so.0`])
  })

  it('possibly-needed notes skip what the base has and never name /lib', () => {
    const insp = glibcProgram([], {
      needs: [
        need('tzdata', ['/usr/share/zoneinfo'], { confidence: 'possible', reason: 'converts times' }),
        need('gconv', ['/lib', `${T}/gconv`], { confidence: 'possible', reason: 'iconv' }),
      ],
    })
    const fs = new MapRootFs({ '/app/prog': 1000, '/lib': 'usr/lib', [`/usr${T}/gconv/gconv-modules`]: 100, '/usr/share/zoneinfo/UTC': 100 })
    const a = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12 }), catalogue: bases(), rootfs: fs })
    const notes = a.plan!.notes.join('\n')
    expect(a.plan!.base.name).toMatch(/^distroless\//)
    expect(notes).not.toMatch(/zoneinfo/) // distroless has tzdata
    expect(notes).toMatch(/gconv/)
    expect(notes).not.toMatch(/[ ,(]\/lib[,;) ]/)
  })

  it("a replaced wrapper's mkdir -p dirs are planned: an existing one copied, a new one from an empty dir, owned by the runtime user", () => {
    const wrapper = { script: '/entry.sh', env: [['A', '1']] as [string, string][], mkdir: ['/var/cache/app', '/tmp/app/run', '/tmp'] }
    const insp = glibcProgram([], { needs: [need('shell', ['/entry.sh'], { replaceable: wrapper })] })
    const fs = new MapRootFs({ '/app/prog': 1000, '/entry.sh': 100, '/var/cache/app/old': 10, '/srv': 'dir' })
    const a = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12, config: { Entrypoint: ['/entry.sh'], Cmd: ['/app/prog'], User: '1000:1000' } }), catalogue: bases(), rootfs: fs })
    const made = a.plan!.copies.filter((c) => c.kind === 'writable')
    expect(made.map((c) => [c.source, c.dest, c.type, c.chown])).toEqual([['/var/cache/app', '/var/cache/app', 'dir', undefined], ['/srv', '/tmp/app/run', 'dir', '1000:1000']])
    expect(a.dockerfile).toMatch(/^COPY --from=source --chown=1000:1000 \/srv \/tmp\/app\/run$/m)
    expect(a.dockerfile).not.toMatch(/^RUN /m)
    // No empty directory in the image: a gap that says what to do, not a silent miss.
    const bare = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12, config: { User: '1000:1000' } }), catalogue: bases(), rootfs: new MapRootFs({ '/app/prog': 1000, '/entry.sh': 100 }) })
    expect(bare.gaps.map((g) => g.message).join('\n')).toMatch(/\/tmp\/app\/run: \/entry\.sh makes it .*no empty directory to COPY it from/)
  })

  it('a Debian 12 Python app: the interpreter copied onto the smallest distroless base; the retired runtime image is an alternative with its cost', () => {
    const insp = glibcProgram(['libz.so.1', 'libexpat.so.1'], { path: '/usr/bin/python3.11' })
    insp.program = { ...insp.program, kind: 'interpreted', path: '/usr/bin/python3', realPath: '/usr/bin/python3.11', command: ['python3', '/app/main.py'], argv: ['python3', '/app/main.py'], scripts: ['/app/main.py'], symlinks: ['/usr/bin/python3'] }
    insp.runtime = { language: 'python', executable: '/usr/bin/python3.11', version: '3.11.2', home: '/usr/lib/python3.11', app: { kind: 'script', path: '/app/main.py' }, appDir: '/app', trees: [] }
    insp.needs.push(need('app-tree', ['/app', '/usr/lib/python3.11'], { reason: 'the app and its standard library' }))
    const fs = new MapRootFs({ '/usr/bin/python3': 'python3.11', '/usr/bin/python3.11': 6_800_000, '/usr/lib/python3.11/os.py': 40_000, '/usr/lib/python3.11/json/__init__.py': 14_000, '/app/main.py': 900 })
    const a = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12, config: { Cmd: ['python3', '/app/main.py'] } }), catalogue: bases(), rootfs: fs })
    expect(a.plan!.base.name).toMatch(/^distroless\/(base-nossl|base|cc)-debian12$/)
    expect(a.summary).toMatch(/^use gcr\.io\/distroless\/\S+ with the app's own Python 3\.11 interpreter copied \(ranked above the runtime image gcr\.io\/distroless\/python3-debian12:\S+, which is an alternative\)/)
    const alt = a.alternatives!.find((x) => x.kind === 'runtime-image')!
    expect(alt.base).toMatch(/^gcr\.io\/distroless\/python3-debian12:/)
    expect(alt.confidence).toBe('low')
    expect(alt.costs.join('; ')).toMatch(/retired by its publisher \(no more rebuilds\)$/)
    expect(a.dockerfile).toMatch(/^# {3}alternatives:$/m)
    // Its size is the measured one of the equivalent build (test/bases/runtimes.ts), not "unknown".
    const measured = bases().find((b) => b.name === 'distroless/python3-debian12')!.size.uncompressed!
    expect(alt.estimatedBytes).toBeGreaterThanOrEqual(measured)
    expect(alt.estimatedBytes! - measured).toBeLessThan(1_000_000)
    expect(a.dockerfile).toMatch(/^# {5}- gcr\.io\/distroless\/python3-debian12:\S+ \(runtime image\): about 5\d\.\d MB, confidence low; costs: /m)
    expect(a.dockerfile).toMatch(/^# {5}- debian:12-slim \(interpreter copied, with a shell\): about [\d.]+ MB, confidence \w+; costs: .*a shell the app does not need/m)
  })

  it("a Python app's many extension modules: the copied-libraries reason gives the count and five names, the JSON every name", () => {
    const modules = Array.from({ length: 70 }, (_, i) => `_mod${String(i).padStart(2, '0')}.cpython-311-x86_64-linux-gnu.so`)
    const insp = glibcProgram(['libz.so.1', ...modules], { path: '/usr/bin/python3.11' })
    const a = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12 }), catalogue: bases() })
    const copied = a.ranking[0]!.copiedLibraries
    expect(copied.length).toBeGreaterThanOrEqual(70)
    const reason = a.reasons.find((r) => /libraries are copied/.test(r))!
    expect(reason).toBe(`${copied.length} libraries are copied: ${copied.slice(0, 5).join(', ')}, and ${copied.length - 5} more`)
    expect(a.dockerfile).toContain(`#   why: ${reason}\n`)
    // Few libraries: all named, no "more".
    const few = advise({ inspection: glibcProgram(['libz.so.1', 'libexpat.so.1']), image: sourceImage({ distro: DEBIAN12 }), catalogue: bases() })
    expect(few.reasons).toContain('2 libraries are copied: libz.so.1, libexpat.so.1')
  })

  it('a missing NSS module glibc skips (libnss_db) is not a gap; confidence says why it is high', () => {
    const insp = glibcProgram([], {
      needs: [need('nss-module', [], { present: false, confidence: 'possible', reason: 'services lookups name the source "db", but libnss_db.so.2 is not in the image; glibc skips it silently', evidence: ['libnss_db.so.2 for "services: db files" in /etc/nsswitch.conf'] })],
    })
    insp.closure.unresolved.push({ name: 'libnss_db.so.2', neededBy: [`${T}/libc.so.6`], searched: [], skipped: [], via: 'dlopen' })
    const a = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12 }), catalogue: bases() })
    expect(a.gaps.map((g) => g.message).join('\n')).not.toMatch(/libnss_db/)
    expect(a.confidence).not.toBe('low')
    expect(a.confidenceWhy[0]).toMatch(/^(high|medium): /)
    // A real unresolved library still makes it low, and says which.
    insp.closure.unresolved.push({ name: 'libfoo.so.1', neededBy: ['/app/prog'], searched: [], skipped: [], via: 'needed' })
    const low = advise({ inspection: insp, image: sourceImage({ distro: DEBIAN12 }), catalogue: bases() })
    expect(low.confidence).toBe('low')
    expect(low.confidenceWhy).toContain('low: 1 unresolved library (libfoo.so.1)')
  })
})
