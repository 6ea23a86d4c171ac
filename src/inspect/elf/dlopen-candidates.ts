/**
 * Library names a program may dlopen, found in its read-only strings. A program that calls
 * dlopen("libz.so.1") keeps that name in .rodata, and nothing in its dynamic section mentions it;
 * these names are candidates ("found in the binary's strings"), not proof that it loads them.
 */
import { matchesIn, type ByteSource } from '../../core/byte-source.js'
import { openElf, readOnlyData, sectionSource, type ElfFile } from './elf-file.js'
import { readDynamic } from './dynamic.js'
import { SHT } from './constants.js'
import type { ElfInfo } from './types.js'

/**
 * lib<name>.so or lib<name>.so.<N>[.<N>...], standing alone: not preceded by a name character
 * (so "xlibfoo.so" is not "libfoo.so"), not followed by more name (so "libfoo.so.conf" is not a
 * library). Format strings like "lib%s.so" cannot match.
 */
const SONAME_PATTERN = /(?<![A-Za-z0-9_+.\-/])lib[A-Za-z0-9_+\-][A-Za-z0-9_+.\-]{0,100}?\.so(?:\.\d+)*(?!\.?[A-Za-z0-9_])/g

/** Sonames in one byte region, in order of first appearance. */
export function sonamesIn(data: Buffer): string[] {
  const text = data.toString('latin1')
  const found: string[] = []
  for (const m of text.matchAll(SONAME_PATTERN)) found.push(m[0])
  return found
}

function regions(file: ElfFile): ByteSource[] {
  const out = readOnlyData(file)
  const dynstr = file.sections.find((s) => s.name === '.dynstr' && s.type === SHT.STRTAB)
  if (dynstr) out.push(sectionSource(file, dynstr))
  return out
}

/**
 * Candidate dlopen'd sonames in `bytes`, excluding the file's own NEEDED entries and SONAME.
 * Pass `info` when already parsed to skip re-reading the dynamic section. Never throws for
 * damaged files that parseElf accepts; non-ELF input throws SlimError('format') like parseElf.
 */
export function dlopenCandidates(bytes: Buffer | ByteSource, info?: Pick<ElfInfo, 'needed' | 'soname'>): string[] {
  const file = openElf(bytes)
  let exclude: Set<string>
  if (info) {
    exclude = new Set(info.soname ? [...info.needed, info.soname] : info.needed)
  } else {
    const dyn = readDynamic(file)
    exclude = new Set(dyn ? (dyn.soname ? [...dyn.needed, dyn.soname] : dyn.needed) : [])
  }
  const seen = new Set<string>()
  const out: string[] = []
  for (const region of regions(file)) {
    for (const name of matchesIn(region, SONAME_PATTERN)) {
      if (exclude.has(name) || seen.has(name)) continue
      seen.add(name)
      out.push(name)
    }
  }
  return out
}
