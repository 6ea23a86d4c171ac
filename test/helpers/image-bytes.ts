import { openImage } from '../../src/image/open.js'

/** Bytes of an image's layer blobs as its manifest gives them (compressed; a docker-archive's layers as stored in it). */
export async function layerBytes(ref: string): Promise<number> {
  const image = await openImage(ref)
  try {
    return image.layers.reduce((n, l) => n + Math.max(0, l.size), 0)
  } finally {
    await image.close()
  }
}
