import { describe, expect, it } from 'vitest'
import { expandWords, parseShell } from '../../../../src/inspect/entrypoint/shell-words.js'

const vars = (env: Record<string, string> = {}, positional: string[] = [], zero = 'sh') => ({ env, positional, zero })
const words = (text: string, v = vars()) => parseShell(text, v).commands.map((c) => c.words.map((w) => w.text))

describe('parseShell: tokens', () => {
  it('splits commands on ; && || | & and newlines, keeping the operators', () => {
    const { commands } = parseShell('cd /app && ./run -x; echo a | tee b & wait\nexec nginx', vars())
    expect(commands.map((c) => [c.words.map((w) => w.text).join(' '), c.prevOp, c.op])).toEqual([
      ['cd /app', '', '&&'],
      ['./run -x', '&&', ';'],
      ['echo a', ';', '|'],
      ['tee b', '|', '&'],
      ['wait', '&', '\n'],
      ['exec nginx', '', ''],
    ])
  })

  it('removes quotes and escapes as the shell does', () => {
    expect(words(`nginx -g 'daemon off;' "a b" c\\ d "x\\"y" 'it''s'`)).toEqual([['nginx', '-g', 'daemon off;', 'a b', 'c d', 'x"y', 'its']])
  })

  it('drops comments, line continuations, redirections and here-documents', () => {
    const text = ['# comment', 'exec java \\', '  -jar app.jar >/dev/null 2>&1 </dev/null # trailing', 'cat <<EOF', 'exec not-a-command', 'EOF', 'cat <<-END >x', '\tnor-this', '\tEND', 'done-here'].join('\n')
    expect(words(text)).toEqual([['exec', 'java', '-jar', 'app.jar'], ['cat'], ['cat'], ['done-here']])
  })

  it('records line numbers and nesting depth (if/for/case/functions)', () => {
    const text = `set -e
main() {
  if [ "$1" = x ]; then
    exec gosu app "$0" "$@"
  fi
  for f in /docker-entrypoint.d/*.sh; do
    . "$f"
  done
  case "$1" in
    -*) set -- nginx "$@" ;;
    nginx|nginx-debug) echo ok ;;
  esac
}
main "$@"
exec "$@"`
    const { commands } = parseShell(text, vars({}, ['nginx'], '/ep.sh'))
    const view = commands.map((c) => [c.line, c.depth, c.inFunction ?? '', c.words.map((w) => w.text).join(' ')])
    expect(view).toEqual([
      [1, 0, '', 'set -e'],
      [3, 2, 'main', '[ nginx = x ]'],
      [4, 2, 'main', 'exec gosu app /ep.sh nginx'],
      [7, 2, 'main', '. '],
      [10, 2, 'main', 'set -- nginx nginx'],
      [11, 2, 'main', 'echo ok'],
      [14, 0, '', 'main nginx'],
      [15, 0, '', 'exec nginx'],
    ])
  })
})

