/**
 * Go build info against `go version -m` (the Go toolchain's own reader) on trivy's fixtures
 * (Go 1.15 pointer format, Go 1.22 inline format, arm64), binaries built here with Go 1.19, and
 * Debian's cgo Go programs. Linked std packages are checked against `go tool nm`.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { ALL_ELF_BINS, GO_LDFLAGS, elfBins, goVersionFacts, superStrip, type ElfBinName } from '../../helpers/elf-bins.js'
import { goUnquote, parseModInfo, readGoBuildInfo, type GoBuildInfo } from '../../../src/inspect/gobuildinfo.js'
import { SHARED } from '../../helpers/shared.js'

const exec = promisify(execFile)
const TRIVY_GO = `${SHARED}/corpus/aquasecurity__trivy/pkg/dependency/parser/golang/binary/testdata`
const GO_BINS = ['go-static-amd64', 'go-static-arm64', 'go-cgo', 'go-tags'] as const satisfies readonly ElfBinName[]

let bins: Record<(typeof GO_BINS)[number] | 'c-dynamic', string>

beforeAll(async () => {
  bins = await elfBins([...GO_BINS, 'c-dynamic'])
})

/** Our answer in `go version -m`'s line shape (build values unquoted). */
function asLines(info: GoBuildInfo): string[][] {
  const lines: string[][] = []
  if (info.path !== undefined) lines.push(['path', info.path])
  // As debug.BuildInfo.String() writes them: a replaced module has no sum field, its `=>` line has one.
  const mod = (kind: string, m: GoBuildInfo['deps'][number]) => [kind, m.path, m.version, ...(m.replace ? [] : [m.sum ?? ''])]
  if (info.main) lines.push(mod('mod', info.main))
  for (const d of info.deps) {
    lines.push(mod('dep', d))
    if (d.replace) lines.push(mod('=>', d.replace))
  }
  for (const s of info.settings) lines.push(['build', `${s.key}=${s.value}`])
  return lines
}

/** go's lines with quoted build values unquoted (Go's quoting of plain ASCII is JSON's). */
function normaliseGo(lines: string[][]): string[][] {
  return lines.map((l) => {
    if (l[0] === 'build') {
      const kv = l[1]!
      const eq = kv.indexOf('=')
      const v = kv.slice(eq + 1)
      return ['build', `${kv.slice(0, eq)}=${v.startsWith('"') ? (JSON.parse(v) as string) : v}`]
    }
    return l
  })
}

async function expectMatchesGoVersion(path: string): Promise<GoBuildInfo> {
  const info = readGoBuildInfo(readFileSync(path), { name: path })
  expect(info, path).toBeDefined()
  const go = await goVersionFacts(path)
  expect([path, info!.goVersion]).toEqual([path, go.goVersion])
  expect([path, asLines(info!)]).toEqual([path, normaliseGo(go.lines)])
  expect([path, info!.warnings]).toEqual([path, []])
  return info!
}

/** Does `go tool nm` list a text symbol of this package? (Only for files with a symbol table.) */
const nmCache = new Map<string, Promise<string[][]>>()
async function nmHasPackage(path: string, prefix: string, exact = false): Promise<boolean> {
  if (!nmCache.has(path)) {
    const run = exec('go', ['tool', 'nm', path], { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GOFLAGS: '' } })
    nmCache.set(path, run.then(({ stdout }) => stdout.split('\n').map((l) => l.trim().split(/\s+/))))
  }
  return (await nmCache.get(path)!).some((f) => (f[1] === 'T' || f[1] === 't') && (exact ? f[2] === prefix : f[2]!.startsWith(prefix)))
}

