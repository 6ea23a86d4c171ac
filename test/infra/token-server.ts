import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A small token server for Distribution's `auth.token` mode (the Docker Hub-style flow): it signs
 * ES256 JWTs with the key whose certificate the registry trusts. Known users get what they ask
 * for; anonymous clients get only `pull` (or nothing, with anonymousPull: false), like a
 * registry with public repositories.
 */
export interface TokenServerOptions {
  keyPath: string
  certPath: string
  issuer: string
  users: Record<string, string>
  anonymousPull?: boolean
  /** Token lifetime in seconds. */
  expiresIn?: number
  /** Repositories (name prefixes) anonymous clients get no access to, even with anonymousPull. */
  privateRepositories?: string[]
}

export interface TokenRequest {
  method: string
  user?: string
  scopes: string[]
  service?: string
  rejected: boolean
}

export interface TokenServer {
  url: string
  requests: TokenRequest[]
  stop(): Promise<void>
}

export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(readFileSync(o.keyPath))
  const certDer = readFileSync(o.certPath, 'utf8').replace(/-----[^-]+-----|\s/g, '')
  const requests: TokenRequest[] = []
  const server = createServer((req, res) => {
    void handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(body)
      },
      () => {
        res.writeHead(500)
        res.end()
      },
    )
  })

  async function handle(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const url = new URL(req.url ?? '/', 'http://token')
    let params = url.searchParams
    if (req.method === 'POST') {
      let text = ''
      for await (const chunk of req) text += String(chunk)
      params = new URLSearchParams(text)
    }
    let user: string | undefined
    const auth = req.headers.authorization ?? ''
    const record: TokenRequest = { method: req.method ?? 'GET', scopes: params.getAll('scope'), service: params.get('service') ?? undefined, rejected: false }
    requests.push(record)
    if (auth.startsWith('Basic ')) {
      const text = Buffer.from(auth.slice(6), 'base64').toString()
      const colon = text.indexOf(':')
      const name = text.slice(0, colon)
      if (colon < 0 || o.users[name] === undefined || o.users[name] !== text.slice(colon + 1)) {
        record.rejected = true
        return { status: 401, body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }) }
      }
      user = name
    } else if (params.get('grant_type') === 'refresh_token') {
      // Identity tokens are "refresh:<user>" in this test server.
      const rt = params.get('refresh_token') ?? ''
      const name = rt.startsWith('refresh:') ? rt.slice('refresh:'.length) : ''
      if (o.users[name] === undefined) {
        record.rejected = true
        return { status: 401, body: '{}' }
      }
      user = name
    }
    record.user = user
    const access = params.getAll('scope').map((s) => {
      const [type, name, actions = ''] = s.split(':')
      const wanted = actions.split(',').filter(Boolean)
      const hidden = type === 'repository' && (o.privateRepositories ?? []).some((p) => name.startsWith(p))
      const granted = user ? wanted : o.anonymousPull === false || hidden ? [] : wanted.filter((a) => a === 'pull')
      return { type, name, actions: granted }
    })
    const token = jwt(key, certDer, {
      iss: o.issuer,
      sub: user ?? '',
      aud: params.get('service') ?? '',
      access,
      expiresIn: o.expiresIn ?? 300,
    })
    return { status: 200, body: JSON.stringify({ token, access_token: token, expires_in: o.expiresIn ?? 300, issued_at: new Date().toISOString() }) }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/token`, requests, stop: () => closeServer(server) }
}

function jwt(key: KeyObject, certDer: string, c: { iss: string; sub: string; aud: string; access: unknown[]; expiresIn: number }): string {
  const b64u = (s: string | Buffer): string => Buffer.from(s).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const header = { alg: 'ES256', typ: 'JWT', x5c: [certDer] }
  const claims = { iss: c.iss, sub: c.sub, aud: c.aud, exp: now + c.expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access: c.access }
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  return `${input}.${b64u(sig)}`
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
