import { describe, expect, it } from 'vitest'
import { effectiveCommand, envMap, pathDirs, shellForm } from '../../../../src/inspect/entrypoint/command.js'
import { readLauncher } from '../../../../src/inspect/entrypoint/launchers.js'
import { readShebang, readWrapper } from '../../../../src/inspect/entrypoint/script.js'

describe('ENTRYPOINT + CMD as Docker combines them', () => {
  it('appends CMD to ENTRYPOINT; either alone; none; an override drops CMD', () => {
    expect(effectiveCommand({ Entrypoint: ['/ep'], Cmd: ['a', 'b'] })).toEqual({ argv: ['/ep', 'a', 'b'], source: 'entrypoint+cmd' })
    expect(effectiveCommand({ Entrypoint: ['/ep'], Cmd: null })).toEqual({ argv: ['/ep'], source: 'entrypoint' })
    expect(effectiveCommand({ Cmd: ['/bin/sh', '-c', 'x'] })).toEqual({ argv: ['/bin/sh', '-c', 'x'], source: 'cmd' })
    expect(effectiveCommand({})).toEqual({ argv: [], source: 'none' })
    expect(effectiveCommand(undefined)).toEqual({ argv: [], source: 'none' })
    expect(effectiveCommand({ Entrypoint: ['/ep'], Cmd: ['a'] }, ['/other', '-v'])).toEqual({ argv: ['/other', '-v'], source: 'override' })
  })
  it('Env: later entries win, entries without "=" are ignored; PATH from Env or the Docker default', () => {
    const env = envMap(['A=1', 'PATH=/x:/y', 'A=2', 'B', 'C=a=b'])
    expect(env).toEqual({ A: '2', PATH: '/x:/y', C: 'a=b' })
    expect(pathDirs(env)).toEqual({ dirs: ['/x', '/y'], source: 'config' })
    expect(pathDirs({}).source).toBe('docker-default')
  })
  it('recognises the stored shell form', () => {
    expect(shellForm(['/bin/sh', '-c', 'exec nginx'])).toEqual({ shell: '/bin/sh', script: 'exec nginx', rest: [] })
    expect(shellForm(['/bin/bash', '-c', 'x', 'name', 'arg'])).toEqual({ shell: '/bin/bash', script: 'x', rest: ['name', 'arg'] })
    expect(shellForm(['/usr/bin/python3', '-c', 'x'])).toBeUndefined()
  })
})

describe('#! lines (binfmt_script)', () => {
  it('one interpreter and at most one argument, the rest of the line unsplit', () => {
    expect(readShebang(Buffer.from('#!/bin/sh\necho'))).toEqual({ interpreter: '/bin/sh' })
    expect(readShebang(Buffer.from('#! /usr/bin/env python3\n'))).toEqual({ interpreter: '/usr/bin/env', arg: 'python3' })
    expect(readShebang(Buffer.from('#!/usr/bin/env -S node --max-old-space-size=64 \r\n'))).toEqual({ interpreter: '/usr/bin/env', arg: '-S node --max-old-space-size=64' })
    expect(readShebang(Buffer.from('\x7fELF'))).toBeUndefined()
    expect(readShebang(Buffer.from('echo hi'))).toBeUndefined()
  })
})

