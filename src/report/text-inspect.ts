import { humanBytes } from '../core/format.js'
import { textLines } from '../core/text-escape.js'
import type { ClosureNode, Inspection } from '../inspect/types.js'
import { boundedJson, boundedList, LINES_MAX, moreText, pushBounded } from './table.js'

/** The Entrypoint and Runtime needs sections of `slim analyze`. */
export function renderInspectionSections(ins: Inspection, opts: { tree?: boolean } = {}): string {
  const out: string[] = []
  const p = ins.program
  out.push('Entrypoint')
  out.push(`  command      ${p.command.length ? boundedJson(p.command) : '(none)'}  [${p.commandSource}]`)
  out.push(`  program      ${p.path ?? '(not found)'}${p.realPath && p.realPath !== p.path ? ` -> ${p.realPath}` : ''}  (${p.kind})`)
  if (p.argv.length > 1) out.push(`  arguments    ${boundedJson(p.argv.slice(1))}`)
  pushBounded(out, p.chain, (step) => `  step         ${step.kind}: ${step.detail}`)
  if (p.stopped) out.push(`  stopped      at ${p.stopped.at}: ${p.stopped.reason}`)
  if (ins.elf) {
    const e = ins.elf
    out.push(`  elf          ${e.machine}, ELF${e.class} ${e.type}, ${e.static ? 'static' : 'dynamic'}, ${e.stripped ? 'stripped' : 'not stripped'}`)
    out.push(`  libc         ${e.libc}  (${e.libcEvidence})`)
    if (e.interpreter) out.push(`  interpreter  ${e.interpreter}`)
    const v = e.closureVersions
    const versions = [v.glibc && `GLIBC_${v.glibc}`, v.glibcxx && `GLIBCXX_${v.glibcxx}`, v.cxxabi && `CXXABI_${v.cxxabi}`, v.glibcPrivate && 'GLIBC_PRIVATE', v.abiDtRelr && 'GLIBC_ABI_DT_RELR'].filter(Boolean)
    if (versions.length) out.push(`  needs        ${versions.join(', ')} (highest, program and libraries)`)
  }
  if (ins.go) {
    const g = ins.go
    out.push(`  go           ${g.goVersion}${g.main?.path ? `, module ${g.main.path}${g.main.version ? `@${g.main.version}` : ''}` : g.path ? `, ${g.path}` : ''}, ${g.deps.length} dependencies`)
    const flags = [g.cgoEnabled !== undefined && `CGO_ENABLED=${g.cgoEnabled ? 1 : 0}`, g.tags.length && `tags ${boundedList(g.tags, undefined, ',')}`, g.goos && `${g.goos}/${g.goarch}`].filter(Boolean)
    if (flags.length) out.push(`               ${flags.join(', ')}`)
  }
  if (ins.rust?.isRust) out.push(`  rust         ${ins.rust.rustcVersion ? `rustc ${ins.rust.rustcVersion}` : 'yes'}${ins.rust.auditable ? `, ${ins.rust.auditable.packages.length} packages (cargo-auditable)` : ''}`)
  if (ins.runtime) {
    const r = ins.runtime
    out.push(`  runtime      ${r.language}${r.version ? ` ${r.version}` : ''} (${r.executable})${r.versionEvidence ? `  [version from ${r.versionEvidence}]` : ''}`)
    out.push(`  app          ${r.app.kind}${r.app.path ? ` ${r.app.path}` : ''}${r.app.name ? ` ${r.app.name}` : ''}; app dir ${r.appDir}`)
  }

  const c = ins.closure
  out.push('')
  out.push(`Libraries (${c.libraries.length} resolved${c.unresolved.length ? `, ${c.unresolved.length} NOT FOUND` : ''}; loader rules: ${c.loader})`)
  if (opts.tree && c.tree.length) {
    for (const node of c.tree) renderTree(node, '  ', out)
  } else {
    pushBounded(out, c.libraries, (l) => `  ${l.name.padEnd(28)} ${l.realPath !== l.path ? `${l.path} -> ${l.realPath}` : l.path}  ${humanBytes(l.size)}  [${l.rule}${l.via === 'dlopen' ? ', dlopen' : ''}]`)
  }
  pushBounded(out, c.unresolved, (u) => `  ${u.name.padEnd(28)} NOT FOUND (needed by ${boundedList(u.neededBy)}; searched ${u.searched.length ? `${u.searched.length} director${u.searched.length === 1 ? 'y' : 'ies'}: ${boundedList(u.searched, undefined, ':')}` : 'nothing'})`)
  pushBounded(out, c.warnings, (w) => `  warning: ${w}`)

  out.push('')
  out.push('Runtime needs')
  if (!ins.needs.length) out.push('  none beyond the program and its libraries')
  for (const n of ins.needs.slice(0, LINES_MAX)) {
    const state = n.providedBy === 'runtime' ? 'runtime provides' : n.present ? 'present' : 'MISSING'
    out.push(`  ${n.kind.padEnd(14)} ${state.padEnd(16)} ${n.confidence.padEnd(8)} ${n.reason}`)
    if (n.paths.length) out.push(`  ${''.padEnd(14)} ${''.padEnd(16)} ${''.padEnd(8)} ${boundedList(n.paths, 6)}`)
    if (n.evidence.length) out.push(`  ${''.padEnd(14)} ${''.padEnd(16)} ${''.padEnd(8)} evidence: ${boundedList(n.evidence, 4)}`)
  }
  if (ins.needs.length > LINES_MAX) out.push(`  ${moreText(ins.needs.length - LINES_MAX)}`)
  if (ins.findings.length) {
    out.push('')
    out.push('Findings')
    pushBounded(out, ins.findings, (f) => `  ${f.severity.padEnd(8)} ${f.message}`)
  }
  if (ins.gaps.length) {
    out.push('')
    out.push('What slim could not see')
    pushBounded(out, ins.gaps, (g) => `  ${g.area.padEnd(10)} ${g.message}`)
  }
  return textLines(out)
}

function renderTree(node: ClosureNode, prefix: string, out: string[]): void {
  const label = node.missing ? `${node.name} => NOT FOUND` : node.seen ? `${node.name} (see above)` : `${node.name}${node.path ? ` => ${node.path}` : ''}`
  out.push(`${prefix}${label}`)
  for (const child of node.children) renderTree(child, `${prefix}  `, out)
}
