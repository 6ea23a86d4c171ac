/**
 * One error type for everything a user can cause or fix. The CLI prints `message` as a single line
 * (and the stack only with --debug), so a message must name the thing that went wrong and the fix.
 */
export type ErrorKind =
  | 'usage' // bad flags or arguments: exit 2
  | 'reference' // an image reference that does not parse
  | 'not-found' // image, tag, blob or file that does not exist
  | 'auth' // 401/403 or missing credentials
  | 'network' // unreachable host, TLS failure, timeout, reset
  | 'rate-limit'
  | 'integrity' // digest or size mismatch, truncated data
  | 'format' // malformed manifest, config, archive or layout
  | 'unsupported' // schema 1, artifacts, foreign layers, ...
  | 'limit' // a safety limit was hit (decompression bomb, ...)
  | 'internal'

export class SlimError extends Error {
  readonly kind: ErrorKind
  readonly exitCode: number

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options)
    this.name = 'SlimError'
    this.kind = kind
    this.exitCode = kind === 'usage' ? 2 : 1
  }
}

export function isSlimError(e: unknown): e is SlimError {
  return e instanceof SlimError
}

/** Collapse whitespace so an error always prints as exactly one line. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}

/** Best-effort text of any thrown value, for wrapping into a SlimError. */
export function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code
    const cause = e.cause instanceof Error ? `: ${describe(e.cause)}` : ''
    return `${e.message}${code && !e.message.includes(code) ? ` (${code})` : ''}${cause}`
  }
  return String(e)
}
