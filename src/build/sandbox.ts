/**
 * Runs a command of an unpacked image inside a sandbox, never on the host: bubblewrap with every
 * namespace unshared (the network too unless asked), the unpacked root bound as "/", its own /proc,
 * /dev and /tmp, the image's USER mapped through the image's own /etc/passwd and /etc/group, the
 * image's WorkingDir and only the image's Env. Without bwrap, as root: `unshare` (mount, pid, net
 * namespaces) + chroot. A timeout kills the whole sandbox (bwrap --die-with-parent follows its
 * parent; the process group is killed).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SlimError } from '../core/errors.js'
import { startProber, type ReadyCheck, type Readiness } from './readiness.js'
import { RootWriter } from './unpack.js'

export interface SandboxRun {
  root: string
  /** argv; argv[0] is looked up in the image's PATH by the sandbox's exec (absolute is best). */
  argv: string[]
  user?: string
  workdir?: string
  env: string[]
  network: boolean
  timeoutMs: number
  /** A server: connect to these ports inside the sandbox's network until one accepts (bwrap only), then stop it. */
  ready?: ReadyCheck
}

export interface SandboxResult {
  code: number | null
  signal: string | null
  /** stdout and stderr interleaved as they came, bounded. */
  output: string
  /** True when the timeout ended it (a server still running). */
  timedOut: boolean
  tool: 'bwrap' | 'unshare+chroot'
  /** With `ready`: whether a port accepted a connection, on which attempt (the sandbox was stopped then). */
  readiness?: Readiness
}

const MAX_OUTPUT = 256 * 1024

/** What Docker's default profile grants a root container, minus raw sockets and mknod. */
const ROOT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']

function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin)
  }
  return undefined
}

/** Reads a file of the unpacked root, its parents resolved inside the root (not the host's). */
function readInRoot(root: string, path: string): string | undefined {
  try {
    const real = new RootWriter(root).resolveDir(path.split('/').filter(Boolean), false)
    return real ? readFileSync(real, 'utf8') : undefined
  } catch {
    return undefined
  }
}

function lookup(file: string | undefined, name: string, field: 2 | 3): number | undefined {
  for (const line of (file ?? '').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[field])
  }
  return undefined
}

/**
 * The numeric uid:gid of an image's USER ("name", "uid", "name:group", "uid:gid"), resolved through
 * the image's own /etc/passwd and /etc/group; numbers pass through; an empty USER is root.
 */
export function resolveUser(root: string, user: string | undefined): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 }
  const [u, g] = user.split(':', 2)
  const passwd = /^\d+$/.test(u) && (g === undefined || /^\d+$/.test(g)) ? undefined : readInRoot(root, '/etc/passwd')
  const uid = /^\d+$/.test(u) ? Number(u) : lookup(passwd, u, 2)
  if (uid === undefined) throw new SlimError('format', `the image's USER ${JSON.stringify(u)} is not in its /etc/passwd: the program could not start as it; fix USER or keep /etc/passwd`)
  let gid: number | undefined
  if (g === undefined) {
    const byUid = (passwd ?? readInRoot(root, '/etc/passwd') ?? '').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(uid))
    gid = byUid && /^\d+$/.test(byUid[3] ?? '') ? Number(byUid[3]) : uid === 0 ? 0 : uid
  } else if (/^\d+$/.test(g)) gid = Number(g)
  else {
    const group = readInRoot(root, '/etc/group')
    gid = lookup(group, g, 2)
    if (gid === undefined) throw new SlimError('format', `the image's USER group ${JSON.stringify(g)} is not in its /etc/group`)
  }
  return { uid, gid }
}

/** Which sandbox tool works here, or a one-line error saying what to install. */
export function sandboxTool(): 'bwrap' | 'unshare+chroot' {
  if (onPath('bwrap')) return 'bwrap'
  if (process.getuid?.() === 0 && onPath('unshare') && onPath('chroot')) return 'unshare+chroot'
  throw new SlimError('unsupported', 'slim verify runs the program in a sandbox and found none: install bubblewrap (bwrap), or run as root with util-linux unshare and chroot')
}

