import { describe, expect, it } from 'vitest'
import { escapeControls, printableJson, textLines } from '../../../src/core/text-escape.js'

describe('escapeControls', () => {
  it('makes C0, DEL, C1, line separators and bidi controls visible', () => {
    expect(escapeControls('a\nb\rc\td\u001b[2J\u0007\u0000\u007f\u0085\u009b\u2028\u202e')).toBe('a\\nb\\rc\\td\\x1b[2J\\x07\\x00\\x7f\\u0085\\u009b\\u2028\\u202e')
    expect(escapeControls('café 😀 a\\b')).toBe('café 😀 a\\b')
  })

  it('escapes backslashes only when the output must be reversible, and is idempotent otherwise', () => {
    expect(escapeControls('a\\n\nb', { backslash: true })).toBe('a\\\\n\\nb')
    const once = escapeControls('x\u001by\n')
    expect(escapeControls(once)).toBe(once)
  })

  it('textLines: a newline inside a line is a value\'s and is escaped', () => {
    expect(textLines(['first', 'file: /app/pr\nog'])).toBe('first\nfile: /app/pr\\nog')
  })

  it('printableJson keeps the same document', () => {
    const doc = { s: 'a\u009b\u2028\u007f' }
    const text = printableJson(JSON.stringify(doc))
    expect(text).not.toMatch(/[\u007f-\u009f\u2028]/)
    expect(JSON.parse(text)).toEqual(doc)
  })
})
