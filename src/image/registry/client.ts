import { Readable } from 'node:stream'
import { SlimError } from '../../core/errors.js'
import { isDigest } from '../../core/digest.js'
import { chunksOf } from '../../core/chunks.js'
import { resolveCredentials } from '../credentials/index.js'
import type { Credential } from '../credentials/types.js'
import type { Descriptor, RegistryOptions } from '../types.js'
import { Authenticator, pullScope, pushScope } from './auth.js'
import { statusError, type Subject } from './errors.js'
import { HttpClient, brief, discard, headerValue, readLimited, type Response } from './http.js'
import { MANIFEST_ACCEPT, rejectUnsupportedManifest } from './manifest-kind.js'
import { apiHost, mayUsePlainHttp } from './policy.js'
import { backoffMs, isRetryableError } from './retry.js'
import { certificateProblem, isNotTls, probeTls } from './tls.js'
import { parseWwwAuthenticate } from './www-authenticate.js'

/** How long the TLS probe of a host that may use plain http waits; after it, https is tried as usual. */
const TLS_PROBE_TIMEOUT_MS = 3_000

/** Manifests are small JSON documents; containerd refuses more than 4 MiB, so do we. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
const MAX_TAG_PAGES = 10_000

export interface RegistryClientOptions extends RegistryOptions {
  log?: (msg: string) => void
  /** Environment for credential lookup (tests pass their own). */
  env?: NodeJS.ProcessEnv
  /** The repository this client is for, so per-repository auth.json keys (podman) are found. */
  repository?: string
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH'
  headers?: Record<string, string>
  body?: Buffer | string
  /** Ask for the push scope (pull,push) instead of pull. */
  push?: boolean
  followRedirects?: boolean
  /** Non-2xx statuses to hand back instead of raising. */
  allow?: number[]
  /** Bytes expected in the answer (scales the request deadline). */
  expectedBytes?: number
  /** A scope other than the repository's (the catalog's registry:catalog:*). */
  scope?: string
}

export interface FetchedManifest {
  bytes: Buffer
  /** Content-Type without parameters. */
  mediaType?: string
  /** Docker-Content-Digest, when the registry sent a well-formed one. */
  digest?: string
}

/**
 * A client for one registry host, speaking the OCI distribution API (pull side): ping, manifests,
 * blobs, tag lists. Authentication, retries and TLS are handled here; nothing returned is
 * verified (callers check digests), but nothing is buffered beyond a manifest either.
 */
export class RegistryClient {
  readonly registry: string
  private readonly http: HttpClient
  private readonly auth: Authenticator
  private base?: Promise<URL>

  constructor(registry: string, private readonly opts: RegistryClientOptions = {}) {
    this.registry = registry
    this.http = new HttpClient({ ...opts })
    this.auth = new Authenticator(registry, this.http, () => this.lookupCredentials(), opts.insecureRegistries)
  }

  /** Tokens fetched so far (tests assert reuse). */
  get tokenFetches(): number {
    return this.auth.tokenFetches
  }

  /**
   * `GET /v2/`: finds out whether the registry speaks https or (where allowed) plain http, and
   * how it wants to be authenticated. Done once per client.
   */
  ping(): Promise<URL> {
    if (!this.base) {
      this.base = this.doPing()
      // A failed ping is not remembered: a later call may find the registry up again.
      this.base.catch(() => {
        this.base = undefined
      })
    }
    return this.base
  }

  /** ping(), with errors naming the image being fetched instead of just the registry. */
  private async pingFor(what: string): Promise<URL> {
    try {
      return await this.ping()
    } catch (e) {
      const prefix = `docker://${this.registry}: `
      if (e instanceof SlimError && e.message.startsWith(prefix) && what !== prefix.slice(0, -2)) {
        throw new SlimError(e.kind, `${what}: ${e.message.slice(prefix.length)}`, { cause: e.cause })
      }
      throw e
    }
  }

