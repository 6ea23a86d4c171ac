import type { Agent, Dispatcher } from 'undici'
import { SlimError, describe } from '../../core/errors.js'
import { redact } from '../../core/redact.js'
import { mayUsePlainHttp } from './policy.js'
import { DEFAULT_BACKOFF_MS, DEFAULT_RETRIES, MAX_RETRY_AFTER_MS, backoffMs, isRetryableError, isRetryableStatus, parseRetryAfter, sleep } from './retry.js'
import { certificateProblem, isNotTls, secureContextFor } from './tls.js'

export type Response = Dispatcher.ResponseData
export const DEFAULT_TIMEOUT_MS = 30_000
const MAX_REDIRECTS = 5

export interface HttpOptions {
  insecureRegistries?: string[]
  certDir?: string
  retries?: number
  backoffMs?: number
  timeoutMs?: number
  log?: (msg: string) => void
  /** How to wait between attempts (tests pass a recorder instead of waiting for real). */
  sleep?: (ms: number) => Promise<void>
}

export interface SendOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH'
  headers?: Record<string, string>
  body?: string | Buffer
  /** Authorization for the first URL only: never forwarded to a redirect on another origin. */
  authorization?: string
  /** Names the thing being fetched in errors, e.g. `docker://host/repo:tag`. */
  what: string
  /** Follow 3xx (blob downloads are redirected to storage). */
  followRedirects?: boolean
  /** Do not retry (the caller has its own fallback, e.g. https -> http on ping). */
  noRetry?: boolean
  /** The body size expected (a blob's descriptor size, a manifest's cap): it lengthens the deadline. */
  expectedBytes?: number
}

/** The two parts of undici slim uses: its connection-pooling Agent, and request() on a dispatcher. */
interface Undici {
  Agent: typeof Agent
  request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>
}
let undiciLoading: Promise<Undici> | undefined

/**
 * undici is loaded by the first registry request, not at start-up: most runs read an archive or
 * a layout and never talk to a registry. And only the two modules slim uses: undici's entry point
 * loads all of it (fetch, WebSocket, mock agents, cache stores), about 90 ms of CPU where these two
 * take about 30, on every registry run (a warm run served by the result cache is mostly
 * start-up). Its package has no "exports" map, so the modules can be imported by path; should a
 * later undici move them, the entry point is used instead.
 */
function loadUndici(): Promise<Undici> {
  undiciLoading ??= loadUndiciParts()
  return undiciLoading
}

const UNDICI_AGENT: string = 'undici/lib/dispatcher/agent.js'
const UNDICI_REQUEST: string = 'undici/lib/api/api-request.js'

async function loadUndiciParts(): Promise<Undici> {
  try {
    const [agent, request] = await Promise.all([import(UNDICI_AGENT), import(UNDICI_REQUEST)])
    const AgentClass = (agent as { default?: unknown }).default
    const requestFn = (request as { default?: unknown }).default
    if (typeof AgentClass === 'function' && typeof requestFn === 'function') {
      // request() is a method of undici's dispatchers (the entry point attaches it to their prototype).
      const call = requestFn as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>
      return { Agent: AgentClass as typeof Agent, request: (dispatcher, options) => call.call(dispatcher, options) }
    }
  } catch {
    // moved or renamed: the entry point below
  }
  const undici = await import('undici')
  return { Agent: undici.Agent, request: (dispatcher, options) => dispatcher.request(options) }
}

/** The slowest transfer rate a request's overall deadline allows for its expected size: 1 MB/s. */
export const DEADLINE_BYTES_PER_SECOND = 1_000_000

/**
 * The overall deadline of one request, headers and body together: the timeout (30 s, or
 * --registry-timeout) plus one second per expected MB. A server that sends a byte every few
 * seconds defeats the per-chunk timeouts; this one it cannot.
 */
export function requestDeadlineMs(timeoutMs: number, expectedBytes = 0): number {
  return timeoutMs + Math.ceil((Math.max(0, expectedBytes) / DEADLINE_BYTES_PER_SECOND) * 1000)
}

