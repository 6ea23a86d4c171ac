import { SlimError } from '../../core/errors.js'
import { redact } from '../../core/redact.js'
import { readLimited, type Response } from './http.js'

/** The `{"errors":[{"code","message","detail"}]}` body of the distribution spec, as one short phrase. */
export async function registryErrorText(res: Response): Promise<string> {
  let body: Buffer
  try {
    body = await readLimited(res, 64 * 1024, 'error body')
  } catch {
    return ''
  }
  const text = body.toString('utf8')
  try {
    const doc = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> }
    const parts = (doc.errors ?? [])
      .slice(0, 3)
      .map((e) => [typeof e.code === 'string' ? e.code : '', typeof e.message === 'string' ? e.message : ''].filter(Boolean).join(': '))
      .filter(Boolean)
    if (parts.length) return clip(redact(parts.join('; ')))
  } catch {
    /* not JSON: fall through to the raw text */
  }
  return clip(redact(text.replace(/\s+/g, ' ').trim()))
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s
}

export type Subject = 'manifest' | 'blob' | 'tags' | 'catalog' | 'ping'

export interface StatusContext {
  what: string
  host: string
  subject: Subject
  /** Whether we sent credentials (changes what a 401 most likely means). */
  hadCredentials: boolean
  credentialSource?: string
  attempts: number
}

/** Maps a final non-2xx response to a one-line SlimError that says what to do. */
export async function statusError(res: Response, ctx: StatusContext): Promise<SlimError> {
  const said = await registryErrorText(res)
  const detail = said ? ` (registry said: ${said})` : ''
  const s = res.statusCode
  if (s === 404) {
    const thing = ctx.subject === 'manifest' ? 'manifest unknown' : ctx.subject === 'blob' ? 'blob unknown' : ctx.subject === 'catalog' ? 'no catalog (GET /v2/_catalog answered 404)' : 'repository unknown'
    const fix = ctx.subject === 'blob' ? 'the registry lost a blob the manifest names; re-push the image' : 'check the name and tag'
    return new SlimError('not-found', `${ctx.what}: ${thing}${detail}; ${fix}`)
  }
  if (s === 401 || s === 403) {
    const verb = s === 401 ? 'authentication required' : 'access denied'
    const fix = ctx.hadCredentials
      ? `the credentials from ${ctx.credentialSource ?? 'your configuration'} were rejected or lack pull access; check them, or log in again (docker login ${ctx.host})`
      : `log in with docker login ${ctx.host}, or pass --username with --password-stdin (the repository may also not exist)`
    return new SlimError('auth', `${ctx.what}: ${verb}${detail}; ${fix}`)
  }
  if (s === 429) {
    return new SlimError('rate-limit', `${ctx.what}: ${ctx.host} is rate limiting requests (HTTP 429 after ${ctx.attempts} attempts)${detail}; wait and try again, or log in for a higher limit`)
  }
  if (s >= 500) {
    return new SlimError('network', `${ctx.what}: ${ctx.host} answered HTTP ${s} (after ${ctx.attempts} attempts)${detail}; the registry is having trouble, try again later`)
  }
  return new SlimError('network', `${ctx.what}: unexpected HTTP ${s} from ${ctx.host}${detail}`)
}
