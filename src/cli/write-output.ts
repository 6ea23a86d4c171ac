import { writeFile } from 'node:fs/promises'
import { SlimError, describe } from '../core/errors.js'

/** Writes a file the user named with `flag`; a failure is a one-line usage error naming both. */
export async function writeOutput(path: string, text: string, flag: string): Promise<void> {
  await writeFile(path, text).catch((e) => {
    throw new SlimError('usage', `${flag} ${path}: cannot write it (${describe(e)}); choose a writable path`)
  })
}
