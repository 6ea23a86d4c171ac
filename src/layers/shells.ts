/**
 * The shells slim knows by name: a program called one of these runs shell scripts and `-c`
 * strings. One list for the image facts (which shells an image has), the entrypoint reader
 * (`sh -c STRING`, scripts run by a shell), runtime detection and the advice (the shell a replaced
 * wrapper needed). busybox is not a name here: it is a shell only when invoked as one (its sh or ash
 * applet), so callers that look at the real file add it themselves.
 */
export const SHELL_NAMES: readonly string[] = ['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'mksh', 'ksh93']

const SHELLS = new Set(SHELL_NAMES)

/** Is `name` (a base name, not a path) a shell? */
export function isShellName(name: string): boolean {
  return SHELLS.has(name)
}
