import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SlimError } from '../../../../src/core/errors.js'
import { redact } from '../../../../src/core/redact.js'
import { credentialFiles, resolveCredentials } from '../../../../src/image/credentials/index.js'
import { candidateKeys, normalizeKey } from '../../../../src/image/credentials/keys.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
let dir: string
let binDir: string

/** A fake docker-credential-NAME: answers for known servers, logs what it was asked. */
async function writeHelper(name: string, answers: Record<string, { Username: string; Secret: string }>): Promise<void> {
  const script = `#!/bin/sh
[ "$1" = get ] || exit 3
read server
echo "$server" >> "${join(dir, `${name}.asked`)}"
case "$server" in
${Object.entries(answers)
  .map(([server, a]) => `  '${server}') echo '${JSON.stringify({ ServerURL: server, ...a })}' ;;`)
  .join('\n')}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`
  const path = join(binDir, `docker-credential-${name}`)
  await writeFile(path, script)
  await chmod(path, 0o755)
}

async function writeJson(path: string, doc: unknown): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, JSON.stringify(doc))
  return path
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: `${binDir}:/usr/bin:/bin`, HOME: join(dir, 'home'), ...extra }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slim-creds-'))
  binDir = join(dir, 'bin')
  await mkdir(binDir)
  await writeHelper('fake', {
    'helped.example.com': { Username: 'helper-user', Secret: 'helper-secret-1' },
    'https://index.docker.io/v1/': { Username: 'hub-user', Secret: 'hub-secret-2' },
    'tok.example.com': { Username: '<token>', Secret: 'identity-token-3' },
  })
  await writeHelper('broken', {})
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('credential keys', () => {
  it('normalises the ways config files name a registry', () => {
    expect(normalizeKey('https://index.docker.io/v1/')).toBe('docker.io')
    expect(normalizeKey('index.docker.io')).toBe('docker.io')
    expect(normalizeKey('registry-1.docker.io')).toBe('docker.io')
    expect(normalizeKey('http://Reg.Example.com:5000/')).toBe('reg.example.com:5000')
    expect(normalizeKey('quay.io/org/repo')).toBe('quay.io/org/repo')
    expect(candidateKeys('quay.io', 'org/team/repo')).toEqual(['quay.io/org/team/repo', 'quay.io/org/team', 'quay.io/org', 'quay.io'])
  })
})

