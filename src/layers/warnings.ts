/**
 * Per-layer warnings, grouped: a hostile layer with 100,000 odd entries must produce a handful of
 * readable lines ("12,345 entries with absolute paths, e.g. /a, /b: ..."), not 100,000.
 */
const EXAMPLES = 3

export class WarningSet {
  private readonly groups = new Map<string, { count: number; examples: string[] }>()
  private readonly order: string[] = []

  /** `what` describes the group ("entries with absolute paths: treated as relative to the root"); `example` is a path. */
  add(what: string, example?: string): void {
    let g = this.groups.get(what)
    if (!g) {
      g = { count: 0, examples: [] }
      this.groups.set(what, g)
      this.order.push(what)
    }
    g.count++
    if (example !== undefined && g.examples.length < EXAMPLES) g.examples.push(printable(example))
  }

  /** A single message that does not group (already counted by the caller). */
  note(message: string): void {
    this.add(message)
  }

  /** The groups as plain data (the layer index cache keeps them). */
  toData(): Array<[string, number, string[]]> {
    return this.order.map((what) => {
      const g = this.groups.get(what)!
      return [what, g.count, [...g.examples]]
    })
  }

  static fromData(data: Array<[string, number, string[]]>): WarningSet {
    const set = new WarningSet()
    for (const [what, count, examples] of data) {
      set.groups.set(what, { count, examples: [...examples] })
      set.order.push(what)
    }
    return set
  }

  get size(): number {
    return this.order.length
  }

  lines(): string[] {
    return this.order.map((what) => {
      const g = this.groups.get(what)!
      if (g.examples.length === 0) return g.count > 1 ? `${what} (${g.count} times)` : what
      const more = g.count > g.examples.length ? `, ... (${g.count} in all)` : ''
      return `${what}: ${g.examples.join(', ')}${more}`
    })
  }
}

/** Paths from tars may hold control characters or be enormous: keep messages to one short line. */
export function printable(s: string, max = 160): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return clean.length > max ? `${clean.slice(0, max - 21)}...(${clean.length} chars)` : clean
}
