import { SlimError } from '../../core/errors.js'
import { registerSecret } from '../../core/redact.js'
import type { Credential } from '../credentials/types.js'
import { discard, readLimited, type HttpClient } from './http.js'
import { mayUsePlainHttp } from './policy.js'
import type { Challenge } from './www-authenticate.js'

/** Tokens are used until shortly before they expire, so a request never races the expiry. */
const EXPIRY_MARGIN_MS = 10_000
/** The distribution token spec: a missing expires_in means 60 seconds. */
const DEFAULT_TOKEN_LIFETIME_S = 60
const MAX_TOKEN_RESPONSE = 1 << 20

interface CachedToken {
  token: string
  expiresAt: number
}

/**
 * Produces the Authorization header for a scope, following the challenge the registry gave:
 * Basic sends the credentials; Bearer exchanges them (or nothing, for anonymous pulls) for a
 * token at the realm, cached per scope until it expires.
 */
export class Authenticator {
  private challenge?: Challenge
  private readonly tokens = new Map<string, CachedToken>()
  private credential?: Promise<Credential | undefined>
  /** How many tokens were fetched (tests check that tokens are reused). */
  tokenFetches = 0

  constructor(
    private readonly registry: string,
    private readonly http: HttpClient,
    private readonly loadCredential: () => Promise<Credential | undefined>,
    private readonly insecureRegistries: readonly string[] = [],
  ) {}

  /** Remember how the registry wants to be authenticated (from /v2/ or a later 401). */
  setChallenges(challenges: Challenge[]): void {
    // Prefer Bearer (scoped, short-lived) over Basic when a registry offers both.
    this.challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic')
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme
  }

  credentials(): Promise<Credential | undefined> {
    this.credential ??= this.loadCredential()
    return this.credential
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.credentials()) !== undefined
  }

  /** Drop a cached token the registry refused, so the next header() fetches a new one. */
  invalidate(scope: string): void {
    this.tokens.delete(scope)
  }

  async header(scope: string | undefined, what: string): Promise<string | undefined> {
    const c = this.challenge
    if (!c) return undefined
    if (c.scheme === 'basic') {
      const cred = await this.credentials()
      if (!cred) return undefined
      if (cred.password === undefined) {
        throw new SlimError('auth', `${what}: ${this.registry} wants a user name and password, but ${cred.source} holds only an identity token; log in with a password`)
      }
      return basic(cred.username ?? '', cred.password)
    }
    if (c.scheme === 'bearer') {
      const key = scope ?? ''
      const cached = this.tokens.get(key)
      if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return `Bearer ${cached.token}`
      const fresh = await this.fetchToken(c, scope, what)
      this.tokens.set(key, fresh)
      return `Bearer ${fresh.token}`
    }
    throw new SlimError('unsupported', `${what}: ${this.registry} asks for "${c.scheme}" authentication, which slim does not support (Basic and Bearer are)`)
  }

  private async fetchToken(c: Challenge, scope: string | undefined, what: string): Promise<CachedToken> {
    const realm = c.params.realm
    if (!realm) throw new SlimError('format', `${what}: ${this.registry} sent a Bearer challenge without a realm`)
    let url: URL
    try {
      url = new URL(realm)
    } catch {
      throw new SlimError('format', `${what}: ${this.registry} sent an invalid token realm`)
    }
    if (url.protocol === 'http:' && !mayUsePlainHttp(url.host, this.insecureRegistries)) {
      throw new SlimError('network', `${what}: the token service ${url.host} is plain http, which is not allowed; add --insecure-registry ${url.host} if you trust that network`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SlimError('format', `${what}: token realm has unsupported scheme ${url.protocol}`)
    const cred = await this.credentials()
    this.tokenFetches++
    let res
    if (cred?.identityToken) {
      // OAuth2 refresh-token grant, as Docker does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: 'slim' })
      if (c.params.service) form.set('service', c.params.service)
      if (scope) form.set('scope', scope)
      res = await this.http.send(url, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, what })
    } else {
      if (c.params.service) url.searchParams.set('service', c.params.service)
      if (scope) url.searchParams.set('scope', scope)
      const authorization = cred?.password !== undefined ? basic(cred.username ?? '', cred.password) : undefined
      if (cred?.username) url.searchParams.set('account', cred.username)
      res = await this.http.send(url, { authorization, what })
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await discard(res)
      throw new SlimError('auth', cred
        ? `${what}: the token service ${url.host} rejected the credentials from ${cred.source} (HTTP ${res.statusCode}); check the user name and password, or log in again`
        : `${what}: the token service ${url.host} refused an anonymous token (HTTP ${res.statusCode}); log in with docker login ${this.registry} or pass --username with --password-stdin`)
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await discard(res)
      throw new SlimError('network', `${what}: the token service ${url.host} answered HTTP ${res.statusCode}; try again later`)
    }
    const body = await readLimited(res, MAX_TOKEN_RESPONSE, `${what}: token response`)
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown }
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc
    } catch {
      throw new SlimError('format', `${what}: the token service ${url.host} did not answer with JSON`)
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : ''
    if (!token) throw new SlimError('format', `${what}: the token service ${url.host} answered without a token`)
    registerSecret(token)
    const lifetime = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_LIFETIME_S
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : NaN
    // Trust our own clock over issued_at when they disagree wildly (skewed token server clocks).
    const start = Number.isNaN(issued) || Math.abs(issued - Date.now()) > 5 * 60_000 ? Date.now() : issued
    return { token, expiresAt: start + lifetime * 1000 }
  }
}

function basic(username: string, password: string): string {
  const value = Buffer.from(`${username}:${password}`).toString('base64')
  registerSecret(value)
  return `Basic ${value}`
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`
}
