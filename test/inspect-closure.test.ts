/**
 * slim's library closure against the real dynamic loader (`ld.so --list`), which is the oracle:
 *  - host programs, with the host (a Debian 12 root filesystem) as the RootFs;
 *  - one small root per loader rule, built here with gcc/musl-gcc/ldconfig, run under chroot;
 *  - the fixture images' roots (Debian packages, and the small gcc/g++/Go/Rust/musl images).
 * Equality is on the set of real paths, the set of paths as the loader printed them, and the set
 * of names it could not find.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ClosureBuilder } from '../src/inspect/closure/closure.js'
import { parseElf } from '../src/inspect/elf/index.js'
import type { Closure } from '../src/inspect/types.js'
import { ensureFixtures, type Fixtures } from './fixtures/index.js'
import { DirRootFs } from './helpers/dir-rootfs.js'
import { loaderList } from './helpers/ld-oracle.js'
import { cc, freshDir, glibcRoot, install, link, muslRoot, put, sh } from './helpers/loader-roots.js'
import { SHARED } from './helpers/shared.js'

const GLIBC_LOADER = '/lib64/ld-linux-x86-64.so.2'
const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1'
const I386_ELF = `${SHARED}/corpus/eliben__pyelftools/test/testfiles_for_readelf/exe_simple32.elf`

async function slimClosure(root: string, program: string, env: Record<string, string> = {}, cwd = '/'): Promise<Closure> {
  const rootfs = new DirRootFs(root)
  const b = new ClosureBuilder({ rootfs, env, cwd, readElf: async (p) => parseElf(await rootfs.readFile(p), { name: p }) })
  const real = rootfs.realpath(program)
  if (!real) throw new Error(`${program} is not in ${root}`)
  await b.addExecutable(real.path, program)
  return b.result()
}

/** Runs the oracle and slim on the same program and returns both views, side by side. */
async function compare(root: string, program: string, opts: { loader?: string; env?: Record<string, string> } = {}) {
  const rootfs = new DirRootFs(root)
  const real = rootfs.realpath(program)!.path
  const listing = loaderList(root, real, opts.loader ?? GLIBC_LOADER, opts.env)
  const closure = await slimClosure(root, real, opts.env)
  const theirPaths = new Set([...listing.resolved.values(), ...listing.bare])
  const theirs = {
    real: [...new Set([...theirPaths].map((p) => rootfs.realpath(p)?.path ?? `?${p}`))].sort(),
    paths: [...theirPaths].sort(),
    notFound: [...new Set(listing.notFound)].sort(),
  }
  const ours = {
    real: [...new Set(closure.libraries.map((l) => l.realPath))].sort(),
    paths: [...new Set(closure.libraries.map((l) => l.path))].sort(),
    notFound: [...new Set(closure.unresolved.map((u) => u.name))].sort(),
  }
  return { theirs, ours, closure, listing }
}

describe('host programs (the host root is a real Debian rootfs)', () => {
  let cxx: string
  beforeAll(() => {
    const work = freshDir('closure', 'host-cxx')
    writeSrc(work, 'hello.cpp', '#include <iostream>\n#include <thread>\nint main(){std::thread t([]{std::cout<<"hi"<<std::endl;});t.join();}\n')
    sh('g++', ['-O2', '-pthread', '-o', 'hello-cpp', 'hello.cpp'], work)
    cxx = join(work, 'hello-cpp')
  })

  const programs = ['/usr/bin/curl', '/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/umoci', '/usr/bin/podman', '/usr/bin/buildah', '/usr/bin/python3', '/usr/bin/perl', '/usr/bin/java', '/usr/bin/openssl', '/usr/bin/ssh', '/usr/bin/ls']
  for (const program of programs) {
    it(program, async () => {
      const { theirs, ours, listing } = await compare('/', program)
      expect(listing.status).toBe(0)
      expect(theirs.real.length).toBeGreaterThan(0)
      expect(ours).toEqual(theirs)
    })
  }

  it.skipIf(!isFile('/usr/bin/node'))('/usr/bin/node (a 100 MB C++ program)', async () => {
    const { theirs, ours } = await compare('/', '/usr/bin/node')
    expect(ours).toEqual(theirs)
    expect(ours.real.some((p) => p.includes('libstdc++'))).toBe(true)
  })

  it('a g++-built C++ program: libstdc++, libgcc_s, libm', async () => {
    const { theirs, ours, closure } = await compare('/', cxx)
    expect(ours).toEqual(theirs)
    expect(closure.libraries.map((l) => l.name)).toEqual(expect.arrayContaining(['libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6', 'libc.so.6']))
    // Breadth-first with the requesters recorded: libm is needed by libstdc++, libc by all.
    const libm = closure.libraries.find((l) => l.name === 'libm.so.6')!
    expect(libm.neededBy).toContain(closure.libraries.find((l) => l.name === 'libstdc++.so.6')!.realPath)
    const libc = closure.libraries.find((l) => l.name === 'libc.so.6')!
    expect(libc.neededBy.length).toBeGreaterThanOrEqual(3)
    expect(libc.depth).toBe(1)
    expect(closure.interpreter?.path).toBe(GLIBC_LOADER)
  })
})

