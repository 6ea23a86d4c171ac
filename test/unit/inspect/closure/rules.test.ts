/**
 * The loader rules one by one, on hand-built objects: each expectation is a sentence of ld.so(8)
 * ("Finding shared libraries") or of musl's dynlink.c. The same rules are checked against the
 * real loaders in test/inspect-closure.test.ts.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DirRootFs } from '../../../helpers/dir-rootfs.js'
import type { ElfInfo } from '../../../../src/inspect/elf/types.js'
import { defaultDirs, glibcSearchOrder, ldLibraryPathDirs, ldSoCacheDirs, rpathDirs, runpathDirs } from '../../../../src/inspect/closure/glibc.js'
import { isMuslReservedName, muslSearchOrder } from '../../../../src/inspect/closure/musl.js'
import { absoluteDir, expandDynamicStringTokens, splitSearchList } from '../../../../src/inspect/closure/paths.js'
import type { LoadedObject, SearchContext } from '../../../../src/inspect/closure/search.js'
import { dstLibFromTrustedDirs, trustedDirsFromLoader } from '../../../../src/inspect/closure/system-dirs.js'

function elf(over: Partial<ElfInfo> = {}): ElfInfo {
  return {
    class: 64, endianness: 'little', machine: 'x86-64', machineCode: 62, osabi: 0, type: 'DYN', needed: [], rpath: [], runpath: [], flags1: [],
    stripped: true, hasDynamic: true, versionNeeds: [], importedSymbols: [], dlopenNotes: [], libc: 'glibc', libcEvidence: '', sections: [], warnings: [], ...over,
  }
}

function obj(path: string, info: ElfInfo, loader?: LoadedObject): LoadedObject {
  return { names: new Set([path]), path, realPath: path, symlinks: [], size: 0, info, origin: path.slice(0, path.lastIndexOf('/')) || '/', depth: loader ? loader.depth + 1 : 0, rule: 'path', via: loader ? 'needed' : 'root', requestedAs: path, neededBy: [], ...(loader ? { loader } : {}) }
}

const ctx = (over: Partial<SearchContext> = {}): SearchContext => ({
  rootfs: new DirRootFs('/nonexistent-root'), readElf: async () => elf(), flavour: 'glibc', env: {}, cwd: '/work', trustedDirs: ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'],
  ldSoCache: { dirs: ['/usr/local/lib'], files: ['/etc/ld.so.conf'] }, dstLib: 'lib/x86_64-linux-gnu', platform: 'x86_64', machine: 'x86-64', hwcaps: [], ...over,
})
const dirs = (steps: { rule: string; dir: string }[]) => steps.map((s) => `${s.rule}:${s.dir}`)

describe('glibc, in ld.so(8) order', () => {
  const main = obj('/app/bin/main', elf({ rpath: ['$ORIGIN/../lib', '/opt/main'] }))
  const lib = obj('/opt/x/libx.so', elf({ rpath: ['/opt/x-rpath'] }), main)
  const withRunpath = obj('/opt/y/liby.so', elf({ runpath: ['/opt/y-runpath'], rpath: ['/ignored'] }), main)

  it('1. DT_RPATH of the loading object, then of its loaders up to the executable', () => {
    expect(dirs(rpathDirs(lib, main, ctx()))).toEqual(['rpath:/opt/x-rpath', 'rpath:/app/bin/../lib', 'rpath:/opt/main'])
  })
  it('   ... unless the loading object has DT_RUNPATH (then no RPATH at all is used)', () => {
    expect(rpathDirs(withRunpath, main, ctx())).toEqual([])
  })
  it('2. LD_LIBRARY_PATH from the image Env, ":" and ";" separated, empty entries = working directory', () => {
    expect(dirs(ldLibraryPathDirs(main, ctx({ env: { LD_LIBRARY_PATH: '/a;/b::rel' } })))).toEqual(['ld-library-path:/a', 'ld-library-path:/b', 'ld-library-path:/work', 'ld-library-path:/work/rel'])
  })
  it('3. DT_RUNPATH of the loading object only (not of its loaders)', () => {
    const child = obj('/opt/y/child.so', elf(), withRunpath)
    expect(dirs(runpathDirs(withRunpath, ctx()))).toEqual(['runpath:/opt/y-runpath'])
    expect(runpathDirs(child, ctx())).toEqual([])
  })
  it('4. the ld.so cache (ld.so.conf dirs, then trusted dirs), 5. the trusted dirs; both skipped for DF_1_NODEFLIB', () => {
    expect(dirs(ldSoCacheDirs(main, ctx()))).toEqual(['ld.so.conf:/usr/local/lib', 'ld.so.conf:/lib/x86_64-linux-gnu', 'ld.so.conf:/usr/lib/x86_64-linux-gnu', 'ld.so.conf:/lib', 'ld.so.conf:/usr/lib'])
    expect(ldSoCacheDirs(main, ctx({ ldSoCache: undefined }))).toEqual([])
    const nodeflib = obj('/app/nd', elf({ flags1: ['NOW', 'NODEFLIB'] }))
    expect(ldSoCacheDirs(nodeflib, ctx())).toEqual([])
    expect(defaultDirs(nodeflib, ctx())).toEqual([])
    expect(dirs(defaultDirs(main, ctx()))).toEqual(['default:/lib/x86_64-linux-gnu', 'default:/usr/lib/x86_64-linux-gnu', 'default:/lib', 'default:/usr/lib'])
  })
  it('the whole order for a library loaded by the executable', () => {
    const order = dirs(glibcSearchOrder(lib, main, ctx({ env: { LD_LIBRARY_PATH: '/env' } })))
    expect(order.slice(0, 5)).toEqual(['rpath:/opt/x-rpath', 'rpath:/app/bin/../lib', 'rpath:/opt/main', 'ld-library-path:/env', 'ld.so.conf:/usr/local/lib'])
    expect(order.at(-1)).toBe('default:/usr/lib')
  })
})

describe('dynamic string tokens', () => {
  it('expands $ORIGIN, ${ORIGIN}, $LIB, $PLATFORM; an unknown origin drops the entry; other $NAMES stay', () => {
    const v = { origin: '/opt/app/bin', lib: 'lib/x86_64-linux-gnu', platform: 'x86_64' }
    expect(expandDynamicStringTokens('$ORIGIN/../lib', v)).toBe('/opt/app/bin/../lib')
    expect(expandDynamicStringTokens('${ORIGIN}/x:$LIB/$PLATFORM', v)).toBe('/opt/app/bin/x:lib/x86_64-linux-gnu/x86_64')
    expect(expandDynamicStringTokens('$ORIGINAL/x', v)).toBe('$ORIGINAL/x')
    expect(expandDynamicStringTokens('$ORIGIN/x', { lib: 'lib' })).toBeUndefined()
    expect(expandDynamicStringTokens('$HOME/lib', v)).toBe('$HOME/lib')
  })
  it('search lists and relative entries', () => {
    expect(splitSearchList('/a::/b:')).toEqual(['/a', '.', '/b', '.'])
    expect(absoluteDir('lib', '/srv')).toBe('/srv/lib')
  })
})

describe("the trusted directories compiled into the image's ld.so", () => {
  it("are read from the host's ld.so, matching `ld.so --help`", () => {
    const dirs = trustedDirsFromLoader(readFileSync('/lib64/ld-linux-x86-64.so.2'))
    expect(dirs).toEqual(['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'])
    expect(dstLibFromTrustedDirs(dirs!)).toBe('lib/x86_64-linux-gnu')
    expect(dstLibFromTrustedDirs(['/lib64', '/usr/lib64'])).toBe('lib64')
  })
  it('are not found in a file that has none (musl keeps its path as one string)', () => {
    expect(trustedDirsFromLoader(readFileSync('/usr/lib/x86_64-linux-musl/libc.so'))).toBeUndefined()
  })
})

describe('musl', () => {
  it('answers libc, libpthread, librt, libm, libdl, libutil, libxnet (and libc.musl-*) itself', () => {
    for (const n of ['libc.so', 'libc.so.6', 'libc.musl-x86_64.so.1', 'libpthread.so.0', 'libm.so.6', 'libdl.so.2', 'librt.so.1', 'libutil.so.1', 'libxnet.so']) expect([n, isMuslReservedName(n)]).toEqual([n, true])
    for (const n of ['libcrypto.so.3', 'libmagic.so.1', 'libz.so.1', 'libcurl.so.4']) expect([n, isMuslReservedName(n)]).toEqual([n, false])
  })
  it('LD_LIBRARY_PATH, then RUNPATH-or-RPATH up the loader chain ($ORIGIN only), then the system path', () => {
    const main = obj('/app/main', elf({ libc: 'musl', rpath: ['/main-rpath'] }))
    const lib = obj('/opt/l/lib.so', elf({ libc: 'musl', runpath: ['$ORIGIN/dep', '$LIB/x'] }), main)
    expect(dirs(muslSearchOrder(lib, ctx({ flavour: 'musl', env: { LD_LIBRARY_PATH: '/env' }, muslPath: ['/lib', '/usr/lib'] })))).toEqual([
      'ld-library-path:/env', 'runpath:/opt/l/dep', 'runpath:/work/$LIB/x', 'rpath:/main-rpath', 'musl-path:/lib', 'musl-path:/usr/lib',
    ])
  })
})
