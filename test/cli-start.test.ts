/**
 * bin/run.js's start-up (src/cli/start.ts): Node's compile cache goes only into slim's cache dir
 * (the one the run's flags name), and nowhere with --no-cache.
 */
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compileCacheDir } from '../src/cli/start.js'

describe('compile cache dir', () => {
  const env = { XDG_CACHE_HOME: '/xdg' }
  it('is <cache dir>/compile for the cache dir the flags name, else the default one', () => {
    expect(compileCacheDir(['analyze', 'img'], env)).toBe('/xdg/slim/compile')
    expect(compileCacheDir(['analyze', 'img', '--cache-dir', '/c'], env)).toBe('/c/compile')
    expect(compileCacheDir(['analyze', '--cache-dir=/d', 'img'], env)).toBe('/d/compile')
    expect(compileCacheDir(['analyze', 'img', '--cache-dir', 'rel/dir'], env)).toBe(join(resolve('rel/dir'), 'compile'))
  })
  it('is none with --no-cache and for `slim cache` (which prunes it), and arguments after -- are not flags', () => {
    expect(compileCacheDir(['analyze', 'img', '--no-cache'], env)).toBeUndefined()
    expect(compileCacheDir(['cache', 'prune', '--all', '--cache-dir', '/c'], env)).toBeUndefined()
    expect(compileCacheDir(['build', 'img', '--', '--no-cache', '--cache-dir', '/x'], env)).toBe('/xdg/slim/compile')
  })
})