function writeSrc(dir: string, name: string, text: string): void {
  put(dir, name, text)
}

describe('one root per loader rule (chroot oracle)', () => {
  /** Builds lib<name>.so (soname = file name) in `dir` of the work tree and returns its path. */
  function buildLib(work: string, file: string, body: string, args: string[] = []): string {
    const src = join(work, `${file}.c`)
    put(work, `${file}.c`, body)
    sh('gcc', ['-shared', '-fPIC', `-Wl,-soname,${file}`, '-o', join(work, file), src, ...args], work)
    return join(work, file)
  }

  it('DT_RPATH is searched transitively, DT_RUNPATH only for the object itself', async () => {
    const root = freshDir('closure', 'rpath')
    const work = freshDir('closure', 'rpath-work')
    glibcRoot(root)
    const low = buildLib(work, 'liblow.so', 'int low(void){return 2;}')
    const mid = buildLib(work, 'libmid.so', 'int low(void); int mid(void){return low();}', ['-L.', '-llow'])
    install(root, low, 'opt/deps/liblow.so')
    install(root, mid, 'opt/mid/libmid.so')
    const main = 'int mid(void); int main(void){return mid();}'
    install(root, cc(work, 'app-rpath', main, ['-L.', '-lmid', '-Wl,-rpath-link,.', '-Wl,--disable-new-dtags,-rpath,/opt/mid:/opt/deps']), 'app/app-rpath')
    install(root, cc(work, 'app-runpath', main, ['-L.', '-lmid', '-Wl,-rpath-link,.', '-Wl,--enable-new-dtags,-rpath,/opt/mid:/opt/deps']), 'app/app-runpath')

    const rpath = await compare(root, '/app/app-rpath')
    expect(rpath.ours).toEqual(rpath.theirs)
    expect(rpath.ours.notFound).toEqual([])
    const lowLib = rpath.closure.libraries.find((l) => l.name === 'liblow.so')!
    expect(lowLib.rule).toBe('rpath') // found through the executable's RPATH while loading libmid's needs

    const runpath = await compare(root, '/app/app-runpath')
    expect(runpath.ours).toEqual(runpath.theirs)
    expect(runpath.ours.notFound).toEqual(['liblow.so'])
    const u = runpath.closure.unresolved[0]!
    expect(u.neededBy).toEqual(['/opt/mid/libmid.so'])
    expect(u.searched).toEqual(expect.arrayContaining(['/lib/x86_64-linux-gnu', '/usr/lib']))
  })

  it('$ORIGIN and ${ORIGIN} in RUNPATH, relative to the real directory of the program', async () => {
    const root = freshDir('closure', 'origin')
    const work = freshDir('closure', 'origin-work')
    glibcRoot(root)
    install(root, buildLib(work, 'libanswer.so', 'int answer(void){return 42;}'), 'app/lib/libanswer.so')
    install(root, buildLib(work, 'libother.so', 'int other(void){return 1;}'), 'app/lib2/libother.so')
    const main = 'int answer(void); int other(void); int main(void){return answer()+other();}'
    install(root, cc(work, 'server', main, ['-L.', '-lanswer', '-lother', "-Wl,-rpath,$ORIGIN/../lib:${ORIGIN}/../lib2"]), 'app/bin/server')
    // Called through a symlink elsewhere: $ORIGIN is still /app/bin (the kernel gives ld.so the real path).
    link(root, 'usr/local/bin/server', '/app/bin/server')
    const r = await compare(root, '/app/bin/server')
    expect(r.ours).toEqual(r.theirs)
    expect(r.ours.paths).toEqual(expect.arrayContaining(['/app/bin/../lib/libanswer.so', '/app/bin/../lib2/libother.so']))
    const viaLink = await slimClosure(root, '/usr/local/bin/server')
    expect(viaLink.unresolved).toEqual([])
    expect(viaLink.libraries.map((l) => l.realPath)).toContain('/app/lib/libanswer.so')
  })

  it('a library of the wrong ELF class earlier on the path is skipped (LD_LIBRARY_PATH from Env)', async () => {
    const root = freshDir('closure', 'wrong-class')
    glibcRoot(root)
    // A real i386 ELF named libc.so.6, first on LD_LIBRARY_PATH: ld.so skips it and goes on.
    install(root, I386_ELF, 'opt/first/libc.so.6')
    install(root, cc(freshDir('closure', 'wrong-class-work'), 'hello', 'int main(void){return 0;}', []), 'app/hello')
    const env = { LD_LIBRARY_PATH: '/opt/first' }
    const r = await compare(root, '/app/hello', { env })
    expect(r.listing.status).toBe(0)
    expect(r.ours).toEqual(r.theirs)
    expect(r.ours.real).toContain('/usr/lib/x86_64-linux-gnu/libc.so.6')
    // Without skipping, the closure would have stopped at the i386 file: check it was seen and skipped.
    const c = await slimClosure(root, '/app/hello', env)
    expect(c.libraries.find((l) => l.name === 'libc.so.6')!.rule).toBe('default')
    expect(c.searchPath.ldLibraryPath).toEqual(['/opt/first'])
  })

  it('an i386 library only: unresolved, with the skipped candidate and its reason', async () => {
    const root = freshDir('closure', 'only-wrong-class')
    glibcRoot(root)
    const work = freshDir('closure', 'only-wrong-class-work')
    buildLib(work, 'libthing.so', 'int thing(void){return 3;}')
    install(root, cc(work, 'app', 'int thing(void); int main(void){return thing();}', ['-L.', '-lthing', '-Wl,-rpath,/opt/x86']), 'app/app')
    install(root, I386_ELF, 'opt/x86/libthing.so')
    const r = await compare(root, '/app/app')
    expect(r.ours).toEqual(r.theirs)
    expect(r.ours.notFound).toEqual(['libthing.so'])
    const u = r.closure.unresolved[0]!
    expect(u.skipped).toEqual([{ path: '/opt/x86/libthing.so', reason: 'ELF class 32, the program is 64-bit' }])
  })

  it('an unresolved library is reported with who needs it and where slim looked', async () => {
    const root = freshDir('closure', 'missing')
    const work = freshDir('closure', 'missing-work')
    glibcRoot(root)
    buildLib(work, 'libgone.so.1', 'int gone(void){return 1;}')
    install(root, cc(work, 'app', 'int gone(void); int main(void){return gone();}', ['-L.', '-l:libgone.so.1']), 'app/app')
    const r = await compare(root, '/app/app')
    expect(r.ours).toEqual(r.theirs)
    expect(r.ours.notFound).toEqual(['libgone.so.1'])
    expect(r.closure.unresolved[0]!.neededBy).toEqual(['/app/app'])
    const tree = r.closure.tree[0]!
    expect(tree.children.map((c) => [c.name, c.missing ?? false])).toEqual([
      ['libgone.so.1', true],
      ['libc.so.6', false],
    ])
    // libc.so.6 itself needs the loader (by soname), which is the already loaded interpreter.
    expect(tree.children[1]!.children.map((c) => c.path)).toEqual([GLIBC_LOADER])
  })

  it('/etc/ld.so.conf with include globs, as the ld.so.cache built by ldconfig finds it', async () => {
    const root = freshDir('closure', 'ldsoconf')
    const work = freshDir('closure', 'ldsoconf-work')
    glibcRoot(root)
    install(root, buildLib(work, 'libconf.so.1', 'int conf(void){return 5;}'), 'opt/conflib/libconf.so.1', 0o644)
    install(root, buildLib(work, 'libsecond.so.1', 'int second(void){return 6;}'), 'srv/lib/libsecond.so.1', 0o644)
    install(root, cc(work, 'app', 'int conf(void); int second(void); int main(void){return conf()+second();}', ['-L.', '-l:libconf.so.1', '-l:libsecond.so.1']), 'app/app')
    put(root, 'etc/ld.so.conf', '# test\ninclude /etc/ld.so.conf.d/*.conf\ninclude more/*.conf\n')
    put(root, 'etc/ld.so.conf.d/10-conf.conf', '/opt/conflib\n')
    put(root, 'etc/more/x.conf', '/srv/lib  # a comment after the directory\n')
    // Before ldconfig there is no cache: ld.so (and slim) search only the default directories.
    const before = await compare(root, '/app/app')
    expect(before.ours).toEqual(before.theirs)
    expect(before.ours.notFound).toEqual(['libconf.so.1', 'libsecond.so.1'])
    sh('ldconfig', ['-r', root])
    const after = await compare(root, '/app/app')
    expect(after.ours).toEqual(after.theirs)
    expect(after.ours.notFound).toEqual([])
    expect(after.closure.searchPath.ldSoConf).toEqual(['/opt/conflib', '/srv/lib'])
    expect(after.closure.libraries.find((l) => l.name === 'libsecond.so.1')!.rule).toBe('ld.so.conf')
  })

  it('DF_1_NODEFLIB: no cache and no default directories for that object', async () => {
    const root = freshDir('closure', 'nodeflib')
    const work = freshDir('closure', 'nodeflib-work')
    glibcRoot(root)
    install(root, buildLib(work, 'libnd.so', 'int nd(void){return 7;}'), 'usr/lib/x86_64-linux-gnu/libnd.so', 0o644)
    install(root, cc(work, 'app', 'int nd(void); int main(void){return nd();}', ['-L.', '-lnd', '-Wl,-z,nodefaultlib']), 'app/app')
    const r = await compare(root, '/app/app')
    expect(r.closure.libraries.some((l) => l.name === 'libnd.so')).toBe(false)
    expect(r.ours.notFound).toEqual(expect.arrayContaining(['libnd.so']))
    expect(r.ours.notFound).toEqual(r.theirs.notFound)
  })

  it('glibc-hwcaps: a library that exists only in a CPU-level subdirectory', async () => {
    const root = freshDir('closure', 'hwcaps')
    const work = freshDir('closure', 'hwcaps-work')
    glibcRoot(root)
    install(root, buildLib(work, 'libfast.so', 'int fast(void){return 8;}'), 'usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v2/libfast.so', 0o644)
    install(root, cc(work, 'app', 'int fast(void); int main(void){return fast();}', ['-L.', '-lfast']), 'app/app')
    const r = await compare(root, '/app/app')
    // This machine supports x86-64-v2, so the real loader finds it; so must slim.
    expect(r.ours.real).toEqual(r.theirs.real)
    expect(r.ours.notFound).toEqual([])
  })

  it('musl: /etc/ld-musl-x86_64.path, RPATH and the names musl answers itself', async () => {
    const root = freshDir('closure', 'musl')
    const work = freshDir('closure', 'musl-work')
    muslRoot(root)
    sh('musl-gcc', ['-shared', '-fPIC', '-Wl,-soname,libpathlib.so', '-o', 'libpathlib.so', writeC(work, 'pl.c', 'int pl(void){return 1;}')], work)
    sh('musl-gcc', ['-shared', '-fPIC', '-Wl,-soname,librp.so', '-o', 'librp.so', writeC(work, 'rp.c', 'int rp(void){return 2;}')], work)
    install(root, join(work, 'libpathlib.so'), 'opt/musl-libs/libpathlib.so')
    install(root, join(work, 'librp.so'), 'opt/rp/librp.so')
    // Stand-ins carrying the sonames Alpine and glibc-built programs ask for; musl answers them itself.
    for (const soname of ['libc.musl-x86_64.so.1', 'libpthread.so.0']) {
      sh('musl-gcc', ['-shared', '-fPIC', `-Wl,-soname,${soname}`, '-o', `stub-${soname}`, writeC(work, 'stub.c', 'int stub_x(void){return 0;}')], work)
    }
    sh('musl-gcc', ['-o', 'app', writeC(work, 'app.c', '#include <math.h>\nint pl(void); int rp(void); int main(int c,char**v){return pl()+rp()+(int)sqrt(c);}'), '-L.', '-lpathlib', '-lrp', '-Wl,--no-as-needed', '-l:stub-libc.musl-x86_64.so.1', '-l:stub-libpthread.so.0', '-Wl,-rpath,/opt/rp'], work)
    install(root, join(work, 'app'), 'app/app')
    put(root, 'etc/ld-musl-x86_64.path', '/opt/musl-libs\n/lib:/usr/lib\n')
    const r = await compare(root, '/app/app', { loader: MUSL_LOADER })
    expect(r.listing.status).toBe(0)
    expect(r.ours).toEqual(r.theirs)
    expect(r.closure.loader).toBe('musl')
    expect(r.closure.searchPath.muslPath).toEqual(['/opt/musl-libs', '/lib', '/usr/lib'])
    // One file is both the loader and libc: every libc name resolves to it.
    const self = r.closure.tree[0]!.children.filter((c) => /^lib(c|pthread)\./.test(c.name))
    expect(self.map((c) => c.name).sort()).toEqual(['libc.musl-x86_64.so.1', 'libc.so', 'libpthread.so.0'])
    expect(new Set(self.map((c) => c.path))).toEqual(new Set([MUSL_LOADER]))
    expect(r.listing.resolved.get('libpthread.so.0')).toBe(MUSL_LOADER)
    expect(r.closure.libraries.find((l) => l.name === 'librp.so')!.rule).toBe('runpath') // musl-gcc writes DT_RUNPATH
    expect(r.closure.libraries.find((l) => l.name === 'libpathlib.so')!.rule).toBe('musl-path')
    // Without the path file, musl uses /lib:/usr/local/lib:/usr/lib and cannot find libpathlib.so.
    sh('rm', [join(root, 'etc/ld-musl-x86_64.path')])
    const d = await compare(root, '/app/app', { loader: MUSL_LOADER })
    expect(d.ours.notFound).toEqual(['libpathlib.so'])
    expect(d.ours.notFound).toEqual(d.theirs.notFound)
  })
})

