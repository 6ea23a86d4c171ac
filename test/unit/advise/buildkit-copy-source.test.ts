/**
 * Issue 8 item 3, checked against the matcher BuildKit really uses. What BuildKit does with a COPY
 * source (read in moby/buildkit at 73ed6825 and tonistiigi/fsutil at 6d9dc2eb):
 *  1. frontend/dockerfile/instructions/parse.go (parseSourcesAndDest): the JSON form's elements are
 *     the sources; frontend/dockerfile/dockerfile2llb/convert.go (dispatch) runs each through the
 *     shell lexer's ProcessWord, frontend/dockerfile/shell/lex.go: outside quotes the escape token
 *     `\` is dropped and the next character kept; '...' is literal; in "..." a `\` is dropped only
 *     before `"`, `$` or `\`; `$name`/`${...}` is a variable. unescapeLikeBuildKit below does that
 *     (and refuses any unescaped `$`, which would expand).
 *  2. dockerfile2llb/convert_copy.go copies with AllowWildcard (and AllowEmptyWildcard: a pattern
 *     that matches nothing copies nothing, silently); solver/llbsolver/file/backend.go then calls
 *     fsutil copy.ResolveWildcards, whose matcher is Go's path/filepath.Match (standard library).
 * The Go program in test/fixtures/buildkit-match does step 2 with filepath.Match itself; this test
 * checks that every escaped source slim writes selects exactly its own name among look-alikes.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyInstruction } from '../../../src/advise/dockerfile-escape.js'
import { REPO } from '../../helpers/cli.js'

const GO = spawnSync('go', ['version']).status === 0

/** ProcessWord of BuildKit's shell lexer (escape token `\`), for words without variables. */
function unescapeLikeBuildKit(word: string): string {
  let out = ''
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!
    if (ch === '$') throw new Error(`unescaped $ at ${i} in ${word}: BuildKit would expand a variable`)
    if (ch === '\\') {
      i++
      if (i < word.length) out += word[i]
    } else if (ch === "'") {
      const end = word.indexOf("'", i + 1)
      if (end < 0) throw new Error(`unterminated ' in ${word}`)
      out += word.slice(i + 1, end)
      i = end
    } else if (ch === '"') {
      for (i++; ; i++) {
        if (i >= word.length) throw new Error(`unterminated " in ${word}`)
        const c = word[i]!
        if (c === '"') break
        if (c === '$') throw new Error(`unescaped $ in double quotes in ${word}`)
        if (c === '\\' && i + 1 < word.length && '"$\\'.includes(word[i + 1]!)) out += word[++i]
        else out += c
      }
    } else out += ch
  }
  return out
}

/** The sources of a `COPY --from=source [...]` line as BuildKit's frontend reads them. */
function sourcesAsBuildKitReadsThem(line: string): string[] {
  const m = /^COPY --from=source (.*)$/.exec(line)
  if (!m) throw new Error(`not a COPY line: ${line}`)
  const args = m[1]!
  const words: string[] = args.startsWith('[') ? JSON.parse(args) : args.split(' ')
  return words.slice(0, -1).map(unescapeLikeBuildKit)
}

const NAMES = [
  'prog*',
  'a?b',
  'x[1]',
  'back\\slash',
  '$HOME',
  '${HOME}',
  '{a,b}',
  'my prog',
  'héllo wörld',
  '日本*語',
  '[ab]',
  '*',
  '?',
  '\\*',
  'it\'s "quoted"',
  'tab\there',
  'plain-name',
  'a]b',
  '[!x]',
  '[^x]',
  'x\\',
]

/** Names a wrong pattern for `name` could also select. */
function lookAlikes(name: string): string[] {
  const out = new Set<string>(NAMES)
  for (const n of [`${name}x`, `x${name}`, name.replace(/[*?[\]\\$ {},]/g, 'x'), name.replace(/[*?[\]\\$ {},]/g, ''), name.replace(/\\/g, ''), name.replace(/\\/g, '\\\\'), `${name}${name}`, 'a', 'b', 'x', 'prog', 'progX', 'axb', 'x1', 'HOME', 'root', 'backslash', 'back\\\\slash', 'my', 'prog', 'héllo wörlx', '日本x語', '\\x', 'x']) out.add(n)
  out.delete('')
  return [...out]
}

