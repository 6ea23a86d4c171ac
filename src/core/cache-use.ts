import { utimes } from 'node:fs/promises'

/**
 * Marks a cache entry as just used: its modification time becomes now, so `slim cache prune`
 * can remove the entries used longest ago first. Access times cannot say it: relatime mounts
 * update them once a day at most, noatime mounts never. Never fails: a read-only cache is still
 * a cache.
 */
export async function markUsed(path: string, now: Date = new Date()): Promise<void> {
  await utimes(path, now, now).catch(() => {})
}
