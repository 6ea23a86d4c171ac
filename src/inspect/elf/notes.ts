/**
 * ELF notes (SHT_NOTE sections, or PT_NOTE segments when there are no section headers): the GNU
 * build ID, the Go build ID, and systemd's `.note.dlopen` (ELF_DLOPEN_METADATA), which lists the
 * libraries a program may dlopen — names a NEEDED-only closure would miss.
 */
import { NT_FDO_DLOPEN_METADATA, NT_GNU_BUILD_ID, NT_GO_BUILDID, PT, SHT } from './constants.js'
import { sectionBytes, segmentBytes, type ElfFile } from './elf-file.js'
import type { ElfInfo } from './types.js'

export interface Note {
  name: string
  type: number
  desc: Buffer
}

export type DlopenNote = ElfInfo['dlopenNotes'][number]

function pad(n: number, align: number): number {
  return Math.ceil(n / align) * align
}

/** Split one note area into notes; stops (with a warning) at the first note that does not fit. */
export function splitNotes(data: Buffer, little: boolean, align: number, warnings: string[]): Note[] {
  const notes: Note[] = []
  const u32 = (o: number) => (little ? data.readUInt32LE(o) : data.readUInt32BE(o))
  let pos = 0
  while (pos + 12 <= data.length) {
    const namesz = u32(pos)
    const descsz = u32(pos + 4)
    const type = u32(pos + 8)
    const nameStart = pos + 12
    const descStart = nameStart + pad(namesz, 4)
    const descEnd = descStart + descsz
    if (descEnd > data.length) {
      warnings.push(`note at offset ${pos} (namesz ${namesz}, descsz ${descsz}) runs past the end of its note area`)
      break
    }
    notes.push({ name: data.toString('latin1', nameStart, nameStart + namesz).replace(/\0+$/, ''), type, desc: data.subarray(descStart, descEnd) })
    pos = pad(descEnd, align)
  }
  return notes
}

/** Every note in the file, from SHT_NOTE sections when the file has section headers, else PT_NOTE. */
export function readNotes(file: ElfFile): Note[] {
  const areas: { data: Buffer; align: number }[] = []
  const sections = file.sections.filter((s) => s.type === SHT.NOTE)
  if (sections.length > 0) {
    for (const s of sections) areas.push({ data: sectionBytes(file, s), align: s.addralign === 8 ? 8 : 4 })
  } else {
    for (const s of file.segments.filter((g) => g.type === PT.NOTE)) areas.push({ data: segmentBytes(file, s), align: s.align === 8 ? 8 : 4 })
  }
  return areas.flatMap((a) => splitNotes(a.data, file.bytes.little, a.align, file.warnings))
}

export function buildIdOf(notes: Note[]): string | undefined {
  return notes.find((n) => n.name === 'GNU' && n.type === NT_GNU_BUILD_ID)?.desc.toString('hex')
}

export function goBuildIdOf(notes: Note[]): string | undefined {
  const n = notes.find((x) => x.name === 'Go' && x.type === NT_GO_BUILDID)
  return n ? n.desc.toString('latin1').replace(/\0+$/, '') : undefined
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** Parse the JSON array of one FDO dlopen note; malformed entries become warnings. */
export function parseDlopenNote(desc: Buffer, warnings: string[]): DlopenNote[] {
  const nul = desc.indexOf(0)
  const text = desc.toString('utf8', 0, nul < 0 ? desc.length : nul)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    warnings.push(`.note.dlopen holds invalid JSON: ${e instanceof Error ? e.message : String(e)}`)
    return []
  }
  if (!Array.isArray(parsed)) {
    warnings.push('.note.dlopen JSON is not an array')
    return []
  }
  const out: DlopenNote[] = []
  for (const item of parsed) {
    const o = item as Record<string, unknown> | null
    const soname = o && typeof o === 'object' && Array.isArray(o.soname) ? o.soname.filter((s): s is string => typeof s === 'string') : []
    if (soname.length === 0) {
      warnings.push('.note.dlopen entry without a "soname" list ignored')
      continue
    }
    const note: DlopenNote = { soname }
    const feature = optionalString(o!.feature)
    const description = optionalString(o!.description)
    const priority = optionalString(o!.priority)
    if (feature !== undefined) note.feature = feature
    if (description !== undefined) note.description = description
    if (priority !== undefined) note.priority = priority
    out.push(note)
  }
  return out
}

export function dlopenNotesOf(notes: Note[], warnings: string[]): DlopenNote[] {
  return notes.filter((n) => n.name === 'FDO' && n.type === NT_FDO_DLOPEN_METADATA).flatMap((n) => parseDlopenNote(n.desc, warnings))
}