  async getManifest(repository: string, reference: string, what: string): Promise<FetchedManifest> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.authorized(`/v2/${repository}/manifests/${reference}`, repository, what, 'manifest', {
        accept: MANIFEST_ACCEPT.join(', '),
      }, false, MAX_MANIFEST_BYTES)
      const mediaType = headerValue(res, 'content-type')?.split(';')[0]?.trim() || undefined
      const header = headerValue(res, 'docker-content-digest')?.trim()
      let bytes: Buffer
      try {
        bytes = await readLimited(res, MAX_MANIFEST_BYTES, `${what}: manifest`)
      } catch (e) {
        // A connection that breaks inside the body: ask again, like a failure before the headers.
        if (e instanceof SlimError || !isRetryableError(e) || attempt >= this.http.retries) throw this.http.connectionError(e, new URL(`https://${this.registry}`), what)
        this.http.log(`${what}: manifest download broke (${brief(e)}); retrying`)
        await this.http.sleep(backoffMs(attempt, this.http.backoffMs))
        continue
      }
      rejectUnsupportedManifest(bytes, mediaType, what)
      return { bytes, mediaType, digest: header && isDigest(header) ? header : undefined }
    }
  }

  /**
   * The blob's bytes as a stream. A connection that breaks mid-blob is resumed with a Range request
   * (or, if the server ignores Range, by re-reading and skipping what was already delivered),
   * within the retry budget. The caller verifies size and digest while consuming.
   */
  async getBlob(repository: string, desc: Pick<Descriptor, 'digest' | 'size'>, what: string): Promise<Readable> {
    if (!isDigest(desc.digest)) throw new SlimError('format', `${what}: invalid blob digest ${desc.digest.slice(0, 80)}`)
    const first = await this.openBlob(repository, desc.digest, 0, what, desc.size)
    const client = this
    async function* bytes(): AsyncGenerator<Buffer> {
      let res: Response = first
      let delivered = 0
      let skip = 0
      let resumes = 0
      try {
        for (;;) {
          try {
            for await (const chunk of chunksOf(res.body)) {
              let c = chunk
              if (skip > 0) {
                const n = Math.min(skip, c.length)
                skip -= n
                c = c.subarray(n)
                if (c.length === 0) continue
              }
              delivered += c.length
              yield c
            }
            return
          } catch (e) {
            res.body.destroy()
            if (!isRetryableError(e) || resumes >= client.http.retries) {
              throw client.http.connectionError(e, new URL(`https://${client.registry}`), what)
            }
            const wait = backoffMs(resumes, client.http.backoffMs)
            resumes++
            client.http.log(`${what}: broken after ${delivered} bytes (${brief(e)}); resuming in ${wait} ms`)
            await client.http.sleep(wait)
            res = await client.openBlob(repository, desc.digest, delivered, what, desc.size)
            skip = res.statusCode === 206 ? 0 : delivered
          }
        }
      } finally {
        res.body.destroy()
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false })
    // A stream destroyed before its first read never runs the generator's finally: free the socket here.
    stream.once('close', () => first.body.destroy())
    return stream
  }

  /** All tags of a repository, following `Link: <...>; rel="next"` pagination. */
  async listTags(repository: string, pageSize?: number): Promise<string[]> {
    const what = `docker://${this.registry}/${repository}`
    return this.listPaged(`/v2/${repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`, 'tags', what, 'tag list', { repository, scope: pullScope(repository), subject: 'tags' })
  }

  /**
   * All repositories the registry lists at `/v2/_catalog` (paginated like tags). Registries may
   * refuse it (401/403, or 404 where it is turned off): that is an auth or not-found error.
   */
  async listCatalog(pageSize?: number): Promise<string[]> {
    const what = `docker://${this.registry}`
    return this.listPaged(`/v2/_catalog${pageSize ? `?n=${pageSize}` : ''}`, 'repositories', what, 'catalog', { repository: '', scope: 'registry:catalog:*', subject: 'catalog' })
  }

  private async listPaged(first: string, field: 'tags' | 'repositories', what: string, noun: string, auth: { repository: string; scope: string; subject: Subject }): Promise<string[]> {
    const out: string[] = []
    const base = await this.pingFor(what)
    let path: string | undefined = first
    const seen = new Set<string>()
    for (let page = 0; path; page++) {
      if (page >= MAX_TAG_PAGES || seen.has(path)) throw new SlimError('format', `${what}: ${noun} pagination does not end; the registry is misbehaving`)
      seen.add(path)
      // Credentials go only to the registry itself: a next link elsewhere is refused.
      if (new URL(path, base).origin !== base.origin) throw new SlimError('format', `${what}: the ${noun} links to another host (${new URL(path, base).host}); refusing to follow`)
      const res = await this.request(path, auth.repository, what, auth.subject, { headers: { accept: 'application/json' }, scope: auth.scope })
      const link = headerValue(res, 'link')
      const body = await readLimited(res, 16 * 1024 * 1024, `${what}: ${noun}`)
      let doc: Record<string, unknown>
      try {
        doc = JSON.parse(body.toString('utf8')) as typeof doc
      } catch {
        throw new SlimError('format', `${what}: the ${noun} is not valid JSON`)
      }
      const items = doc?.[field]
      if (items !== null && items !== undefined && !Array.isArray(items)) throw new SlimError('format', `${what}: the ${noun} has no "${field}" array`)
      for (const t of (items as unknown[] | null) ?? []) if (typeof t === 'string') out.push(t)
      path = nextLink(link)
    }
    return out
  }

  /** Waits the client's backoff before the `attempt`-th retry of something larger than one request (an upload). */
  async pause(attempt: number, what: string): Promise<void> {
    const wait = backoffMs(attempt, this.http.backoffMs)
    this.http.log(`${what}: retrying in ${wait} ms`)
    await this.http.sleep(wait)
  }

  async close(): Promise<void> {
    await this.http.close()
  }

  private async openBlob(repository: string, digest: string, offset: number, what: string, size: number): Promise<Response> {
    const headers: Record<string, string> = {}
    if (offset > 0) headers.range = `bytes=${offset}-`
    const res = await this.authorized(`/v2/${repository}/blobs/${digest}`, repository, what, 'blob', headers, true, Math.max(0, size - offset))
    if (offset > 0 && res.statusCode === 206) {
      const start = /bytes (\d+)-/.exec(headerValue(res, 'content-range') ?? '')?.[1]
      if (start !== undefined && Number(start) !== offset) {
        await discard(res)
        throw new SlimError('network', `${what}: the registry resumed the download at byte ${start} instead of ${offset}`)
      }
    }
    return res
  }

  /**
   * A GET on the registry with the right Authorization for the repository's pull scope. A 401 is
   * answered once: by learning the challenge (when /v2/ did not ask for auth) or by fetching a
   * fresh token (when a cached one was refused). A second 401 is an auth error.
   */
  private authorized(path: string, repository: string, what: string, subject: Subject, headers: Record<string, string>, followRedirects = false, expectedBytes?: number): Promise<Response> {
    return this.request(path, repository, what, subject, { headers, followRedirects, expectedBytes })
  }

  /**
   * Any request on the registry with the Authorization of the repository's pull (or pull+push)
   * scope; `path` may be an absolute upload URL the registry handed out. Statuses in `allow` are
   * returned like a 2xx (a HEAD's 404 says "not there").
   */
  async request(path: string, repository: string, what: string, subject: Subject, o: RequestOptions = {}): Promise<Response> {
    const base = await this.pingFor(what)
    const url = new URL(path, base)
    const scope = o.scope ?? (o.push ? pushScope(repository) : pullScope(repository))
    const headers = o.headers ?? {}
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.header(scope, what)
      const res = await this.http.send(url, { method: o.method, body: o.body, headers, authorization, what, followRedirects: o.followRedirects ?? false, expectedBytes: o.expectedBytes })
      if ((res.statusCode >= 200 && res.statusCode < 300) || o.allow?.includes(res.statusCode)) return res
      if (res.statusCode === 401 && attempt === 0) {
        const challenges = parseWwwAuthenticate(headerValue(res, 'www-authenticate') ?? '')
        const hadNoAuth = authorization === undefined
        if (challenges.length && (hadNoAuth || this.auth.scheme === 'bearer')) {
          await discard(res)
          this.auth.setChallenges(challenges)
          this.auth.invalidate(scope)
          if (hadNoAuth && this.auth.scheme === 'basic' && !(await this.auth.hasCredentials())) {
            throw new SlimError('auth', `${what}: ${this.registry} requires a login; run docker login ${this.registry}, or pass --username with --password-stdin`)
          }
          continue
        }
      }
      const cred = await this.auth.credentials()
      throw await statusError(res, {
        what,
        host: this.registry,
        subject,
        hadCredentials: cred !== undefined && authorization !== undefined,
        credentialSource: cred?.source,
        attempts: this.http.retries + 1,
      })
    }
  }

  private async doPing(): Promise<URL> {
    const host = apiHost(this.registry)
    const what = `docker://${this.registry}`
    const plainAllowed = mayUsePlainHttp(this.registry, this.opts.insecureRegistries)
    const https = new URL(`https://${host}/v2/`)
    let res: Response
    let base = new URL(`https://${host}/`)
    // When plain http is an option and the server plainly does not speak TLS, go straight to http:
    // the https request would fail the same way, after building a full TLS context.
    if (plainAllowed && (await probeTls(https, Math.min(this.http.timeoutMs, TLS_PROBE_TIMEOUT_MS))) === 'not-tls') {
      this.http.log(`${what}: ${host} answers a TLS hello with plain http; using plain http, which is allowed for ${this.registry}`)
      base = new URL(`http://${host}/`)
      res = await this.http.send(new URL('/v2/', base), { what })
    } else {
      try {
        // When plain http is an option, try https once without retries: a plain registry fails fast.
        res = await this.http.send(https, { what, noRetry: plainAllowed })
      } catch (e) {
        const cause = e instanceof SlimError ? e.cause : e
        if (!plainAllowed || certificateProblem(cause) || !(isNotTls(cause) || isRetryableError(cause))) throw e
        this.http.log(`${what}: https failed (${brief(cause)}); trying plain http, which is allowed for ${this.registry}`)
        base = new URL(`http://${host}/`)
        res = await this.http.send(new URL('/v2/', base), { what })
      }
    }
    if (res.statusCode === 401) {
      this.auth.setChallenges(parseWwwAuthenticate(headerValue(res, 'www-authenticate') ?? ''))
      await discard(res)
      this.http.log(`${what}: registry at ${base.origin} wants ${this.auth.scheme ?? 'unknown'} authentication`)
      return base
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await discard(res)
      this.http.log(`${what}: registry at ${base.origin}, no authentication asked`)
      return base
    }
    if (res.statusCode === 404) {
      await discard(res)
      throw new SlimError('not-found', `${what}: ${host} does not serve the registry API (GET /v2/ answered 404); check the host name and port`)
    }
    throw await statusError(res, { what, host: this.registry, subject: 'ping', hadCredentials: false, attempts: this.http.retries + 1 })
  }

  private lookupCredentials(): Promise<Credential | undefined> {
    return resolveCredentials(this.registry, this.opts.repository, {
      username: this.opts.username,
      password: this.opts.password,
      dockerConfigDir: this.opts.dockerConfigDir,
      authFile: this.opts.authFile,
      env: this.opts.env,
      log: this.opts.log,
    })
  }
}

/** The next page from a `Link: </v2/...?last=x&n=2>; rel="next"` header (RFC 8288). */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part)
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(m[2])) return m[1]
  }
  return undefined
}