function writeC(dir: string, name: string, text: string): string {
  put(dir, name, text)
  return join(dir, name)
}

describe('fixture images (chroot into their roots)', () => {
  let fx: Fixtures
  beforeAll(async () => {
    fx = await ensureFixtures(['debian-rootfs', 'small'])
  })

  const debianPrograms = ['/usr/sbin/nginx', '/usr/bin/redis-server', '/usr/bin/curl', '/usr/bin/rg', '/usr/bin/docker-registry', '/usr/bin/ninja', '/usr/bin/python3.11']
  for (const program of debianPrograms) {
    it(`debian: ${program}`, async () => {
      const root = fx.rootfs.debian!
      const r = await compare(root, program)
      expect(r.listing.status).toBe(0)
      expect(r.ours).toEqual(r.theirs)
      expect(r.ours.notFound).toEqual([])
    })
  }

  it('small images: C, C++, Rust, RUNPATH $ORIGIN, cgo Go and dynamic musl', async () => {
    const cases: [string, string, string][] = [
      ['c-glibc', '/app/hello', GLIBC_LOADER],
      ['cpp', '/app/hello-cpp', GLIBC_LOADER],
      ['rust', '/app/hello-rust', GLIBC_LOADER],
      ['c-rpath', '/app/hello-rpath', GLIBC_LOADER],
      ['c-dlopen', '/app/hello-dlopen', GLIBC_LOADER],
      ['go-cgo', '/app/go-cgo', GLIBC_LOADER],
      ['c-musl-dynamic', '/app/hello', MUSL_LOADER],
    ]
    let checked = 0
    for (const [name, program, loader] of cases) {
      const root = fx.rootfs[name]
      if (!root) {
        expect(fx.skipped[name]).toBeTruthy() // e.g. no cargo on this machine: the builder says why
        continue
      }
      const r = await compare(root, program, { loader })
      expect([name, r.listing.status]).toEqual([name, 0])
      expect([name, r.ours]).toEqual([name, r.theirs])
      checked++
    }
    expect(checked).toBeGreaterThanOrEqual(6)
  })

  it('a static Go program has no loader and no closure', async () => {
    const c = await slimClosure(fx.rootfs['go-static']!, '/app/hello')
    expect(c.loader).toBe('none')
    expect(c.libraries).toEqual([])
    expect(c.unresolved).toEqual([])
    expect(c.roots).toEqual(['/app/hello'])
    // The oracle agrees: the file has no PT_INTERP, so there is nothing for a loader to list.
    expect(parseElf(readFileSync(join(fx.rootfs['go-static']!, 'app/hello'))).interpreter).toBeUndefined()
  })
})

