/**
 * The Java runtime a plan links with jlink, made without Docker: the source image is unpacked into
 * a bounded temp directory, its own jlink runs there in the sandbox (src/build/sandbox.ts, as root
 * of the sandbox, no network), and the output directory becomes layer entries at the JVM's home.
 * The entries are normalised like the rest of the layer (owner 0:0, modes 0755/0644) so the same
 * input gives the same layer.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { join, posix } from 'node:path'
import type { JavaRuntimePlan } from '../advise/types.js'
import { SlimError } from '../core/errors.js'
import type { Image } from '../image/types.js'
import type { LayerEntry } from './entries.js'
import { runSandboxed } from './sandbox.js'
import { unpackTemp } from './unpack.js'

/** jlink of a few modules takes seconds; of all seventy, about a minute on a slow machine (and as
 * much again to extract and re-make the jmods of a relinked JRE). */
const JLINK_TIMEOUT_MS = 10 * 60_000
/** A linked runtime has a few hundred files; this bounds a hostile tool's output. */
const MAX_ENTRIES = 100_000

export interface LinkedRuntime {
  /** Entries at the JVM's home, parents first; files carry the host path of their bytes. */
  entries: LayerEntry[]
  remove(): Promise<void>
}

/** Runs the plan's jlink in the unpacked source image and lists its output as entries at `plan.home`. */
export async function linkRuntime(source: Image, plan: JavaRuntimePlan, maxBytes: number): Promise<LinkedRuntime> {
  const j = plan.jlink
  if (plan.mode !== 'jlink' || !j) throw new SlimError('internal', 'linkRuntime called for a plan without jlink')
  const unpacked = await unpackTemp(source, 'jlink', maxBytes)
  try {
    // A JRE relinked from its own modules image runs jimage extract and jmod create first; its work
    // dir is inside the unpacked root, removed with it. One time budget for all the steps.
    const deadline = Date.now() + JLINK_TIMEOUT_MS
    for (const argv of [...(j.relink?.steps ?? []), [j.tool, ...j.args]]) {
      const run = await runSandboxed({ root: unpacked.root, argv, user: '0:0', workdir: '/', env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], network: false, timeoutMs: Math.max(1000, deadline - Date.now()) })
      if (run.code !== 0) {
        const tail = run.output.trim().split('\n').slice(-3).join(' / ').slice(0, 400)
        const shown = argv.slice(0, 6).join(' ').slice(0, 200)
        throw new SlimError('unsupported', `${source.reference}: ${shown}${argv.length > 6 ? ' ...' : ''} failed in the sandbox (${run.timedOut ? 'timed out' : `exit ${run.code ?? run.signal}`}): ${tail}; build without it by naming a base with a Java runtime (--base) or report this`)
      }
    }
    const out = join(unpacked.root, ...j.output.split('/').filter(Boolean))
    if (!lstatSync(out, { throwIfNoEntry: false })?.isDirectory()) throw new SlimError('format', `${source.reference}: jlink ran but ${j.output} is not a directory in the sandbox`)
    return { entries: outputEntries(out, plan.home), remove: unpacked.remove }
  } catch (e) {
    await unpacked.remove()
    throw e
  }
}

/** The output tree as layer entries under `home` (symlinks kept as links, never followed). */
function outputEntries(dir: string, home: string): LayerEntry[] {
  const out: LayerEntry[] = []
  const walk = (host: string, dest: string): void => {
    for (const name of readdirSync(host).sort()) {
      if (out.length >= MAX_ENTRIES) throw new SlimError('limit', `jlink's output holds more than ${MAX_ENTRIES} entries`)
      const h = join(host, name)
      const d = posix.join(dest, name)
      const st = lstatSync(h)
      if (st.isDirectory()) {
        out.push({ path: d, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 })
        walk(h, d)
      } else if (st.isSymbolicLink()) {
        out.push({ path: d, type: 'symlink', target: readlinkSync(h), mode: 0o777, uid: 0, gid: 0, size: 0 })
      } else if (st.isFile()) {
        out.push({ path: d, type: 'file', hostPath: h, mode: st.mode & 0o111 ? 0o755 : 0o644, uid: 0, gid: 0, size: st.size })
      }
    }
  }
  out.push({ path: home, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 })
  walk(dir, home)
  return out
}
