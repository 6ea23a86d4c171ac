import { describe, expect, it } from 'vitest'
import { DiveTally, GhostTree } from '../../../src/layers/dive.js'

describe('DiveTally', () => {
  it('sums min and cumulative sizes per path and lists paths seen in 2+ layers, largest first', () => {
    const t = new DiveTally()
    t.visit('a', 10)
    t.visit('b', 5)
    t.visit('b', 7)
    t.visit('c', 100)
    t.visit('c', 0)
    expect(t.summary()).toEqual({
      sumMin: 10 + 5 + 0,
      sumCumulative: 10 + 12 + 100,
      inefficient: [
        { path: '/c', count: 2, cumulativeSize: 100, minSize: 0 },
        { path: '/b', count: 2, cumulativeSize: 12, minSize: 5 },
      ],
    })
  })
})

describe('GhostTree', () => {
  it('sums what is below a path, forgets a subtree, and overwrites one entry', () => {
    const g = new GhostTree()
    g.set('a/x', 100)
    g.set('a/sub/y', 20)
    g.set('b', 5)
    expect(g.under('a', false)).toEqual({ total: 120, exact: false, below: true })
    expect(g.under('b', false)).toEqual({ total: 0, exact: true, below: false })
    g.delete('a/x')
    expect(g.under('a', false).total).toBe(20)
    expect(g.under('a', true).total).toBe(20)
    expect(g.size).toBe(1)
    expect(g.under('a', false)).toEqual({ total: 0, exact: false, below: false })
    expect(g.under('nothing/here', true)).toEqual({ total: 0, exact: false, below: false })
  })
})
