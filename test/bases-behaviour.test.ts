/**
 * Runtime hazards base-images.md lists (some as UNVERIFIED), checked against the
 * distroless-equivalent bases with real programs, together with what the catalogue says about them.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { builtinBases } from '../src/advise/catalogue/load.js'
import { ensureBases, runInRootfs, type TestBases } from './bases/build.js'
import { testCacheDir } from './bases/debs.js'
import { run } from './bases/exec.js'

let bases: TestBases
const dir = join(testCacheDir(), 'behaviour-probes')
const prog = { pwStatic: join(dir, 'getpwnam-static'), pwDynamic: join(dir, 'getpwnam'), cancel: join(dir, 'pthread-cancel') }
const entry = (n: string) => builtinBases().find((b) => b.name === n)!

beforeAll(async () => {
  bases = await ensureBases()
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'getpwnam.c'),
    '#include <pwd.h>\n#include <stdio.h>\nint main(void){struct passwd *p=getpwnam("nonroot");if(!p){puts("not found");return 1;}printf("uid %d\\n",(int)p->pw_uid);return 0;}\n',
  )
  writeFileSync(
    join(dir, 'cancel.c'),
    '#include <pthread.h>\n#include <stdio.h>\n#include <unistd.h>\nstatic void *run(void *a){for(;;)pause();return a;}\nint main(void){pthread_t t;pthread_create(&t,0,run,0);pthread_cancel(t);pthread_join(t,0);puts("cancelled");return 0;}\n',
  )
  // Built fresh each run: a few hundred ms, and the programs must match the host's glibc (2.36).
  await run('gcc', ['-static', '-o', prog.pwStatic, join(dir, 'getpwnam.c')])
  await run('gcc', ['-o', prog.pwDynamic, join(dir, 'getpwnam.c')])
  await run('gcc', ['-pthread', '-o', prog.cancel, join(dir, 'cancel.c')])
})

describe('user lookups through NSS (nsswitch.conf says passwd: compat)', () => {
  it('a static glibc program cannot resolve users on static: libnss_compat.so.2 is absent', async () => {
    const r = await runInRootfs(bases.rootfs['distroless/static-debian12'], prog.pwStatic, ['/tmp/probe'])
    expect([r.status, r.stdout]).toEqual([1, 'not found\n'])
    expect(entry('distroless/static-debian12').provides.sonames).not.toContain('libnss_compat.so.2')
  })

  it('the same static program resolves nonroot on base, which has the same glibc build', async () => {
    const r = await runInRootfs(bases.rootfs['distroless/base-debian12'], prog.pwStatic, ['/tmp/probe'])
    expect(r.stdout).toBe('uid 65532\n')
    expect(entry('distroless/base-debian12').provides.sonames).toContain('libnss_compat.so.2')
  })

  it('a dynamic program resolves nonroot on base-nossl', async () => {
    const r = await runInRootfs(bases.rootfs['distroless/base-nossl-debian12'], prog.pwDynamic, ['/tmp/probe'])
    expect(r.stdout).toBe('uid 65532\n')
  })
})

describe('pthread_cancel needs libgcc_s.so.1 although it is not in DT_NEEDED', () => {
  it('is not a DT_NEEDED of the program', async () => {
    const { stdout } = await run('readelf', ['-d', prog.cancel])
    expect(stdout).not.toContain('libgcc_s')
  })

  it('aborts on base (no libgcc_s) and works on cc', async () => {
    const base = await runInRootfs(bases.rootfs['distroless/base-debian12'], prog.cancel, ['/tmp/probe'])
    expect(base.status).toBe(134) // SIGABRT
    expect(base.stderr).toContain('libgcc_s.so.1 must be installed for pthread_cancel to work')
    const cc = await runInRootfs(bases.rootfs['distroless/cc-debian12'], prog.cancel, ['/tmp/probe'])
    expect(cc.stdout).toBe('cancelled\n')
    expect(entry('distroless/base-debian12').provides.sonames).not.toContain('libgcc_s.so.1')
    expect(entry('distroless/cc-debian12').provides.sonames).toContain('libgcc_s.so.1')
  })
})

describe('locales', () => {
  it('has no C.utf8 locale in the debian12 bases (it lives in libc-bin), as the catalogue says', () => {
    for (const name of ['distroless/base-nossl-debian12', 'distroless/cc-debian12']) {
      expect(existsSync(join(bases.rootfs[name], 'usr/lib/locale/C.utf8')), name).toBe(false)
      expect(entry(name).provides.locales).toEqual([])
    }
  })
})
