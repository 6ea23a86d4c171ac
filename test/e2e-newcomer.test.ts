/**
 * What a new user trips over (issue 12), each run through the built CLI as the user ran it:
 * a terminal, a bare path, a platform the image lacks, help and typos, hard links, and the package.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { closestTags } from '../src/image/transports/docker.js'
import { BIN, REPO, runCli } from './helpers/cli.js'
import { pushLayout, startRegistry } from './infra/registry.js'
import { CORPUS } from './helpers/shared.js'
import { hasTool } from './helpers/tools.js'

const exec = promisify(execFile)
const HELLO = 'fixtures/images/hello-static.oci.tar'
const DIVE = `${CORPUS}/wagoodman__dive/.data/test-docker-image.tar`
const BUSYBOX_LAYOUT = `${CORPUS}/buildpacks__imgutil/layout/testdata/layout/busybox`
const work = mkdtempSync(join(tmpdir(), 'slim-newcomer-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** util-linux `script` (not BSD's): it gives the command a pseudo-terminal. */
const hasScript = hasTool('script') && /util-linux/.test(execFileSync('script', ['--version']).toString())

describe('progress on a terminal (issue 12 item 1)', () => {
  it.skipIf(!hasScript)('slim dockerfile IMG > out on a terminal: progress is drawn on the terminal, out holds only the Dockerfile', async () => {
    const out = join(work, 'Dockerfile.slim')
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' }
    delete env.CI
    // A cache of its own: a result cached by an earlier run would be reused, with no layer to read and no progress.
    const cache = join(work, 'progress-cache')
    const { stdout: terminal } = await exec('script', ['-qec', `node ${BIN} dockerfile oci-archive:${HELLO} --cache-dir ${cache} > ${out}`, '/dev/null'], { cwd: REPO, env })
    // The progress really was drawn (stderr is the terminal), so the test can tell where it went.
    expect(terminal).toContain('Reading 3 layers of oci-archive:')
    const text = readFileSync(out, 'utf8')
    expect(text.startsWith('# Slim final image for oci-archive:fixtures/images/hello-static.oci.tar')).toBe(true)
    expect(text).not.toMatch(/\x1b|read \(|Reading \d+ layers|›/)
    expect(text).toMatch(/^FROM scratch$/m)
  })

  it('-q silences the stderr summary of slim dockerfile -o', async () => {
    const out = join(work, 'q.Dockerfile')
    const loud = await runCli(['dockerfile', `oci-archive:${HELLO}`, '-o', out])
    expect(loud.stderr).toContain('slim: Dockerfile written to')
    const quiet = await runCli(['dockerfile', `oci-archive:${HELLO}`, '-o', out, '-q'])
    expect(quiet.code).toBe(0)
    expect(quiet.stderr).toBe('')
    expect(readFileSync(out, 'utf8')).toMatch(/^FROM scratch$/m)
  })
})

describe('help, typos and completion (issue 12 item 6)', () => {
  it('slim help and slim help analyze print help', async () => {
    const all = await runCli(['help'])
    expect(all.code).toBe(0)
    expect(all.stdout).toMatch(/COMMANDS[\s\S]*analyze[\s\S]*dockerfile/)
    const one = await runCli(['help', 'analyze'])
    expect(one.code).toBe(0)
    expect(one.stdout).toMatch(/USAGE\s+\$ slim analyze IMAGE/)
  })

  it('an unknown command is one line naming the closest command, exit 2', async () => {
    const r = await runCli(['analyse', 'x'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('slim: error: "analyse" is not a slim command; did you mean "slim analyze"? (see: slim help)\n')
    const far = await runCli(['frobnicate'])
    expect(far.stderr).toBe('slim: error: "frobnicate" is not a slim command; (see: slim help)\n')
  })

  it('slim help <typo> names the closest command too, one line, exit 2; topics and commands still get their help', async () => {
    const r = await runCli(['help', 'analyse'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('slim: error: "analyse" is not a slim command; did you mean "slim help analyze"? (see: slim help)\n')
    const far = await runCli(['help', 'frobnicate'])
    expect([far.code, far.stderr]).toEqual([2, 'slim: error: "frobnicate" is not a slim command; (see: slim help)\n'])
    const topic = await runCli(['help', 'audit', 'merge'])
    expect(topic.code).toBe(0)
    expect(topic.stdout).toMatch(/USAGE\s+\$ slim audit merge/)
    const flag = await runCli(['dockerfile', '--help'])
    expect(flag.code).toBe(0)
    expect(flag.stdout).toMatch(/--harden/)
  })

  it.skipIf(!hasTool('bash'))('bash completion completes commands and flags', async () => {
    const cache = join(work, 'xdg-cache')
    const r = await runCli(['autocomplete', 'bash'], { env: { XDG_CACHE_HOME: cache } })
    expect(r.code).toBe(0)
    const setup = join(cache, 'slim/autocomplete/bash_setup')
    expect(existsSync(setup)).toBe(true)
    const complete = (words: string[]): string =>
      execFileSync('bash', ['-c', `source ${setup}; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE="${words.join(' ')}"; _slim_autocomplete; echo "\${COMPREPLY[@]}"`]).toString().trim()
    expect(complete(['slim', 'an'])).toBe('analyze')
    expect(complete(['slim', 'analyze', '--pla'])).toBe('--platform')
    expect(existsSync(join(cache, 'slim/autocomplete/functions/zsh/_slim'))).toBe(true)
  })
})

describe('a bare path is opened by its content (issue 12 item 3)', () => {
  it.each([
    ['a docker save tar', DIVE, 'docker-archive'],
    ['a gzip-wrapped docker save', `${CORPUS}/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`, 'docker-archive'],
    ['an OCI archive', `./${HELLO}`, 'oci-archive'],
    ['an OCI archive given by its relative name', HELLO, 'oci-archive'],
    ['an OCI layout directory (trailing slash)', `${BUSYBOX_LAYOUT}/`, 'oci'],
  ])('%s', async (_what, path, transport) => {
    const r = await runCli(['analyze', path, '--json', '--no-cache'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).image.transport).toBe(transport)
  })

  it('a bare word that is a local directory and an image name says which prefix picks which', async () => {
    const r = await runCli(['analyze', 'fixtures'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('slim: error: "fixtures" is both a directory here and an image name; write ./fixtures to read the directory, or docker://fixtures for the registry image\n')
  })

  it('a missing ./path is a one-line not-found, not a registry error', async () => {
    const r = await runCli(['analyze', './image.tar'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('slim: error: ./image.tar: no such file or directory\n')
  })
})

describe('--platform the image lacks (issue 12 item 4)', () => {
  it('a single-platform image asked for another platform is an error naming the one it has', async () => {
    const r = await runCli(['analyze', `oci-archive:${HELLO}`, '--platform', 'linux/arm64', '--no-cache'])
    expect(r.code).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^slim: error: oci-archive:fixtures\/images\/hello-static\.oci\.tar has no image for linux\/arm64(\/v8)?; it is a single-platform image for linux\/amd64 \(drop --platform or use --platform linux\/amd64\)\n$/)
  })
})

describe('hard links are the file they link to (issue 12 item 2)', () => {
  it.each([
    ['busybox OCI layout (imgutil)', `oci:${BUSYBOX_LAYOUT}`],
    ['dive\'s busybox test image', `docker-archive:${DIVE}`],
  ])('%s: CMD ["sh"] finds /bin/sh (a hard link to busybox), inspects it and writes a Dockerfile', async (_what, ref) => {
    const r = await runCli(['analyze', ref, '--json', '--no-cache'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.inspection.program.kind).toBe('elf')
    expect(doc.inspection.program.path).toBe('/bin/sh')
    expect(doc.inspection.elf.linkage ?? doc.inspection.elf.type).toBeDefined()
    expect(doc.advice.dockerfile).toMatch(/^COPY --from=source \/bin\/sh /m)
    const d = await runCli(['dockerfile', ref])
    expect(d.code).toBe(0)
    expect(d.stdout).toMatch(/^FROM scratch$/m)
  })

  it('--entrypoint /bin/sh on a busybox image is executable', async () => {
    const r = await runCli(['analyze', `oci:${BUSYBOX_LAYOUT}`, '--entrypoint', '/bin/sh', '--json', '--no-cache'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.inspection.program.kind).toBe('elf')
    expect(JSON.stringify(doc)).not.toContain('not executable')
  })
})

describe('the npm package (issue 12 item 12)', () => {
  it('has a LICENSE with the Apache-2.0 text that package.json names', () => {
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).license).toBe('Apache-2.0')
    const license = readFileSync(join(REPO, 'LICENSE'), 'utf8')
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/)
    expect(license).toContain('END OF TERMS AND CONDITIONS')
  })

  it('npm pack → npm i -g into a temp prefix → slim --version and analyze the bundled fixture', async () => {
    const dest = join(work, 'pack')
    mkdirSync(dest)
    const { stdout } = await exec('npm', ['pack', '--pack-destination', dest, '--silent'], { cwd: REPO })
    const tarball = join(dest, stdout.trim().split('\n').pop()!)
    expect(tarball).toMatch(/slim-image-\d+\.\d+\.\d+\.tgz$/)
    const files = execFileSync('tar', ['-tzf', tarball]).toString().split('\n')
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/bin/run.js', 'package/oclif.manifest.json']))
    const prefix = join(work, 'prefix')
    await exec('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { timeout: 300_000 })
    const slim = join(prefix, 'bin/slim')
    const env = { ...process.env, CI: 'true' }
    expect((await exec(slim, ['--version'], { env })).stdout).toMatch(/^slim-image\/\d+\.\d+\.\d+ /)
    const r = await exec(slim, ['analyze', join(REPO, HELLO), '--files'], { env, cwd: work })
    expect(r.stdout).toBe('/app/hello\n')
  }, 400_000)
})

describe('a tag the registry lacks (issue 12 item 10)', () => {
  it('unit: the closest tags by edit distance, nearest first, nothing far away', () => {
    expect(closestTags('1.63', ['1.36', 'latest', 'musl', '1.35.0'])).toEqual(['1.36'])
    expect(closestTags('lates', ['latest', 'stable', 'last'])).toEqual(['latest', 'last'])
    expect(closestTags('zzzzzzzz', ['1.36', 'latest'])).toEqual([])
  })

  it.skipIf(!hasTool('docker-registry') || !hasTool('skopeo'))('slim analyze HOST/tools/busybox:1.63 lists the closest tag of the real registry', async () => {
    const reg = await startRegistry('plain')
    try {
      await Promise.all([pushLayout(BUSYBOX_LAYOUT, undefined, 'tools/busybox:1.36', reg), pushLayout(BUSYBOX_LAYOUT, undefined, 'tools/busybox:latest', reg)])
      const r = await runCli(['analyze', `${reg.host}/tools/busybox:1.63`, '--no-cache'])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^slim: error: .*tools\/busybox:1\.63.*manifest unknown.*; closest tags: 1\.36\n$/)
      const none = await runCli(['analyze', `${reg.host}/tools/nothing:1`, '--no-cache'])
      expect(none.stderr).toMatch(/^slim: error: .*(manifest|repository) unknown.*check the name and tag\n$/)
    } finally {
      await reg.stop()
    }
  }, 120_000)
})

describe('docker.io names through --registry-mirror (issue 12 item 10)', () => {
  it.skipIf(!hasTool('docker-registry') || !hasTool('skopeo'))('slim analyze nosuchimage:latest via a docker.io mirror: manifest unknown, library/ assumed, closest tags; a name that exists is read from the mirror', async () => {
    const reg = await startRegistry('plain')
    try {
      await Promise.all([pushLayout(BUSYBOX_LAYOUT, undefined, 'library/nosuchimage:lts', reg), pushLayout(BUSYBOX_LAYOUT, undefined, 'library/nosuchimage:1.36', reg)])
      const mirror = ['--registry-mirror', `docker.io=${reg.host}`, '--no-cache']
      const r = await runCli(['analyze', 'nosuchimage:latest', ...mirror])
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(new RegExp(`^slim: error: .*${reg.host.replace(/\./g, '\\.')}/library/nosuchimage:latest.*manifest unknown.*; closest tags: lts; nosuchimage was read as docker\\.io/library/nosuchimage \\(library/ assumed: Docker Hub's official images\\) through the mirror ${reg.host.replace(/\./g, '\\.')}\\n$`))
      // the same image by its full name says nothing about library/
      const full = await runCli(['analyze', 'docker.io/library/nosuchimage:latest', ...mirror])
      expect(full.stderr).not.toContain('library/ assumed')
      expect(full.stderr).toContain('docker.io/library/nosuchimage:latest was read through the mirror')
      // a tag that exists is read from the mirror, as a user with no route to Docker Hub needs
      const ok = await runCli(['analyze', 'nosuchimage:1.36', ...mirror, '--json'])
      expect(ok.code).toBe(0)
      expect(JSON.parse(ok.stdout).image.reference).toBe(`docker://${reg.host}/library/nosuchimage:1.36`)
      const bad = await runCli(['analyze', 'nosuchimage:1.36', '--registry-mirror', 'docker.io'])
      expect([bad.code, bad.stderr]).toEqual([2, 'slim: error: --registry-mirror "docker.io": expected REGISTRY=MIRROR; write e.g. --registry-mirror gcr.io=registry.internal:5000\n'])
    } finally {
      await reg.stop()
    }
  }, 120_000)
})

describe('slim dockerfile --pin (issue 12 item 11)', () => {
  it.skipIf(!hasTool('docker-registry') || !hasTool('skopeo'))('resolves the base through --base-mirror to its digest in the real registry; unreachable keeps the note', async () => {
    const reg = await startRegistry('plain')
    try {
      await pushLayout(BUSYBOX_LAYOUT, undefined, 'library/alpine:3.22', reg)
      const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/library/alpine:3.22`])
      const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(stdout).digest('hex')}`
      const args = ['dockerfile', `oci-archive:${HELLO}`, '--base', 'alpine:3.22', '--base-mirror', `docker.io=${reg.host}`]
      const unpinned = await runCli(args)
      expect(unpinned.stdout).toMatch(/^# No digest is known for .*alpine:3\.22: pin it/m)
      const r = await runCli([...args, '--pin'])
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toContain(`\nFROM ${reg.host}/library/alpine:3.22@${digest}\n`)
      expect(r.stdout).not.toContain('No digest is known')
      const offline = await runCli(['dockerfile', `oci-archive:${HELLO}`, '--base', 'alpine:3.22', '--base-mirror', 'docker.io=127.0.0.1:9', '--pin'])
      expect(offline.code).toBe(0)
      expect(offline.stdout).toMatch(/^# No digest is known for 127\.0\.0\.1:9\/library\/alpine:3\.22: pin it/m)
      expect(offline.stdout).toMatch(/^FROM 127\.0\.0\.1:9\/library\/alpine:3\.22$/m)
      expect(offline.stderr).toMatch(/^slim: --pin: could not resolve 127\.0\.0\.1:9\/library\/alpine:3\.22 \(.*\); pin it by hand \(skopeo inspect docker:\/\/127\.0\.0\.1:9\/library\/alpine:3\.22\) or reach its registry through --base-mirror/)
    } finally {
      await reg.stop()
    }
  }, 180_000)
})
