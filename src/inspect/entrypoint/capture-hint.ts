import { posix } from 'node:path'
import type { ImageConfig } from '../../image/types.js'

/**
 * Which files the layer index should keep from its first pass because inspection will read them
 * first: the programs the config names (by base name, wherever they are), the dynamic loaders and
 * the loader's configuration. Each saves inspection one pass over the layer that holds it; the
 * libraries are then read in one pass per breadth-first wave. A hint only: files it misses are
 * read later, and nothing depends on it for correctness.
 */
export function inspectionCaptureHint(config: ImageConfig): (path: string, size: number) => boolean {
  const names = new Set<string>()
  const c = config.config ?? {}
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])]
  for (const word of argv.slice(0, 4)) {
    // shell form: the first words of the command string matter too
    for (const w of word.split(/\s+/).slice(0, 3)) if (/^[\w./+-]+$/.test(w) && !w.startsWith('-')) names.add(posix.basename(w))
  }
  for (const n of ['sh', 'env', '-c']) names.delete(n)
  return (path, size) => {
    if (size > 64 * 1024 * 1024) return false
    const base = posix.basename(path)
    return names.has(base) || /^ld-(linux|musl)[\w.-]*\.so/.test(base) || path === '/etc/ld.so.conf' || path.startsWith('/etc/ld.so.conf.d/') || /^\/etc\/ld-musl-[\w]+\.path$/.test(path)
  }
}