describe('agreement with go version -m', () => {
  it('trivy Go 1.15.2: pointer format, module with three deps and h1 sums', async () => {
    const info = await expectMatchesGoVersion(join(TRIVY_GO, 'test.elf'))
    expect(info.format).toBe('pointer')
    expect(info.deps.map((d) => d.path)).toEqual(['github.com/aquasecurity/go-pep440-version', 'github.com/aquasecurity/go-version', 'golang.org/x/xerrors'])
    expect(info.deps.every((d) => d.sum?.startsWith('h1:'))).toBe(true)
    expect(info.settings).toEqual([]) // Go < 1.18 records no settings
    expect(info.cgoEnabled).toBeUndefined()
  })

  it('trivy Go 1.22.1 with -ldflags and vcs.* settings; arm64 with GOEXPERIMENT', async () => {
    const ld = await expectMatchesGoVersion(join(TRIVY_GO, 'main-version-via-ldflags.elf'))
    expect(ld.format).toBe('inline')
    expect(ld.settings.find((s) => s.key === '-ldflags')?.value).toBe('-w -X main.version=v1.0.0')
    expect(ld.settings.find((s) => s.key === 'vcs.revision')?.value).toBe('9640d75c13845419f5797e2e3ac3475f8d801d79')
    expect([ld.cgoEnabled, ld.goos, ld.goarch]).toEqual([false, 'linux', 'amd64'])
    const exp = await expectMatchesGoVersion(join(TRIVY_GO, 'goexperiment'))
    expect([exp.goVersion, exp.goarch, exp.path]).toEqual(['go1.22.1 X:loopvar', 'arm64', 'command-line-arguments'])
    // CGO_ENABLED=1 was set, but no C code was linked (the file has no dynamic section).
    expect([exp.cgoEnabled, exp.cgoLinked.linked]).toEqual([true, false])
  })

  it('binaries built here: ldflags, a replaced dependency, cgo, tags', async () => {
    const stat = await expectMatchesGoVersion(bins['go-static-amd64'])
    expect(stat.settings.find((s) => s.key === '-ldflags')?.value).toBe(GO_LDFLAGS)
    expect(stat.deps).toEqual([{ path: 'example.com/greet', version: 'v0.0.0', replace: { path: './greet', version: '(devel)' } }])
    expect(stat.main).toEqual({ path: 'example.com/app', version: '(devel)' })
    const tags = await expectMatchesGoVersion(bins['go-tags'])
    expect([tags.tags, tags.netgo, tags.osusergo, tags.timetzdata]).toEqual([['netgo', 'osusergo', 'timetzdata'], true, true, true])
    const cgo = await expectMatchesGoVersion(bins['go-cgo'])
    expect([cgo.cgoEnabled, cgo.cgoLinked.linked, cgo.netgo]).toEqual([true, true, false])
    await expectMatchesGoVersion(bins['go-static-arm64'])
  })

  it('Debian cgo Go programs (GOPATH builds: no module lines)', async () => {
    for (const path of ['/usr/bin/docker-registry', '/usr/bin/skopeo']) {
      const info = await expectMatchesGoVersion(path)
      expect([path, info.goVersion, info.cgoEnabled, info.cgoLinked.linked, info.main]).toEqual([path, 'go1.19.8', true, true, undefined])
    }
  })

  it('without section headers the blob is found in the data segment; old-format pointers resolve through program headers', () => {
    for (const path of [bins['go-cgo'], join(TRIVY_GO, 'test.elf'), join(TRIVY_GO, 'goexperiment')]) {
      const full = readGoBuildInfo(readFileSync(path))!
      const bare = readGoBuildInfo(superStrip(readFileSync(path)))!
      expect([path, bare.goVersion, bare.path, bare.deps, bare.settings]).toEqual([path, full.goVersion, full.path, full.deps, full.settings])
      const linked = (i: GoBuildInfo) => Object.values(i.packages).map((p) => p.linked)
      expect([path, linked(bare), bare.cgoLinked.linked]).toEqual([path, linked(full), full.cgoLinked.linked])
    }
  })

  it('non-Go files have none', () => {
    expect(readGoBuildInfo(readFileSync(bins['c-dynamic']))).toBeUndefined()
  })
})

describe('linked std packages', () => {
  it('agree with go tool nm on every unstripped Go binary', async () => {
    const cases = [bins['go-cgo'], bins['go-tags'], bins['go-static-arm64'], join(TRIVY_GO, 'test.elf'), join(TRIVY_GO, 'goexperiment')]
    for (const path of cases) {
      const info = readGoBuildInfo(readFileSync(path))!
      const got = Object.fromEntries(Object.entries(info.packages).map(([k, v]) => [k, v.linked]))
      const want = {
        cryptoX509: await nmHasPackage(path, 'crypto/x509.'),
        net: await nmHasPackage(path, 'net.'),
        osUser: await nmHasPackage(path, 'os/user.'),
        timeTzdata: await nmHasPackage(path, 'time/tzdata.'),
        loadLocation: await nmHasPackage(path, 'time.LoadLocation', true),
      }
      expect([path, got]).toEqual([path, want])
    }
  })

  it('the program that uses x509, net, os/user and time: found even after -s -w stripped its symbols', () => {
    const stat = readGoBuildInfo(readFileSync(bins['go-static-amd64']))!
    expect(Object.values(stat.packages).map((p) => p.linked)).toEqual([true, true, true, false, true])
    expect(stat.packages.cryptoX509.evidence).toMatch(/^function crypto\/x509\.\S+ in \.gopclntab$/)
    const tags = readGoBuildInfo(readFileSync(bins['go-tags']))!
    expect(tags.packages.timeTzdata.linked).toBe(true) // -tags timetzdata embeds time/tzdata
    const small = readGoBuildInfo(readFileSync(bins['go-static-arm64']))!
    expect(Object.values(small.packages).map((p) => p.linked)).toEqual([false, false, false, false, false])
  })
})

describe('module text details', () => {
  it('goUnquote handles Go escapes and rejects malformed quotes', () => {
    expect(goUnquote('"-X main.v=\\"a b\\"\\t\\u00e9\\x41\\101"')).toBe('-X main.v="a b"\té' + 'AA')
    expect(goUnquote('`raw\\n`')).toBe('raw\\n')
    expect(goUnquote('"unterminated')).toBeUndefined()
    expect(goUnquote('"bad \\q"')).toBeUndefined()
  })

  it('parseModInfo: replacements attach to the line before; quoted keys; junk becomes warnings', () => {
    const warnings: string[] = []
    const m = parseModInfo(
      ['path\texample.com/x', 'mod\texample.com/x\t(devel)\t', 'dep\ta.com/b\tv1.0.0\th1:abc=', '=>\ta.com/c\tv1.1.0\th1:def=', 'build\t"we=ird"=v', 'build\t-tags=netgo', '=>\torphan\tv0', 'nonsense'].join('\n'),
      warnings,
    )
    expect(m.deps).toEqual([{ path: 'a.com/b', version: 'v1.0.0', sum: 'h1:abc=', replace: { path: 'a.com/c', version: 'v1.1.0', sum: 'h1:def=' } }])
    expect(m.settings).toEqual([
      { key: 'we=ird', value: 'v' },
      { key: '-tags', value: 'netgo' },
    ])
    expect(warnings).toHaveLength(2)
  })
})
