import { randomUUID } from 'node:crypto'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { closeServer } from './token-server.js'

/**
 * A reverse proxy in front of a real (plain http) registry that misbehaves on request: it can
 * answer with a status (429 + Retry-After, 500, ...), reset the connection part-way through a
 * body, flip a byte in a body, never answer, or redirect a blob to "storage" on another origin
 * (127.0.0.2) and record whether the client sent Authorization there. Faults apply per request
 * count: `times` matching requests get it, after `skip` pass through untouched.
 */
export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'reset'; afterBytes: number }
  | { kind: 'corrupt'; offset: number }
  | { kind: 'redirect' }
  /** Accept the request and never answer (timeouts). */
  | { kind: 'hang' }

export interface FaultRule {
  /** Matched against the request path (with query). */
  path: RegExp
  method?: string
  fault: Fault
  /** How many matching requests get the fault (default 1). */
  times?: number
  /** Let this many matching requests through untouched first (default 0). */
  skip?: number
}

export interface ProxyLogEntry {
  method: string
  path: string
  /** 'proxy' for the registry side, 'storage' for the redirect target. */
  side: 'proxy' | 'storage'
  authorization: boolean
  range?: string
  fault?: Fault['kind']
  status?: number
}

export interface FaultProxy {
  host: string
  url: string
  log: ProxyLogEntry[]
  addFault(rule: FaultRule): void
  clearFaults(): void
  stop(): Promise<void>
}

interface LiveRule extends FaultRule {
  remaining: number
  toSkip: number
}

/**
 * Distribution 2.8 ignores `?n=` on tag lists (pagination arrived in v3); with `paginateTags` the
 * proxy pages the registry's real list the way v3 and Docker Hub do: sorted, `n` per page, and a
 * `Link: <...?n=N&last=T>; rel="next"` header while more remain.
 */
export interface FaultProxyOptions {
  paginateTags?: boolean
}

export async function startFaultProxy(upstreamUrl: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl)
  if (upstream.protocol !== 'http:') throw new Error('the fault proxy fronts plain-http registries only')
  const rules: LiveRule[] = []
  const log: ProxyLogEntry[] = []
  const stored = new Map<string, { body: Buffer; headers: Record<string, string> }>()

  const storage = createServer((req, res) => {
    const entry: ProxyLogEntry = { method: req.method ?? 'GET', path: req.url ?? '', side: 'storage', authorization: req.headers.authorization !== undefined }
    log.push(entry)
    const item = stored.get((req.url ?? '').replace(/^\/storage\//, ''))
    entry.status = item ? 200 : 404
    if (!item) {
      res.writeHead(404)
      res.end()
      return
    }
    res.writeHead(200, { ...item.headers, 'content-length': String(item.body.length) })
    res.end(item.body)
  })
  // Another loopback address, so the redirect crosses origins (Authorization must not follow).
  await listen(storage, '127.0.0.2')
  const storagePort = (storage.address() as AddressInfo).port

  const proxy = createServer((req, res) => {
    const entry: ProxyLogEntry = {
      method: req.method ?? 'GET',
      path: req.url ?? '',
      side: 'proxy',
      authorization: req.headers.authorization !== undefined,
      range: req.headers.range,
    }
    log.push(entry)
    const fault = takeFault(req)
    entry.fault = fault?.kind
    if (fault?.kind === 'status') {
      entry.status = fault.status
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: 'INJECTED', message: `injected ${fault.status}` }] }))
      return
    }
    if (fault?.kind === 'hang') return
    const url = new URL(req.url ?? '/', 'http://proxy')
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname)
    if (options.paginateTags && tags && url.searchParams.has('n') && !fault) {
      void paginate(tags[1], Number(url.searchParams.get('n')), url.searchParams.get('last'), req, res, entry)
      return
    }
    forward(req, res, entry, fault)
  })
  await listen(proxy, '127.0.0.1')
  const port = (proxy.address() as AddressInfo).port

  function takeFault(req: IncomingMessage): Fault | undefined {
    for (const r of rules) {
      if (r.remaining <= 0 || !r.path.test(req.url ?? '') || (r.method && r.method !== req.method)) continue
      if (r.toSkip > 0) {
        r.toSkip--
        continue
      }
      r.remaining--
      return r.fault
    }
    return undefined
  }

  async function paginate(name: string, n: number, last: string | null, req: IncomingMessage, res: ServerResponse, entry: ProxyLogEntry): Promise<void> {
    const upRes = await new Promise<IncomingMessage>((resolve, reject) => {
      const up = request({ host: upstream.hostname, port: upstream.port, path: `/v2/${name}/tags/list`, headers: { ...req.headers, host: upstream.host } }, resolve)
      up.on('error', reject)
      up.end()
    })
    const body = await collect(upRes)
    entry.status = upRes.statusCode
    if (upRes.statusCode !== 200) {
      res.writeHead(upRes.statusCode ?? 502, pick(upRes.headers, ['content-type', 'www-authenticate']))
      res.end(body)
      return
    }
    const all = ((JSON.parse(body.toString()) as { tags: string[] | null }).tags ?? []).sort()
    const rest = last === null ? all : all.filter((t) => t > last)
    const page = rest.slice(0, n)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (rest.length > n) headers.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"`
    res.writeHead(200, headers)
    res.end(JSON.stringify({ name, tags: page }))
  }

  function forward(req: IncomingMessage, res: ServerResponse, entry: ProxyLogEntry, fault: Fault | undefined): void {
    const headers = { ...req.headers, host: upstream.host }
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
      entry.status = upRes.statusCode
      const outHeaders = { ...upRes.headers }
      // The registry's absolute Location/realm URLs point at itself; keep clients on the proxy.
      if (typeof outHeaders.location === 'string') outHeaders.location = outHeaders.location.replace(upstream.origin, `http://127.0.0.1:${port}`)
      if (fault?.kind === 'redirect' && upRes.statusCode === 200) {
        void collect(upRes).then((body) => {
          const id = randomUUID()
          stored.set(id, { body, headers: pick(upRes.headers, ['content-type', 'docker-content-digest']) })
          res.writeHead(307, { location: `http://127.0.0.2:${storagePort}/storage/${id}`, 'content-length': '0' })
          res.end()
        })
        return
      }
      res.writeHead(upRes.statusCode ?? 502, outHeaders)
      if (fault?.kind === 'reset') {
        let sent = 0
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= fault.afterBytes) return
          const part = chunk.subarray(0, fault.afterBytes - sent)
          sent += part.length
          res.write(part, () => {
            if (sent >= fault.afterBytes) res.socket?.destroy()
          })
        })
        upRes.on('end', () => res.socket?.destroy())
        return
      }
      if (fault?.kind === 'corrupt') {
        let pos = 0
        upRes.on('data', (chunk: Buffer) => {
          if (fault.offset >= pos && fault.offset < pos + chunk.length) {
            const copy = Buffer.from(chunk)
            copy[fault.offset - pos] ^= 0xff
            chunk = copy
          }
          pos += chunk.length
          res.write(chunk)
        })
        upRes.on('end', () => res.end())
        return
      }
      upRes.pipe(res)
    })
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(up)
  }

  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    log,
    addFault(rule) {
      rules.push({ ...rule, remaining: rule.times ?? 1, toSkip: rule.skip ?? 0 })
    },
    clearFaults() {
      rules.length = 0
    },
    async stop() {
      await Promise.all([closeServer(proxy), closeServer(storage)])
    },
  }
}

function listen(server: Server, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
}

async function collect(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function pick(h: IncomingMessage['headers'], names: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of names) if (typeof h[n] === 'string') out[n] = h[n] as string
  return out
}
