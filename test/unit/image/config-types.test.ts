import { describe, expect, it } from 'vitest'
import { parseImageConfig } from '../../../src/image/manifest.js'

const ROOTFS = { type: 'layers', diff_ids: [] }
const parse = (config: unknown, extra: Record<string, unknown> = {}) =>
  parseImageConfig(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: ROOTFS, config, ...extra })), 'image config')

const error = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    return (e as Error).message
  }
  throw new Error('did not throw')
}

describe('image config field types', () => {
  it('names the field and the type it got, on one line', () => {
    expect(error(() => parse({ Cmd: 5 }))).toMatch(/^image config: Cmd must be an array of strings, got number;/)
    expect(error(() => parse({ Entrypoint: { a: 1 } }))).toMatch(/Entrypoint must be an array of strings, got an object/)
    expect(error(() => parse({ Entrypoint: ['/a', 2] }))).toMatch(/Entrypoint\[1\] must be a string, got number/)
    expect(error(() => parse({ Env: 'A=1' }))).toMatch(/Env must be an array of strings, got string/)
    expect(error(() => parse({ User: 0 }))).toMatch(/User must be a string, got number/)
    expect(error(() => parse({ WorkingDir: ['/'] }))).toMatch(/WorkingDir must be a string, got an array/)
    expect(error(() => parse({ ExposedPorts: ['80/tcp'] }))).toMatch(/ExposedPorts must be an object, got an array/)
    expect(error(() => parse({ Labels: { a: 1 } }))).toMatch(/Labels\["a"\] must be a string, got number/)
    expect(error(() => parse({ Healthcheck: { Test: ['CMD', '/a'], Retries: '3 CMD ["/x"]\nRUN id' } }))).toMatch(/Healthcheck.Retries must be an integer, got string/)
    expect(error(() => parse({ Healthcheck: { Interval: 1.5 } }))).toMatch(/Healthcheck.Interval must be an integer, got number/)
    expect(error(() => parse({ Volumes: { '/data': 'x' } }))).toMatch(/Volumes\["\/data"\] must be an object, got string/)
    expect(error(() => parse({ StopSignal: 9 }))).toMatch(/StopSignal must be a string, got number/)
    expect(error(() => parse({}, { history: [{ created_by: ['RUN x'] }] }))).toMatch(/history\[0\].created_by must be a string, got an array/)
    expect(error(() => parse({ Cmd: 5 }))).not.toContain('\n')
  })

  it('accepts what Docker accepts: null fields, a plain-string command, null port values', () => {
    const c = parse({ Cmd: 'sh', Entrypoint: null, Env: null, ExposedPorts: { '80/tcp': {}, '81/tcp': null }, Healthcheck: { Test: ['NONE'], Retries: 3, Interval: 30_000_000_000 } })
    expect(c.config?.Cmd).toEqual(['sh'])
    expect(c.config?.Entrypoint).toBeNull()
    expect(c.config?.Env).toBeUndefined()
    expect(Object.keys(c.config?.ExposedPorts ?? {})).toEqual(['80/tcp', '81/tcp'])
    expect(c.config?.Healthcheck).toEqual({ Test: ['NONE'], Retries: 3, Interval: 30_000_000_000 })
  })
})
