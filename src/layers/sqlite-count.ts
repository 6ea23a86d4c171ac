/**
 * Counts the rows of one table of an SQLite database file held in memory, reading only the b-tree
 * structure (https://www.sqlite.org/fileformat2.html): the schema table on page 1 gives the table's
 * root page, and the row count is the number of cells on the table's leaf pages. Enough to count
 * the packages of an rpmdb.sqlite without an SQLite library. Untrusted input: every offset is
 * checked, pages are visited at most once, and anything odd gives undefined (count unknown).
 */

export function countSqliteRows(db: Buffer, table: string): number | undefined {
  try {
    if (db.length < 512 || db.toString('latin1', 0, 16) !== 'SQLite format 3\0') return undefined
    const rawSize = db.readUInt16BE(16)
    const pageSize = rawSize === 1 ? 65536 : rawSize
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return undefined
    const usable = pageSize - db[20]
    const pages = Math.floor(db.length / pageSize)
    const ctx = { db, pageSize, usable, pages }
    let root: number | undefined
    walkTable(ctx, 1, (cell) => {
      const cols = recordColumns(ctx, cell, 4)
      if (cols && cols[0] === 'table' && cols[1] === table && typeof cols[3] === 'number') root = cols[3]
    })
    if (root === undefined || root < 1 || root > pages) return undefined
    let rows = 0
    walkTable(ctx, root, () => rows++)
    return rows
  } catch {
    return undefined
  }
}

interface Ctx {
  db: Buffer
  pageSize: number
  usable: number
  pages: number
}

/** Calls `onCell` with the offset of every leaf cell of the table b-tree rooted at `page`. */
function walkTable(ctx: Ctx, page: number, onCell: (cellOffset: number) => void): void {
  const seen = new Set<number>()
  const stack = [page]
  while (stack.length > 0) {
    const p = stack.pop()!
    if (p < 1 || p > ctx.pages || seen.has(p)) throw new Error('bad page')
    seen.add(p)
    const base = (p - 1) * ctx.pageSize
    const hdr = p === 1 ? base + 100 : base
    const type = ctx.db[hdr]
    const cells = ctx.db.readUInt16BE(hdr + 3)
    const ptrs = hdr + (type === 0x05 ? 12 : 8)
    if (ptrs + cells * 2 > base + ctx.pageSize) throw new Error('bad cell count')
    if (type === 0x0d) {
      for (let i = 0; i < cells; i++) onCell(base + ctx.db.readUInt16BE(ptrs + i * 2))
    } else if (type === 0x05) {
      for (let i = 0; i < cells; i++) stack.push(ctx.db.readUInt32BE(base + ctx.db.readUInt16BE(ptrs + i * 2)))
      stack.push(ctx.db.readUInt32BE(hdr + 8))
    } else {
      throw new Error('not a table b-tree page')
    }
  }
}

/** The first `want` columns of the record in a table leaf cell (texts and integers only). */
function recordColumns(ctx: Ctx, cell: number, want: number): Array<string | number | null> | undefined {
  const db = ctx.db
  let [payloadLen, off] = varint(db, cell)
  off = varint(db, off)[1] // rowid
  // Only the part stored on this page is read; the schema's first columns are always in it.
  const local = Math.min(payloadLen, localPayload(ctx.usable, payloadLen))
  const end = Math.min(off + local, db.length)
  const [hdrLen, afterLen] = varint(db, off)
  let h = afterLen
  let body = off + hdrLen
  const cols: Array<string | number | null> = []
  while (h < off + hdrLen && cols.length < want) {
    const [type, next] = varint(db, h)
    h = next
    const len = serialLength(type)
    if (body + len > end) return undefined
    if (type === 0 || type === 8 || type === 9) cols.push(type === 0 ? null : type - 8)
    else if (type >= 1 && type <= 5) cols.push(db.readIntBE(body, len))
    else if (type === 6) cols.push(Number(db.readBigInt64BE(body)))
    else if (type >= 13 && type % 2 === 1) cols.push(db.toString('utf8', body, body + len))
    else cols.push(null)
    body += len
  }
  return cols
}

function serialLength(t: number): number {
  if (t <= 4) return [0, 1, 2, 3, 4][t]
  if (t === 5) return 6
  if (t === 6 || t === 7) return 8
  if (t < 12) return 0
  return t % 2 === 0 ? (t - 12) / 2 : (t - 13) / 2
}

/** How much of a table-leaf payload of `p` bytes is stored on the page (fileformat2 section 1.6). */
function localPayload(u: number, p: number): number {
  const x = u - 35
  if (p <= x) return p
  const m = Math.floor(((u - 12) * 32) / 255) - 23
  const k = m + ((p - m) % (u - 4))
  return k <= x ? k : m
}

function varint(buf: Buffer, off: number): [number, number] {
  let v = 0
  for (let i = 0; i < 9; i++) {
    if (off + i >= buf.length) throw new Error('varint past end')
    const b = buf[off + i]
    if (i === 8) return [v * 256 + b, off + 9]
    v = v * 128 + (b & 0x7f)
    if (!(b & 0x80)) return [v, off + i + 1]
  }
  return [v, off + 9]
}
