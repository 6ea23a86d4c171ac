/**
 * slim's import structure, checked by `npm run check:structure`.
 * The pipeline reads as a sentence; a stage imports only the stages before it:
 *   core → image → layers → inspect → advise → pipeline → build → audit → report → cli → commands
 * and nothing imports in a cycle. src/ never imports from test/.
 */
const STAGES = ['core', 'image', 'layers', 'inspect', 'advise', 'pipeline', 'build', 'audit', 'report', 'cli', 'commands']

const stageOrder = STAGES.slice(0, -1).map((stage, i) => ({
  name: `${stage}-imports-a-later-stage`,
  comment: `src/${stage} may import only ${STAGES.slice(0, i).join(', ') || 'nothing else in src'}: a stage never imports a later one`,
  severity: 'error',
  from: { path: `^src/${stage}/` },
  to: { path: `^src/(${STAGES.slice(i + 1).join('|')})/` },
}))

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules must not import each other in a cycle: move the shared type or function to the earlier module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-imports-test',
      comment: 'Shipped code never depends on the test tree.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'unknown-top-folder',
      comment: `Every source file lives in one stage folder: ${STAGES.join(', ')}.`,
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${STAGES.join('|')})/` },
      to: {},
    },
    ...stageOrder,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
}
