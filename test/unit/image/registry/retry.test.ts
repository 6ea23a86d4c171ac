import { describe, expect, it } from 'vitest'
import { backoffMs, isRetryableError, isRetryableStatus, parseRetryAfter } from '../../../../src/image/registry/retry.js'

describe('retry policy', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(' 0 ')).toBe(0)
    const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT')
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:47 GMT', now)).toBe(10_000)
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter('-5')).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })

  it('retries 429 and 5xx but not client errors or 501', () => {
    expect([429, 500, 502, 503, 504, 408].every(isRetryableStatus)).toBe(true)
    expect([400, 401, 403, 404, 501, 505].some(isRetryableStatus)).toBe(false)
  })

  it('retries resets and timeouts, also when wrapped as a cause', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    expect(isRetryableError(reset)).toBe(true)
    expect(isRetryableError(new Error('fetch failed', { cause: reset }))).toBe(true)
    expect(isRetryableError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe(true)
    expect(isRetryableError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe(false)
    expect(isRetryableError(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe(false)
  })

  it('backs off exponentially within bounds', () => {
    expect(backoffMs(0, 100, () => 0)).toBe(50)
    expect(backoffMs(0, 100, () => 1)).toBe(100)
    expect(backoffMs(3, 100, () => 1)).toBe(800)
    expect(backoffMs(20, 100, () => 1)).toBe(8000)
  })
})
