/**
 * When and how long to wait before trying a registry request again. Retried: 429, 5xx (except
 * 501/505, which will not change), and connection-level failures that a fresh connection can fix.
 */
export const DEFAULT_RETRIES = 3
export const DEFAULT_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 8_000
/** A Retry-After longer than this is not waited out: the user is told when to come back instead. */
export const MAX_RETRY_AFTER_MS = 60_000

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505)
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
])

/** True for errors where the same request on a new connection may well succeed. */
export function isRetryableError(e: unknown): boolean {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code
    if (code && RETRYABLE_CODES.has(code)) return true
    if (cur.name === 'AbortError' || /other side closed|socket hang up/i.test(cur.message)) return true
  }
  return false
}

/**
 * Retry-After is either delta-seconds or an HTTP date. Returns milliseconds to wait, or undefined
 * when the header is absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  // An HTTP date always has a weekday or month name; this keeps "-5" from parsing as a year.
  if (!/[A-Za-z]/.test(v)) return undefined
  const t = Date.parse(v)
  if (Number.isNaN(t)) return undefined
  return Math.max(0, t - now)
}

/** Exponential backoff with full jitter: attempt 0 waits up to base, attempt 1 up to 2*base, ... */
export function backoffMs(attempt: number, baseMs: number = DEFAULT_BACKOFF_MS, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