describe('hostile or broken inputs never crash or hang the closure', () => {
  it('symlink loops, non-ELF files, corrupt ELF files and NEEDED cycles', async () => {
    const root = freshDir('closure', 'hostile')
    const work = freshDir('closure', 'hostile-work')
    glibcRoot(root)
    // A NEEDED cycle: liba needs libb, libb needs liba.
    const b0 = join(work, 'libb.so')
    sh('gcc', ['-shared', '-fPIC', '-Wl,-soname,libb.so', '-o', b0, writeC(work, 'b.c', 'int b(void){return 1;}')], work)
    sh('gcc', ['-shared', '-fPIC', '-Wl,-soname,liba.so', '-o', join(work, 'liba.so'), writeC(work, 'a.c', 'int b(void); int a(void){return b();}'), '-L.', '-lb'], work)
    sh('gcc', ['-shared', '-fPIC', '-Wl,-soname,libb.so', '-o', b0, join(work, 'b.c'), '-L.', '-Wl,--no-as-needed', '-la'], work)
    for (const l of ['liba.so', 'libb.so']) install(root, join(work, l), `opt/cycle/${l}`, 0o644)
    sh('gcc', ['-shared', '-fPIC', '-Wl,-soname,libloop.so', '-o', join(work, 'libloop.so'), writeC(work, 'l.c', 'int lp(void){return 1;}')], work)
    sh('gcc', ['-shared', '-fPIC', '-Wl,-soname,libtext.so', '-o', join(work, 'libtext.so'), writeC(work, 't.c', 'int tx(void){return 1;}')], work)
    sh('gcc', ['-shared', '-fPIC', '-Wl,-soname,libbad.so', '-o', join(work, 'libbad.so'), writeC(work, 'x.c', 'int bd(void){return 1;}')], work)
    install(root, cc(work, 'app', 'int a(void); int lp(void); int tx(void); int bd(void); int main(void){return a()+lp()+tx()+bd();}', ['-L.', '-Wl,--no-as-needed', '-la', '-lb', '-lloop', '-ltext', '-lbad', '-Wl,--disable-new-dtags,-rpath,/opt/cycle:/opt/bad']), 'app/app')
    link(root, 'opt/bad/libloop.so', '/opt/bad/libloop2.so')
    link(root, 'opt/bad/libloop2.so', '/opt/bad/libloop.so')
    put(root, 'opt/bad/libtext.so', 'INPUT(-lc)\n') // a linker script, as /usr/lib/x86_64-linux-gnu/libc.so is
    install(root, `${SHARED}/corpus/eliben__pyelftools/test/testfiles_for_unittests/x64_bad_sections.elf`, 'opt/bad/libbad.so', 0o644)
    const c = await slimClosure(root, '/app/app')
    expect(c.libraries.map((l) => l.name)).toEqual(expect.arrayContaining(['liba.so', 'libb.so', 'libc.so.6']))
    const cycle = c.libraries.find((l) => l.name === 'libb.so')!
    expect(cycle.neededBy.sort()).toEqual(['/app/app', '/opt/cycle/liba.so'])
    const unresolved = Object.fromEntries(c.unresolved.map((u) => [u.name, u]))
    expect(unresolved['libloop.so']?.searched).toContain('/opt/bad') // the loop resolves to nothing
    expect(unresolved['libtext.so']?.skipped[0]?.reason).toMatch(/not a loadable ELF file/)
    // A corrupt ELF is still an ELF of the right machine: ld.so would try it; slim keeps it and its warnings don't stop the walk.
    expect(c.libraries.some((l) => l.name === 'libbad.so') || unresolved['libbad.so'] !== undefined).toBe(true)
  })
})

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
