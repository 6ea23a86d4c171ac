/**
 * Real ELF binaries for tests, built once with the machine's toolchains (gcc, g++, musl-gcc, go,
 * cargo) into the test cache and reused: `${SLIM_TEST_CACHE ?? /var/tmp/slim-test-cache}/elf-bins`.
 * Each binary is rebuilt only when its recipe (sources + command) changes; a stamp file holds the
 * recipe hash. Builds happen in a private directory and are renamed into place, so test files
 * running in parallel never see a half-written binary. Go and cargo caches live in the same cache
 * directory, so nothing is written to $HOME.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export const ELF_BINS_DIR = join(process.env.SLIM_TEST_CACHE ?? '/var/tmp/slim-test-cache', 'elf-bins')

const C_HELLO = `#include <stdio.h>
int main(int argc, char **argv) { printf("hello %d\\n", argc); return 0; }
`

/** Calls every libc entry point that implies a run-time file, so impliedNeeds can be checked against readelf. */
const C_NEEDS = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <iconv.h>
#include <locale.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <time.h>
static void *worker(void *arg) { pthread_exit(arg); }
int main(int argc, char **argv) {
  struct addrinfo *ai = 0;
  if (argc > 5) {
    getaddrinfo(argv[1], "80", 0, &ai);
    struct passwd *pw = getpwnam(argv[1]);
    struct group *gr = getgrgid(0);
    struct servent *se = getservbyname("http", "tcp");
    iconv_t cd = iconv_open("UTF-8", "LATIN1");
    time_t t = time(0);
    struct tm *tm = localtime(&t);
    void *h = dlopen(argv[2], RTLD_NOW);
    pthread_t th;
    pthread_create(&th, 0, worker, 0);
    pthread_cancel(th);
    printf("%p %p %p %p %p %p\\n", (void *)pw, (void *)gr, (void *)se, (void *)cd, (void *)tm, h);
  }
  setlocale(LC_ALL, "");
  return 0;
}
`

const C_DLOPEN = `#include <dlfcn.h>
#include <stdio.h>
int main(void) {
  void *h = dlopen("libz.so.1", RTLD_NOW);
  const char *(*v)(void) = h ? (const char *(*)(void))dlsym(h, "zlibVersion") : 0;
  printf("zlib %s\\n", v ? v() : "missing");
  return 0;
}
`

/** A systemd-style ELF_DLOPEN_METADATA note (owner "FDO", type 0x407c0c0a, NUL-terminated JSON). */
export const DLOPEN_NOTE_JSON = '[{"feature":"compression","description":"Support for zstd","priority":"recommended","soname":["libzstd.so.1"]},{"soname":["libpcre2-8.so.0","libpcre2-8.so"]}]'
const C_DLOPEN_NOTE = `#include <stdint.h>
#include <stdio.h>
#define JSON ${JSON.stringify(DLOPEN_NOTE_JSON)}
__attribute__((used, section(".note.dlopen"), aligned(4)))
static const struct { uint32_t namesz, descsz, type; char name[4]; char desc[(sizeof(JSON) + 3) & ~3]; } note =
  { 4, sizeof(JSON), 0x407c0c0a, "FDO", JSON };
int main(void) { puts("note"); return 0; }
`

const C_ANSWER_LIB = `int answer(void) { return 42; }
`
const C_ANSWER_MAIN = `#include <stdio.h>
int answer(void);
int main(void) { printf("%d\\n", answer()); return 0; }
`

const CXX_HELLO = `#include <iostream>
#include <string>
#include <vector>
int main(int argc, char **argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::cout << "hello " << args.size() << std::endl;
  return 0;
}
`

const GO_MOD = `module example.com/app

go 1.19

require example.com/greet v0.0.0

replace example.com/greet => ./greet
`
const GO_GREET_MOD = `module example.com/greet

go 1.19
`
const GO_GREET = `package greet

