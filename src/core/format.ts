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
