/**
 * Parses `WWW-Authenticate` (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated auth-params whose values may be quoted strings (which can contain commas and
 * backslash escapes). Registries send e.g.
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
 */
export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  scheme: string
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y
// Unquoted values should be tokens, but servers send URLs unquoted too: take up to , or space.
const BARE_VALUE = /[^\s,]*/y

export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = []
  let i = 0
  const n = header.length
  const skipSpace = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++
  }
  const skipSeparators = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++
  }
  const matchAt = (re: RegExp): string | undefined => {
    re.lastIndex = i
    const m = re.exec(header)
    if (!m) return undefined
    i = re.lastIndex
    return m[0]
  }

  skipSeparators()
  while (i < n) {
    const scheme = matchAt(TOKEN)
    if (!scheme) {
      // Unparseable junk: skip to the next comma and try again rather than giving up.
      while (i < n && header[i] !== ',') i++
      skipSeparators()
      continue
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} }
    challenges.push(challenge)
    skipSpace()
    // Parameters until we meet something that is a new scheme (a token not followed by '=').
    for (;;) {
      skipSeparators()
      if (i >= n) break
      const start = i
      const name = matchAt(TOKEN)
      if (!name) break
      skipSpace()
      if (header[i] !== '=') {
        // A new challenge starts here (or a token68 credential, which registries do not use).
        i = start
        break
      }
      i++ // '='
      skipSpace()
      let value: string
      if (header[i] === '"') {
        i++
        value = ''
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++
          value += header[i]
          i++
        }
        i++ // closing quote (or end)
      } else {
        value = matchAt(BARE_VALUE) ?? ''
      }
      challenge.params[name.toLowerCase()] = value
      skipSpace()
      if (i < n && header[i] !== ',') {
        // Garbage after a value: skip it up to the next separator.
        while (i < n && header[i] !== ',') i++
      }
    }
  }
  return challenges
}
