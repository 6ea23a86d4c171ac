/**
 * Version of the JSON document `slim analyze --json` prints. Bump the major part on any change
 * that removes or renames a field; schema/analysis.schema.json documents the shape.
 */
export const REPORT_SCHEMA_VERSION = '1.0'
