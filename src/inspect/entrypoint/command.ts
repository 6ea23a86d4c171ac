/**
 * The command Docker starts, from the image config: ENTRYPOINT followed by CMD (both exec form
 * arrays; a shell-form line is stored as ["/bin/sh", "-c", "..."] by the builder). Docker's rule that
 * a new ENTRYPOINT resets an inherited CMD applies at build time only, so the config is taken as it
 * is. An override (`slim analyze --entrypoint`) replaces ENTRYPOINT and drops CMD, as
 * `docker run --entrypoint` does.
 */
import type { ContainerConfig } from '../../image/types.js'
import { isShellName } from '../../layers/shells.js'
import type { Program } from '../types.js'

/** Docker's PATH when the image sets none (moby's oci.DefaultPathEnv for Linux). */
export const DOCKER_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export function effectiveCommand(config: ContainerConfig | undefined, override?: string[]): { argv: string[]; source: Program['commandSource'] } {
  if (override && override.length > 0) return { argv: [...override], source: 'override' }
  const ep = config?.Entrypoint ?? []
  const cmd = config?.Cmd ?? []
  const argv = [...ep, ...cmd]
  const source = ep.length > 0 && cmd.length > 0 ? 'entrypoint+cmd' : ep.length > 0 ? 'entrypoint' : cmd.length > 0 ? 'cmd' : 'none'
  return { argv, source }
}

/** Env as a map; later entries win (Docker appends). "NAME" without '=' is ignored as Docker does. */
export function envMap(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {}
  for (const e of list ?? []) {
    const i = e.indexOf('=')
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1)
  }
  return env
}

/** PATH directories for program lookup: the config's PATH, else Docker's default. */
export function pathDirs(env: Record<string, string>): { dirs: string[]; source: 'config' | 'docker-default' } {
  const p = env.PATH
  if (p !== undefined) return { dirs: p.split(':').map((d) => (d === '' ? '.' : d)), source: 'config' }
  return { dirs: DOCKER_DEFAULT_PATH.split(':'), source: 'docker-default' }
}

/** Is this argv a shell-form command ("/bin/sh -c STRING")? Returns the shell and the string. */
export function shellForm(argv: string[]): { shell: string; script: string; rest: string[] } | undefined {
  if (argv.length >= 3 && isShellName(argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1)) && argv[1] === '-c') {
    return { shell: argv[0]!, script: argv[2]!, rest: argv.slice(3) }
  }
  return undefined
}
