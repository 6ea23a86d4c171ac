/**
 * Locales and character-set conversion. setlocale(LC_ALL, "") follows LANG/LC_ALL/LC_*: anything
 * but C/POSIX needs compiled locale data under /usr/lib/locale (locale-archive or a per-locale
 * directory). C.UTF-8 too: glibc 2.35 added its source, not a built-in copy (its NEWS: "The locale
 * is not built into glibc, and must be installed"); Debian ships it in libc-bin as
 * /usr/lib/locale/C.utf8, and without it setlocale fails (PostgreSQL refuses lc_messages = C.UTF-8). iconv_open() loads gconv modules
 * listed in <libdir>/gconv/gconv-modules (GCONV_PATH overrides); only UTF-8/UCS/ASCII conversions
 * are built in.
 */
import { posix } from 'node:path'
import type { Need } from '../types.js'
import { exists, glibcObject, importEvidence, withChain, type NeedsInput } from './context.js'

const LOCALE_VARS = ['LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'LC_COLLATE', 'LC_NUMERIC', 'LC_TIME', 'LC_MONETARY', 'LANG']

/** glibc's normalised codeset spelling: "en_US.UTF-8" → "en_US.utf8". */
export function normaliseLocaleName(name: string): string {
  const m = /^([^.@]+)(?:\.([^@]+))?(@.*)?$/.exec(name)
  if (!m) return name
  const codeset = m[2] ? m[2].toLowerCase().replace(/[^a-z0-9]/g, '') : undefined
  return `${m[1]}${codeset ? `.${codeset}` : ''}${m[3] ?? ''}`
}

export async function localeNeed(input: NeedsInput): Promise<Need | undefined> {
  const { rootfs } = input
  const env = input.program.env
  const wanted = [...new Set(LOCALE_VARS.map((v) => env[v]).filter((v): v is string => !!v && v !== 'C' && v !== 'POSIX'))]
  if (wanted.length === 0 || !glibcObject(input)) return undefined
  const imports = importEvidence(input, ['setlocale', 'newlocale'])
  const runtime = input.runtime && input.runtime.language !== 'shell'
  if (imports.evidence.length === 0 && !runtime) return undefined

  const evidence = [...LOCALE_VARS.filter((v) => env[v]).map((v) => `Env ${v}=${env[v]}`), ...imports.evidence, ...(runtime ? [`${input.runtime!.language} calls setlocale at start-up`] : [])]
  const paths: string[] = []
  for (const l of wanted) {
    for (const p of [`/usr/lib/locale/${normaliseLocaleName(l)}`, `/usr/lib/locale/${l}`]) if (exists(rootfs, p)) paths.push(...withChain(rootfs, p))
  }
  if (exists(rootfs, '/usr/lib/locale/locale-archive')) paths.push(...withChain(rootfs, '/usr/lib/locale/locale-archive'))
  const present = paths.length > 0
  return {
    kind: 'locale',
    paths: [...new Set(paths)],
    present,
    reason: present
      ? `the environment selects the locale ${wanted.join(', ')}, whose data is under /usr/lib/locale`
      : `the environment selects the locale ${wanted.join(', ')}, but the image has no data for it: glibc falls back to the C locale (ASCII only)`,
    evidence,
    confidence: imports.byProgram || runtime ? 'likely' : 'possible',
  }
}

export function gconvNeed(input: NeedsInput): Need | undefined {
  const { rootfs } = input
  const imports = importEvidence(input, ['iconv_open'])
  const libc = glibcObject(input)
  if (imports.evidence.length === 0 || !libc) return undefined
  const dirs = input.program.env.GCONV_PATH?.split(':').filter(Boolean) ?? []
  const libdirGconv = `${posix.dirname(libc.path)}/gconv`
  const realGconv = `${posix.dirname(libc.realPath)}/gconv`
  const dir = [...dirs, libdirGconv, realGconv].find((d) => rootfs.stat(d)?.type === 'dir')
  const present = dir !== undefined && (exists(rootfs, `${dir}/gconv-modules`) || exists(rootfs, `${dir}/gconv-modules.cache`))
  return {
    kind: 'gconv',
    paths: dir ? withChain(rootfs, dir) : [],
    present,
    reason: present
      ? `the program converts character sets with iconv; glibc loads the conversion modules listed in ${dir}/gconv-modules`
      : 'the program converts character sets with iconv, but the image has no gconv modules: only UTF-8/UCS/ASCII conversions will work',
    evidence: imports.evidence,
    confidence: imports.byProgram ? 'likely' : 'possible',
  }
}
