import { Help } from '@oclif/core'
import { notACommand } from './not-found.js'

/**
 * oclif's help, except that `slim help analyse` (a command that does not exist) gets the same one
 * line as `slim analyse` does, naming the closest command, and exit 2, instead of oclif's
 * "Command analyse not found." with no suggestion.
 */
export default class SlimHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const words = argv.filter((a) => !a.startsWith('-'))
    if (words.length > 0 && !this.known(words[0])) {
      process.stderr.write(notACommand(words[0], this.config, 'help '))
      process.exitCode = 2
      return
    }
    await super.showHelp(argv)
  }

  /** A command, an alias or a topic (`audit` of `audit merge`). */
  private known(word: string): boolean {
    return !!this.config.findCommand(word) || !!this.config.findTopic(word)
  }
}
