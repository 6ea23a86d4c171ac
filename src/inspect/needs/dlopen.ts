/**
 * Libraries loaded with dlopen(), which DT_NEEDED does not list. Sources, most trusted first:
 * `.note.dlopen` ELF notes (systemd's ELF_DLOPEN_METADATA, written by the library's authors),
 * glibc's own dlopen of libgcc_s.so.1 when threads are cancelled or exit (pthread_cancel,
 * pthread_exit), and sonames found in the program's read-only strings. Each is resolved with the
 * same loader rules as DT_NEEDED (from the object that dlopens it), and its own dependencies join
 * the closure.
 */
import { posix } from 'node:path'
import { dlopenCandidates } from '../elf/index.js'
import type { LoadedObject } from '../closure/search.js'
import type { Confidence, Need } from '../types.js'
import { glibcObject, importEvidence, type NeedsInput, type NeedsOutput } from './context.js'

export async function dlopenNeeds(input: NeedsInput): Promise<NeedsOutput> {
  const out: NeedsOutput = { needs: [], gaps: [] }
  const loaded = (name: string): boolean => input.objects.some((o) => o.names.has(name) || o.info.soname === name)
  const resolve = async (names: string[], from: LoadedObject | undefined, confidence: Confidence, reason: string, evidence: string[]): Promise<void> => {
    if (names.some(loaded)) return
    let hit: LoadedObject | undefined
    for (const n of names) {
      hit = await input.closure.dlopen(n, from?.realPath)
      if (hit) break
    }
    const label = names.join(' or ')
    out.needs.push({
      kind: 'dlopen',
      paths: hit ? [...new Set([hit.path, ...hit.symlinks, hit.realPath])] : [],
      present: hit !== undefined,
      reason: hit ? `${reason}: ${label} resolves to ${hit.path}` : `${reason}: ${label} is not in the image`,
      evidence,
      confidence,
    })
    if (!hit && !evidence[0]?.startsWith('string ')) out.gaps.push({ area: 'needs', message: `${label} is loaded with dlopen() but is not in the image; the feature that needs it will fail` })
  }

  // 1. .note.dlopen notes.
  for (const o of [...input.objects]) {
    for (const note of o.info.dlopenNotes) {
      if (note.soname.length === 0) continue
      const priority = note.priority ?? 'recommended'
      await resolve(note.soname, o, priority === 'required' ? 'likely' : 'possible', `${posix.basename(o.path)} declares it may dlopen ${note.feature ? `for ${note.feature}` : 'it'} (${priority})`, [`.note.dlopen in ${o.path}${note.description ? `: ${note.description}` : ''}`])
    }
  }

  // 2. glibc dlopens libgcc_s.so.1 to unwind on pthread_cancel/pthread_exit.
  const cancel = importEvidence(input, ['pthread_cancel', 'pthread_exit'])
  if (cancel.evidence.length > 0 && glibcObject(input)) {
    await resolve(['libgcc_s.so.1'], glibcObject(input), 'likely', 'glibc dlopens libgcc_s.so.1 to unwind threads that are cancelled or exit, and aborts without it', cancel.evidence)
  }

  // 3. Sonames in the program's strings.
  const main = input.objects[0]
  // A static program has no loader to dlopen with (static musl's dlopen always fails).
  const dynamic = main !== undefined && (main.info.interpreter !== undefined || main.info.needed.length > 0)
  if (main && main.via === 'root' && dynamic) {
    const usesDlopen = main.info.importedSymbols.some((s) => s === 'dlopen' || s === 'dlmopen')
    let names: string[] = []
    try {
      names = dlopenCandidates(await input.open(main.realPath), main.info).filter((n) => !loaded(n))
    } catch {
      names = []
    }
    for (const n of names) await resolve([n], main, usesDlopen ? 'likely' : 'possible', `the name ${n} appears in ${main.path}'s strings${usesDlopen ? ' and it calls dlopen' : ''}`, [`string "${n}" in ${main.path}`])
    const runtimeLoadsModules = input.runtime !== undefined && input.runtime.language !== 'shell'
    if (usesDlopen && names.length === 0 && !main.info.dlopenNotes.length && !runtimeLoadsModules) {
      out.gaps.push({ area: 'needs', message: `${main.path} calls dlopen() with names not found in its strings (built at run time or from configuration); slim cannot tell which libraries it loads` })
    }
    const unresolvedStrings = out.needs.filter((n) => n.kind === 'dlopen' && !n.present && n.evidence[0]?.startsWith('string ')).length
    if (unresolvedStrings > 0) out.gaps.push({ area: 'needs', message: `${unresolvedStrings} library name(s) in ${main.path}'s strings are not in the image; if the program dlopens them, those features fail` })
  }
  return out
}
