/**
 * Rust detection and cargo-auditable's .dep-v0, against independent oracles: objcopy + Python's
 * zlib for the embedded dependency JSON, and `rustc -vV` for the compiler that built our binaries.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { elfBins, superStrip } from '../../helpers/elf-bins.js'
import { findSection, openElf } from '../../../src/inspect/elf/index.js'
import { readRustInfo } from '../../../src/inspect/rustinfo.js'
import { SHARED } from '../../helpers/shared.js'

const exec = promisify(execFile)
const TRIVY_RUST = `${SHARED}/corpus/aquasecurity__trivy/pkg/dependency/parser/rust/binary/testdata/test.elf`

let bins: Record<'rust-dynamic' | 'rust-static-pie' | 'c-dynamic' | 'go-cgo' | 'cxx-dynamic', string>

beforeAll(async () => {
  bins = await elfBins(['rust-dynamic', 'rust-static-pie', 'c-dynamic', 'go-cgo', 'cxx-dynamic'])
})

/** .dep-v0 decoded by binutils and Python, not by our code. */
async function depV0Oracle(path: string): Promise<unknown> {
  const script = 'import sys,zlib,subprocess,json; d=subprocess.run(["objcopy","--dump-section",".dep-v0=/dev/stdout",sys.argv[1],"/dev/null"],capture_output=True,check=True).stdout; print(zlib.decompress(d).decode())'
  const { stdout } = await exec('python3', ['-c', script, path])
  return JSON.parse(stdout)
}

describe('cargo-auditable .dep-v0', () => {
  it('trivy fixture: the package list objcopy + zlib decode, with defaults made explicit', async () => {
    const info = readRustInfo(readFileSync(TRIVY_RUST))
    const oracle = (await depV0Oracle(TRIVY_RUST)) as { packages: Record<string, unknown>[] }
    expect(oracle.packages.length).toBeGreaterThan(0)
    expect(info.auditable?.packages).toEqual(oracle.packages.map((p) => ({ dependencies: [], ...p })))
    expect(info.auditable?.packages.find((p) => p.root)?.name).toBe('crate_with_features')
    expect(info.warnings).toEqual([])
  })

  it('a damaged .dep-v0 is a warning, not an exception', () => {
    const bytes = Buffer.from(readFileSync(TRIVY_RUST))
    const sec = findSection(openElf(bytes), '.dep-v0')!
    bytes.fill(0x41, sec.offset + 2, sec.offset + sec.size)
    const info = readRustInfo(bytes)
    expect(info.auditable).toBeUndefined()
    expect(info.warnings.join('\n')).toMatch(/\.dep-v0 section does not inflate/)
    expect(info.isRust).toBe(true) // the other markers remain
  })
})

describe('rustc markers', () => {
  it('trivy fixture (distro rustc): version from /rustc/1.62.0/library paths', () => {
    const info = readRustInfo(readFileSync(TRIVY_RUST))
    expect([info.isRust, info.rustcVersion, info.rustcCommit]).toEqual([true, '1.62.0', undefined])
    expect(info.evidence).toContain('symbol __rust_alloc')
  })

  it('our cargo builds: version and commit agree with rustc -vV, also without section headers', async () => {
    const { stdout } = await exec(join(homedir(), '.cargo', 'bin', 'rustc'), ['-vV'])
    const release = /^release: (\S+)$/m.exec(stdout)![1]
    const commit = /^commit-hash: ([0-9a-f]{40})$/m.exec(stdout)![1]
    for (const name of ['rust-dynamic', 'rust-static-pie'] as const) {
      const info = readRustInfo(readFileSync(bins[name]))
      expect([name, info.isRust, info.rustcVersion, info.rustcCommit]).toEqual([name, true, release, commit])
      expect(info.auditable).toBeUndefined()
      // No sections, so no .comment: the std panic paths still say which rustc.
      const bare = readRustInfo(superStrip(readFileSync(bins[name])))
      expect([name, bare.isRust, bare.rustcCommit, bare.rustcVersion]).toEqual([name, true, commit, undefined])
    }
  })

  it('C, C++ and Go programs are not Rust', () => {
    for (const name of ['c-dynamic', 'cxx-dynamic', 'go-cgo'] as const) {
      expect([name, readRustInfo(readFileSync(bins[name]))]).toEqual([name, { isRust: false, evidence: [], warnings: [] }])
    }
  })
})
