/**
 * Relinking a JRE from its own modules image, for a home without jmods whose lib/modules holds
 * jdk.jlink (Debian's openjdk-*-jre-headless): the home's launcher runs the JDK's own tools from
 * that module, each step one exec-form argv (no shell needed in the build stage):
 *   1. jimage extract of the linked modules' resources into WORK/classes/<module>;
 *   2. jmod create per module from those classes and the home's lib/, bin/ and conf/ with one
 *      --exclude regex naming every file that is not the module's (paths relative to each section
 *      directory, matched whole: jmod's --exclude applies to every section and keeps module-info);
 *   3. java.base last, recording the others' hashes (jlink checks java.base's ModuleHashes, and
 *      jmods re-made from an image need fresh ones), without the SystemModules classes jlink's
 *      system-modules plugin generated for the whole image (it regenerates them for the new set);
 *   4. jlink, without the generate-jli-classes plugin (the image's pre-generated species classes
 *      are in java.base already and would be generated twice).
 * Every value from the image is checked against strict patterns and regex-escaped; anything else
 * is a reason not to relink (the caller copies the JRE trimmed instead).
 */
import { posix } from 'node:path'
import type { JavaHomeFile } from '../inspect/types.js'

/** Where the build stage extracts classes and writes jmods (inside the stage, never copied). */
export const RELINK_WORK = '/slim-jre-work'
/** jlink's options for a runtime image's modules, before JLINK_OPTIONS. */
export const RELINK_JLINK_OPTIONS = ['--disable-plugin', 'generate-jli-classes']

const MODULE_NAME = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/
/** A path segment slim writes into a regex and an argv: nothing a path list or a regex could misread. */
const SEGMENT = /^[A-Za-z0-9._+-]+$/
const SECTIONS = [
  ['lib', '--libs'],
  ['bin', '--cmds'],
  ['conf', '--config'],
] as const

export interface RelinkInput {
  home: string
  /** The home's launcher (HOME/bin/java). */
  java: string
  /** HOME/lib/modules. */
  image: string
  /** Every module the runtime will hold (the chosen ones and what they require). */
  modules: string[]
  files: JavaHomeFile[]
}

export interface Relink {
  steps: string[][]
  /** The module path jlink links from. */
  modulePath: string
  /** Files slim's table does not place, kept with java.base. */
  unknownFiles: string[]
}

const safePath = (p: string): boolean => p.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')
const escape = (s: string): string => s.replace(/[.+]/g, (c) => `\\${c}`)

/** The steps, or why the runtime cannot be relinked safely. */
export function relinkSteps(r: RelinkInput): Relink | string {
  if (!r.home.startsWith('/') || !safePath(r.home.slice(1))) return `the JRE's home ${JSON.stringify(r.home.slice(0, 120))} has characters slim does not write into jmod and jlink arguments`
  const bad = r.modules.find((m) => !MODULE_NAME.test(m))
  if (bad !== undefined) return `the module name ${JSON.stringify(bad.slice(0, 80))} is not a Java module name`
  const odd = r.files.find((f) => !safePath(f.path))
  if (odd) return `${r.home} holds ${JSON.stringify(odd.path.slice(0, 120))}, a file name slim does not write into a jmod --exclude pattern`
  if (!r.modules.includes('java.base')) return 'the module list has no java.base'
  const dirLink = r.files.find((f) => f.dirLink)
  if (dirLink) return `${r.home}/${dirLink.path} is a link to a directory, which slim cannot place in one module's jmod`
  // One regex serves every section: a name in two sections with different modules cannot be told apart.
  const owner = new Map<string, string | undefined>()
  for (const f of r.files) {
    const rel = f.path.slice(f.path.indexOf('/') + 1)
    if (owner.has(rel) && owner.get(rel) !== f.module) return `${r.home} has ${rel} in two of lib/, bin/ and conf/ with different modules`
    owner.set(rel, f.module)
  }
  const w = RELINK_WORK
  const tool = (main: string) => [r.java, '-m', `jdk.jlink/${main}`]
  const steps: string[][] = [[...tool('jdk.tools.jimage.Main'), 'extract', '--include', `regex:/(${r.modules.map(escape).join('|')})/.*`, '--dir', `${w}/classes`, r.image]]
  const sections = SECTIONS.filter(([dir]) => r.files.some((f) => f.path.startsWith(`${dir}/`))).flatMap(([dir, flag]) => [flag, posix.join(r.home, dir)])
  for (const m of [...r.modules.filter((x) => x !== 'java.base').sort(), 'java.base']) {
    const others = [...owner].filter(([, o]) => o !== m).map(([rel]) => escape(rel))
    // The classes jlink's system-modules plugin made for the whole image; it makes them anew.
    if (m === 'java.base') others.push('jdk/internal/module/SystemModules\\$.*\\.class')
    const exclude = others.length ? ['--exclude', `regex:${others.join('|')}`] : []
    const hashes = m === 'java.base' ? ['--hash-modules', '.*', '--module-path', w] : []
    steps.push([...tool('jdk.tools.jmod.Main'), 'create', '--class-path', `${w}/classes/${m}`, ...sections, ...exclude, ...hashes, `${w}/${m}.jmod`])
  }
  const unknownFiles = r.files.filter((f) => f.known === false).map((f) => posix.join(r.home, f.path))
  return { steps, modulePath: w, unknownFiles }
}
