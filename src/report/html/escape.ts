/**
 * Escaping for the HTML report. Every string that comes from an image (paths, labels, commands,
 * created_by, reasons that quote them) goes through one of these before it reaches the page.
 */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * Text and attribute values (always written in double quotes). Control characters other than tab
 * and newline are shown as visible escapes (\u0007): the HTML parser would otherwise keep some of
 * them raw or replace them, and a reader should see that a name holds one.
 */
export function esc(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => HTML[c]!)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` as \u escapes (no
 * `</script>` or `<!--` can close or change the block), and U+2028/2029 escaped too (line
 * terminators inside strings for older JavaScript parsers). JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
