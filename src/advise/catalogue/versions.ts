/**
 * Symbol-version names (GLIBC_2.36, GLIBCXX_3.4.30, CXXABI_1.3.13) as comparable numbers. A base
 * provides a version when its library *defines* it; glibc and libstdc++ define every older
 * version too, so "need <= ceiling" within the same family is the compatibility rule.
 */

export interface SymbolVersion {
  /** "GLIBC", "GLIBCXX", "CXXABI", ... */
  family: string
  parts: number[]
}

/** Parses "GLIBC_2.36"; undefined for non-numeric names (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR, CXXABI_TM_1). */
export function parseSymbolVersion(name: string): SymbolVersion | undefined {
  const m = /^([A-Z]+)_(\d+(?:\.\d+)*)$/.exec(name)
  if (!m) return undefined
  return { family: m[1], parts: m[2].split('.').map(Number) }
}

export function compareParts(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** The highest numeric version of one family among `names` ("GLIBC_2.36"), or undefined. */
export function highestVersion(names: Iterable<string>, family: string): string | undefined {
  let best: { name: string; parts: number[] } | undefined
  for (const name of names) {
    const v = parseSymbolVersion(name)
    if (!v || v.family !== family) continue
    if (!best || compareParts(v.parts, best.parts) > 0) best = { name, parts: v.parts }
  }
  return best?.name
}

/**
 * True when `need` (e.g. "GLIBC_2.34") is at most `ceiling` (e.g. "GLIBC_2.36") of the same family.
 * False for a different family or a non-numeric name: those need a rule of their own
 * (GLIBC_ABI_DT_RELR means glibc >= 2.36, GLIBC_PRIVATE means the very same glibc build).
 */
export function versionWithin(need: string, ceiling: string | undefined): boolean {
  if (!ceiling) return false
  const n = parseSymbolVersion(need)
  const c = parseSymbolVersion(ceiling)
  if (!n || !c || n.family !== c.family) return false
  return compareParts(n.parts, c.parts) <= 0
}
