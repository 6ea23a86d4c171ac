/**
 * Which language runtime an executable is, by the names it is invoked and installed under
 * (python3 → python3.11, /usr/bin/java → /usr/lib/jvm/.../bin/java, busybox's sh applet).
 */
import { SHELL_NAMES } from '../../layers/shells.js'
import type { RuntimeLanguage } from '../types.js'

const PATTERNS: [RuntimeLanguage, RegExp][] = [
  ['python', /^(?:python|pypy)(?:\d+(?:\.\d+)?)?[dmu]*$/],
  ['node', /^(?:node|nodejs)(?:\d+)?$/],
  ['java', /^java$/],
  ['ruby', /^ruby(?:\d+(?:\.\d+)*)?$/],
  ['php', /^php(?:-fpm|-cgi)?(?:\d+(?:\.\d+)?)?(?:-fpm)?$/],
  ['perl', /^perl(?:5(?:\.\d+)*)?$/],
  // busybox is a shell only when invoked as one (its sh/ash applet): the caller passes the applet name.
  ['shell', new RegExp(`^(?:${SHELL_NAMES.join('|')})$`)],
]

/** The language of a runtime executable; `names` are its invoked and real base names, in that order. */
export function runtimeLanguage(...names: string[]): RuntimeLanguage | undefined {
  // A multi-call binary (busybox) is whatever it is invoked as.
  for (const n of /^busybox/.test(names[names.length - 1] ?? '') ? names.slice(0, 1) : names) {
    for (const [lang, re] of PATTERNS) if (re.test(n)) return lang
  }
  return undefined
}
