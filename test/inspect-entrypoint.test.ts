/**
 * From the image config to the program, on a real Debian root (the fixture rootfs with nginx,
 * redis, python3, curl, rg, docker-registry) plus real tini/gosu/dumb-init from Debian packages
 * and wrapper scripts written the way official images write them, stacked as layers.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ContainerConfig, ImageConfig } from '../src/image/types.js'
import { resolveProgram } from '../src/inspect/entrypoint/resolve.js'
import { inspectImage } from '../src/inspect/inspect.js'
import { ensureFixtures } from './fixtures/index.js'
import { DirRootFs } from './helpers/dir-rootfs.js'
import { launcherRoot } from './helpers/launcher-debs.js'
import { cacheDir, link, put } from './helpers/loader-roots.js'

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const image = (config: ContainerConfig): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config })

/** docker-library/nginx style: configure from /docker-entrypoint.d when the command is nginx, then exec "$@". */
const NGINX_ENTRYPOINT = `#!/bin/sh
# vim:sw=4:ts=4:et
set -e
entrypoint_log() {
    if [ -z "\${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    if /usr/bin/find "/docker-entrypoint.d/" -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read v; then
        find "/docker-entrypoint.d/" -follow -type f -print | sort -V | while read -r f; do
            case "$f" in
                *.sh)
                    if [ -x "$f" ]; then
                        entrypoint_log "$0: Launching $f";
                        "$f"
                    fi
                    ;;
                *) entrypoint_log "$0: Ignoring $f";;
            esac
        done
    fi
fi
mkdir -p /var/lib/nginx/body
exec "$@"
`

/** docker-library/redis style: re-run itself through gosu when root, then exec "$@". */
const REDIS_ENTRYPOINT = `#!/bin/sh
set -e
# first arg is \`-f\` or \`--some-option\`
if [ "\${1#-}" != "$1" ] || [ "\${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi
# allow the container to be started with \`--user\`
if [ "$1" = 'redis-server' -a "$(id -u)" = '0' ]; then
	find . \\! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi
umask 0077
exec "$@"
`

let root: string
let upper: string
let rootfs: DirRootFs

beforeAll(async () => {
  const fx = await ensureFixtures(['debian-rootfs'])
  root = fx.rootfs.debian!
  upper = cacheDir('entrypoint-upper')
  rmSync(upper, { recursive: true, force: true })
  mkdirSync(upper, { recursive: true })
  put(upper, 'usr/local/bin/docker-entrypoint.sh', NGINX_ENTRYPOINT, 0o755)
  put(upper, 'usr/local/bin/redis-entrypoint.sh', REDIS_ENTRYPOINT, 0o755)
  put(upper, 'app/serve.py', '#!/usr/bin/env python3\nimport http.server\nhttp.server.test()\n', 0o755)
  put(upper, 'app/setup.sh', '#!/bin/sh -e\necho preparing\nmkdir -p /tmp/x\n/usr/bin/rg --version\n', 0o755)
  put(upper, 'app/dyn.sh', '#!/bin/sh\nexec "$APP_BIN" "$@"\n', 0o755)
  put(upper, 'app/data.txt', 'not a program\n', 0o644)
  put(upper, 'app/loop-a', '#!/app/loop-b\n', 0o755)
  put(upper, 'app/loop-b', '#!/app/loop-a\n', 0o755)
  put(upper, 'app/self.sh', '#!/bin/sh\nexec /app/self.sh "$@"\n', 0o755)
  put(upper, 'app/bin/README', 'relative lookups\n')
  link(upper, 'app/bin/search', '/usr/bin/rg')
  rootfs = new DirRootFs([upper, launcherRoot(), root])
})

