/**
 * A writable temporary directory. tmpfile()/mkstemp() callers, Go's os.TempDir, Python's tempfile,
 * Java's java.io.tmpdir, nginx's and curl's temp files all default to /tmp (or TMPDIR): a scratch
 * image has no /tmp at all, and a missing one fails at the first temporary file, not at start.
 */
import type { Confidence, Need } from '../types.js'
import { importEvidence, type NeedsInput } from './context.js'

const TMP_SYMBOLS = ['tmpfile', 'tmpfile64', 'mkstemp', 'mkstemp64', 'mkostemp', 'mkstemps', 'mkdtemp', 'tmpnam', 'tempnam', 'tmpnam_r']

export function tmpNeed(input: NeedsInput): Need {
  const { rootfs } = input
  const dir = input.program.env.TMPDIR ?? '/tmp'
  const evidence: string[] = []
  let confidence: Confidence = 'possible'
  const imports = importEvidence(input, TMP_SYMBOLS)
  if (imports.evidence.length > 0) {
    evidence.push(...imports.evidence)
    confidence = 'likely'
  }
  if (input.go) {
    evidence.push('Go programs use os.TempDir (TMPDIR, else /tmp) for temporary files')
    confidence = 'likely'
  }
  if (input.runtime && input.runtime.language !== 'shell') {
    evidence.push(`${input.runtime.language} runtimes write temporary files to ${dir}`)
    confidence = 'likely'
  }
  if (input.program.shellReasons.length > 0) evidence.push('shells create here-documents in the temporary directory')
  if (input.program.env.TMPDIR) evidence.push(`Env sets TMPDIR=${dir}`)
  const st = rootfs.stat(dir)
  const present = st?.type === 'dir'
  const worldWritable = present && (st.mode & 0o1777) === 0o1777
  return {
    kind: 'tmp',
    paths: present ? [dir] : [],
    present,
    writable: true,
    reason: present
      ? `programs write temporary files to ${dir}${worldWritable ? '' : `; it is not world-writable with the sticky bit (mode ${st.mode.toString(8)}), so a non-root USER may fail there`}`
      : `programs write temporary files to ${dir}, which the image lacks (scratch images have none): create it with mode 1777`,
    evidence: evidence.length > 0 ? evidence : ['most programs and libraries create temporary files'],
    confidence,
  }
}