func Hello(name string) string { return "hello " + name }
`
/** Uses the four std packages whose run-time files matter: crypto/x509, net, os/user, time (zoneinfo). */
const GO_MAIN = `package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/user"
	"time"

	"example.com/greet"
)

var version = "dev"

func main() {
	fmt.Println(greet.Hello("go"), version)
	if len(os.Args) > 3 {
		pool, err := x509.SystemCertPool()
		fmt.Println(pool != nil, err)
		addrs, err := net.LookupHost(os.Args[1])
		fmt.Println(addrs, err)
		u, err := user.Current()
		fmt.Println(u, err)
		loc, err := time.LoadLocation(os.Args[2])
		fmt.Println(loc, err)
	}
}
`
/** No net, no os/user: for arm64 and to check that absent packages are reported absent. */
const GO_SMALL_MOD = `module example.com/small

go 1.19
`
const GO_SMALL = `package main

import (
	"fmt"
	"os"
)

func main() { fmt.Println("small", len(os.Args)) }
`

const RUST_TOML = `[package]
name = "hello"
version = "0.1.0"
edition = "2021"

[dependencies]
`
const RUST_MAIN = `fn main() {
    let v: Vec<String> = std::env::args().collect();
    println!("hello {}", v.len());
}
`

export type ElfBinName =
  | 'c-dynamic'
  | 'c-static'
  | 'c-static-pie'
  | 'c-relr'
  | 'c-object'
  | 'c-needs'
  | 'c-dlopen'
  | 'c-dlopen-note'
  | 'musl-static'
  | 'musl-static-stripped'
  | 'musl-dynamic'
  | 'cxx-dynamic'
  | 'lib-answer'
  | 'c-origin-rpath'
  | 'c-runpath'
  | 'c-rpath'
  | 'go-static-amd64'
  | 'go-static-arm64'
  | 'go-cgo'
  | 'go-tags'
  | 'rust-dynamic'
  | 'rust-static-pie'

interface Recipe {
  name: ElfBinName
  /** Source files written into the build directory. */
  files: Record<string, string>
  /** Shell script run in the build directory; it must produce ./out. */
  script: string
}

/** Arguments that matter for the oracle checks are written out here, not hidden in helpers. */
export const GO_LDFLAGS = '-s -w -X main.version=1.2.3'
export const RUNPATH_DIRS = ['/opt/slim/lib', '/opt/slim/lib64']
export const RPATH_DIRS = ['/opt/old/lib', '$ORIGIN/../lib']

const goFiles = { 'go.mod': GO_MOD, 'main.go': GO_MAIN, 'greet/go.mod': GO_GREET_MOD, 'greet/greet.go': GO_GREET }

const RECIPES: Recipe[] = [
  { name: 'c-dynamic', files: { 'h.c': C_HELLO }, script: 'gcc -O2 -o out h.c' },
  { name: 'c-static', files: { 'h.c': C_HELLO }, script: 'gcc -O2 -static -o out h.c' },
  { name: 'c-static-pie', files: { 'h.c': C_HELLO }, script: 'gcc -O2 -static-pie -o out h.c' },
  { name: 'c-relr', files: { 'h.c': C_HELLO }, script: 'gcc -O2 -Wl,-z,pack-relative-relocs -o out h.c' },
  { name: 'c-object', files: { 'h.c': C_HELLO }, script: 'gcc -O2 -c -o out h.c' },
  { name: 'c-needs', files: { 'n.c': C_NEEDS }, script: 'gcc -O2 -pthread -o out n.c' },
  { name: 'c-dlopen', files: { 'd.c': C_DLOPEN }, script: 'gcc -O2 -o out d.c' },
  { name: 'c-dlopen-note', files: { 'n.c': C_DLOPEN_NOTE }, script: 'gcc -O2 -o out n.c' },
  { name: 'musl-static', files: { 'h.c': C_HELLO }, script: 'musl-gcc -O2 -static -o out h.c' },
  { name: 'musl-static-stripped', files: { 'h.c': C_HELLO }, script: 'musl-gcc -O2 -static -o out h.c && strip out' },
  { name: 'musl-dynamic', files: { 'h.c': C_HELLO }, script: 'musl-gcc -O2 -o out h.c' },
  { name: 'cxx-dynamic', files: { 'h.cc': CXX_HELLO }, script: 'g++ -O2 -o out h.cc' },
  { name: 'lib-answer', files: { 'a.c': C_ANSWER_LIB }, script: 'gcc -O2 -shared -fPIC -Wl,-soname,libanswer.so.1 -o out a.c' },
  {
    name: 'c-origin-rpath',
    files: { 'a.c': C_ANSWER_LIB, 'm.c': C_ANSWER_MAIN },
    script: "mkdir -p lib && gcc -shared -fPIC -o lib/libanswer.so a.c && gcc -O2 -o out m.c -Llib -lanswer -Wl,-rpath,'$ORIGIN/lib'",
  },
  {
    name: 'c-runpath',
    files: { 'a.c': C_ANSWER_LIB, 'm.c': C_ANSWER_MAIN },
    script: `mkdir -p lib && gcc -shared -fPIC -o lib/libanswer.so a.c && gcc -O2 -o out m.c -Llib -lanswer -Wl,--enable-new-dtags -Wl,-rpath,${RUNPATH_DIRS.join(':')}`,
  },
  {
    name: 'c-rpath',
    files: { 'a.c': C_ANSWER_LIB, 'm.c': C_ANSWER_MAIN },
    script: `mkdir -p lib && gcc -shared -fPIC -o lib/libanswer.so a.c && gcc -O2 -o out m.c -Llib -lanswer -Wl,--disable-new-dtags -Wl,-rpath,'${RPATH_DIRS.join(':')}'`,
  },
  { name: 'go-static-amd64', files: goFiles, script: `CGO_ENABLED=0 GOARCH=amd64 go build -ldflags='${GO_LDFLAGS}' -o out .` },
  { name: 'go-static-arm64', files: { 'go.mod': GO_SMALL_MOD, 'main.go': GO_SMALL }, script: 'CGO_ENABLED=0 GOARCH=arm64 go build -o out .' },
  { name: 'go-cgo', files: goFiles, script: 'CGO_ENABLED=1 GOARCH=amd64 go build -o out .' },
  { name: 'go-tags', files: goFiles, script: 'CGO_ENABLED=1 GOARCH=amd64 go build -tags netgo,osusergo,timetzdata -trimpath -o out .' },
  { name: 'rust-dynamic', files: { 'Cargo.toml': RUST_TOML, 'src/main.rs': RUST_MAIN }, script: 'cargo build --release --offline --quiet && cp target/release/hello out' },
  {
    name: 'rust-static-pie',
    files: { 'Cargo.toml': RUST_TOML, 'src/main.rs': RUST_MAIN },
    script: "RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --offline --quiet --target x86_64-unknown-linux-gnu && cp target/x86_64-unknown-linux-gnu/release/hello out",
  },
]

function recipeHash(r: Recipe): string {
  return createHash('sha256').update(JSON.stringify([r.files, r.script])).digest('hex').slice(0, 16)
}

function toolEnv(): NodeJS.ProcessEnv {
  const cargoBin = join(homedir(), '.cargo', 'bin')
  return {
    ...process.env,
    PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:${cargoBin}`,
    GOCACHE: join(ELF_BINS_DIR, '.go-cache'),
    GOPATH: join(ELF_BINS_DIR, '.go-path'),
    GOPROXY: 'off',
    GOFLAGS: '-mod=mod',
    GOENV: 'off',
    GOTOOLCHAIN: 'local',
    CARGO_HOME: join(ELF_BINS_DIR, '.cargo-home'),
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'),
  }
}

