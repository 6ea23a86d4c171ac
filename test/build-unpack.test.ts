/**
 * The verify stage's unpacker on hand-made layers: whiteouts, opaque directories (this layer's
 * entries stay), hard links, symlinks kept as-is, a parent reached through an absolute symlink
 * (resolved inside the root), '../' escapes and a symlink pointing out of the root (neither
 * reaches the host), device nodes skipped with a note, setuid dropped.
 */
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { unpackImage } from '../src/build/unpack.js'
import { resolveUser } from '../src/build/sandbox.js'
import { trackTemp } from '../src/core/temp.js'
import { imageOf, makeTar } from './helpers/tar-layers.js'

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true })
})
function freshRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'slim-unpack-test-'))
  roots.push(r)
  return r
}

describe('unpackImage', () => {
  it('applies layers in order with whiteouts, opaque dirs, links, and keeps everything inside the root', async () => {
    const marker = `slim-unpack-escape-${process.pid}-${Date.now()}`
    const lower = makeTar([
      { name: 'etc/', type: '5' },
      { name: 'etc/a', data: 'A' },
      { name: 'etc/keep', data: 'K' },
      { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\nnginx:x:101:102::/:/bin/false\n' },
      { name: 'etc/group', data: 'root:x:0:\nweb:x:555:\n' },
      { name: 'data/', type: '5' },
      { name: 'data/old', data: 'old' },
      { name: 'conf/', type: '5' },
      { name: 'conf/x', data: 'x' },
      { name: 'link', type: '2', linkname: '/data' },
      { name: 'out', type: '2', linkname: '../../../../../../tmp' },
      { name: 'bin/su', data: 'su', mode: 0o4755 },
      { name: 'dev/null', type: '3', devmajor: 1, devminor: 3 },
      { name: `../${marker}`, data: 'escape' },
      { name: `a/../../${marker}`, data: 'escape' },
    ])
    const upper = makeTar([
      { name: 'etc/.wh.a' },
      { name: 'data/.wh..wh..opq' },
      { name: 'data/new', data: 'new' },
      { name: 'conf/y', data: 'y' },
      { name: 'conf/.wh..wh..opq' },
      { name: 'link/hello', data: 'hi' },
      { name: 'etc/keep2', type: '1', linkname: 'etc/keep' },
      { name: 'etc/bad', type: '1', linkname: `../../${marker}` },
      { name: `out/${marker}`, data: 'inside' },
    ])
    const root = freshRoot()
    const r = await unpackImage(imageOf(lower, upper), root)

    expect(existsSync(join(root, 'etc/a'))).toBe(false)
    expect(readFileSync(join(root, 'etc/keep'), 'utf8')).toBe('K')
    // Opaque: lower layers' children gone, this layer's (before or after the marker) kept.
    expect(existsSync(join(root, 'data/old'))).toBe(false)
    expect(readFileSync(join(root, 'data/new'), 'utf8')).toBe('new')
    expect(existsSync(join(root, 'conf/x'))).toBe(false)
    expect(readFileSync(join(root, 'conf/y'), 'utf8')).toBe('y')
    // Symlinks as-is; a parent through /data lands in the root's /data.
    expect(readlinkSync(join(root, 'link'))).toBe('/data')
    expect(readFileSync(join(root, 'data/hello'), 'utf8')).toBe('hi')
    // Hard link: the same inode.
    expect(statSync(join(root, 'etc/keep2')).ino).toBe(statSync(join(root, 'etc/keep')).ino)
    expect(existsSync(join(root, 'etc/bad'))).toBe(false)
    // The symlink pointing out of the root resolves to the root's /tmp, and nothing reached the host.
    expect(readFileSync(join(root, 'tmp', marker), 'utf8')).toBe('inside')
    expect(existsSync(join(tmpdir(), marker))).toBe(false)
    expect(existsSync(join(root, '..', marker))).toBe(false)
    expect(existsSync(join('/tmp', marker))).toBe(false)
    // setuid dropped, device skipped with notes.
    expect(lstatSync(join(root, 'bin/su')).mode & 0o7777).toBe(0o755)
    expect(existsSync(join(root, 'dev/null'))).toBe(false)
    expect(r.notes.join('\n')).toMatch(/skipped entries escaping the root: \.\.\/slim-unpack-escape/)
    expect(r.notes.join('\n')).toMatch(/skipped device nodes.*dev\/null/)
    expect(r.notes.join('\n')).toMatch(/skipped hard links.*etc\/bad/)

    // USER resolution through the image's own files; numbers pass through.
    expect(resolveUser(root, 'nginx')).toEqual({ uid: 101, gid: 102 })
    expect(resolveUser(root, 'nginx:web')).toEqual({ uid: 101, gid: 555 })
    expect(resolveUser(root, '1234:5')).toEqual({ uid: 1234, gid: 5 })
    expect(resolveUser(root, undefined)).toEqual({ uid: 0, gid: 0 })
    expect(() => resolveUser(root, 'nobody-here')).toThrow(/not in its \/etc\/passwd/)
  })

  it('a layer cut inside a file, or a file past the temp budget, fails and leaves no file descriptor open', async () => {
    const whole = makeTar([{ name: 'big', data: 'x'.repeat(100_000) }])
    const cut = whole.subarray(0, 512 + 50_000) // the header and half the body
    const fds = (): number => readdirSync('/proc/self/fd').length
    const before = fds()
    for (let i = 0; i < 5; i++) await expect(unpackImage(imageOf(cut), freshRoot())).rejects.toThrow(/truncated/)
    expect(fds()).toBe(before)
    // A file past the temp budget: the write fails inside the body.
    for (let i = 0; i < 5; i++) {
      const root = freshRoot()
      const handle = trackTemp(root, { dir: true })
      await expect(unpackImage(imageOf(whole), root, { handle, maxBytes: 10_000 })).rejects.toThrow(/unpacking the image for verify/)
      await handle.remove()
    }
    expect(fds()).toBe(before)
  })
})

describe('verify helpers', () => {
  it('recognises loader and runtime failures', async () => {
    const { failuresIn, chooseProbe, exposedTcpPorts, normaliseOutput } = await import('../src/build/verify.js')
    expect(failuresIn('/usr/sbin/nginx: error while loading shared libraries: libpcre2-8.so.0: cannot open shared object file: No such file or directory').map((f) => f.what)).toEqual(['libpcre2-8.so.0'])
    expect(failuresIn('Error loading shared library libz.so.1: No such file or directory (needed by /app/x)').map((f) => f.what)).toEqual(['libz.so.1'])
    expect(failuresIn('bwrap: execvp /app/hello: No such file or directory').map((f) => f.what)).toEqual(['/app/hello'])
    expect(failuresIn('Get "https://x": tls: failed to verify certificate: x509: certificate signed by unknown authority').map((f) => f.what)).toEqual(['CA certificates'])
    expect(failuresIn('panic: unknown time zone Europe/Paris').map((f) => f.what)).toEqual(['time zone Europe/Paris'])
    expect(failuresIn('nginx: [emerg] getpwnam("www-data") failed').map((f) => f.what)).toEqual(['user www-data'])
    expect(failuresIn('all good')).toEqual([])
    expect(chooseProbe('/usr/sbin/nginx', [80], { timeoutSeconds: 20 })).toMatchObject({ mode: 'args', args: ['-t'] })
    // A server is ready when its port accepts: EXPOSE first, else the program's usual port; attempts are counted (10 s / 200 ms).
    expect(chooseProbe('/usr/sbin/nginx', [80], { timeoutSeconds: 20, serve: true })).toMatchObject({ mode: 'server', ready: { ports: [80], attempts: 50, intervalMs: 200 } })
    expect(chooseProbe('/usr/bin/redis-server', [], { timeoutSeconds: 20, readySeconds: 2 })).toMatchObject({ mode: 'server', ready: { ports: [6379], attempts: 10 } })
    expect(chooseProbe('/usr/bin/redis-server', [7000], { timeoutSeconds: 20, ports: [7001] })).toMatchObject({ mode: 'server', ready: { ports: [7001] } })
    // No port known, or no way to reach the sandbox's network: "still running", and the probe says why.
    const blind = chooseProbe('/app/daemon', [], { timeoutSeconds: 20, serve: true })
    expect(blind).toMatchObject({ mode: 'server', seconds: 3, noPortWhy: 'no port known (no EXPOSE; give --port N)' })
    expect(blind.why).toMatch(/"started" only means still running after 3s/)
    expect(chooseProbe('/usr/bin/redis-server', [6379], { timeoutSeconds: 20 }, 'nsenter (util-linux) is not installed')).toMatchObject({ mode: 'server', seconds: 3, noPortWhy: 'nsenter (util-linux) is not installed' })
    expect(chooseProbe('/app/hello', [], { timeoutSeconds: 20 })).toMatchObject({ mode: 'args', args: ['--version'] })
    expect(chooseProbe('/usr/sbin/nginx', [80], { probe: ['-v'], timeoutSeconds: 20 })).toMatchObject({ mode: 'args', args: ['-v'], why: '--probe' })
    expect(exposedTcpPorts({ '80/tcp': {}, '53/udp': {}, '8080': {}, '99999/tcp': {} })).toEqual([80, 8080])
    expect(normaliseOutput('2026/12/04 20:37:19 [emerg] 2#2: x\n')).toBe(normaliseOutput('2025/01/01 01:02:03 [emerg] 17#17: x'))
  })
})
