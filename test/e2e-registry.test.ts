import { readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { CORPUS } from './helpers/shared.js'
import { pushLayout, startRegistry, type RunningRegistry } from './infra/registry.js'
import { tempDirs } from './helpers/temp-dirs.js'

const temps = tempDirs()
afterAll(temps.removeAll)

/**
 * `slim analyze docker://…` as a user runs it, against the real Distribution registry in each
 * of its three set-ups, with credentials given each way slim accepts them.
 */
const MULTI = `${CORPUS}/anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir`
const BUSYBOX = `${CORPUS}/buildpacks__imgutil/layout/testdata/layout/busybox`

let plain: RunningRegistry
let secure: RunningRegistry
let token: RunningRegistry
let home: string

beforeAll(async () => {
  ;[plain, secure, token] = await Promise.all([startRegistry('plain'), startRegistry('basic-tls'), startRegistry('token')])
  await Promise.all([
    pushLayout(MULTI, undefined, 'multi/readme:1', plain),
    pushLayout(BUSYBOX, undefined, 'tools/busybox:1', plain, { format: 'v2s2' }),
    pushLayout(BUSYBOX, undefined, 'secure/busybox:1', secure),
    pushLayout(BUSYBOX, undefined, 'tok/busybox:1', token),
  ])
  home = temps.make('slim-e2e-home-')
}, 120_000)

afterAll(async () => {
  await Promise.all([plain?.stop(), secure?.stop(), token?.stop()])
})

/** Environment of a user with no credentials of their own. */
const env = () => ({ HOME: home, DOCKER_CONFIG: join(home, '.docker'), XDG_RUNTIME_DIR: join(home, 'run'), REGISTRY_AUTH_FILE: undefined })
const cache = () => temps.make('slim-e2e-cache-')

describe('slim analyze docker:// (built CLI, real registry)', () => {
  it('plain http on loopback: multi-arch index, the platform asked for, blobs cached by digest', async () => {
    const dir = cache()
    const r = await runCli(['analyze', `docker://${plain.host}/multi/readme:1`, '--platform', 'linux/arm64', '--json', '--cache-dir', dir], { env: env() })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.image.platform).toMatch(/^linux\/arm64/)
    expect(doc.image.indexDigest).toMatch(/^sha256:/)
    expect(doc.image.manifestDigest).toMatch(/^sha256:/)
    const cached = readdirSync(join(dir, 'blobs', 'sha256'))
    expect(cached.map((h) => `sha256:${h}`)).toContain(doc.image.layers[0].digest)
    // a second run reads the cache: same answer
    const again = await runCli(['analyze', `docker://${plain.host}/multi/readme:1`, '--platform', 'linux/arm64', '--json', '--cache-dir', dir], { env: env() })
    expect(JSON.parse(again.stdout).layers.metrics).toEqual(doc.layers.metrics)
  })

  it('Docker schema 2 manifests and facts of a real busybox', async () => {
    const r = await runCli(['analyze', `${plain.host}/tools/busybox:1`, '--json', '--no-cache'], { env: env() })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.image.manifestMediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
    expect(doc.layers.facts.shells.map((s: { path: string }) => s.path)).toContain('/bin/sh')
  })

  it('unknown tag: one-line not-found error naming the image', async () => {
    const r = await runCli(['analyze', `docker://${plain.host}/tools/busybox:nope`, '--no-cache'], { env: env() })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(`${plain.host}/tools/busybox:nope`)
  })

  it('basic auth over TLS: --username/--password-stdin with --cert-dir; the password never printed', async () => {
    const ok = await runCli(
      ['analyze', `docker://${secure.host}/secure/busybox:1`, '--username', secure.username!, '--password-stdin', '--cert-dir', secure.certDir!, '--json', '--no-cache', '--debug'],
      { env: env(), input: `${secure.password}\n` },
    )
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout).image.layers.length).toBe(1)
    expect(ok.stdout + ok.stderr).not.toContain(secure.password!)

    const wrong = await runCli(
      ['analyze', `docker://${secure.host}/secure/busybox:1`, '--username', secure.username!, '--password-stdin', '--cert-dir', secure.certDir!, '--no-cache', '--debug'],
      { env: env(), input: 'not-the-password-123\n' },
    )
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^slim: error: .*(auth|credential|401|denied)/im)
    expect(wrong.stderr).not.toContain('not-the-password-123')

    const noCa = await runCli(['analyze', `docker://${secure.host}/secure/busybox:1`, '--no-cache'], { env: env() })
    expect(noCa.code).toBe(1)
    expect(noCa.stderr.trim().split('\n')).toHaveLength(1)
    expect(noCa.stderr).toMatch(/certificate|TLS/i)
    expect(noCa.stderr).toMatch(/--cert-dir|NODE_EXTRA_CA_CERTS/)
  })

  it('basic auth from ~/.docker/config.json', async () => {
    const e = env()
    mkdirSync(e.DOCKER_CONFIG, { recursive: true })
    const auth = Buffer.from(`${secure.username}:${secure.password}`).toString('base64')
    writeFileSync(join(e.DOCKER_CONFIG, 'config.json'), JSON.stringify({ auths: { [secure.host]: { auth } } }))
    const r = await runCli(['analyze', `docker://${secure.host}/secure/busybox:1`, '--cert-dir', secure.certDir!, '--json', '--no-cache', '--debug'], { env: e })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toContain(auth)
    expect(r.stdout + r.stderr).not.toContain(secure.password!)
  })

  it('Bearer token auth: anonymous pull, and with credentials', async () => {
    const anon = await runCli(['analyze', `docker://${token.host}/tok/busybox:1`, '--json', '--no-cache'], { env: env() })
    expect(anon.code, anon.stderr).toBe(0)
    const authed = await runCli(['analyze', `docker://${token.host}/tok/busybox:1`, '--username', token.username!, '--password-stdin', '--json', '--no-cache', '--debug'], {
      env: env(),
      input: token.password!,
    })
    expect(authed.code, authed.stderr).toBe(0)
    expect(JSON.parse(authed.stdout).image.configDigest).toBe(JSON.parse(anon.stdout).image.configDigest)
    expect(authed.stderr).not.toContain(token.password!)
    expect(authed.stderr).not.toMatch(/Bearer [A-Za-z0-9._-]{20,}/)
  })
})
