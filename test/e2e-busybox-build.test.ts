/**
 * Hard links are programs (issue 12 item 2), proved by building: the imgutil busybox image (every
 * applet, /bin/sh included, is a hard link to /bin/busybox) is served by a real registry, the built
 * CLI writes its Dockerfile, buildah builds it, and the slim image's shell runs `echo ok` as the
 * image's USER in a bwrap sandbox of the unpacked result.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { buildahIn } from './helpers/base-registry.js'
import { CORPUS } from './helpers/shared.js'
import { pushLayout, startRegistry } from './infra/registry.js'
import { hasTool } from './helpers/tools.js'

const exec = promisify(execFile)
/** Shell builtins only (the slim image holds nothing but the shell): ok, then the uid it runs as. */
const SCRIPT = 'echo ok; while read -r k v rest; do case $k in Uid:) echo "$v" ;; esac; done < /proc/self/status'
const BUSYBOX_LAYOUT = `${CORPUS}/buildpacks__imgutil/layout/testdata/layout/busybox`

const tools = ['buildah', 'docker-registry', 'skopeo', 'umoci', 'bwrap'].filter((t) => !hasTool(t))
const work = mkdtempSync(join(tmpdir(), 'slim-busybox-build-'))
const buildah = buildahIn(work, 240_000)
afterAll(async () => {
  if (tools.length === 0) await buildah(['rmi', '--all', '--force']).catch(() => undefined)
  rmSync(work, { recursive: true, force: true })
})

describe(`the busybox image's Dockerfile builds and its shell runs${tools.length ? ` (skipped: no ${tools.join(', ')})` : ''}`, () => {
  it.skipIf(tools.length > 0)('slim dockerfile → buildah bud → sh -c "echo ok" as the image\'s USER', async () => {
    const reg = await startRegistry('plain')
    try {
      await pushLayout(BUSYBOX_LAYOUT, undefined, 'tools/busybox:1.36', reg)
      const df = await runCli(['dockerfile', `docker://${reg.host}/tools/busybox:1.36`, '--no-cache'])
      expect(df.code, df.stderr).toBe(0)
      // /bin/sh is a hard link to /bin/busybox: copied as the program it is, onto an empty base.
      expect(df.stdout).toMatch(/^FROM scratch$/m)
      expect(df.stdout).toMatch(/^COPY --from=source \/bin\/sh \/bin\/$/m)
      const ctx = join(work, 'ctx')
      mkdirSync(ctx)
      writeFileSync(join(ctx, 'Dockerfile'), df.stdout)

      const image = 'localhost/slim-e2e/busybox:1'
      await buildah(['bud', '-q', '--isolation', 'chroot', '--tls-verify=false', '-f', join(ctx, 'Dockerfile'), '-t', image, ctx])
      const config = (JSON.parse(await buildah(['inspect', '--type', 'image', image])) as { OCIv1: { config: { User?: string; Cmd?: string[]; Entrypoint?: string[] } } }).OCIv1.config
      const [uid, gid] = (config.User ?? '').split(':')
      expect(Number(uid)).toBeGreaterThan(0) // a numeric non-root user, as the Dockerfile says
      const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]
      expect(command[0]).toMatch(/^(\/bin\/)?sh$/)

      // Unpack the built image and run its own command (the shell) with -c, as that user.
      const layout = join(work, 'out')
      await buildah(['push', '-q', image, `oci:${layout}:slim`])
      const bundle = join(work, 'bundle')
      await exec('umoci', ['raw', 'unpack', '--rootless', '--image', `${layout}:slim`, bundle])
      const program = command[0].startsWith('/') ? command[0] : `/bin/${command[0]}`
      const r = await exec('bwrap', ['--unshare-all', '--bind', bundle, '/', '--proc', '/proc', '--dev', '/dev', '--uid', uid, '--gid', gid ?? uid, program, '-c', SCRIPT])
      expect(r.stdout).toBe(`ok\n${uid}\n`)
    } finally {
      await reg.stop()
    }
  }, 600_000)
})
