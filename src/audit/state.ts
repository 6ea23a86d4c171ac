/**
 * `--state DIR`: each finished image's record, saved as soon as it completes, keyed by manifest
 * digest (one file per digest: `sha256-<hex>.json`). A re-run reads the record back instead of
 * analysing an image whose digest has not changed. Writes are atomic (temp file, then rename), so
 * a run killed mid-write leaves either the old file or the new one. Errors are not saved: a re-run
 * tries those images again.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SlimError, describe } from '../core/errors.js'
import { isDigest } from '../core/digest.js'
import type { RuleInfo } from './rules/types.js'
import { AUDIT_SCHEMA_VERSION, type AuditImage } from './types.js'
import { evaluateRules } from './rules/evaluate.js'

interface Saved {
  schemaVersion: string
  record: AuditImage
}

export class AuditState {
  /** Records read back from the directory in this run (tests and --debug count them). */
  hits = 0
  saved = 0

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<AuditState> {
    try {
      await mkdir(dir, { recursive: true })
    } catch (e) {
      throw new SlimError('usage', `--state ${dir}: cannot create it (${describe(e)}); give a writable directory`)
    }
    return new AuditState(dir)
  }

  private file(digest: string): string {
    return join(this.dir, `${digest.replace(':', '-')}.json`)
  }

  /** The saved record of this digest and platform, re-checked against this run's rules; undefined when none. */
  async load(digest: string, platform: string, reference: string, rules: readonly RuleInfo[]): Promise<AuditImage | undefined> {
    if (!isDigest(digest)) return undefined
    let saved: Saved
    try {
      saved = JSON.parse(await readFile(this.file(digest), 'utf8')) as Saved
    } catch {
      return undefined // absent, or unreadable: analyse again
    }
    const r = saved?.record
    if (saved.schemaVersion !== AUDIT_SCHEMA_VERSION || !r || r.status !== 'ok' || r.digest !== digest || r.platform !== platform) return undefined
    this.hits++
    const record: AuditImage = { ...r, reference }
    record.failedRules = evaluateRules(record, rules)
    return record
  }

  async save(record: AuditImage): Promise<void> {
    if (record.status !== 'ok' || !record.digest || !isDigest(record.digest)) return
    const path = this.file(record.digest)
    const tmp = `${path}.${process.pid}.tmp`
    try {
      await writeFile(tmp, `${JSON.stringify({ schemaVersion: AUDIT_SCHEMA_VERSION, record } satisfies Saved)}\n`)
      await rename(tmp, path)
      this.saved++
    } catch (e) {
      await rm(tmp, { force: true })
      throw new SlimError('usage', `--state ${this.dir}: cannot save ${record.reference} (${describe(e)}); check the directory`)
    }
  }
}
