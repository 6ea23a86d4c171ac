/**
 * The names of the tree's nodes (tree.ts). Most names are kept in pool chunks as a length byte and
 * their latin1 bytes: about 12 bytes a name, where a string in an array is 32 (8 of slot, 24 of
 * string) and a million-file layer has a million names. Names over 255 bytes or with characters
 * past U+00FF are kept as strings on the side. A name is referred to by a number: (chunk <<
 * CHUNK_BITS | offset) in the pool, or -(slot + 1) on the side.
 */
const CHUNK_BITS = 20
const CHUNK = 1 << CHUNK_BITS
/** Chunks a reference can address while staying a positive 32-bit integer. */
const MAX_CHUNKS = 2047

export class NamePool {
  private readonly chunks: Buffer[] = []
  private at = CHUNK
  private readonly side: string[] = []

  store(name: string): number {
    let plain = name.length <= 255
    for (let i = 0; plain && i < name.length; i++) if (name.charCodeAt(i) > 0xff) plain = false
    const full = this.at + 1 + name.length > CHUNK
    if (!plain || (full && this.chunks.length >= MAX_CHUNKS)) return -this.side.push(ownString(name))
    if (full) {
      this.chunks.push(Buffer.alloc(CHUNK))
      this.at = 0
    }
    const c = this.chunks.length - 1
    const chunk = this.chunks[c]!
    const at = this.at
    chunk[at] = name.length
    chunk.write(name, at + 1, 'latin1')
    this.at += 1 + name.length
    return (c << CHUNK_BITS) | at
  }

  get(ref: number): string {
    if (ref < 0) return this.side[-ref - 1]!
    const chunk = this.chunks[ref >>> CHUNK_BITS]!
    const at = ref & (CHUNK - 1)
    return chunk.toString('latin1', at + 1, at + 1 + chunk[at]!)
  }

  /** Whether the name `ref` refers to is `name`, without making it a string. */
  is(ref: number, name: string): boolean {
    if (ref < 0) return this.side[-ref - 1] === name
    const chunk = this.chunks[ref >>> CHUNK_BITS]!
    const at = ref & (CHUNK - 1)
    const len = chunk[at]!
    if (len !== name.length) return false
    for (let i = 0; i < len; i++) if (chunk[at + 1 + i] !== name.charCodeAt(i)) return false
    return true
  }
}

/**
 * A copy of a string that holds no larger one: V8 makes a slice of 13 characters or more a view
 * that keeps the whole string it was cut from (here, an entry's path) alive.
 */
function ownString(s: string): string {
  return s.length < 13 ? s : s.split('').join('')
}