describe('resolveProgram', () => {
  it('a bare CMD name is found on PATH (config PATH), with WORKDIR and USER kept', async () => {
    const r = await resolveProgram(rootfs, image({ Cmd: ['redis-server', '--protected-mode', 'no'], Env: [PATH], User: 'redis', WorkingDir: '/var/lib/redis' }))
    expect(r.program.kind).toBe('elf')
    expect(r.program.path).toBe('/usr/bin/redis-server')
    // Debian ships one redis binary that picks its role from argv[0]: the link must be kept.
    expect(r.program.realPath).toBe('/usr/bin/redis-check-rdb')
    expect(r.program.symlinks).toEqual(['/usr/bin/redis-server'])
    expect(r.program.argv).toEqual(['redis-server', '--protected-mode', 'no'])
    expect(r.program.commandSource).toBe('cmd')
    expect(r.program.pathDirs.source).toBe('config')
    expect(r.program.chain.map((s) => s.kind)).toEqual(['command', 'path-lookup', 'symlink'])
    expect(r.program.workdir).toBe('/var/lib/redis')
    expect(r.findings).toEqual([])
  })

  it("without a PATH in Env, Docker's default PATH is used", async () => {
    const r = await resolveProgram(rootfs, image({ Entrypoint: ['nginx'], Cmd: ['-g', 'daemon off;'] }))
    expect(r.program.pathDirs).toEqual({ dirs: ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'], source: 'docker-default' })
    expect(r.program.realPath).toBe('/usr/sbin/nginx')
    expect(r.program.commandSource).toBe('entrypoint+cmd')
  })

  it('shell form: the command string is read statically; other commands it runs are listed', async () => {
    const cmd = `python3 -c 'import sys; print(sys.version)' && rg --version | head -n1 && exec redis-server --port 6380`
    const r = await resolveProgram(rootfs, image({ Cmd: ['/bin/sh', '-c', cmd], Env: [PATH] }))
    expect(r.program.kind).toBe('elf')
    expect(r.program.path).toBe('/usr/bin/redis-server')
    expect(r.program.argv).toEqual(['redis-server', '--port', '6380'])
    expect(r.program.executables).toEqual(['/usr/bin/dash', '/usr/bin/redis-check-rdb'])
    expect(r.program.symlinks).toEqual(['/bin', '/usr/bin/sh', '/usr/bin/redis-server'])
    expect(r.program.chain.map((s) => s.kind)).toEqual(['command', 'symlink', 'symlink', 'shell-form', 'wrapper', 'path-lookup', 'symlink'])
    expect(r.program.shellReasons).toHaveLength(1)
    expect(r.scriptCommands.map((c) => [c.name, c.found?.realPath])).toEqual([
      ['python3', '/usr/bin/python3.11'],
      ['rg', '/usr/bin/rg'],
      ['head', '/usr/bin/head'],
    ])
  })

  it('a wrapper script that ends in exec "$@" leads to the CMD', async () => {
    const r = await resolveProgram(rootfs, image({ Entrypoint: ['docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: [PATH] }))
    expect(r.program.kind).toBe('elf')
    expect(r.program.realPath).toBe('/usr/sbin/nginx')
    expect(r.program.argv).toEqual(['nginx', '-g', 'daemon off;'])
    expect(r.program.scripts).toEqual(['/usr/local/bin/docker-entrypoint.sh'])
    expect(r.program.executables).toEqual(['/usr/bin/dash', '/usr/sbin/nginx'])
    const wrapper = r.program.chain.find((s) => s.kind === 'wrapper')!
    expect(wrapper.detail).toBe('line 25: exec nginx -g daemon off;')
    expect(r.program.shellReasons[0]).toContain('/usr/local/bin/docker-entrypoint.sh is a shell script')
    // find and sort run only under a condition; mkdir always.
    expect(r.scriptCommands.map((c) => [c.name, c.conditional])).toEqual([
      ['/usr/bin/find', true],
      ['find', true],
      ['sort', true],
      ['mkdir', false],
    ])
  })

  it('the gosu re-exec idiom is recognised; gosu itself is listed as a command the script runs', async () => {
    const r = await resolveProgram(rootfs, image({ Entrypoint: ['redis-entrypoint.sh'], Cmd: ['redis-server'], Env: [PATH] }))
    expect(r.program.path).toBe('/usr/bin/redis-server')
    expect(r.program.argv).toEqual(['redis-server'])
    expect(r.scriptCommands.find((c) => c.name === 'gosu')?.found?.realPath).toBe('/usr/sbin/gosu')
    expect(r.gaps.map((g) => g.message).join('\n')).toMatch(/rewrites the arguments with `set --` under a condition/)
  })

  it('init and user-switch launchers (real tini, gosu, dumb-init) lead to the real program', async () => {
    const r = await resolveProgram(rootfs, image({ Entrypoint: ['/usr/bin/tini', '-s', '--', 'gosu', 'nobody', 'dumb-init', '--single-child'], Cmd: ['curl', '--version'], Env: [PATH] }))
    expect(r.program.realPath).toBe('/usr/bin/curl')
    expect(r.program.argv).toEqual(['curl', '--version'])
    expect(r.program.executables).toEqual(['/usr/bin/tini', '/usr/sbin/gosu', '/usr/bin/dumb-init', '/usr/bin/curl'])
    expect(r.program.chain.filter((s) => s.kind === 'launcher').map((s) => s.detail)).toEqual([
      'tini is an init process; it runs: gosu nobody dumb-init --single-child curl --version',
      'gosu is a user switcher (to nobody); it runs: dumb-init --single-child curl --version',
      'dumb-init is an init process; it runs: curl --version',
    ])
  })

  it('#!/usr/bin/env python3: env looks the interpreter up on PATH; the script is the app', async () => {
    const r = await resolveProgram(rootfs, image({ Cmd: ['/app/serve.py', '--port', '80'], Env: [PATH] }))
    expect(r.program.kind).toBe('interpreted')
    expect(r.language).toBe('python')
    expect(r.program.realPath).toBe('/usr/bin/python3.11')
    expect(r.program.argv).toEqual(['python3', '/app/serve.py', '--port', '80'])
    expect(r.program.chain.map((s) => s.kind)).toEqual(['command', 'shebang', 'env', 'path-lookup', 'symlink'])
    expect(r.program.executables).toEqual(['/usr/bin/env', '/usr/bin/python3.11'])
    expect(r.program.scripts).toEqual(['/app/serve.py'])
  })

  it('a script with no exec: kind script, and where slim stopped', async () => {
    const r = await resolveProgram(rootfs, image({ Cmd: ['/app/setup.sh'] }))
    expect(r.program.kind).toBe('script')
    expect(r.program.path).toBe('/app/setup.sh')
    expect(r.program.stopped).toEqual({ at: '/app/setup.sh', reason: 'the script has no `exec` line slim can follow; it runs its commands itself' })
    expect(r.program.chain.find((s) => s.kind === 'shebang')?.detail).toBe('#!/bin/sh -e')
    expect(r.scriptCommands.map((c) => c.name)).toEqual(['mkdir', '/usr/bin/rg'])
  })

  it('an exec of a variable: followed when Env sets it, else a stop naming the variable', async () => {
    const unknown = await resolveProgram(rootfs, image({ Cmd: ['/app/dyn.sh', '--version'] }))
    expect(unknown.program.kind).toBe('script')
    expect(unknown.program.stopped?.reason).toMatch(/\$APP_BIN/)
    const known = await resolveProgram(rootfs, image({ Cmd: ['/app/dyn.sh', '--version'], Env: [PATH, 'APP_BIN=/usr/bin/rg'] }))
    expect(known.program.realPath).toBe('/usr/bin/rg')
    expect(known.program.argv).toEqual(['/usr/bin/rg', '--version'])
  })

  it('a relative path is taken from WORKDIR and symlinks are followed and kept', async () => {
    const r = await resolveProgram(rootfs, image({ Cmd: ['./bin/search', '--version'], WorkingDir: '/app' }))
    expect(r.program.path).toBe('/app/bin/search')
    expect(r.program.realPath).toBe('/usr/bin/rg')
    expect(r.program.symlinks).toEqual(['/app/bin/search'])
    expect(r.program.chain.map((s) => s.kind)).toEqual(['command', 'workdir', 'symlink'])
  })

  it('--entrypoint overrides ENTRYPOINT and drops CMD', async () => {
    const r = await resolveProgram(rootfs, image({ Entrypoint: ['nginx'], Cmd: ['-g', 'daemon off;'] }), { entrypoint: ['/usr/bin/rg', '--version'] })
    expect(r.program.commandSource).toBe('override')
    expect(r.program.argv).toEqual(['/usr/bin/rg', '--version'])
  })

  it('interpreter loops and scripts that exec themselves stop after a bounded number of steps', async () => {
    const loop = await resolveProgram(rootfs, image({ Cmd: ['/app/loop-a'] }))
    expect(loop.program.stopped?.reason).toMatch(/more than 32 steps/)
    const self = await resolveProgram(rootfs, image({ Cmd: ['/app/self.sh', 'x'] }))
    expect(self.program.stopped?.reason).toMatch(/more than 32 steps/)
    expect(self.gaps.some((g) => /stopped at/.test(g.message))).toBe(true)
  })

  it('missing, not executable, and no command at all are findings', async () => {
    const missing = await resolveProgram(rootfs, image({ Cmd: ['nosuchprogram'] }))
    expect(missing.program.kind).toBe('missing')
    expect(missing.findings.map((f) => f.code)).toEqual(['program-missing'])
    expect(missing.findings[0]!.message).toMatch(/'nosuchprogram' is not on PATH/)
    const data = await resolveProgram(rootfs, image({ Cmd: ['/app/data.txt'] }))
    expect(data.findings.map((f) => f.code)).toEqual(['not-executable'])
    const none = await resolveProgram(rootfs, image({}))
    expect(none.program.kind).toBe('missing')
    expect(none.program.commandSource).toBe('none')
    expect(none.findings.map((f) => f.code)).toEqual(['no-command'])
  })
})

describe('busybox applets and musl (fixture c-musl-dynamic)', () => {
  it('sh -c through a busybox applet symlink to a musl program', async () => {
    const fx = await ensureFixtures(['c-musl-dynamic'])
    const musl = new DirRootFs(fx.rootfs['c-musl-dynamic']!)
    const ins = await inspectImage(musl, image({ Cmd: ['sh', '-c', 'exec /app/hello'], Env: ['PATH=/bin'] }))
    expect(ins.program.realPath).toBe('/app/hello')
    expect(ins.program.chain.some((s) => s.detail === "busybox applet 'sh'")).toBe(true)
    expect(ins.closure.loader).toBe('musl')
    expect(ins.closure.unresolved).toEqual([])
    expect(ins.files).toEqual(expect.arrayContaining(['/app/hello', '/bin/busybox', '/bin/sh', '/lib/ld-musl-x86_64.so.1']))
    expect(ins.needs.find((n) => n.kind === 'shell')?.confidence).toBe('certain')
  })
})
