import { humanBytes } from '../core/format.js'
import { escapeControls } from '../core/text-escape.js'
import type { Image } from '../image/types.js'
import type { LayerProgress } from '../pipeline/index.js'

/** Progress is drawn only for a person watching: a TTY on stderr, not CI, not --quiet/--json. */
export function progressWanted(flags: { quiet?: boolean; json?: boolean }): boolean {
  return !flags.quiet && !flags.json && !!process.stderr.isTTY && !process.env.CI
}

/**
 * Runs `work` (the layer read) with one listr2 line per layer showing bytes read, when wanted;
 * otherwise just runs it. The work's result or error is returned unchanged.
 */
export async function withLayerProgress<T>(enabled: boolean, image: Image, work: (onProgress?: LayerProgress) => Promise<T>): Promise<T> {
  if (!enabled) return work(undefined)
  // listr2 is loaded only when progress is drawn (a person at a terminal), never in scripts and CI.
  const { DefaultRenderer, Listr, ListrLogger, ProcessOutput } = await import('listr2')
  /**
   * listr2 picks its line-per-update fallback renderer whenever *stdout* is not a terminal, which is
   * exactly the `> Dockerfile` case; progress is drawn on stderr, so stderr being a terminal (checked
   * by progressWanted) is what matters.
   */
  class StderrRenderer extends DefaultRenderer {
    static override nonTTY = true
  }
  const layers = image.layers
  const done = layers.map(() => deferred())
  const outputs: ((s: string) => void)[] = []
  const onProgress: LayerProgress = (i, bytes, total) => {
    outputs[i]?.(`${humanBytes(bytes)} read${layers[i].size >= 0 ? ` (${humanBytes(layers[i].size)} stored)` : ''}`)
    if (total !== undefined) done[i].resolve()
  }
  const result = work(onProgress).finally(() => done.forEach((d) => d.resolve()))
  result.catch(() => undefined) // reported below, after the renderer stops
  const list = new Listr(
    [
      {
        title: `Reading ${layers.length} layer${layers.length === 1 ? '' : 's'} of ${escapeControls(image.reference)}`,
        task: (_ctx, task) =>
          task.newListr(
            layers.map((l, i) => ({
              title: `layer ${i}`,
              task: async (_c, t) => {
                outputs[i] = (s) => (t.output = s)
                await done[i].promise
                t.title = `layer ${i}: ${l.digest.slice(0, 19)}`
              },
            })),
            { concurrent: true, rendererOptions: { collapseSubtasks: true } },
          ),
      },
    ],
    // listr2 draws on stdout by default; stdout holds only the document (`slim dockerfile IMG > Dockerfile`).
    {
      renderer: StderrRenderer,
      rendererOptions: { logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
      exitOnError: false,
      registerSignalListeners: false,
    },
  )
  await list.run().catch(() => undefined)
  return result
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}