describe('resolveCredentials', () => {
  it('prefers explicit credentials and registers the password as a secret', async () => {
    const c = await resolveCredentials('r.example.com', 'a', { username: 'u', password: 'explicit-pass-9', env: env() })
    expect(c).toMatchObject({ username: 'u', password: 'explicit-pass-9' })
    expect(redact('oops explicit-pass-9')).toBe('oops ***')
  })

  it('reads base64 `auth` from $DOCKER_CONFIG/config.json, with URL-shaped keys for Docker Hub', async () => {
    const cfg = join(dir, 'd1')
    await writeJson(join(cfg, 'config.json'), {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubber:hub:pass:with:colons') },
        'r.example.com:5000': { auth: b64('alice:wonder-pass-1') },
      },
    })
    const hub = await resolveCredentials('docker.io', 'library/nginx', { env: env({ DOCKER_CONFIG: cfg }) })
    expect(hub).toMatchObject({ username: 'hubber', password: 'hub:pass:with:colons' })
    expect(hub?.source).toContain(join(cfg, 'config.json'))
    const other = await resolveCredentials('r.example.com:5000', 'x', { env: env({ DOCKER_CONFIG: cfg }) })
    expect(other).toMatchObject({ username: 'alice', password: 'wonder-pass-1' })
    expect(await resolveCredentials('r.example.com:5001', 'x', { env: env({ DOCKER_CONFIG: cfg }) })).toBeUndefined()
    // Secrets read from the file are masked wherever they show up later.
    expect(redact(`${b64('alice:wonder-pass-1')} wonder-pass-1`)).not.toMatch(/wonder|YWxpY2U/)
  })

  it('reads username/password and identitytoken entries from ~/.docker/config.json', async () => {
    await writeJson(join(dir, 'home', '.docker', 'config.json'), {
      auths: {
        'plain.example.com': { username: 'bob', password: 'bob-pass-2' },
        'idt.example.com': { auth: b64('carol:'), identitytoken: 'refresh-xyz-3' },
        'empty.example.com': {},
      },
    })
    expect(await resolveCredentials('plain.example.com', 'a', { env: env() })).toMatchObject({ username: 'bob', password: 'bob-pass-2' })
    expect(await resolveCredentials('idt.example.com', 'a', { env: env() })).toMatchObject({ identityToken: 'refresh-xyz-3', username: 'carol' })
    expect(await resolveCredentials('empty.example.com', 'a', { env: env() })).toBeUndefined()
  })

  it('asks credHelpers and credsStore through docker-credential-NAME get', async () => {
    const cfg = join(dir, 'd2')
    await writeJson(join(cfg, 'config.json'), {
      credsStore: 'fake',
      credHelpers: { 'helped.example.com': 'fake', 'tok.example.com': 'fake' },
      auths: { 'inline.example.com': { auth: b64('dave:dave-pass-4') } },
    })
    const e = env({ DOCKER_CONFIG: cfg })
    expect(await resolveCredentials('helped.example.com', 'a', { env: e })).toMatchObject({ username: 'helper-user', password: 'helper-secret-1', source: 'credential helper docker-credential-fake' })
    // docker.io is asked for under Docker's legacy server URL.
    expect(await resolveCredentials('docker.io', 'library/nginx', { env: e })).toMatchObject({ username: 'hub-user', password: 'hub-secret-2' })
    // A `<token>` user name means the secret is an identity token.
    expect(await resolveCredentials('tok.example.com', 'a', { env: e })).toMatchObject({ identityToken: 'identity-token-3' })
    // The store has nothing for this one: the inline entry is used.
    expect(await resolveCredentials('inline.example.com', 'a', { env: e })).toMatchObject({ username: 'dave', password: 'dave-pass-4' })
    expect(redact('helper-secret-1 hub-secret-2 identity-token-3')).toBe('*** *** ***')
  })

  it('reads podman auth.json from $REGISTRY_AUTH_FILE and $XDG_RUNTIME_DIR, before Docker config, most specific key first', async () => {
    const cfg = join(dir, 'd3')
    await writeJson(join(cfg, 'config.json'), { auths: { 'quay.io': { auth: b64('docker-side:x-pass-5') } } })
    const authFile = await writeJson(join(dir, 'auth.json'), {
      auths: {
        'quay.io': { auth: b64('podman-host:p-pass-6') },
        'quay.io/org/special': { auth: b64('podman-repo:p-pass-7') },
      },
    })
    const run = join(dir, 'run')
    await writeJson(join(run, 'containers', 'auth.json'), { auths: { 'ghcr.io': { auth: b64('xdg-user:p-pass-8') } } })
    const e = env({ DOCKER_CONFIG: cfg, REGISTRY_AUTH_FILE: authFile, XDG_RUNTIME_DIR: run })
    expect(await resolveCredentials('quay.io', 'org/special', { env: e })).toMatchObject({ username: 'podman-repo' })
    expect(await resolveCredentials('quay.io', 'org/other', { env: e })).toMatchObject({ username: 'podman-host' })
    expect(await resolveCredentials('ghcr.io', 'o/r', { env: e })).toMatchObject({ username: 'xdg-user', password: 'p-pass-8' })
    // Without the auth files, Docker's config answers.
    expect(await resolveCredentials('quay.io', 'org/other', { env: env({ DOCKER_CONFIG: cfg }) })).toMatchObject({ username: 'docker-side' })
    expect(credentialFiles({ authFile: '/x/a.json' }, e)).toEqual(['/x/a.json', authFile, join(run, 'containers', 'auth.json'), join(cfg, 'config.json')])
  })

  it('explains broken files and helpers instead of ignoring them', async () => {
    const bad = join(dir, 'd4')
    await mkdir(bad, { recursive: true })
    await writeFile(join(bad, 'config.json'), '{"auths": {')
    await expect(resolveCredentials('a.example.com', 'x', { env: env({ DOCKER_CONFIG: bad }) })).rejects.toThrow(/config\.json is not valid JSON/)

    const missing = join(dir, 'd5')
    await writeJson(join(missing, 'config.json'), { credsStore: 'desktop' })
    const err = await resolveCredentials('a.example.com', 'x', { env: env({ DOCKER_CONFIG: missing }) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SlimError)
    expect((err as SlimError).kind).toBe('auth')
    expect((err as SlimError).message).toMatch(/docker-credential-desktop is not installed/)

    const evil = join(dir, 'd6')
    await writeJson(join(evil, 'config.json'), { credHelpers: { 'a.example.com': '../../bin/sh' } })
    await expect(resolveCredentials('a.example.com', 'x', { env: env({ DOCKER_CONFIG: evil }) })).rejects.toThrow(/helper name .* is not valid/)

    const badAuth = join(dir, 'd7')
    await writeJson(join(badAuth, 'config.json'), { auths: { 'a.example.com': { auth: b64('no-colon-here') } } })
    await expect(resolveCredentials('a.example.com', 'x', { env: env({ DOCKER_CONFIG: badAuth }) })).rejects.toThrow(/not base64 of user:password/)
  })

  it('returns undefined when nothing is configured', async () => {
    expect(await resolveCredentials('nothing.example.com', 'x', { env: env({ DOCKER_CONFIG: join(dir, 'none') }) })).toBeUndefined()
  })
})
