import { Command, Flags } from '@oclif/core'
import { describe, isSlimError, oneLine } from '../core/errors.js'
import { redact } from '../core/redact.js'
import { escapeControls } from '../core/text-escape.js'
import { installTempCleanup } from '../core/temp.js'

/**
 * Every slim command extends this so that failures look the same everywhere: one line on stderr
 * naming the thing and the fix, exit code 1 (2 for usage errors), and a stack trace only with
 * --debug. All text passes through redact() so no credential can leak through an error.
 */
export abstract class SlimCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Print debug logs and stack traces on errors.', default: false, helpGroup: 'GLOBAL' }),
  }

  override async init(): Promise<void> {
    // Ctrl-C and kill remove the temp files this run made, then exit 130 / 143 (core/temp.ts).
    installTempCleanup()
    await super.init()
  }

  protected debugEnabled(): boolean {
    return this.argv.includes('--debug')
  }

  /** Debug log sink: stderr, redacted, only with --debug. */
  protected debugLog = (msg: string): void => {
    if (this.debugEnabled()) process.stderr.write(`debug: ${redact(msg)}\n`)
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    // oclif's own exit (e.g. from --help or this.exit()) is not an error.
    if (err.oclif?.exit === 0) return
    // A parse failure is already reported here; stop oclif's "did not parse" dev warning from
    // adding lines to the one-line error.
    this.parsed = true
    let exitCode: number
    let message: string
    if (isSlimError(err)) {
      exitCode = err.exitCode
      message = err.message
    } else if (isParseError(err)) {
      exitCode = 2
      message = `${firstLine(err.message)} (see: slim ${this.id ?? ''} --help)`
    } else {
      exitCode = 1
      message = `unexpected failure: ${describe(err)}; rerun with --debug and report it`
    }
    process.stderr.write(`slim: error: ${escapeControls(redact(oneLine(message)))}\n`)
    if (this.debugEnabled() && err.stack) process.stderr.write(`${redact(err.stack)}\n`)
    process.exitCode = exitCode
  }
}

function isParseError(err: Error): boolean {
  const name = err.constructor?.name ?? ''
  return /Arg|Flag|Parse|Required|Unexpected|Nonexistent|FailedConstraints/.test(name) || /Unexpected argument|Missing \d+ required arg|Expected --|Nonexistent flag/.test(err.message)
}

/** oclif's parse errors span several lines ("Missing 1 required arg:\nimage  description\nSee more help…"):
 * keep the first line, plus the name of what it lists. */
function firstLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean)
  const head = lines[0] ?? 'invalid arguments'
  if (!head.endsWith(':') || !lines[1]) return head
  return `${head.slice(0, -1).replace(/:$/, '')}: ${lines[1].split(/\s{2,}/)[0]}`
}
