/** The audit document in the format the user asked for. */
import type { AuditDocument } from '../audit/types.js'
import { renderAuditMarkdown } from './audit-markdown.js'
import { renderAuditSarif } from './audit-sarif.js'
import { renderAuditTable } from './audit-text.js'
import { renderAuditHtml } from './html/index.js'

export const AUDIT_FORMATS = ['table', 'json', 'markdown', 'sarif', 'html'] as const
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
    case 'html':
      return renderAuditHtml(doc)
  }
}
