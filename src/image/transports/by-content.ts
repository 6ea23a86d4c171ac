import { SlimError } from '../../core/errors.js'
import { openOuterArchive, type TempPlace } from '../archive/outer.js'
import type { ImageSource } from '../source.js'
import { sourceFromArchive } from './docker-archive.js'
import { TarLayoutFiles } from './oci-archive.js'
import { openLayoutSource } from './oci-layout.js'

/**
 * A bare archive path (`slim analyze ./image.tar`): opened once (gzip/xz/zstd wrappers undone
 * once) and read as what its contents say. A docker save has manifest.json (Docker 25+ saves also
 * carry an OCI layout whose index.json may list nothing, so manifest.json wins); an OCI archive has
 * index.json / oci-layout.
 */
export async function openArchiveByContent(path: string, place: TempPlace = {}): Promise<ImageSource> {
  const archive = await openOuterArchive(path, path, place)
  try {
    if (archive.index.get('manifest.json')) {
      return await sourceFromArchive(archive, path, undefined, { reference: `docker-archive:${path}`, ...place })
    }
    if (archive.index.get('index.json') || archive.index.get('oci-layout')) {
      return await openLayoutSource(new TarLayoutFiles(archive, `oci-archive:${path}`), undefined, { transport: 'oci-archive', reference: `oci-archive:${path}` })
    }
    throw new SlimError('format', `${path} is neither a docker save archive (no manifest.json) nor an OCI archive (no index.json); give an image archive, an OCI layout directory or a registry reference`)
  } catch (e) {
    await archive.close()
    throw e
  }
}
