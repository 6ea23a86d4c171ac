/** The HTML reports: `slim analyze --format html` and `slim audit --format html`. */
export { renderAnalysisHtml, type AnalysisDocument, type AnalysisHtmlExtras } from './analysis.js'
export { renderAuditHtml } from './audit.js'
export { keptPaths, reportTree, type KeepClass, type ReportTree, type ReportTreeNode } from './fs-tree.js'
