import { describe, expect, it } from 'vitest'
import { humanBytes } from './format.js'

describe('humanBytes', () => {
  it('uses SI units like docker and dive', () => {
    expect(humanBytes(999)).toBe('999 B')
    expect(humanBytes(1_523_200)).toBe('1.52 MB')
    expect(humanBytes(24_000_000)).toBe('24.0 MB')
  })
})
