/** The audit document in the format the user asked for. */
import type { AuditDocument } from '../audit/types.js'
import { renderAuditMarkdown } from './audit-markdown.js'
import { renderAuditSarif } from './audit-sarif.js'
import { renderAuditTable } from './audit-text.js'

export const AUDIT_FORMATS = ['table', 'json', 'markdown', 'sarif'] as const
export type AuditFormat = (typeof AUDIT_FORMATS)[number]

export function renderAudit(doc: AuditDocument, format: AuditFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(doc, null, 2)
    case 'markdown':
      return renderAuditMarkdown(doc)
    case 'sarif':
      return renderAuditSarif(doc)
    case 'table':
      return renderAuditTable(doc)
  }
}
