/**
 * Import rules for src/ (docs/ARCHITECTURE.md "The arrow rule"), checked by `npm run lint:deps`
 * and by scripts/test.sh before the unit tests.
 *
 * LAYERS lists the rooms of src/ from the bottom up. A module may import its own room and any
 * room on a lower line; rooms on the same line are peers and import neither each other nor
 * anything above. Each forbidden arrow is its own rule, named `layer:<from>-imports-<to>`, so a
 * wrong import fails with the arrow it drew.
 */
const LAYERS = [
  ['errors.ts'],
  ['util'],
  ['model'],
  ['metrics'],
  ['health'],
  ['clickhouse'],
  ['constraints'],
  ['transforms'],
  ['delivery'],
  ['kafka'],
  ['pipelines', 'replay', 'views'],
  ['config.ts'],
  ['http'],
  ['daemon'],
  ['cli'],
  ['index.ts'],
]

/** The path pattern of a room: a folder of src/ or a file at its root. */
const room = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`)

const layerRules = []
LAYERS.forEach((line, level) => {
  const higher = LAYERS.slice(level + 1).flat()
  for (const from of line) {
    const peers = line.filter((name) => name !== from)
    for (const to of [...peers, ...higher]) {
      layerRules.push({
        name: `layer:${from}-imports-${to}`,
        comment: `${from} is below ${to} (or its peer) in the arrow rule: move what ${from} needs from ${to} down to the room that owns it (docs/ARCHITECTURE.md).`,
        severity: 'error',
        from: { path: room(from) },
        to: { path: room(to) },
      })
    }
  }
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'Modules of src/ import each other in a circle: break it by moving the shared type or helper down.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A module of src/ that nothing imports and that imports nothing is dead code (entry points excepted).',
      severity: 'error',
      from: {
        orphan: true,
        path: '^src/',
        pathNot: ['^src/index\\.ts$', '\\.mjs$', '\\.d\\.m?ts$', '\\.md$'],
      },
      to: {},
    },
    {
      name: 'no-unknown-room',
      comment: 'Every module of src/ belongs to a room of the arrow rule: add a new folder to LAYERS in .dependency-cruiser.cjs and to docs/ARCHITECTURE.md.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flat().map(room) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.json'],
    },
  },
}