const LOCK_STALE_MS = 15 * 60 * 1000

function isBuilt(out: string, hash: string): boolean {
  try {
    return existsSync(out) && readFileSync(`${out}.stamp`, 'utf8') === hash
  } catch {
    return false
  }
}

/**
 * One builder per binary across the parallel test processes: mkdir is atomic, so the process that
 * creates `<name>.lock` builds and the others wait for it (a lock older than 15 minutes is stale).
 */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await mkdir(lock)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
      if (age > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true })
      else await new Promise((r) => setTimeout(r, 500))
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

async function build(r: Recipe): Promise<string> {
  const out = join(ELF_BINS_DIR, r.name)
  const hash = recipeHash(r)
  if (isBuilt(out, hash)) return out
  return withLock(`${out}.lock`, async () => {
    if (isBuilt(out, hash)) return out // another process built it while we waited
    const work = join(ELF_BINS_DIR, `.build-${r.name}-${process.pid}`)
    await rm(work, { recursive: true, force: true })
    try {
      for (const [rel, text] of Object.entries(r.files)) {
        await mkdir(join(work, rel, '..'), { recursive: true })
        await writeFile(join(work, rel), text)
      }
      try {
        await exec('bash', ['-euo', 'pipefail', '-c', r.script], { cwd: work, env: toolEnv(), maxBuffer: 16 * 1024 * 1024 })
      } catch (e) {
        const err = e as { stderr?: string; message: string }
        throw new Error(`building test binary ${r.name} failed (${r.script}): ${err.stderr?.trim() || err.message}`)
      }
      await rename(join(work, 'out'), out)
      await writeFile(`${out}.stamp`, hash)
      return out
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  })
}

/** Build (or reuse) the named binaries, one at a time (the machine has two shared cores). */
export async function elfBins<N extends ElfBinName>(names: readonly N[]): Promise<Record<N, string>> {
  await mkdir(ELF_BINS_DIR, { recursive: true })
  const result = {} as Record<N, string>
  for (const name of names) {
    const recipe = RECIPES.find((r) => r.name === name)
    if (!recipe) throw new Error(`unknown test binary ${name}`)
    result[name] = await build(recipe)
  }
  return result
}

export const ALL_ELF_BINS: readonly ElfBinName[] = RECIPES.map((r) => r.name)

/** Facts binutils' readelf reports for a file: the oracle parseElf is checked against. */
export interface ReadelfFacts {
  class?: 'ELF32' | 'ELF64'
  little?: boolean
  /** The Type line, e.g. "DYN (Position-Independent Executable file)". */
  type?: string
  /** The Machine line, e.g. "Advanced Micro Devices X86-64". */
  machine?: string
  interpreter?: string
  needed: string[]
  soname?: string
  rpath?: string
  runpath?: string
  flags1: string[]
  versionNeeds: { file: string; versions: string[] }[]
  /** Undefined .dynsym entries: [name, version or undefined]. */
  undefinedSymbols: [string, string | undefined][]
  /** readelf's stdout, for debugging a failed comparison. */
  raw: string
}

/** Run `readelf -h -l -d -V --dyn-syms -W` (exit status ignored: damaged files still print what they can). */
export async function readelfFacts(path: string): Promise<ReadelfFacts> {
  let raw: string
  try {
    raw = (await exec('readelf', ['-h', '-l', '-d', '-V', '--dyn-syms', '-W', path], { maxBuffer: 64 * 1024 * 1024 })).stdout
  } catch (e) {
    raw = (e as { stdout?: string }).stdout ?? ''
  }
  const facts: ReadelfFacts = { needed: [], flags1: [], versionNeeds: [], undefinedSymbols: [], raw }
  let inDynsym = false
  let inVerneed = false
  for (const line of raw.split('\n')) {
    let m: RegExpExecArray | null
    if ((m = /^\s+Class:\s+(ELF32|ELF64)/.exec(line))) facts.class = m[1] as 'ELF32' | 'ELF64'
    else if ((m = /^\s+Data:\s+.*(little|big) endian/.exec(line))) facts.little = m[1] === 'little'
    else if ((m = /^\s+Type:\s+(.*\S)/.exec(line))) facts.type = m[1]
    else if ((m = /^\s+Machine:\s+(.*\S)/.exec(line))) facts.machine = m[1]
    else if ((m = /\[Requesting program interpreter: (.*)\]/.exec(line))) facts.interpreter = m[1]
    else if ((m = /\(NEEDED\)\s+Shared library: \[(.*)\]/.exec(line))) facts.needed.push(m[1]!)
    else if ((m = /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(line))) facts.soname = m[1]
    else if ((m = /\(RPATH\)\s+Library rpath: \[(.*)\]/.exec(line))) facts.rpath = m[1]
    else if ((m = /\(RUNPATH\)\s+Library runpath: \[(.*)\]/.exec(line))) facts.runpath = m[1]
    else if ((m = /\(FLAGS_1\)\s+Flags: (.*)/.exec(line))) facts.flags1 = m[1]!.trim().split(/\s+/)
    if (/^Symbol table '\.dynsym'/.test(line)) inDynsym = true
    else if (/^\S/.test(line)) inDynsym = false
    if (/^Version needs section/.test(line)) inVerneed = true
    else if (/^\S/.test(line) && !/^Version needs section/.test(line)) inVerneed = false
    if (inVerneed) {
      if ((m = /^\s+[0-9a-fx]+: Version: \d+\s+File: (\S+)\s+Cnt:/.exec(line))) facts.versionNeeds.push({ file: m[1]!, versions: [] })
      else if ((m = /^\s+0x[0-9a-f]+:\s+Name: (\S+)\s+Flags:/.exec(line))) facts.versionNeeds.at(-1)?.versions.push(m[1]!)
    }
    if (inDynsym && (m = /^\s+(\d+): [0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+\s+UND (\S+)/.exec(line)) && m[1] !== '0') {
      const [name, version] = m[2]!.split(/@+/)
      facts.undefinedSymbols.push([name!, version])
    }
  }
  return facts
}

/** `go version -m FILE`, parsed: the oracle for Go build info. */
export interface GoVersionFacts {
  goVersion: string
  lines: string[][]
}

export async function goVersionFacts(path: string): Promise<GoVersionFacts> {
  const { stdout } = await exec('go', ['version', '-m', path], { env: toolEnv(), maxBuffer: 16 * 1024 * 1024 })
  const [first, ...rest] = stdout.split('\n')
  const goVersion = first!.slice(first!.indexOf(': ') + 2)
  const lines = rest.filter((l) => l.trim() !== '').map((l) => l.replace(/^\t/, '').split('\t'))
  return { goVersion, lines }
}

/**
 * A "super-stripped" copy: section header fields in the ELF header zeroed (e_shoff, e_shnum,
 * e_shstrndx), as sstrip-like tools leave files. The loader never reads section headers, so the
 * program still runs; a reader must fall back to program headers and the dynamic segment.
 */
export function superStrip(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes)
  const is64 = copy[4] === 2
  const little = copy[5] === 1
  const shoff = is64 ? 40 : 32
  const shnum = is64 ? 60 : 48
  if (is64) copy.fill(0, shoff, shoff + 8)
  else copy.fill(0, shoff, shoff + 4)
  for (const off of [shnum, shnum + 2]) little ? copy.writeUInt16LE(0, off) : copy.writeUInt16BE(0, off)
  return copy
}

/** `readelf -x SECTION` as bytes (undefined when readelf has no such section). */
export async function readelfSectionBytes(path: string, section: string): Promise<Buffer | undefined> {
  let raw: string
  try {
    raw = (await exec('readelf', ['-x', section, '-W', path], { maxBuffer: 64 * 1024 * 1024 })).stdout
  } catch {
    return undefined
  }
  const hex: string[] = []
  for (const line of raw.split('\n')) {
    const m = /^\s+0x[0-9a-f]+ ((?:[0-9a-f]{2,8} ){1,4})/.exec(line)
    if (m) hex.push(m[1]!.replace(/\s+/g, ''))
  }
  return hex.length > 0 ? Buffer.from(hex.join(''), 'hex') : undefined
}

const READELF_MACHINES: Record<string, string> = {
  'Advanced Micro Devices X86-64': 'x86-64',
  AArch64: 'aarch64',
  'Intel 80386': 'i386',
  ARM: 'arm',
  'IBM S/390': 's390x',
  'PowerPC64': 'ppc64',
  'LoongArch': 'loongarch64',
}

/** The ElfInfo fields parseElf shares with readelf, as the subset of ElfInfo they describe. */
export interface ElfInfoLike {
  class: 32 | 64
  endianness: 'little' | 'big'
  machine: string
  type: string
  interpreter?: string
  needed: string[]
  soname?: string
  rpath: string[]
  runpath: string[]
  flags1: string[]
  versionNeeds: { file: string; versions: string[] }[]
  importedSymbols: string[]
  importedSymbolVersions?: string[]
}

/**
 * Every difference between parseElf's answer and readelf's, as readable lines ([] when they agree).
 * Type mapping: readelf prints "DYN (Position-Independent Executable file)" exactly when DF_1_PIE
 * is set, which parseElf calls PIE (with PT_INTERP) or static-pie (without); "Shared object" is
 * DYN, or PIE for an old executable that asks for a loader without setting DF_1_PIE.
 */
export function readelfMismatches(info: ElfInfoLike, facts: ReadelfFacts, what: { symbols?: boolean; versions?: boolean } = {}): string[] {
  const out: string[] = []
  const diff = (field: string, ours: unknown, theirs: unknown) => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) out.push(`${field}: parseElf ${JSON.stringify(ours)} vs readelf ${JSON.stringify(theirs)}`)
  }
  diff('class', `ELF${info.class}`, facts.class)
  diff('little-endian', info.endianness === 'little', facts.little)
  const machine = facts.machine === 'RISC-V' ? (info.class === 64 ? 'riscv64' : 'riscv32') : facts.machine === 'PowerPC64' && info.endianness === 'little' ? 'ppc64le' : READELF_MACHINES[facts.machine ?? '']
  diff('machine', info.machine, machine ?? facts.machine)
  const t = facts.type ?? ''
  const typeOk =
    t.startsWith('EXEC ') ? info.type === 'EXEC'
    : t.startsWith('DYN (Position-Independent') ? info.type === 'PIE' || info.type === 'static-pie'
    : t.startsWith('DYN (Shared object') ? info.type === 'DYN' || (info.type === 'PIE' && info.interpreter !== undefined && !info.flags1.includes('PIE'))
    : t.startsWith('REL ') ? info.type === 'REL'
    : t.startsWith('CORE ') ? info.type === 'CORE'
    : false
  if (!typeOk) out.push(`type: parseElf ${info.type} vs readelf ${t}`)
  diff('interpreter', info.interpreter, facts.interpreter)
  diff('needed', info.needed, facts.needed)
  diff('soname', info.soname, facts.soname)
  diff('rpath', info.rpath.join(':') || undefined, facts.rpath || undefined)
  diff('runpath', info.runpath.join(':') || undefined, facts.runpath || undefined)
  diff('flags1', info.flags1, facts.flags1)
  if (what.versions !== false) diff('versionNeeds', info.versionNeeds, facts.versionNeeds)
  if (what.symbols !== false) {
    diff('importedSymbols', [...info.importedSymbols].sort(), facts.undefinedSymbols.map(([n]) => n).sort())
    if (info.importedSymbolVersions) {
      diff('importedSymbolVersions', [...info.importedSymbolVersions].sort(), facts.undefinedSymbols.map(([n, v]) => (v ? `${n}@${v}` : n)).sort())
    }
  }
  return out
}
