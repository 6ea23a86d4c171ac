import { createWriteStream } from 'node:fs'
import { request, type IncomingMessage, type RequestOptions } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { SlimError, describe, isSlimError } from '../../core/errors.js'
import { chargingStream, DEFAULT_MAX_TEMP_BYTES } from '../../core/temp.js'
import { redact } from '../../core/redact.js'
import { makeArchiveTemp, type TempPlace } from '../archive/outer.js'
import { parseReference } from '../reference.js'
import type { ImageSource } from '../source.js'
import { openDockerArchive } from './docker-archive.js'

/**
 * `docker-daemon:REF`: exports the image through the Docker Engine API (`GET /images/{name}/get`,
 * which is `docker save`) into a temp file (in the cache dir, else the system temp dir) and reads
 * that as a docker-archive. The temp file is deleted on close. Works with Docker and with
 * podman's Docker-compatible service.
 */

const API_VERSION = 'v1.41'
const DEFAULT_SOCKET = '/var/run/docker.sock'
/** An export during which the daemon sends nothing for this long is given up. */
const EXPORT_IDLE_MS = 120_000

export interface DaemonEndpoint {
  /** Options for node:http: a unix socket path, or host and port. */
  connect: Pick<RequestOptions, 'socketPath' | 'host' | 'port'>
  /** How messages name it. */
  display: string
}

/** Where the daemon listens: DOCKER_HOST (unix:// or tcp://), else /var/run/docker.sock. */
export function daemonEndpoint(env: NodeJS.ProcessEnv = process.env): DaemonEndpoint {
  const host = env.DOCKER_HOST?.trim()
  if (!host) return { connect: { socketPath: DEFAULT_SOCKET }, display: `unix://${DEFAULT_SOCKET}` }
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length)
    if (!socketPath) throw new SlimError('usage', `DOCKER_HOST=${host} names no socket path; write unix:///path/to/docker.sock`)
    return { connect: { socketPath }, display: host }
  }
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    if (env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0') {
      throw new SlimError('unsupported', `DOCKER_HOST=${redact(host)} with DOCKER_TLS_VERIFY is not supported by slim's docker-daemon: transport; use an unencrypted local socket, or docker save the image and open it as docker-archive:`)
    }
    let url: URL
    try {
      url = new URL(host.replace(/^tcp:/, 'http:'))
    } catch {
      throw new SlimError('usage', `DOCKER_HOST=${redact(host)} is not a valid address; write tcp://HOST:PORT or unix:///path/to/docker.sock`)
    }
    return { connect: { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) }, display: redact(host) }
  }
  throw new SlimError('usage', `DOCKER_HOST=${redact(host)} uses an unsupported scheme; write unix:///path/to/docker.sock or tcp://HOST:PORT`)
}

function get(endpoint: DaemonEndpoint, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ ...endpoint.connect, path, method: 'GET', headers: { Host: 'docker' } }, resolve)
    req.on('error', reject)
    req.end()
  })
}

async function bodyText(res: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of res) {
    if (text.length < 4096) text += String(chunk)
  }
  try {
    const j = JSON.parse(text) as { message?: unknown }
    if (typeof j.message === 'string') return j.message
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 300)
}

export async function openDockerDaemon(refText: string, reference: string, place: TempPlace = {}, env: NodeJS.ProcessEnv = process.env): Promise<ImageSource> {
  const cacheDir = place.cacheDir
  // Validate with the reference grammar, but send the name as written: Docker resolves short
  // names to docker.io/library/..., podman to localhost/..., and each knows its own rule.
  const ref = parseReference(refText)
  const name = refText.trim()
  const endpoint = daemonEndpoint(env)
  const shown = `docker-daemon:${name}`

  let res: IncomingMessage
  try {
    res = await get(endpoint, `/${API_VERSION}/images/${encodeURIComponent(name)}/get`)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no socket there' : code === 'ECONNREFUSED' ? 'connection refused' : code === 'EACCES' ? 'permission denied' : describe(e)
    throw new SlimError(
      'network',
      `${shown}: cannot reach the Docker daemon at ${endpoint.display} (${why}); start Docker or set DOCKER_HOST to its socket (e.g. DOCKER_HOST=unix:///run/podman/podman.sock)`,
    )
  }
  if (res.statusCode === 404) {
    const msg = await bodyText(res)
    throw new SlimError('not-found', `${shown}: the Docker daemon at ${endpoint.display} has no image ${name} (${msg || '404'}); pull it first with docker pull ${name}`)
  }
  if (res.statusCode !== 200) {
    const msg = await bodyText(res)
    throw new SlimError('network', `${shown}: the Docker daemon at ${endpoint.display} answered ${res.statusCode} (${msg || 'no message'})`)
  }

  const { tempFile, cleanup, handle } = await makeArchiveTemp(cacheDir)
  try {
    // An export that never ends stops at the temp budget; a daemon that stops sending, at the idle timeout.
    res.setTimeout(EXPORT_IDLE_MS, () => res.destroy(new SlimError('network', `${shown}: the Docker daemon at ${endpoint.display} sent nothing for ${EXPORT_IDLE_MS / 1000} s`)))
    await pipeline(res, chargingStream(handle, place.maxTempBytes ?? DEFAULT_MAX_TEMP_BYTES, `${shown}: the image export`), createWriteStream(tempFile, { mode: 0o600 }))
  } catch (e) {
    await cleanup()
    if (isSlimError(e)) throw e
    throw new SlimError('network', `${shown}: the image export from ${endpoint.display} was interrupted (${describe(e)})`)
  }
  return openDockerArchive(tempFile, undefined, {
    transport: 'docker-daemon',
    reference: shown,
    display: `${shown} (exported to ${tempFile})`,
    cacheDir,
    maxTempBytes: place.maxTempBytes,
    onClose: cleanup,
  }).then((source): ImageSource => {
    // The archive's own tag may be podman's localhost/NAME; report what the user asked for.
    const { name: _archiveName, tag: _archiveTag, ...rest } = source
    return { ...rest, name: ref.name, ...(ref.tag ? { tag: ref.tag } : {}) }
  })
}