describe('COPY sources selected by BuildKit\'s own matcher (Go path/filepath.Match)', () => {
  let work: string
  let matcher: string
  beforeAll(() => {
    if (!GO) return
    work = mkdtempSync(join(tmpdir(), 'slim-buildkit-match-'))
    matcher = join(work, 'buildkit-match')
    execFileSync('go', ['build', '-o', matcher, join(REPO, 'test/fixtures/buildkit-match/main.go')], {
      env: { ...process.env, GOCACHE: join(work, 'gocache'), GOPATH: join(work, 'gopath'), GOFLAGS: '-mod=mod', GO111MODULE: 'off' },
      stdio: 'pipe',
    })
  }, 240_000)
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('the lexer step: unescapeLikeBuildKit follows lex.go on the cases its comments name', () => {
    expect(unescapeLikeBuildKit(String.raw`a\$b`)).toBe('a$b')
    expect(unescapeLikeBuildKit(String.raw`a\\b`)).toBe('a\\b')
    expect(unescapeLikeBuildKit(String.raw`"a\b"`)).toBe('a\\b')
    expect(unescapeLikeBuildKit(String.raw`"a\"b"`)).toBe('a"b')
    expect(unescapeLikeBuildKit(String.raw`'a\b'`)).toBe('a\\b')
    expect(() => unescapeLikeBuildKit('$HOME')).toThrow(/expand/)
  })

  it.skipIf(!GO)('every hostile name, in the directory and one level deeper, selects exactly itself', () => {
    const queries: { pattern: string; candidates: string[]; want: string }[] = []
    for (const name of NAMES) {
      for (const dir of ['/app', `/app/${name.replace(/\//g, '_')}`]) {
        const path = `${dir}/${name}`
        const line = copyInstruction(['--from=source'], [path], '/app/')
        const [pattern] = sourcesAsBuildKitReadsThem(line)
        const candidates = [path, ...lookAlikes(name).map((n) => `${dir}/${n}`), `${dir}/${name}/inner`, ...lookAlikes(name).map((n) => `/app/${n}/${name}`)]
        queries.push({ pattern: pattern!, candidates: [...new Set(candidates)], want: path })
      }
    }
    const input = queries.map((q) => JSON.stringify({ pattern: q.pattern, candidates: q.candidates })).join('\n') + '\n'
    const answers = execFileSync(matcher, { input }).toString().trim().split('\n').map((l) => JSON.parse(l) as { matches: string[]; error?: string })
    expect(answers).toHaveLength(queries.length)
    const wrong: string[] = []
    queries.forEach((q, i) => {
      const a = answers[i]!
      if (a.error || a.matches.length !== 1 || a.matches[0] !== q.want) wrong.push(`${JSON.stringify(q.want)} via ${JSON.stringify(q.pattern)}: ${a.error ?? JSON.stringify(a.matches)}`)
    })
    expect(wrong).toEqual([])
  })

  it.skipIf(!GO)('the matcher is not trivially agreeable: unescaped names are patterns that select look-alikes', () => {
    const input = [
      { pattern: '/app/prog*', candidates: ['/app/prog*', '/app/progX'] },
      { pattern: '/app/x[1]', candidates: ['/app/x[1]', '/app/x1'] },
      { pattern: '/app/prog\\*', candidates: ['/app/prog*', '/app/prog\\*'] },
    ].map((q) => JSON.stringify(q)).join('\n') + '\n'
    const answers = execFileSync(matcher, { input }).toString().trim().split('\n').map((l) => JSON.parse(l).matches)
    expect(answers).toEqual([['/app/prog*', '/app/progX'], ['/app/x1'], ['/app/prog\\*']])
  })
})
