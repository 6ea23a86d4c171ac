/**
 * Programs whose job is to run another program: init shims (tini, dumb-init, catatonit), user
 * switchers (gosu, su-exec, setpriv, s6-setuidgid, runuser, chpst), and command prefixes (env,
 * nice, nohup, timeout, stdbuf, ionice, taskset, numactl, setsid). Each entry knows how its own
 * options are spelled, so slim can find where the real command starts.
 */

export interface LauncherReading {
  /** The command the launcher runs (argv). */
  rest: string[]
  /** What kind of launcher: for the chain's wording and for needs (a user switch reads /etc/passwd). */
  role: 'init' | 'user-switch' | 'prefix' | 'env'
  /** Env changes (env NAME=value, env -i). */
  env?: { set: Record<string, string>; unset: string[]; clear: boolean }
  /** The user a switcher switches to. */
  user?: string
}

type Reader = (args: string[]) => LauncherReading | { stop: string }

/** Skips options: `withValue` options consume the next word unless written as --opt=value. */
function skipOptions(args: string[], withValue: Set<string>): string[] {
  let i = 0
  while (i < args.length) {
    const a = args[i]!
    if (a === '--') return args.slice(i + 1)
    if (!a.startsWith('-') || a === '-') break
    i += withValue.has(a) ? 2 : 1
  }
  return args.slice(i)
}

const init =
  (withValue: string[]): Reader =>
  (args) => ({ rest: skipOptions(args, new Set(withValue)), role: 'init' })

const prefix =
  (withValue: string[], operands = 0): Reader =>
  (args) => {
    const rest = skipOptions(args, new Set(withValue)).slice(operands)
    return { rest, role: 'prefix' }
  }

const userSwitch =
  (withValue: string[] = []): Reader =>
  (args) => {
    const rest = skipOptions(args, new Set(withValue))
    if (rest.length < 2) return { stop: 'a user switcher without a command to run' }
    return { rest: rest.slice(1), role: 'user-switch', user: rest[0]! }
  }

function readEnv(args: string[]): LauncherReading | { stop: string } {
  const env = { set: {} as Record<string, string>, unset: [] as string[], clear: false }
  let i = 0
  for (; i < args.length; i++) {
    const a = args[i]!
    if (a === '-i' || a === '-' || a === '--ignore-environment') env.clear = true
    else if (a === '-u' || a === '--unset') env.unset.push(args[++i] ?? '')
    else if (a.startsWith('--unset=')) env.unset.push(a.slice(8))
    else if (a === '-C' || a === '--chdir') i++
    else if (a === '-S' || a === '--split-string') {
      // env -S "python3 -u": the string is split into words (used in #! lines).
      const words = (args[i + 1] ?? '').split(/\s+/).filter(Boolean)
      return { rest: [...words, ...args.slice(i + 2)], role: 'env', env }
    } else if (a.startsWith('-S')) {
      const words = a.slice(2).split(/\s+/).filter(Boolean)
      return { rest: [...words, ...args.slice(i + 1)], role: 'env', env }
    } else if (a === '--') {
      i++
      break
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      const eq = a.indexOf('=')
      env.set[a.slice(0, eq)] = a.slice(eq + 1)
    } else if (a.startsWith('-')) continue
    else break
  }
  for (; i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i]!); i++) {
    const a = args[i]!
    env.set[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1)
  }
  return { rest: args.slice(i), role: 'env', env }
}

function readSetpriv(args: string[]): LauncherReading | { stop: string } {
  // setpriv's options are --name=value or flags; the first non-option word is the command.
  let i = 0
  let user: string | undefined
  while (i < args.length && args[i]!.startsWith('-')) {
    const a = args[i]!
    if (a === '--') {
      i++
      break
    }
    const m = /^--(?:reuid|ruid|euid)=(.*)$/.exec(a)
    if (m) user = m[1]
    i++
  }
  const r: LauncherReading = { rest: args.slice(i), role: 'user-switch' }
  if (user) r.user = user
  return r
}

function readRunuser(args: string[]): LauncherReading | { stop: string } {
  const i = args.indexOf('--')
  const u = args.indexOf('-u')
  if (u >= 0 && args[u + 1]) {
    const rest = i >= 0 ? args.slice(i + 1) : args.slice(u + 2)
    return { rest, role: 'user-switch', user: args[u + 1]! }
  }
  return { stop: 'runuser without -u runs a login shell slim cannot follow' }
}

function readChpst(args: string[]): LauncherReading | { stop: string } {
  let i = 0
  let user: string | undefined
  while (i < args.length && args[i]!.startsWith('-')) {
    const a = args[i]!
    if (['-u', '-U', '-e', '-/', '-n', '-l', '-L', '-m', '-d', '-o', '-p', '-f', '-c', '-r', '-t'].includes(a)) {
      if (a === '-u') user = args[i + 1]
      i += 2
    } else i += 1
  }
  const r: LauncherReading = { rest: args.slice(i), role: 'user-switch' }
  if (user) r.user = user
  return r
}

const READERS: Record<string, Reader> = {
  tini: init(['-e', '-p']),
  'tini-static': init(['-e', '-p']),
  'dumb-init': init(['-r', '--rewrite']),
  catatonit: init([]),
  'docker-init': init(['-e', '-p']),
  gosu: userSwitch(),
  'su-exec': userSwitch(),
  's6-setuidgid': userSwitch(),
  's6-applyuidgid': prefix(['-u', '-g', '-G']),
  setpriv: readSetpriv,
  runuser: readRunuser,
  chpst: readChpst,
  env: readEnv,
  nice: prefix(['-n', '--adjustment']),
  nohup: prefix([]),
  setsid: prefix([]),
  stdbuf: prefix(['-i', '-o', '-e']),
  ionice: prefix(['-c', '-n', '-p']),
  taskset: (args) => {
    const rest = skipOptions(args, new Set())
    return { rest: args.some((a) => a === '-c' || a === '--cpu-list') ? rest : rest.slice(1), role: 'prefix' }
  },
  numactl: prefix(['-C', '-N', '-m', '-p', '-i']),
  timeout: prefix(['-s', '--signal', '-k', '--kill-after'], 1),
}

/** Process supervisors: the programs they run live in their configuration, not in argv. */
export const SUPERVISORS = new Set(['supervisord', 's6-svscan', 'runsvdir', 'runit', 'init', 'systemd', 's6-overlay-suexec', 'openrc-init'])

/** Name a launcher by its invoked name (tini-static-amd64 → tini-static, etc.). */
export function launcherName(invokedName: string): string | undefined {
  if (READERS[invokedName]) return invokedName
  if (/^tini(-static)?(-[a-z0-9]+)?$/.test(invokedName)) return invokedName.includes('static') ? 'tini-static' : 'tini'
  if (/^dumb-init(_[\w.]+)?$/.test(invokedName)) return 'dumb-init'
  if (/^gosu(-[a-z0-9]+)?$/.test(invokedName)) return 'gosu'
  return undefined
}

/** Reads a launcher's argv (without argv[0]); undefined when `name` is not a launcher. */
export function readLauncher(name: string, args: string[]): LauncherReading | { stop: string } | undefined {
  const key = launcherName(name)
  if (!key) return undefined
  const r = READERS[key]!(args)
  if ('rest' in r && r.rest.length === 0) return { stop: `${name} was given no command to run` }
  return r
}
