/**
 * Interpreted apps on real runtimes: the host's Python 3.11, Node.js and OpenJDK 17 (the host root
 * is a Debian rootfs), and Debian's ruby3.1 and php8.2 packages unpacked from the mirror, each
 * with a small app layered on top.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ContainerConfig, ImageConfig } from '../src/image/types.js'
import { inspectImage } from '../src/inspect/inspect.js'
import { DirRootFs } from './helpers/dir-rootfs.js'
import { cacheDir, put } from './helpers/loader-roots.js'

const image = (config: ContainerConfig): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config })
const PATH = 'PATH=/usr/local/bin:/usr/bin:/bin'

let upper: string
let host: DirRootFs

beforeAll(() => {
  upper = cacheDir('runtimes-upper')
  rmSync(upper, { recursive: true, force: true })
  put(upper, 'srv/web/package.json', '{"name":"web","version":"1.0.0","main":"server.js"}\n')
  put(upper, 'srv/web/src/server.js', "require('left-pad'); require('http').createServer().listen(8080)\n")
  put(upper, 'srv/web/node_modules/left-pad/index.js', 'module.exports = (s) => s\n')
  put(upper, 'srv/py/app.py', 'import json\nprint(json.dumps({}))\n')
  put(upper, 'opt/jvm-app/lib/README', 'classpath entries\n')
  host = new DirRootFs([upper, '/'])
})

describe('host runtimes', () => {
  it('python3 script: version from the binary, stdlib, site-packages, app dir, C extensions in the closure', async () => {
    const ins = await inspectImage(host, image({ Cmd: ['python3', '-u', 'app.py'], WorkingDir: '/srv/py', Env: [PATH] }))
    expect(ins.program.kind).toBe('interpreted')
    const rt = ins.runtime!
    expect(rt.language).toBe('python')
    // The oracle: the interpreter's own sys.version.
    const real = execFileSync('/usr/bin/python3.11', ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).trim()
    expect(rt.version).toBe(real)
    expect(rt.app).toEqual({ kind: 'script', path: '/srv/py/app.py' })
    expect(rt.appDir).toBe('/srv/py')
    expect(rt.trees).toEqual(expect.arrayContaining(['/usr/lib/python3.11', '/usr/lib/python3/dist-packages', '/srv/py']))
    // _ssl's libssl comes in through the dlopen'd extension module.
    const ssl = ins.closure.libraries.find((l) => l.name === 'libssl.so.3')
    expect(ssl?.via).toBe('needed')
    expect(ins.closure.libraries.some((l) => l.via === 'dlopen' && /_ssl\.cpython/.test(l.path))).toBe(true)
    expect(ins.needs.find((n) => n.kind === 'app-tree' && n.paths[0] === '/srv/py/app.py')?.confidence).toBe('certain')
  })

  it('node: version from node_version.h, the package root and every node_modules on the way up', async () => {
    const ins = await inspectImage(host, image({ Cmd: ['node', '--max-old-space-size=256', 'src/server.js'], WorkingDir: '/srv/web', Env: [PATH] }))
    const rt = ins.runtime!
    expect(rt.language).toBe('node')
    expect(`v${rt.version}`).toBe(execFileSync('node', ['--version'], { encoding: 'utf8' }).trim())
    expect(rt.app).toEqual({ kind: 'script', path: '/srv/web/src/server.js' })
    expect(rt.appDir).toBe('/srv/web')
    expect(rt.trees).toEqual(expect.arrayContaining(['/srv/web', '/srv/web/node_modules']))
    expect(ins.files).toEqual(expect.arrayContaining(['/srv/web/package.json', '/srv/web/node_modules/left-pad/index.js', '/srv/web/src/server.js']))
  })

  it('java -cp: JAVA_HOME from the launcher through /etc/alternatives, version from release, JVM first', async () => {
    const ins = await inspectImage(host, image({ Entrypoint: ['java', '-Xmx64m', '-cp', '/opt/jvm-app/lib/*:/opt/jvm-app/classes', 'com.example.Main'], Env: [PATH] }))
    const rt = ins.runtime!
    const home = execFileSync('readlink', ['-f', '/usr/bin/java'], { encoding: 'utf8' }).trim().replace(/\/bin\/java$/, '')
    expect(rt).toMatchObject({ language: 'java', home, app: { kind: 'classpath', name: 'com.example.Main', classpath: ['/opt/jvm-app/lib/*', '/opt/jvm-app/classes'] } })
    const release = readFileSync(join(home, 'release'), 'utf8')
    expect(rt.version).toBe(/^JAVA_VERSION="([^"]+)"/m.exec(release)![1])
    expect(rt.trees).toEqual(expect.arrayContaining([`${home}/lib`, '/opt/jvm-app/lib']))
    // libjvm.so is loaded before the libraries that NEED it, so nothing is left unresolved.
    const jvm = ins.closure.libraries.find((l) => l.path.endsWith('/server/libjvm.so'))!
    expect(jvm.via).toBe('dlopen')
    expect(ins.closure.unresolved.filter((u) => u.name === 'libjvm.so')).toEqual([])
    expect(ins.needs.find((n) => n.kind === 'ca-certificates')?.paths).toEqual(expect.arrayContaining([`${home}/lib/security/cacerts`]))
  })
})

describe('Debian ruby3.1 and php8.2 packages', () => {
  let root: DirRootFs
  beforeAll(() => {
    const debs = cacheDir('debs')
    const wanted = ['ruby3.1', 'libruby3.1', 'php8.2-cli', 'php8.2-common']
    const missing = wanted.filter((p) => !readdirSync(debs).some((f) => f.startsWith(`${p}_`)))
    if (missing.length > 0) execFileSync('apt-get', ['download', ...missing], { cwd: debs, stdio: ['ignore', 'pipe', 'pipe'] })
    const dir = cacheDir('ruby-php-root')
    if (!existsSync(join(dir, 'usr/bin/php8.2'))) {
      for (const p of wanted) {
        const deb = readdirSync(debs).find((f) => f.startsWith(`${p}_`))!
        execFileSync('dpkg-deb', ['-x', join(debs, deb), dir])
      }
    }
    put(upper, 'srv/rb/app.rb', 'puts 1\n')
    put(upper, 'var/www/html/index.php', '<?php echo 1;\n')
    root = new DirRootFs([upper, dir, '/'])
  })

  it('ruby: version from the executable name and lib/ruby/3.1.0', async () => {
    const ins = await inspectImage(root, image({ Cmd: ['ruby3.1', '-w', 'app.rb'], WorkingDir: '/srv/rb', Env: [PATH] }))
    expect(ins.runtime).toMatchObject({ language: 'ruby', version: '3.1', app: { kind: 'script', path: '/srv/rb/app.rb' }, appDir: '/srv/rb' })
    expect(ins.runtime!.trees).toEqual(expect.arrayContaining(['/usr/lib/ruby', '/srv/rb']))
    expect(ins.closure.libraries.map((l) => l.name)).toContain('libruby-3.1.so.3.1')
    expect(ins.closure.unresolved.filter((u) => u.via === 'needed').map((u) => u.name)).toEqual([])
  })

  it('php: version from the name, extension dirs, the document root from -t', async () => {
    const ins = await inspectImage(root, image({ Cmd: ['php8.2', '-S', '0.0.0.0:8080', '-t', '/var/www/html'], Env: [PATH] }))
    expect(ins.runtime).toMatchObject({ language: 'php', version: '8.2', appDir: '/var/www/html' })
    expect(ins.runtime!.trees).toEqual(expect.arrayContaining(['/usr/lib/php', '/var/www/html']))
  })
})
