/**
 * Reads a Dockerfile back the way BuildKit does, independently of slim's writer: dockerfile-ast
 * splits instructions and flags; this file decodes each instruction's arguments (JSON form, the
 * shell-like lexer's quotes and backslashes, COPY source patterns) into what the builder acts on.
 * A variable expansion, a shell-form command or a pattern that could match more than one name is an
 * error: slim never means to write one.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast'

export interface ReadInstruction {
  keyword: string
  flags: string[]
  args: string[]
}

/** BuildKit's ProcessWord on one word: quotes removed, `\` escapes, `$` refused. */
export function lexWord(word: string): string {
  let out = ''
  for (let i = 0; i < word.length; i++) {
    const c = word[i]
    if (c === '\\') {
      if (i + 1 < word.length) out += word[++i]
    } else if (c === "'") {
      const end = word.indexOf("'", i + 1)
      if (end < 0) throw new Error(`unterminated single quote in ${JSON.stringify(word)}`)
      out += word.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      let j = i + 1
      for (; j < word.length && word[j] !== '"'; j++) {
        if (word[j] === '\\' && (word[j + 1] === '"' || word[j + 1] === '$' || word[j + 1] === '\\')) out += word[++j]
        else if (word[j] === '$') throw new Error(`variable expansion in ${JSON.stringify(word)}`)
        else out += word[j]
      }
      if (j >= word.length) throw new Error(`unterminated double quote in ${JSON.stringify(word)}`)
      i = j
    } else if (c === '$') throw new Error(`variable expansion in ${JSON.stringify(word)}`)
    else out += c
  }
  return out
}

/** Whitespace-separated words, quotes and escapes kept (BuildKit's parseWords for ENV and LABEL). */
function splitWords(s: string): string[] {
  const words: string[] = []
  let cur = ''
  let quote: string | undefined
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (!quote && /\s/.test(c)) {
      if (cur) words.push(cur)
      cur = ''
      continue
    }
    if (c === '\\' && quote !== "'" && i + 1 < s.length) {
      cur += c + s[++i]
      continue
    }
    if (c === '"' || c === "'") quote = quote === c ? undefined : (quote ?? c)
    cur += c
  }
  if (cur) words.push(cur)
  return words
}

/** A COPY source component as the one literal name it matches; throws when it is a real pattern. */
function literalComponent(c: string): string {
  if (!/[*?[\\]/.test(c)) return c
  let out = ''
  for (let i = 0; i < c.length; i++) {
    if (c[i] === '[') {
      const cls = c.startsWith('[\\\\]', i) ? '\\' : c[i + 2] === ']' && c[i + 1] !== '\\' ? c[i + 1] : undefined
      if (cls === undefined) throw new Error(`COPY source pattern ${JSON.stringify(c)} is not a single name`)
      out += cls
      i += cls === '\\' ? 3 : 2
    } else if ('*?\\'.includes(c[i])) throw new Error(`COPY source pattern ${JSON.stringify(c)} is not a single name`)
    else out += c[i]
  }
  return out
}

const copySource = (word: string): string => word.split('/').map(literalComponent).join('/')

function jsonStrings(raw: string, what: string): string[] {
  const v: unknown = JSON.parse(raw)
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what} is not a JSON array of strings: ${raw}`)
  return v
}

/** Arguments text without line continuations and leading --flags. */
function argText(ins: Instruction): string {
  return (ins.getRawArgumentsContent() ?? '').replace(/\\\n\s*/g, ' ').trim().replace(/^(--\S+\s+)*/, '')
}

function flagsOf(ins: Instruction): string[] {
  const f = (ins as unknown as { getFlags?(): { getName(): string; getValue(): string | null }[] }).getFlags?.() ?? []
  return f.map((x) => `--${x.getName()}=${x.getValue() ?? ''}`)
}

function decode(ins: Instruction): ReadInstruction {
  const keyword = ins.getKeyword()
  const raw = argText(ins)
  const flags = flagsOf(ins)
  switch (keyword) {
    case 'FROM':
    case 'EXPOSE':
    case 'USER':
    case 'STOPSIGNAL':
      return { keyword, flags, args: raw.split(/\s+/).map(lexWord) }
    case 'WORKDIR':
      return { keyword, flags, args: [lexWord(raw)] }
    case 'COPY': {
      const words = raw.startsWith('[') ? jsonStrings(raw, 'COPY').map(lexWord) : raw.split(/\s+/).map(lexWord)
      return { keyword, flags, args: [...words.slice(0, -1).map(copySource), words.at(-1)!] }
    }
    case 'VOLUME':
      return { keyword, flags, args: jsonStrings(raw, 'VOLUME').map(lexWord) }
    case 'ENV':
    case 'LABEL':
      return {
        keyword,
        flags,
        args: splitWords(raw).map((w) => {
          const eq = w.search(/=/)
          if (eq < 0) throw new Error(`${keyword} word without =: ${w}`)
          return `${lexWord(w.slice(0, eq))}=${lexWord(w.slice(eq + 1))}`
        }),
      }
    case 'HEALTHCHECK': {
      const m = /^CMD\s+(\[.*\])$/s.exec(raw)
      if (!m) throw new Error(`HEALTHCHECK is not CMD in JSON form: ${raw}`)
      return { keyword, flags, args: ['CMD', ...jsonStrings(m[1], 'HEALTHCHECK CMD')] }
    }
    case 'ENTRYPOINT':
    case 'CMD':
      return { keyword, flags, args: jsonStrings(raw, keyword) }
    case 'RUN':
      // The jre stage's exec-form jlink, or the accounts stage's one-line merge of passwd/group lines (accounts.ts validates them).
      return { keyword, flags, args: raw.startsWith('[') ? jsonStrings(raw, 'RUN') : [raw] }
    default:
      throw new Error(`unexpected instruction ${keyword}: ${raw}`)
  }
}

/** Every instruction of `text`, decoded; throws on anything slim never writes (RUN, ARG, ...). */
export function readDockerfile(text: string): ReadInstruction[] {
  return DockerfileParser.parse(text).getInstructions().map(decode)
}
