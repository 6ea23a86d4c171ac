import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { DirRootFs } from '../../../helpers/dir-rootfs.js'
import { cacheDir } from '../../../helpers/loader-roots.js'
import { globInRoot, parseLdSoConf } from '../../../../src/inspect/closure/ld-so-conf.js'
import { resolveDir } from '../../../../src/inspect/closure/paths.js'

let root: string
const write = (p: string, text: string) => {
  mkdirSync(dirname(join(root, p)), { recursive: true })
  writeFileSync(join(root, p), text)
}

beforeAll(() => {
  root = cacheDir('unit', 'ld-so-conf')
  rmSync(root, { recursive: true, force: true })
  write('etc/ld.so.conf', '# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/direct/\ninclude local/*.conf\ninclude /etc/ld.so.conf\nhwcap 0 nosegneg\n')
  write('etc/ld.so.conf.d/b-second.conf', '/opt/b  # trailing comment\n/opt/a\n')
  write('etc/ld.so.conf.d/a-first.conf', '/opt/a\n\n   /opt/spaced   \n')
  write('etc/ld.so.conf.d/ignored.txt', '/opt/not-a-conf\n')
  write('etc/local/x.conf', '/srv/lib\n')
  mkdirSync(join(root, 'usr/lib/x86_64-linux-gnu'), { recursive: true })
  symlinkSync('usr/lib', join(root, 'lib'))
})

describe('ld.so.conf', () => {
  it('reads includes (sorted globs, relative to the including file) in order, once, without loops', async () => {
    const conf = await parseLdSoConf(new DirRootFs(root))
    expect(conf.dirs).toEqual(['/opt/a', '/opt/spaced', '/opt/b', '/opt/direct', '/srv/lib'])
    expect(conf.files).toEqual(['/etc/ld.so.conf', '/etc/ld.so.conf.d/a-first.conf', '/etc/ld.so.conf.d/b-second.conf', '/etc/local/x.conf'])
    expect(conf.warnings).toEqual(['/etc/ld.so.conf: include loop or nesting deeper than 16, ignored'])
  })
  it('an image without ld.so.conf has no directories from it', async () => {
    expect((await parseLdSoConf(new DirRootFs(join(root, 'usr')))).dirs).toEqual([])
  })
  it('glob matches *, ? and [...] per component, skipping dot files', () => {
    const fs = new DirRootFs(root)
    expect(globInRoot(fs, '/etc/ld.so.conf.d/*.conf')).toEqual(['/etc/ld.so.conf.d/a-first.conf', '/etc/ld.so.conf.d/b-second.conf'])
    expect(globInRoot(fs, '/etc/*/[ab]-*.con?')).toEqual(['/etc/ld.so.conf.d/a-first.conf', '/etc/ld.so.conf.d/b-second.conf'])
    expect(globInRoot(fs, '/etc/nothing/*.conf')).toEqual([])
  })
})

describe('resolveDir (open(2) semantics inside the root)', () => {
  it("follows a symlink before '..' (so /lib/../etc is /usr/etc on merged /usr) and records the links", () => {
    const fs = new DirRootFs(root)
    expect(resolveDir(fs, '/lib/x86_64-linux-gnu')).toEqual({ dir: '/usr/lib/x86_64-linux-gnu', chain: ['/lib'] })
    mkdirSync(join(root, 'usr/etc'), { recursive: true })
    expect(resolveDir(fs, '/lib/../etc')).toEqual({ dir: '/usr/etc', chain: ['/lib'] })
    expect(resolveDir(fs, '/nope/x')).toBeUndefined()
    expect(resolveDir(fs, '/etc/ld.so.conf')).toBeUndefined() // a file is not a directory
  })
})
