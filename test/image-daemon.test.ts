/**
 * The docker-daemon: transport against a REAL Docker Engine API: podman's compatible service
 * (`podman system service`), set up as /work/shared/reference/test-infra.md sections 4b and 9
 * describe (runc, lowered ulimits, vfs storage under a temp dir). A corpus docker-archive is loaded
 * with `podman load`, then read back through the socket.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SlimError } from '../src/core/errors.js'
import { openImage } from '../src/image/open.js'
import { daemonEndpoint } from '../src/image/transports/docker-daemon.js'
import { SHARED } from './helpers/shared.js'

const run = promisify(execFile)
const ALPINE_GZ = `${SHARED}/corpus/aquasecurity__trivy/pkg/fanal/test/testdata/alpine-310.tar.gz`
const ALPINE_CONFIG = 'sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e'

const work = mkdtempSync(join(tmpdir(), 'slim-daemon-test-'))
const socket = join(work, 'podman.sock')
const cacheDir = join(work, 'cache')
let service: ChildProcess | undefined
const savedDockerHost = process.env.DOCKER_HOST

function podmanArgs(...args: string[]): string[] {
  return ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', ...args]
}

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET' }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.end()
  })
}

beforeAll(async () => {
  const conf = join(work, 'containers.conf')
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n')
  const env = { ...process.env, CONTAINERS_CONF: conf }
  // podman 4.3 cannot load a gzip-wrapped archive; slim can, but here podman is the oracle.
  const tar = join(work, 'alpine-310.tar')
  writeFileSync(tar, gunzipSync(readFileSync(ALPINE_GZ)))
  await run('podman', podmanArgs('load', '-q', '-i', tar), { env, timeout: 120_000 })
  service = spawn('podman', podmanArgs('system', 'service', '--time=0', `unix://${socket}`), { env, stdio: 'ignore' })
  for (let i = 0; i < 200 && !(await ping()); i++) await new Promise((r) => setTimeout(r, 50))
  if (!(await ping())) throw new Error('podman system service did not come up')
  process.env.DOCKER_HOST = `unix://${socket}`
}, 180_000)

afterAll(async () => {
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST
  else process.env.DOCKER_HOST = savedDockerHost
  if (service && service.exitCode === null) {
    const exited = new Promise((r) => service?.once('exit', r))
    service.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
  }
  rmSync(work, { recursive: true, force: true })
})

async function failure(p: Promise<unknown>): Promise<SlimError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!(e instanceof SlimError)) throw new Error(`expected a SlimError, got ${String(e)}`)
  return e
}

describe('docker-daemon: against podman system service', () => {
  it('exports alpine:3.10 through the Engine API and reads it like the original archive', async () => {
    const img = await openImage('docker-daemon:alpine:3.10', { cacheDir })
    try {
      expect(img.transport).toBe('docker-daemon')
      expect(img.reference).toBe('docker-daemon:alpine:3.10')
      expect(img.name).toBe('docker.io/library/alpine')
      expect(img.tag).toBe('3.10')
      expect(img.configDigest).toBe(ALPINE_CONFIG)
      expect(img.platform).toMatchObject({ os: 'linux', architecture: 'amd64' })
      expect(img.config.config?.Cmd).toEqual(['/bin/sh'])
      expect(img.layers).toHaveLength(1)
      // The export sits in the cache's tmp dir while the image is open.
      expect(readdirSync(join(cacheDir, 'tmp'))).toHaveLength(1)
      let bytes = 0
      for await (const c of await img.layers[0].uncompressed()) bytes += (c as Buffer).length
      expect(bytes).toBe(5818880) // the layer's tar size, diff ID verified on the way
    } finally {
      await img.close()
    }
    expect(readdirSync(join(cacheDir, 'tmp'))).toEqual([])
  })

  it('accepts podman\'s own localhost/ name too', async () => {
    const img = await openImage('docker-daemon:localhost/alpine:3.10')
    expect(img.configDigest).toBe(ALPINE_CONFIG)
    await img.close()
  })

  it('a missing image is a not-found error with the docker pull fix', async () => {
    const err = await failure(openImage('docker-daemon:nosuchimage:1.0', { cacheDir }))
    expect(err.kind).toBe('not-found')
    expect(err.message).toMatch(new RegExp(`the Docker daemon at unix://${socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has no image nosuchimage:1\\.0 .*; pull it first with docker pull nosuchimage:1\\.0`))
    expect(readdirSync(join(cacheDir, 'tmp'))).toEqual([])
  })

  it('no daemon at DOCKER_HOST is a network error naming DOCKER_HOST', async () => {
    const saved = process.env.DOCKER_HOST
    try {
      process.env.DOCKER_HOST = `unix://${join(work, 'absent.sock')}`
      const err = await failure(openImage('docker-daemon:alpine:3.10'))
      expect(err.kind).toBe('network')
      expect(err.message).toMatch(/cannot reach the Docker daemon at unix:\/\/.*absent\.sock \(no socket there\); start Docker or set DOCKER_HOST/)
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const p = (srv.address() as { port: number }).port
          srv.close(() => resolve(p))
        })
      })
      process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`
      const refused = await failure(openImage('docker-daemon:alpine:3.10'))
      expect(refused.message).toMatch(/tcp:\/\/127\.0\.0\.1:\d+ \(connection refused\)/)
    } finally {
      process.env.DOCKER_HOST = saved
    }
  })

  it('an invalid reference fails before any request', async () => {
    expect((await failure(openImage('docker-daemon:Not/Valid'))).kind).toBe('reference')
  })
})

describe('daemonEndpoint', () => {
  it('reads unix:// and tcp:// DOCKER_HOST values, defaulting to /var/run/docker.sock', () => {
    expect(daemonEndpoint({})).toEqual({ connect: { socketPath: '/var/run/docker.sock' }, display: 'unix:///var/run/docker.sock' })
    expect(daemonEndpoint({ DOCKER_HOST: 'unix:///run/x.sock' }).connect).toEqual({ socketPath: '/run/x.sock' })
    expect(daemonEndpoint({ DOCKER_HOST: 'tcp://10.0.0.2:2376' }).connect).toEqual({ host: '10.0.0.2', port: 2376 })
    expect(daemonEndpoint({ DOCKER_HOST: 'tcp://[::1]:2375' }).connect).toEqual({ host: '::1', port: 2375 })
  })

  it('rejects other schemes and TLS with clear errors', () => {
    expect(() => daemonEndpoint({ DOCKER_HOST: 'ssh://user@host' })).toThrow(/unsupported scheme; write unix:\/\/\/path\/to\/docker.sock or tcp:\/\/HOST:PORT/)
    expect(() => daemonEndpoint({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1' })).toThrow(/DOCKER_TLS_VERIFY is not supported/)
    expect(() => daemonEndpoint({ DOCKER_HOST: 'unix://' })).toThrow(/names no socket path/)
  })
})
