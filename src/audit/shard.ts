/**
 * `--shard K/N`: a deterministic subset by a stable hash of the target (sha256 of the reference
 * and platform), so N shards are disjoint and together cover every target, on any machine and in
 * any order. `auto/N` takes K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job; 0-based).
 */
import { createHash } from 'node:crypto'
import { SlimError } from '../core/errors.js'
import { formatPlatform } from '../image/platform.js'
import type { AuditTarget } from './inputs.js'

export interface Shard {
  /** 1-based. */
  index: number
  count: number
}

export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const m = /^(auto|\d+)\/(\d+)$/.exec(spec.trim())
  if (!m) throw new SlimError('usage', `--shard ${spec}: write K/N (1 <= K <= N), or auto/N to read JOB_COMPLETION_INDEX`)
  const count = Number(m[2])
  if (count < 1) throw new SlimError('usage', `--shard ${spec}: N must be 1 or more`)
  let index: number
  if (m[1] === 'auto') {
    const raw = env.JOB_COMPLETION_INDEX
    if (raw === undefined || !/^\d+$/.test(raw)) {
      throw new SlimError('usage', `--shard ${spec}: JOB_COMPLETION_INDEX is ${raw === undefined ? 'not set' : `"${raw}"`}; run as a Kubernetes Indexed Job or give K/N`)
    }
    index = Number(raw) + 1
  } else index = Number(m[1])
  if (index < 1 || index > count) throw new SlimError('usage', `--shard ${spec}: K must be between 1 and ${count}${m[1] === 'auto' ? ` (JOB_COMPLETION_INDEX is 0-based: 0..${count - 1})` : ''}`)
  return { index, count }
}

export function targetKey(t: AuditTarget): string {
  return t.platform ? `${t.reference} ${formatPlatform(t.platform)}` : t.reference
}

/** The shard (1-based) a target belongs to. */
export function shardOf(t: AuditTarget, count: number): number {
  const h = createHash('sha256').update(targetKey(t)).digest()
  return (h.readUInt32BE(0) % count) + 1
}

export function inShard(targets: readonly AuditTarget[], shard: Shard | undefined): AuditTarget[] {
  return shard ? targets.filter((t) => shardOf(t, shard.count) === shard.index) : [...targets]
}
