/** The words and commands the static shell reader (shell-words.ts) produces. */
export interface ShellWord {
  /** The word after quote removal and the expansions slim could do. */
  text: string
  /** Expansions slim could not do statically ("$(...)", "$FOO", "glob *"): the text is not the real value. */
  dynamic: string[]
  /** The word is "$@" or "$*" alone: it stands for all positional parameters. */
  allArgs: boolean
}

export interface ShellCommand {
  /** Words of the command, assignments and redirections removed. */
  words: ShellWord[]
  /** Leading NAME=value assignments. */
  assignments: { name: string; value: ShellWord }[]
  /** 1-based line where the command starts. */
  line: number
  /** Nesting depth: 0 at top level, more inside if/while/for/case/{ }/( )/functions. */
  depth: number
  /** The function the command is defined in, if any. */
  inFunction?: string
  /** The operator after the command (";", "&&", "||", "|", "&", "\n", or "" at the end). */
  op: string
  /** The operator before the command ("" at the start of a list). */
  prevOp: string
}

export interface ShellVars {
  /** Variables known statically (the image's Env, later plain assignments). */
  env: Record<string, string>
  /** $1, $2, ... */
  positional: string[]
  /** $0 */
  zero: string
}
