/** Human-readable byte counts (SI units, as dive and docker print them). */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n)) return '?'
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = Math.abs(n)
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  const s = i === 0 ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
  return `${n < 0 ? '-' : ''}${s} ${units[i]}`
}

export function percent(ratio: number, digits = 1): string {
  return `${(ratio * 100).toFixed(digits)}%`
}

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4,
}

/** Parses "500MB", "32GiB", "1.5g", "1048576" into bytes; undefined when it is not a size. */
export function parseBytes(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s)
  if (!m) return undefined
  const unit = UNITS[m[2].toLowerCase()]
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit)
}

const DURATION_UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }

/** Parses "45s", "90m", "12h", "30d", "2w" into milliseconds; undefined when it is not a duration. */
export function parseDuration(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(s)
  return m ? Math.round(Number(m[1]) * DURATION_UNITS[m[2].toLowerCase()]!) : undefined
}

/** A sentence names a few items of a list the image decides the length of ("a, b, c, and 4 more");
 * the JSON keeps the whole list, so the sentence stays one readable line. */
export function firstFew(items: readonly string[], sep: string, max = 5): string {
  return items.length <= max ? items.join(sep) : `${items.slice(0, max).join(sep)}${sep}and ${items.length - max} more`
}