describe('parseShell: expansion', () => {
  it('expands known variables, defaults and positional parameters; marks the rest dynamic', () => {
    const { commands } = parseShell('exec "$APP_HOME/bin/${NAME:-server}" --port=${PORT-8080} "$1" $UNKNOWN $(date) `id -u` ${X#y} ~/x', vars({ APP_HOME: '/opt/app', HOME: '/root' }, ['first']))
    const w = commands[0]!.words
    expect(w.map((x) => x.text)).toEqual(['exec', '/opt/app/bin/server', '--port=8080', 'first', '', '', '', '', '/root/x'])
    expect(w.map((x) => x.dynamic)).toEqual([[], [], [], [], ['$UNKNOWN'], ['$(...)'], ['`...`'], ['${X#y}'], []])
  })

  it('"$@" stands for every argument, even when there are none', () => {
    const { commands } = parseShell('exec "$@"', vars({}, ['redis-server', '--port', '6380']))
    expect(commands[0]!.words[1]!.allArgs).toBe(true)
    expect(expandWords(commands[0]!.words.slice(1), ['redis-server', '--port', '6380']).argv).toEqual(['redis-server', '--port', '6380'])
    expect(expandWords(commands[0]!.words.slice(1), []).argv).toEqual([])
  })

  it('later words see plain assignments and exports made earlier at top level', () => {
    const { commands } = parseShell('BIN=/usr/sbin/nginx\nexport CONF=/etc/nginx/nginx.conf\nif true; then LATE=x; fi\nexec "$BIN" -c "$CONF" $LATE', vars())
    const last = commands[commands.length - 1]!
    expect(last.words.map((w) => w.text)).toEqual(['exec', '/usr/sbin/nginx', '-c', '/etc/nginx/nginx.conf', ''])
    expect(last.words[4]!.dynamic).toEqual(['$LATE'])
  })

  it('keeps leading assignments apart from the command words', () => {
    const { commands } = parseShell('FOO=bar BAZ="a b" exec python3 app.py', vars())
    expect(commands[0]!.assignments.map((a) => [a.name, a.value.text])).toEqual([['FOO', 'bar'], ['BAZ', 'a b']])
    expect(commands[0]!.words.map((w) => w.text)).toEqual(['exec', 'python3', 'app.py'])
  })

  it('never loops or throws on unbalanced input', () => {
    for (const t of ['exec "unterminated', "it's", '$(', '${', 'a <<', 'case x in', 'f() {', '((', ')))', '`', '\\']) {
      expect(() => parseShell(t, vars())).not.toThrow()
    }
  })

  it('random words, quoted as POSIX sh quotes them, read back as exactly those words (2,000 cases)', () => {
    const rnd = xorshift(0x2545f491)
    const alphabet = ['a', 'Z', '0', ' ', '\t', '\n', '"', "'", '\\', '$', '`', '(', ')', '{', '}', ';', '&', '|', '<', '>', '#', '*', '?', '[', '~', '=', '%', 'é']
    for (let i = 0; i < 2000; i++) {
      const argv = Array.from({ length: 1 + rnd(4) }, () => Array.from({ length: rnd(8) }, () => alphabet[rnd(alphabet.length)]).join(''))
      const quoted = argv.map((w) => (rnd(2) ? singleQuoted(w) : doubleQuoted(w))).join(' ')
      expect(words(`exec ${quoted}`), quoted).toEqual([['exec', ...argv]])
    }
  })

  it('random shell-like input always ends, with commands in line order inside the text (2,000 strings)', () => {
    const rnd = xorshift(0x9e3779b9)
    const alphabet = ['a', ' ', '\n', '"', "'", '\\', '$', '(', ')', '{', '}', '`', ';', '&', '|', '<', '>', '#', '=', '@', '*', 'if ', 'then ', 'fi', 'case ', ' in ', 'esac', 'f()', 'exec ', '<<EOF\n', 'EOF\n', '$(', '${', '2>&1']
    for (let i = 0; i < 2000; i++) {
      let t = ''
      for (let j = rnd(60); j > 0; j--) t += alphabet[rnd(alphabet.length)]
      const r = parseShell(t, vars({ A: '1' }, ['p1']))
      const lines = r.commands.map((c) => c.line)
      const lastLine = t.split('\n').length
      expect(lines.every((l, k) => l >= 1 && l <= lastLine && (k === 0 || l >= lines[k - 1]!)), JSON.stringify(t)).toBe(true)
    }
  })
})

/** A deterministic xorshift32 generator: failures reproduce. */
function xorshift(seed: number): (n: number) => number {
  let x = seed
  return (n) => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) % n
  }
}

const singleQuoted = (w: string) => `'${w.replaceAll("'", `'\\''`)}'`
const doubleQuoted = (w: string) => `"${w.replace(/["\\$`]/g, (c) => `\\${c}`)}"`
