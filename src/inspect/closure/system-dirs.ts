/**
 * The loader's built-in directories. glibc compiles its "trusted" system directories into ld.so
 * (`ld.so --help` prints them: on Debian x86-64 /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu,
 * /lib, /usr/lib; on Fedora /lib64, /usr/lib64), stored as consecutive NUL-terminated strings. slim
 * reads them from the image's own ld.so, so it uses the same list the image's loader uses, and
 * falls back to what the image's layout suggests when the loader cannot be read.
 * musl's built-in default is "/lib:/usr/local/lib:/usr/lib".
 */
import type { ElfClass, ElfMachine } from '../elf/types.js'
import type { RootFs } from '../../layers/rootfs.js'

export const MUSL_DEFAULT_PATH = ['/lib', '/usr/local/lib', '/usr/lib']

/** Debian/Ubuntu multiarch triplets. */
const TRIPLETS: Partial<Record<ElfMachine, string>> = {
  'x86-64': 'x86_64-linux-gnu',
  aarch64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  i386: 'i386-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  s390x: 's390x-linux-gnu',
  ppc64le: 'powerpc64le-linux-gnu',
  ppc64: 'powerpc64-linux-gnu',
  mips: 'mips-linux-gnu',
  loongarch64: 'loongarch64-linux-gnu',
}

/** glibc's AT_PLATFORM strings, which $PLATFORM expands to. */
const PLATFORMS: Partial<Record<ElfMachine, string>> = {
  'x86-64': 'x86_64',
  aarch64: 'aarch64',
  i386: 'i686',
  arm: 'v7l',
  riscv64: 'riscv64',
  s390x: 'z13',
  ppc64le: 'power9',
  ppc64: 'power8',
}

/** glibc-hwcaps subdirectory names per machine, highest first (glibc 2.33+). */
export const HWCAPS_SUBDIRS: Partial<Record<ElfMachine, string[]>> = {
  'x86-64': ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'],
  ppc64le: ['power10', 'power9'],
  s390x: ['z16', 'z15', 'z14', 'z13'],
  aarch64: [],
}

export function multiarchTriplet(machine: ElfMachine): string | undefined {
  return TRIPLETS[machine]
}

export function platformString(machine: ElfMachine): string | undefined {
  return PLATFORMS[machine]
}

/**
 * The trusted directories compiled into a glibc ld.so: the first run of at least two consecutive
 * NUL-terminated strings that look like library directories ("/lib/", "/usr/lib64/", ...).
 */
export function trustedDirsFromLoader(bytes: Buffer): string[] | undefined {
  const text = bytes.toString('latin1')
  const re = /\0((?:\/(?:usr\/)?lib[A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_.+-]+)?\/\0){2,8})/g
  const m = re.exec(text)
  if (!m) return undefined
  const dirs = m[1]!
    .split('\0')
    .filter(Boolean)
    .map((d) => d.replace(/\/+$/, ''))
  return dirs.length >= 2 ? dirs : undefined
}

/** Trusted directories from the image layout, when the loader's own list is not readable. */
export function guessTrustedDirs(rootfs: RootFs, machine: ElfMachine, cls: ElfClass): string[] {
  const triplet = multiarchTriplet(machine)
  if (triplet && (rootfs.stat(`/lib/${triplet}`)?.type === 'dir' || rootfs.stat(`/usr/lib/${triplet}`)?.type === 'dir')) {
    return [`/lib/${triplet}`, `/usr/lib/${triplet}`, '/lib', '/usr/lib']
  }
  if (cls === 64 && (rootfs.stat('/lib64')?.type === 'dir' || rootfs.stat('/usr/lib64')?.type === 'dir')) {
    // Fedora/RHEL/SUSE put 64-bit libraries in lib64; their ld.so searches only those.
    return ['/lib64', '/usr/lib64']
  }
  return ['/lib', '/usr/lib']
}

/** What $LIB expands to, derived from the trusted directories' first entry (Debian: the multiarch
 * directory "lib/x86_64-linux-gnu"; Fedora: "lib64"; otherwise "lib"). */
export function dstLibFromTrustedDirs(dirs: string[]): string {
  const first = dirs[0] ?? '/lib'
  const m = /^\/(lib(?:64|32|x32)?(?:\/[^/]+)?)$/.exec(first)
  return m ? m[1]! : 'lib'
}
