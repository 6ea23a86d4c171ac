import type { Readable } from 'node:stream'
import { SlimError } from '../../core/errors.js'
import { openOuterArchive, type OuterArchive, type TempPlace } from '../archive/outer.js'
import { normalizeEntryName } from '../archive/tar-index.js'
import { readAllLimited } from '../read-all.js'
import type { ImageSource } from '../source.js'
import { missingLayoutFile, openLayoutSource, type LayoutFiles } from './oci-layout.js'

/** An OCI layout inside a tar, read by byte range (never extracted). */
export class TarLayoutFiles implements LayoutFiles {
  constructor(
    private readonly archive: OuterArchive,
    readonly display: string,
  ) {}

  async kind(rel: string): Promise<'file' | 'dir' | 'missing'> {
    const name = normalizeEntryName(rel)
    const e = this.archive.index.get(name)
    if (e) return e.type === 'dir' ? 'dir' : 'file'
    // Tars need not list directories: `index.json/.keep` alone makes index.json a directory.
    for (const key of this.archive.index.entries.keys()) if (key.startsWith(`${name}/`)) return 'dir'
    return 'missing'
  }

  async read(rel: string, limit: number, what: string): Promise<Buffer> {
    return readAllLimited(await this.stream(rel, what), limit, `${this.display}: ${what}`)
  }

  async stream(rel: string, what: string): Promise<Readable> {
    if ((await this.kind(rel)) === 'missing') throw missingLayoutFile(this.display, rel, what)
    return this.archive.index.stream(this.archive.index.resolveFile(rel, what))
  }

  close(): Promise<void> {
    return this.archive.close()
  }
}

/** `oci-archive:PATH[:REF]` */
export async function openOciArchive(path: string, ref: string | undefined, reference: string, place: TempPlace = {}): Promise<ImageSource> {
  const display = `oci-archive:${path}`
  const archive = await openOuterArchive(path, display, place)
  try {
    return await openLayoutSource(new TarLayoutFiles(archive, display), ref, { transport: 'oci-archive', reference })
  } catch (e) {
    await archive.close()
    if (e instanceof SlimError && e.kind === 'not-found' && /no index\.json, but a manifest\.json/.test(e.message)) {
      throw new SlimError('format', `${display} is a docker save archive, not an OCI archive; open it as docker-archive:${path}`)
    }
    throw e
  }
}
