import { describe, expect, it } from 'vitest'
import { humanBytes } from '../../../src/core/format.js'

describe('humanBytes', () => {
  it('uses SI units like docker and dive', () => {
    expect(humanBytes(999)).toBe('999 B')
    expect(humanBytes(1_523_200)).toBe('1.52 MB')
    expect(humanBytes(24_000_000)).toBe('24.0 MB')
  })
})

describe('parseBytes', async () => {
  const { parseBytes } = await import('../../../src/core/format.js')
  it('reads SI and binary units', () => {
    expect(parseBytes('500MB')).toBe(500_000_000)
    expect(parseBytes('32GiB')).toBe(32 * 1024 ** 3)
    expect(parseBytes('1.5g')).toBe(1_500_000_000)
    expect(parseBytes('1048576')).toBe(1048576)
  })
  it('rejects what is not a size', () => {
    expect(parseBytes('lots')).toBeUndefined()
    expect(parseBytes('5 parsecs')).toBeUndefined()
    expect(parseBytes('-1GB')).toBeUndefined()
  })
})
