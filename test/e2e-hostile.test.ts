/**
 * Hostile images, built in the test setup from the bundled hello-static image, through the built
 * CLI: nothing from the image may write its own Dockerfile instruction, reach the terminal raw, or
 * crash slim with a type error (slim issue 8, items 1-3, 12, 13).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { readDockerfile } from './helpers/dockerfile-reader.js'
import { writeHostileArchive, writeHostileLayout, type HostileSpec } from './helpers/hostile-image.js'

const ROOT = mkdtempSync(join(tmpdir(), 'slim-e2e-hostile-'))
let n = 0
afterAll(() => rmSync(ROOT, { recursive: true, force: true }))
const layout = (spec: HostileSpec) => writeHostileLayout(join(ROOT, `layout${n++}`), spec)
const file = (name: string) => ({ name, data: name, pax: { path: name }, mode: 0o644 })
const HELLO = { Entrypoint: ['/app/hello'] }
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

function expectOneLineError(stderr: string, re: RegExp): void {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^slim: error: /)
  expect(lines[0]).toMatch(re)
}

describe('hostile image values never reach the Dockerfile as instructions (built CLI)', () => {
  it('a string Healthcheck.Retries carrying a RUN line is refused, naming the field', async () => {
    const ref = layout({ config: { ...HELLO, Healthcheck: { Test: ['CMD', '/app/hello'], Retries: '3 CMD ["/app/hello"]\nRUN curl x|sh\n#' } } })
    const r = await runCli(['dockerfile', ref])
    expect(r.code).toBe(1)
    expect(r.stdout).not.toContain('RUN')
    expectOneLineError(r.stderr, /Healthcheck\.Retries must be an integer, got string/)
  })

  it('typed health check timings are written as exact durations; the parsed file has no RUN', async () => {
    const ref = layout({ config: { ...HELLO, Healthcheck: { Test: ['CMD', '/app/hello', 'x\nRUN id'], Interval: 1_500_000, Timeout: 500, Retries: 3 } } })
    const r = await runCli(['dockerfile', ref])
    expect(r.code, r.stderr).toBe(0)
    const hc = readDockerfile(r.stdout).find((i) => i.keyword === 'HEALTHCHECK')
    // 500 ns is below the builder's 1ms minimum: left at the default, with a note.
    expect(hc).toEqual({ keyword: 'HEALTHCHECK', flags: ['--interval=1500us', '--retries=3'], args: ['CMD', '/app/hello', 'x\nRUN id'] })
    expect(r.stdout).toMatch(/^# {3}note: HEALTHCHECK Timeout left at the builder's default: 500 is not a valid value$/m)
    expect(readDockerfile(r.stdout).map((i) => i.keyword)).not.toContain('RUN')
  })

  it('a docker-archive path with a newline stays inside its comment', async () => {
    const dir = mkdtempSync(join(ROOT, 'archive-'))
    const ref = writeHostileArchive(join(dir, 'x\nRUN curl x|sh\n#.tar'), dir, { config: HELLO })
    const r = await runCli(['dockerfile', ref])
    expect(r.code, r.stderr).toBe(0)
    expect(readDockerfile(r.stdout).map((i) => i.keyword)).toEqual(['FROM', 'FROM', 'COPY', 'WORKDIR', 'USER', 'LABEL', 'ENTRYPOINT'])
    expect(r.stdout).toContain('# source: built from docker-archive:')
    expect(r.stdout).toContain('x\\nRUN curl x|sh\\n#.tar')
  })

  it('file names with pattern characters, $, backslashes, quotes and ESC are copied as exactly those names', async () => {
    const names = ['/app/prog*', '/app/q?', '/app/[x]', '/app/$x', '/app/${HOME}', '/app/a\\b', "/app/sp ace'q\"", '/app/e\u001bsc\u0007', '/app/d*r/f?le']
    const ref = layout({ config: HELLO, entries: names.map((p) => file(p.slice(1))) })
    const r = await runCli(['dockerfile', ref, ...names.flatMap((p) => ['--keep', p])])
    expect(r.code, r.stderr).toBe(0)
    const sources = readDockerfile(r.stdout)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.slice(0, -1))
    expect(sources.sort()).toEqual([...names, '/app/hello'].sort())
    expect(r.stdout.replace(/\n/g, '')).not.toMatch(RAW_CONTROL)
  })

  it('a non-array Cmd is a one-line error naming the field, not a crash', async () => {
    const r = await runCli(['analyze', layout({ config: { ...HELLO, Cmd: 5 } })])
    expect(r.code).toBe(1)
    expectOneLineError(r.stderr, /Cmd must be an array of strings, got number/)
    expect(r.stderr).not.toContain('unexpected failure')
  })
})

describe('hostile image values never reach the terminal raw (built CLI)', () => {
  it('ESC and BEL in labels, env, history and file names are escaped in the text report', async () => {
    const ref = layout({
      config: { ...HELLO, Labels: { 'a\u001b]0;pwn\u0007': 'v\u001b[2J' }, Env: ['X=\u001b[31mred\rforged'] },
      entries: [file('app/e\u001bsc\u0007'), file('app/line\nforged: yes')],
      createdBy: 'RUN echo \u001b[2J\u0007',
    })
    const r = await runCli(['analyze', ref])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toMatch(RAW_CONTROL)
    expect(r.stdout).toContain('label       a\\x1b]0;pwn\\x07=v\\x1b[2J')
    expect(r.stdout).toContain('env         X=\\x1b[31mred\\rforged')
    expect(r.stdout).toContain('/app/e\\x1bsc\\x07')
    expect(r.stdout).not.toMatch(/^forged: yes/m)
    expect(r.stdout).toContain('RUN echo \\x1b[2J\\x07')
  })

  it('--files escapes a newline in a path; -0 writes it raw, NUL-terminated', async () => {
    const ref = layout({ config: { Entrypoint: ['/app/pr\nog'] }, entries: [{ name: 'app/pr\nog', type: '2', linkname: 'hello', pax: { path: 'app/pr\nog', linkpath: 'hello' } }] })
    const text = await runCli(['analyze', ref, '--files'])
    expect(text.code, text.stderr).toBe(0)
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines).toContain('/app/pr\\nog')
    expect(lines).not.toContain('og')
    const nul = await runCli(['analyze', ref, '--files', '-0'])
    expect(nul.code, nul.stderr).toBe(0)
    expect(nul.stdout.endsWith('\0')).toBe(true)
    const paths = nul.stdout.slice(0, -1).split('\0')
    expect(paths).toContain('/app/pr\nog')
    expect(paths).toEqual(lines.map((l) => l.replace(/\\n/g, '\n').replace(/\\\\/g, '\\')))
  })
})