/** The host command and the environment it starts with (bwrap clears it itself; chroot inherits it). */
function commandLine(run: SandboxRun, tool: 'bwrap' | 'unshare+chroot'): { argv: string[]; env: Record<string, string> } {
  const { uid, gid } = resolveUser(run.root, run.user)
  const envPairs = run.env.map((e) => {
    const i = e.indexOf('=')
    return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]
  })
  if (tool === 'bwrap') {
    const args: string[] = []
    if (uid === 0 && process.getuid?.() === 0) {
      // An image running as root, and slim running as root: no user namespace (one mapped uid
      // would make chown to the image's service users fail with EINVAL, which the real runtime
      // does not), and only the capabilities a default container runtime grants.
      args.push('--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try', ...(run.network ? [] : ['--unshare-net']))
      args.push('--cap-drop', 'ALL', ...ROOT_CAPS.flatMap((c) => ['--cap-add', c]))
    } else {
      args.push('--unshare-all', ...(run.network ? ['--share-net'] : []), '--uid', String(uid), '--gid', String(gid))
    }
    args.push('--die-with-parent', '--new-session')
    args.push('--bind', run.root, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp')
    args.push('--chdir', run.workdir || '/', '--clearenv')
    // The sandboxed process's pid (in the host's pid namespace) goes to fd 3: the port prober joins its network.
    if (run.ready) args.push('--info-fd', '3')
    for (const [k, v] of envPairs) args.push('--setenv', k, v)
    return { argv: ['bwrap', ...args, '--', ...run.argv], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }
  }
  // unshare + chroot (root only): chroot --userspec switches to the image's user.
  mkdirSync(join(run.root, 'proc'), { recursive: true })
  // unshare and chroot by their host paths; the image's Env is all the program gets (chroot passes it on).
  const find = (bin: string): string => onPath(bin) ?? bin
  const inner = [find('chroot'), `--userspec=${uid}:${gid}`, run.root, ...run.argv]
  const argv = [find('unshare'), '--mount', '--pid', '--fork', '--kill-child', '--mount-proc=' + join(run.root, 'proc'), ...(run.network ? [] : ['--net']), ...inner]
  return { argv, env: Object.fromEntries(envPairs) }
}

/** Runs the command in the sandbox and collects its exit and output. */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const tool = sandboxTool()
  const { argv, env } = commandLine(run, tool)
  if (tool === 'bwrap') {
    // bwrap's --version answers even where user namespaces are off; a trivial run tells.
    const probe = spawnSync('bwrap', ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', 'true'], { timeout: 10_000 })
    if (probe.status !== 0) throw new SlimError('unsupported', `bwrap cannot create a sandbox here (${String(probe.stderr).trim() || 'no namespaces'}): enable unprivileged user namespaces or run slim verify as root`)
  }
  return await new Promise<SandboxResult>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', ...(run.ready ? (['pipe'] as const) : [])], detached: true, env })
    let output = ''
    const take = (b: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += b.toString('utf8').slice(0, MAX_OUTPUT - output.length)
    }
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    let timedOut = false
    const stop = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, run.timeoutMs)
    let readiness: Readiness | undefined
    let prober: ChildProcess | undefined
    if (run.ready) {
      let info = ''
      const fd3 = child.stdio[3] as NodeJS.ReadableStream | null
      fd3?.on('data', (b: Buffer) => {
        info += b.toString('utf8')
        const pid = /"child-pid":\s*(\d+)/.exec(info)?.[1]
        if (pid && !prober) {
          prober = startProber(Number(pid), run.ready!, run.network, (r) => {
            // A prober that could not even join the namespace because the program already exited
            // says nothing: the exit (close, below) is the result.
            if (!r.ready && r.attempts === 0 && !existsSync(`/proc/${pid}/ns/net`)) return
            readiness = r
            // Ready, or given up: either way the server has been watched long enough.
            stop()
          })
        }
      })
    }
    child.on('error', (e) => {
      clearTimeout(timer)
      prober?.kill('SIGKILL')
      reject(new SlimError('unsupported', `starting ${argv[0]} failed: ${e.message}`))
    })
    let settled = false
    const finish = (code: number | null, signal: string | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      prober?.kill('SIGKILL')
      resolve({ code, signal, output, timedOut, tool, ...(readiness ? { readiness } : {}) })
    }
    child.on('close', finish)
    // A process of the sandbox that outlived bwrap could hold its pipes open, and 'close' would
    // never come: once bwrap itself has exited, give the output a moment, then stop waiting.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        for (const s of child.stdio) s?.destroy()
        finish(code, signal)
      }, 2000).unref()
    })
  })
}
