/**
 * The language runtime behind an interpreted app: one detector per language, chosen by the
 * runtime executable's name (see language.ts).
 */
import type { RuntimeLanguage } from '../types.js'
import type { RuntimeDetection, RuntimeInput } from './common.js'
import { detectJava } from './java.js'
import { detectNode } from './node.js'
import { detectPerl, detectPhp, detectRuby, detectShell } from './others.js'
import { detectPython } from './python.js'

export type { RuntimeDetection } from './common.js'


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
