import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SlimError } from '../../../src/core/errors.js'
import {
  formatPlatform,
  hostPlatform,
  isAttestationPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatform,
} from '../../../src/image/platform.js'
import type { Platform } from '../../../src/image/types.js'
import { SHARED } from '../../helpers/shared.js'

const TESTDATA = `${SHARED}/corpus/containers__image/internal/manifest/testdata`

function platformsOf(file: string): Platform[] {
  const doc = JSON.parse(readFileSync(`${TESTDATA}/${file}`, 'utf8')) as { manifests: { platform: Platform }[] }
  return doc.manifests.map((m) => m.platform)
}

describe('hostPlatform', () => {
  it('maps Node architectures to OCI names, always for linux', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' })
    expect(hostPlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' })
    expect(hostPlatform('arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' })
    expect(hostPlatform('ia32')).toEqual({ os: 'linux', architecture: '386' })
  })

  it('defaults to this machine', () => {
    expect(hostPlatform().os).toBe('linux')
    expect(hostPlatform().architecture).toBe(process.arch === 'x64' ? 'amd64' : process.arch)
  })
})

describe('parsePlatform', () => {
  it('parses os/arch and os/arch/variant, normalising aliases', () => {
    expect(parsePlatform('linux/amd64')).toMatchObject({ os: 'linux', architecture: 'amd64', variant: undefined })
    expect(parsePlatform('linux/arm/v7')).toMatchObject({ os: 'linux', architecture: 'arm', variant: 'v7' })
    expect(parsePlatform('linux/aarch64')).toMatchObject({ architecture: 'arm64' })
    expect(parsePlatform('linux/x86_64')).toMatchObject({ architecture: 'amd64' })
    expect(parsePlatform('Linux/ARM64/v8')).toMatchObject({ os: 'linux', architecture: 'arm64', variant: 'v8' })
  })

  it.each(['linux', 'linux/', '/amd64', 'linux/amd64/v8/x', 'linux/am d64', ''])('rejects %j as a usage error', (s) => {
    const err = (() => {
      try {
        parsePlatform(s)
      } catch (e) {
        return e
      }
    })() as SlimError
    expect(err).toBeInstanceOf(SlimError)
    expect(err.kind).toBe('usage')
    expect(err.message).toMatch(/expected os\/arch\[\/variant\]/)
  })
})

describe('matching', () => {
  it('fills in default variants: arm64 is v8, arm is v7, amd64 is v1', () => {
    expect(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true)
    expect(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' })).toBe(true)
    expect(platformMatches({ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v7' })).toBe(true)
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v1' })).toBe(true)
    expect(normalizePlatform({ os: 'linux', architecture: 'aarch64' })).toMatchObject({ architecture: 'arm64', variant: 'v8' })
  })

  it('lets a newer variant run older ones, never the reverse', () => {
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(true)
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' })).toBe(false)
    expect(platformMatches({ os: 'linux', architecture: 'amd64', variant: 'v3' }, { os: 'linux', architecture: 'amd64' })).toBe(true)
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v3' })).toBe(false)
  })

  it('never matches another os or architecture', () => {
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' })).toBe(false)
    expect(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm', variant: 'v8' })).toBe(false)
  })

  it('recognises BuildKit attestation entries', () => {
    expect(isAttestationPlatform({ os: 'unknown', architecture: 'unknown' })).toBe(true)
    expect(isAttestationPlatform({ os: 'linux', architecture: 'amd64' })).toBe(false)
    expect(isAttestationPlatform(undefined)).toBe(false)
  })

  it('formats platforms as os/arch[/variant]', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7')
    expect(formatPlatform({ os: '', architecture: '' })).toBe('?/?')
  })
})

describe('selectPlatform over real manifest lists', () => {
  it('schema2list.json: picks exact entries and the best older arm variant', () => {
    const ps = platformsOf('schema2list.json')
    expect(selectPlatform({ os: 'linux', architecture: 'amd64' }, ps)).toBe(0)
    expect(selectPlatform({ os: 'linux', architecture: 'arm64' }, ps)).toBe(3)
    expect(selectPlatform({ os: 'linux', architecture: '386' }, ps)).toBe(4)
    // There is no arm/v7 entry: v6 is the best a v7 CPU can run.
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }, ps)).toBe(2)
    expect(selectPlatform({ os: 'linux', architecture: 'riscv64' }, ps)).toBe(-1)
  })

  it('schema2list-variants.json: a variant-less arm entry means v7; unknown variants match only themselves', () => {
    const ps = platformsOf('schema2list-variants.json')
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }, ps)).toBe(3)
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }, ps)).toBe(1)
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'unrecognized-present' }, ps)).toBe(2)
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v5' }, ps)).toBe(-1)
  })

  it('ocilist-variants.json: the exact v7 entry wins over the variant-less one listed later', () => {
    const ps = platformsOf('ocilist-variants.json')
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }, ps)).toBe(1)
    expect(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }, ps)).toBe(2)
  })
})
