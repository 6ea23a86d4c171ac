/**
 * Hostile images made in the test setup: an OCI layout from layer tars built byte by byte (or any
 * blob bytes for a layer), and a runner that measures the built CLI's peak RSS with GNU time.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { BIN, REPO, type CliResult } from './cli.js'

export interface LayerBlob {
  /** The blob as stored (compressed or not). */
  blob: Buffer
  /** sha256 of the uncompressed tar ("sha256:…"): the config's diff_id. */
  diffId: string
  mediaType: string
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/** A gzip-compressed layer blob from a tar. */
export function gzipLayer(tar: Buffer): LayerBlob {
  return { blob: gzipSync(tar), diffId: sha256(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }
}

/** A layer whose blob is given as is (zstd made by the zstd tool, for example); `diffId` of what it expands to. */
export function rawLayer(blob: Buffer, diffId: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+zstd'): LayerBlob {
  return { blob, diffId, mediaType }
}

/** Writes `DIR/oci-layout`, `index.json` and blobs for one image tagged `tag`; returns the digests. */
export async function writeLayout(dir: string, tag: string, layers: LayerBlob[], config: Record<string, unknown> = {}): Promise<{ configDigest: string; manifestDigest: string }> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  const put = async (data: Buffer): Promise<string> => {
    const digest = sha256(data)
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), data)
    return digest
  }
  for (const l of layers) await put(l.blob)
  const configBlob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }))
  const configDigest = await put(configBlob)
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBlob.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.blob), size: l.blob.length })),
  }))
  const manifestDigest = await put(manifest)
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }))
  return { configDigest, manifestDigest }
}

export interface MeasuredRun extends CliResult {
  /** Peak resident set size of the CLI process, from GNU time (bytes). */
  peakRss: number
  /** Wall time in ms (only for generous upper bounds on hostile inputs). */
  ms: number
  signal: NodeJS.Signals | null
}

export const HAVE_GNU_TIME = existsSync('/usr/bin/time')

/**
 * Runs the built CLI under /usr/bin/time and reports its peak RSS. `onStart` gets the child (to
 * send it a signal midway); a SIGKILL after `timeoutMs` stops a hang.
 */
export function runMeasured(
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number; onSpawn?: (pid: number, stderrSoFar: () => string) => void } = {},
): Promise<MeasuredRun> {
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    // `exec` keeps the signal path simple: time's child is node itself, and time forwards nothing,
    // so a test signals node by its pid, read from /proc below.
    const child = spawn('/usr/bin/time', ['-f', 'SLIM_TEST_RSS_KB=%M', process.execPath, BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, CI: 'true', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    if (opts.onSpawn && child.pid) opts.onSpawn(child.pid, () => stderr)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const m = /SLIM_TEST_RSS_KB=(\d+)\s*$/.exec(stderr)
      const rest = m ? stderr.slice(0, m.index) : stderr
      // GNU time reports a signal-killed child as "Command terminated by signal N" / "exited with non-zero status".
      const clean = rest.replace(/^Command (exited with non-zero status|terminated by signal) \d+\s*$/m, '')
      resolvePromise({ code: code ?? -1, signal, stdout, stderr: clean, peakRss: m ? Number(m[1]) * 1024 : -1, ms: Date.now() - started })
    })
  })
}

/** The pid of the node process /usr/bin/time started (its only child). */
export async function childPidOf(timePid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  for (let i = 0; i < 100; i++) {
    const kids = await readFile(`/proc/${timePid}/task/${timePid}/children`, 'utf8').catch(() => '')
    const pid = Number(kids.trim().split(/\s+/)[0])
    if (pid > 0) return pid
    await new Promise((r) => setTimeout(r, 50))
  }
  return undefined
}

/**
 * A zstd frame written by hand (RFC 8878): `head` as one raw block, then `rleBlocks` RLE blocks of
 * 128 KiB of zeros (4 bytes each): 200 KB that expand to 6 GB. `windowLog` sets the window
 * descriptor. No checksum, no content size.
 */
export function zstdZeroBomb(head: Buffer, rleBlocks: number, windowLog = 17): Buffer {
  const blockHeader = (last: boolean, type: number, size: number): Buffer => {
    const v = (size << 3) | (type << 1) | (last ? 1 : 0)
    return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff])
  }
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (windowLog - 10) << 3])]
  parts.push(blockHeader(rleBlocks === 0, 0, head.length), head)
  const rle = Buffer.concat([blockHeader(false, 1, 128 * 1024), Buffer.from([0])])
  const last = Buffer.concat([blockHeader(true, 1, 128 * 1024), Buffer.from([0])])
  for (let i = 0; i < rleBlocks; i++) parts.push(i === rleBlocks - 1 ? last : rle)
  return Buffer.concat(parts)
}
