/**
 * `flowhouse init <dir>`: creates a project that uses flowhouse as a package.
 *
 *   <dir>/package.json          depends on flowhouse; scripts dev, start, check
 *   <dir>/tsconfig.json         strict ESM TypeScript, as flowhouse's own modules
 *   <dir>/pipelines/flights.ts  the commented example pipeline (real US flights, two views)
 *   <dir>/docker-compose.yml    Kafka, ClickHouse and the flowhouse daemon with ./pipelines mounted
 *   <dir>/README.md             the two commands: npm install, npx flowhouse dev
 *
 * Existing files are never overwritten: init refuses a folder that already holds any of them.
 */
import type { Command } from 'commander'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface InitOptions {
  /** Folder to create the project in (created when missing). */
  dir: string
  /** The dependency spec written for flowhouse in package.json. @default `^<this flowhouse's version>` */
  flowhouse?: string
}

/** The files of a new project, by path relative to its folder. */
export async function projectFiles(name: string, flowhouseSpec: string): Promise<Record<string, string>> {
  const example = await readFile(path.join(root, 'pipelines/flights.ts'), 'utf8')
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '0.1.0',
        private: true,
        type: 'module',
        scripts: { dev: 'flowhouse dev', start: 'flowhouse start', check: 'flowhouse check' },
        dependencies: { flowhouse: flowhouseSpec },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          allowImportingTsExtensions: true,
          noEmit: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
        },
        include: ['pipelines'],
      },
      null,
      2,
    )}\n`,
    'pipelines/flights.ts': `// Your pipelines live in this folder: every .ts file here is a module the daemon loads
// (\`npx flowhouse check\` loads and checks them without starting anything).
// This example is the one \`npx flowhouse dev\` replays 3,000,000 real flights into; copy it
// to start your own (README: "Writing a pipeline module").
${example}`,
    'docker-compose.yml': COMPOSE,
    'README.md': readme(name),
    '.gitignore': 'node_modules/\n.data/\n.services/\n',
  }
}

const COMPOSE = `# Kafka, ClickHouse and the flowhouse daemon running ./pipelines (mounted read-only).
#   docker compose up -d --build
# The daemon image is built from the installed flowhouse package (node_modules/flowhouse).
services:
  kafka:
    image: apache/kafka:3.9.1
    environment:
      CLUSTER_ID: EE4D6nRX2qTbJ43za5C61Q
      KAFKA_NODE_ID: 1
      KAFKA_PROCESS_ROLES: broker,controller
      KAFKA_LISTENERS: PLAINTEXT://:9092,CONTROLLER://:9093
      KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
      KAFKA_CONTROLLER_LISTENER_NAMES: CONTROLLER
      KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka:9093
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 1
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false"
      KAFKA_MESSAGE_MAX_BYTES: 16777216

  clickhouse:
    image: clickhouse/clickhouse-server:25.8
    environment:
      CLICKHOUSE_DB: flowhouse
      CLICKHOUSE_USER: flowhouse
      CLICKHOUSE_PASSWORD: flowhouse
    ports:
      - "127.0.0.1:8123:8123"

  flowhouse:
    build: ./node_modules/flowhouse
    environment:
      FLOWHOUSE_PIPELINES: /pipelines
      KAFKA_BROKERS: kafka:9092
      CLICKHOUSE_URL: http://clickhouse:8123
      CLICKHOUSE_USER: flowhouse
      CLICKHOUSE_PASSWORD: flowhouse
      CLICKHOUSE_DATABASE: flowhouse
    volumes:
      - ./pipelines:/pipelines:ro
    ports:
      - "127.0.0.1:4000:4000"
    depends_on: [kafka, clickhouse]
`

function readme(name: string): string {
  return `# ${name}

Stream processing with [flowhouse](https://www.npmjs.com/package/flowhouse): the modules in
\`pipelines/\` declare ingest pipelines, tables and materialized views; the daemon runs them
(Kafka → validation, constraints, transforms → ClickHouse).

\`\`\`sh
npm install
npx flowhouse dev
\`\`\`

\`npx flowhouse dev\` starts a local Kafka broker, runs the daemon on an embedded ClickHouse
with \`./pipelines\`, replays 3,000,000 real flights into the example pipeline and prints a
query over one of its views (Java and Maven are needed for the local broker).

Other commands: \`npx flowhouse check\` loads and checks every module without starting
anything; \`npx flowhouse start\` runs the daemon against your own Kafka and ClickHouse
(\`KAFKA_BROKERS\`, \`CLICKHOUSE_URL\`); \`docker compose up -d --build\` runs the whole stack.
`
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}

/**
 * Writes the project files into `options.dir`.
 * @returns the paths written, relative to the folder.
 * @throws Error naming the files that already exist (nothing is written then).
 */
export async function initProject(options: InitOptions): Promise<string[]> {
  const dir = path.resolve(options.dir)
  const version = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version
  const name = path.basename(dir).toLowerCase().replace(/[^a-z0-9._-]/g, '-') || 'flowhouse-project'
  const files = await projectFiles(name, options.flowhouse ?? `^${version}`)
  const taken: string[] = []
  for (const file of Object.keys(files)) if (await exists(path.join(dir, file))) taken.push(file)
  if (taken.length > 0) throw new Error(`${dir} already has ${taken.join(', ')}; choose an empty folder or remove them`)
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await writeFile(path.join(dir, file), text)
  }
  return Object.keys(files)
}

/** The command: creates the project and prints what to run next. */
export async function initCommand(options: InitOptions): Promise<void> {
  const written = await initProject(options)
  const relative = path.relative(process.cwd(), path.resolve(options.dir))
  const dir = relative === '' ? '.' : relative.startsWith('..') ? path.resolve(options.dir) : relative
  console.log(`created ${written.map((f) => path.join(dir, f)).join(', ')}\n\nnext:\n  cd ${dir}\n  npm install\n  npx flowhouse dev`)
}

/** Adds `flowhouse init <dir> [--flowhouse SPEC]` to the command line. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create a project using flowhouse: package.json, tsconfig.json, an example pipeline, docker-compose.yml and a README')
    .argument('<dir>', 'folder of the new project (created when missing)')
    .option('--flowhouse <spec>', 'dependency spec for flowhouse in package.json (a version range, or a tarball path)')
    .action(async (dir: string, opts: { flowhouse?: string }) => initCommand({ dir, ...opts }))
}
