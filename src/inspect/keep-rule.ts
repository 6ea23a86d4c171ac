/**
 * A file inspection will read, declared up front so the layer index keeps it from its one pass:
 * an exact path, everything under a directory, or a base-name pattern (wherever the file is). A
 * rule with several of these keeps what matches all of them (`under` and `baseName`: that name
 * anywhere below that directory). Declared by the parts of inspection that read files
 * (entrypoint/capture-hint.ts gathers them); a hint only, never needed for correctness.
 */
export interface KeepRule {
  path?: string
  under?: string
  baseName?: RegExp
  /** Largest file the rule keeps (default and upper bound: 64 MiB): a config directory holds text. */
  maxSize?: number
}
