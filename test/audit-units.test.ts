import { describe, expect, it } from 'vitest'
import { parseShard, shardOf } from '../src/audit/shard.js'
import { tagFilter } from '../src/audit/tags.js'

describe('--tags', () => {
  const tags = ['latest', '1.0.0', 'v1.2.3', '1.2', '2.0.0-rc.1', '2.0.0', '1.10.1', 'edge', 'release-1']
  it('latest:N takes the newest semver-shaped tags; a range keeps matching ones; anything else is a glob', () => {
    expect(tagFilter('latest:2')(tags)).toEqual(['2.0.0', '2.0.0-rc.1'])
    expect(tagFilter('>=1.2 <2')(tags)).toEqual(['v1.2.3', '1.2', '1.10.1'])
    expect(tagFilter('^1.0.0')(tags)).toEqual(['1.0.0', 'v1.2.3', '1.2', '1.10.1'])
    expect(tagFilter('release-*')(tags)).toEqual(['release-1'])
    expect(tagFilter(undefined)(tags)).toEqual(tags)
    expect(() => tagFilter('>=abc')).toThrow(/not a semver range/)
  })
})

describe('--shard', () => {
  it('K/N and auto/N (JOB_COMPLETION_INDEX is 0-based); shards cover every target exactly once', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 })
    expect(parseShard('auto/5', { JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 5 })
    for (const bad of ['0/3', '4/3', 'x/3', '1/0']) expect(() => parseShard(bad)).toThrow(/--shard/)
    expect(() => parseShard('auto/3', {})).toThrow(/JOB_COMPLETION_INDEX is not set/)
    const targets = Array.from({ length: 200 }, (_, i) => ({ reference: `r.example/app:${i}` }))
    const counts = [0, 0, 0, 0]
    for (const t of targets) counts[shardOf(t, 4) - 1]!++
    expect(counts.reduce((a, b) => a + b)).toBe(200)
    for (const c of counts) expect(c).toBeGreaterThan(20)
    expect(targets.map((t) => shardOf(t, 4))).toEqual(targets.map((t) => shardOf(t, 4)))
  })
})
