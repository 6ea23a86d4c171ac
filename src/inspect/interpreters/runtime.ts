/**
 * The language runtime behind an interpreted app: one detector per language, chosen by the
 * runtime executable's name (see language.ts).
 */
import type { Runtime, RuntimeLanguage } from '../types.js'
import type { RuntimeInput } from './common.js'
import { detectJava } from './java.js'
import { detectNode } from './node.js'
import { detectPerl, detectPhp, detectRuby, detectShell } from './others.js'
import { detectPython } from './python.js'

export interface RuntimeDetection {
  runtime: Runtime
  /** ELF extension modules in the runtime's trees (C extensions, JDK libs, .node addons): the
   * runtime dlopens them, so their libraries belong to the closure. */
  nativeModules: string[]
  /** What the detector could not see. */
  gaps: string[]
}

const DETECTORS: Record<RuntimeLanguage, (input: RuntimeInput) => Promise<RuntimeDetection>> = {
  python: detectPython,
  node: detectNode,
  java: detectJava,
  ruby: detectRuby,
  php: detectPhp,
  perl: detectPerl,
  shell: detectShell,
}

export function detectRuntime(language: RuntimeLanguage, input: RuntimeInput): Promise<RuntimeDetection> {
  return DETECTORS[language](input)
}

export type { RuntimeInput } from './common.js'