describe('launchers', () => {
  it('tini, dumb-init: skip their own options', () => {
    expect(readLauncher('tini', ['-s', '-g', '-e', '143', '--', 'app', '-x'])).toEqual({ rest: ['app', '-x'], role: 'init' })
    expect(readLauncher('tini-static-amd64', ['-p', 'SIGTERM', 'app'])).toEqual({ rest: ['app'], role: 'init' })
    expect(readLauncher('dumb-init', ['--rewrite', '15:2', '-c', 'app'])).toEqual({ rest: ['app'], role: 'init' })
  })
  it('user switchers name the user, then the command', () => {
    expect(readLauncher('gosu', ['redis', 'redis-server', '--port', '1'])).toEqual({ rest: ['redis-server', '--port', '1'], role: 'user-switch', user: 'redis' })
    expect(readLauncher('su-exec', ['1000:1000', 'app'])).toEqual({ rest: ['app'], role: 'user-switch', user: '1000:1000' })
    expect(readLauncher('setpriv', ['--reuid=65534', '--regid=65534', '--init-groups', 'app'])).toEqual({ rest: ['app'], role: 'user-switch', user: '65534' })
    expect(readLauncher('runuser', ['-u', 'www', '--', 'app', '-v'])).toEqual({ rest: ['app', '-v'], role: 'user-switch', user: 'www' })
  })
  it('env: assignments, -u, -i, -S', () => {
    expect(readLauncher('env', ['-u', 'X', 'A=1', 'B=2', 'python3', 'app.py'])).toEqual({ rest: ['python3', 'app.py'], role: 'env', env: { set: { A: '1', B: '2' }, unset: ['X'], clear: false } })
    expect(readLauncher('env', ['-S', 'node --inspect', '/app/x.js'])).toMatchObject({ rest: ['node', '--inspect', '/app/x.js'] })
    expect(readLauncher('env', ['-i', 'app'])).toMatchObject({ env: { clear: true }, rest: ['app'] })
  })
  it('prefixes, and the absence of a command, and non-launchers', () => {
    expect(readLauncher('timeout', ['-s', 'KILL', '30', 'app'])).toEqual({ rest: ['app'], role: 'prefix' })
    expect(readLauncher('nice', ['-n', '10', 'app'])).toEqual({ rest: ['app'], role: 'prefix' })
    expect(readLauncher('tini', ['--'])).toEqual({ stop: 'tini was given no command to run' })
    expect(readLauncher('nginx', ['-g', 'daemon off;'])).toBeUndefined()
  })
})

describe('wrapper scripts', () => {
  const read = (text: string, args: string[], env: Record<string, string> = {}) => readWrapper(text, { args, scriptPath: '/usr/local/bin/entrypoint.sh', env })

  it('exec "$@" runs the arguments; an `exec` with only redirections is not a program', () => {
    const r = read('#!/bin/sh\nset -e\nexec 3>&1\nexec "$@"\n', ['nginx', '-g', 'daemon off;'])
    expect(r.argv).toEqual(['nginx', '-g', 'daemon off;'])
    expect(r.line).toBe(4)
    expect(r.stop).toBeUndefined()
  })
  it('exec PROGRAM "$@" prepends the program', () => {
    expect(read('#!/bin/sh\nexec /app/bin/server --config /etc/app.yml "$@"\n', ['--debug']).argv).toEqual(['/app/bin/server', '--config', '/etc/app.yml', '--debug'])
  })
  it('postgres style: the exec inside a function called at the end, self re-exec through gosu skipped', () => {
    const text = `#!/usr/bin/env bash
set -Eeo pipefail
_main() {
	if [ "$(id -u)" = '0' ]; then
		exec gosu postgres "$BASH_SOURCE" "$@"
	fi
	exec "$@"
}
if ! _is_sourced; then
	_main "$@"
fi
`
    const r = read(text, ['postgres'])
    expect(r.argv).toEqual(['postgres'])
    expect(r.notes).toContain('the exec at line 7 is inside function _main')
    expect(r.commands.map((c) => c.name)).toEqual(['id', 'gosu', '_is_sourced'])
  })
  it('sourced files are listed; "$@" with no CMD is a stop', () => {
    const r = read('#!/bin/sh\n. /opt/lib/common.sh\n. "$DYN"\nexec "$@"\n', [])
    expect(r.sourced).toEqual(['/opt/lib/common.sh'])
    expect(r.notes.some((n) => /sources a file slim cannot name/.test(n))).toBe(true)
    expect(r.stop).toMatch(/"\$@" and the script got no arguments/)
  })
  it('exec of a value known from Env is followed; unknown stops with the name', () => {
    expect(read('#!/bin/sh\nexec "$SERVER" "$@"\n', ['-v'], { SERVER: '/usr/bin/srv' }).argv).toEqual(['/usr/bin/srv', '-v'])
    expect(read('#!/bin/sh\nexec "$SERVER" "$@"\n', ['-v']).stop).toMatch(/\$SERVER/)
  })
  it('top-level exports reach the program (a PATH change decides where it is found)', () => {
    const r = read('#!/bin/sh\nexport PATH="/opt/app/bin:$PATH"\nAPP_ENV=prod\nexec "$@"\n', ['server'], { PATH: '/usr/bin' })
    expect(r.env).toEqual({ PATH: '/opt/app/bin:/usr/bin', APP_ENV: 'prod' })
  })
})
