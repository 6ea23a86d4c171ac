/**
 * The column-stored tree (src/layers/tree.ts): every field reads back what was written, including
 * values the compact columns keep on the side (sizes and ids past 32 bits, names over 255 bytes or
 * past U+00FF), lookups survive detaches and table growth, and a node costs bytes of typed arrays,
 * not an object: the memory a large tree retains is counted after a forced collection.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { Flag, Kind, NO_NODE, Tree } from '../../../src/layers/tree.js'

describe('Tree', () => {
  it('reads back every field, the side-stored ones too', () => {
    const t = new Tree()
    const long = 'n'.repeat(300)
    const wide = 'лінк→目录'
    const a = t.add('plain', Kind.File, 0o4755, 2 ** 32 + 1, 7, 2 ** 40 + 3, 2, 9)
    const b = t.add(long, Kind.Symlink, 0o777, 0, 0, 0, 1, 0)
    const c = t.add(wide, Kind.Hardlink, 0o644, 0, 2 ** 33, 0xffffffff, 0, 4)
    const d = t.add('é', Kind.Dir, 0o1777, 0, 0, 0, -1, -1)
    t.setSymlinkTarget(b, '../x')
    t.setHardlinkTarget(c, a)
    t.setHash(a, String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 255 - i)))
    t.setFlags(a, Flag.Linked | Flag.Alive)
    expect([t.name(a), t.kind(a), t.mode(a), t.uid(a), t.gid(a), t.size(a), t.layer(a), t.ordinal(a), t.flags(a)]).toEqual(['plain', Kind.File, 0o4755, 2 ** 32 + 1, 7, 2 ** 40 + 3, 2, 9, Flag.Linked | Flag.Alive])
    expect(t.hash(a)).toBe(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 255 - i)))
    expect([t.name(b), t.symlinkTarget(b), t.hash(b)]).toEqual([long, '../x', null])
    expect([t.name(c), t.gid(c), t.size(c), t.content(c), t.hardlinkTarget(c)]).toEqual([wide, 2 ** 33, 0xffffffff, a, a])
    expect([t.name(d), t.mode(d), t.layer(d), t.ordinal(d)]).toEqual(['é', 0o1777, -1, -1])
    t.setSize(a, 5)
    t.setUid(a, 0)
    expect([t.size(a), t.uid(a), t.gid(a)]).toEqual([5, 0, 7])
  })

  it('finds children by name through detaches, replacements and table growth', () => {
    const t = new Tree()
    const dirs = Array.from({ length: 20 }, (_, i) => {
      const d = t.add(`d${i}`, Kind.Dir, 0o755, 0, 0, 0, 0, i)
      t.attach(t.root, d)
      return d
    })
    const files = new Map<string, number>()
    for (let i = 0; i < 5000; i++) {
      const d = dirs[i % 20]!
      const f = t.add(`f${i}`, Kind.File, 0o644, 0, 0, i, 0, i)
      t.attach(d, f)
      files.set(`d${i % 20}/f${i}`, f)
    }
    // Every other file detached, then a third of those put back as new nodes of the same name.
    for (let i = 0; i < 5000; i += 2) t.detach(files.get(`d${i % 20}/f${i}`)!)
    for (let i = 0; i < 5000; i += 6) {
      const f = t.add(`f${i}`, Kind.File, 0o600, 0, 0, 1, 1, i)
      t.attach(dirs[i % 20]!, f)
      files.set(`d${i % 20}/f${i}`, f)
    }
    for (let i = 0; i < 5000; i++) {
      const found = t.lookupExact(`d${i % 20}/f${i}`)
      if (i % 2 === 1 || i % 6 === 0) expect(found).toBe(files.get(`d${i % 20}/f${i}`))
      else expect(found).toBe(NO_NODE)
    }
    const inDir3 = Array.from({ length: 5000 }, (_, i) => i).filter((i) => i % 20 === 3 && (i % 2 === 1 || i % 6 === 0))
    expect(t.children(dirs[3]!).map((n) => t.name(n)).sort()).toEqual(inDir3.map((i) => `f${i}`).sort())
    const names = t.sortedChildren(dirs[1]!).map((n) => t.name(n))
    expect(names).toEqual([...names].sort())
    expect(t.path(files.get('d3/f3')!)).toBe('d3/f3')
    // A detached node keeps its parent (a hard link to a deleted file still names it) but is not found.
    const gone = files.get('d2/f2')!
    expect([t.parent(gone), t.child(dirs[2]!, 'f2')]).toEqual([dirs[2], NO_NODE])
    // Attaching a second node of a name replaces the first, as Map.set did.
    const again = t.add('f1', Kind.File, 0o644, 0, 0, 0, 2, 0)
    t.attach(dirs[1]!, again)
    expect(t.child(dirs[1]!, 'f1')).toBe(again)
    expect(t.children(dirs[1]!).filter((n) => t.name(n) === 'f1')).toEqual([again])
  })

  it('retains typed-array bytes per node, not an object per node', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const used = (): number => {
      gc()
      gc()
      const m = process.memoryUsage()
      return m.heapUsed + m.arrayBuffers
    }
    const n = 200_000
    const before = used()
    const t = new Tree()
    let dir = t.root
    for (let i = 0; i < n; i++) {
      if (i % 1000 === 0) {
        dir = t.add(`d${i / 1000}`, Kind.Dir, 0o755, 0, 0, 0, 0, i)
        t.attach(t.root, dir)
      }
      t.attach(dir, t.add(`file-${i}.txt`, Kind.File, 0o644, 0, 0, i, 0, i))
    }
    const perNode = (used() - before) / n
    expect(t.lookupExact('d7/file-7001.txt')).not.toBe(NO_NODE)
    // Objects (header, nine fields, a name string, a Map entry) took about 150 bytes a node;
    // here 40 of numbers, about 16 of name and 8 to 16 of hash table.
    expect(perNode).toBeLessThan(100)
  })
})