/**
 * HTTP for one registry: TLS agents per host, manual redirects (so Authorization stays with the
 * registry's origin), bounded retries with backoff that honour Retry-After, and connection errors
 * turned into one-line SlimErrors. Returns any final status; callers map 4xx to meaning.
 */
export class HttpClient {
  private readonly agents = new Map<string, Agent>()
  readonly retries: number
  readonly backoffMs: number
  readonly timeoutMs: number
  readonly log: (msg: string) => void
  readonly sleep: (ms: number) => Promise<void>

  constructor(private readonly opts: HttpOptions) {
    this.sleep = opts.sleep ?? sleep
    this.retries = opts.retries ?? DEFAULT_RETRIES
    this.backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.log = opts.log ?? (() => {})
  }

  /** Sends with retries on 429/5xx and connection resets; the last response is returned whatever its status. */
  async send(url: URL, o: SendOptions): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const last = o.noRetry || attempt >= this.retries
      let res: Response
      try {
        res = await this.sendFollowingRedirects(url, o)
      } catch (e) {
        if (!last && isRetryableError(e)) {
          const wait = backoffMs(attempt, this.backoffMs)
          this.log(`${o.what}: ${brief(e)}; retry ${attempt + 1}/${this.retries} in ${wait} ms`)
          await this.sleep(wait)
          continue
        }
        throw this.connectionError(e, url, o.what)
      }
      if (!isRetryableStatus(res.statusCode) || last) return res
      const retryAfter = parseRetryAfter(headerValue(res, 'retry-after'))
      if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_MS) {
        // Waiting minutes inside a CLI helps nobody: say when to come back instead.
        await discard(res)
        if (res.statusCode === 429) {
          throw new SlimError('rate-limit', `${o.what}: ${url.host} is rate limiting requests and asks to retry after ${Math.ceil(retryAfter / 1000)} s; wait, or log in for a higher limit`)
        }
        return res
      }
      const wait = retryAfter ?? backoffMs(attempt, this.backoffMs)
      this.log(`${o.what}: HTTP ${res.statusCode} from ${url.host}; retry ${attempt + 1}/${this.retries} in ${wait} ms`)
      await discard(res)
      await this.sleep(wait)
    }
  }

  private async sendFollowingRedirects(start: URL, o: SendOptions): Promise<Response> {
    let url = start
    let authorization = o.authorization
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'slim', ...o.headers }
      if (authorization) headers.authorization = authorization
      const res = await this.raw(url, { method: o.method ?? 'GET', headers, body: o.body }, o)
      if (!o.followRedirects || ![301, 302, 303, 307, 308].includes(res.statusCode)) return res
      const location = headerValue(res, 'location')
      await discard(res)
      if (!location) throw new SlimError('format', `${o.what}: ${url.host} answered ${res.statusCode} without a Location header`)
      if (hop >= MAX_REDIRECTS) throw new SlimError('network', `${o.what}: more than ${MAX_REDIRECTS} redirects, starting at ${url.host}; the registry or its storage is misconfigured`)
      const next = new URL(location, url)
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new SlimError('format', `${o.what}: redirect to unsupported scheme ${next.protocol}`)
      }
      if (next.protocol === 'http:' && !mayUsePlainHttp(next.host, this.opts.insecureRegistries)) {
        throw new SlimError('network', `${o.what}: ${url.host} redirects to plain http on ${next.host}, which is not allowed; add --insecure-registry ${next.host} if you trust that network`)
      }
      // Credentials are for the registry only; blob storage gets a pre-signed URL instead.
      if (next.origin !== url.origin) authorization = undefined
      this.log(`${o.what}: redirected to ${next.origin}`)
      url = next
    }
  }

  private async raw(url: URL, init: { method: string; headers: Record<string, string>; body?: string | Buffer }, o: SendOptions): Promise<Response> {
    const undici = await loadUndici()
    // The abort reaches the body too, while the caller is still reading it; the timer is unref'd
    // so a finished request never keeps slim alive.
    const deadline = requestDeadlineMs(this.timeoutMs, o.expectedBytes)
    const abort = new AbortController()
    setTimeout(() => {
      abort.abort(
        new SlimError(
          'network',
          `${o.what}: ${url.host} did not finish answering within ${seconds(deadline)} (the deadline for ${o.expectedBytes ? `${o.expectedBytes} bytes` : 'this request'}: ${seconds(this.timeoutMs)} plus 1 s per MB); the registry is too slow, or raise --registry-timeout`,
        ),
      )
    }, deadline).unref()
    return undici.request(this.agentFor(undici, url), {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: init.method as Dispatcher.HttpMethod,
      headers: init.headers,
      body: init.body,
      signal: abort.signal,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    })
  }

  private agentFor(undici: Undici, url: URL): Agent {
    const key = `${url.protocol}//${url.host}`
    let agent = this.agents.get(key)
    if (!agent) {
      const tls = url.protocol === 'https:' ? secureContextFor(url.host, this.opts.certDir) : undefined
      if (tls?.sources.length) this.log(`${url.host}: extra TLS trust from ${tls.sources.join(', ')}`)
      agent = new undici.Agent({
        connect: { timeout: this.timeoutMs, ...(tls ? { secureContext: tls.context } : {}) },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
      this.agents.set(key, agent)
    }
    return agent
  }

  /** A connection-level failure as a one-line error naming the host, the image and the fix. */
  connectionError(e: unknown, url: URL, what: string): SlimError {
    if (e instanceof SlimError) return e
    const host = url.host
    const cert = certificateProblem(e)
    if (cert) {
      return new SlimError('network', `${what}: TLS failure talking to ${host}: ${cert}; trust its CA with --cert-dir DIR (holding ca.crt or ${host}/ca.crt) or NODE_EXTRA_CA_CERTS=ca.pem`, { cause: e })
    }
    if (url.protocol === 'https:' && isNotTls(e)) {
      return new SlimError('network', `${what}: ${host} does not speak TLS (it looks like a plain http registry); if you trust the network, allow it with --insecure-registry ${host}`, { cause: e })
    }
    const code = errorCode(e)
    switch (code) {
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new SlimError('network', `${what}: cannot resolve the registry host ${url.hostname} (${code}); check the name and your DNS/network`, { cause: e })
      case 'ECONNREFUSED':
        return new SlimError('network', `${what}: connection to ${host} refused; is the registry running and is the port right?`, { cause: e })
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new SlimError('network', `${what}: ${host} is unreachable (${code}); check your network, proxy or VPN`, { cause: e })
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
      case 'ETIMEDOUT':
        return new SlimError('network', `${what}: ${host} did not answer within ${this.timeoutMs < 1000 ? `${this.timeoutMs} ms` : `${Math.round(this.timeoutMs / 1000)} s`} (timeout, ${this.retries + 1} attempts); check the network or try again later`, { cause: e })
      case 'ECONNRESET':
      case 'UND_ERR_SOCKET':
        return new SlimError('network', `${what}: connection to ${host} was reset (${this.retries + 1} attempts); try again later`, { cause: e })
      default:
        return new SlimError('network', `${what}: request to ${host} failed: ${brief(e)}`, { cause: e })
    }
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()]
    this.agents.clear()
    await Promise.all(agents.map((a) => a.close().catch(() => a.destroy())))
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`
}

/** An error as one short, redacted line for debug logs. */
export function brief(e: unknown): string {
  return redact(describe(e)).replace(/\s+/g, ' ').trim().slice(0, 200)
}

export function errorCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code
    if (code) return code
  }
  return undefined
}

export function headerValue(res: Response, name: string): string | undefined {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Reads at most `limit` bytes of a body; more is an error (manifests, tokens, error documents). */
export async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length
    if (total > limit) {
      res.body.destroy()
      throw new SlimError('limit', `${what}: response is larger than ${limit} bytes; refusing to read it`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** Drops a body we do not need so the connection can be reused. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 })
  } catch {
    /* a broken body on a response we are abandoning is of no interest */
  }
}
