/**
 * The container image and the docker compose stack, checked without a Docker engine:
 * `docker compose config` (or Debian's `docker-compose config`) validates the compose file
 * against the Compose schema when a client that can is installed; the structure the README
 * promises (images, healthchecks, health-gated depends_on, the pipelines mount, env-only
 * configuration) and the Dockerfile's shape are checked directly.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { ROOT } from '../grafana/queries.ts'
import { skipUnlessInstalled } from '../../packages.ts'

const run = promisify(execFile)
const COMPOSE = path.join(ROOT, 'docker-compose.yml')

interface Service {
  image?: string
  build?: unknown
  environment?: Record<string, string | number>
  healthcheck?: { test: string | string[]; interval?: string }
  depends_on?: Record<string, { condition: string }>
  volumes?: string[]
  ports?: string[]
  command?: string[]
}

async function compose(): Promise<{ services: Record<string, Service>; volumes?: Record<string, unknown> }> {
  return parse(await readFile(COMPOSE, 'utf8'))
}

/** The compose validator available here: the Docker CLI plugin, or Debian's docker-compose. */
async function composeValidator(): Promise<string[] | undefined> {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    try {
      await run(cmd[0]!, [...cmd.slice(1), 'version'], { timeout: 30_000 })
      return cmd
    } catch {
      /* not this one */
    }
  }
  return undefined
}

test('docker compose config validates docker-compose.yml against the Compose schema', async (t) => {
  const cmd = await composeValidator()
  const skip = skipUnlessInstalled(cmd ? undefined : 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose; scripts/setup.sh does)')
  if (skip || !cmd) {
    t.skip(skip)
    return
  }
  const { stdout, stderr } = await run(cmd[0]!, [...cmd.slice(1), '-f', COMPOSE, 'config', '-q'], { cwd: ROOT, timeout: 60_000 }).catch((e: { stdout: string; stderr: string }) => assert.fail(`${cmd.join(' ')} config rejected docker-compose.yml:\n${e.stdout}${e.stderr}`))
  assert.equal(stdout, '', stderr)
})

test('the stack runs Apache Kafka 3.9, a ClickHouse LTS image, Prometheus, Grafana and flowhouse, each with a healthcheck and health-gated depends_on', async () => {
  const { services } = await compose()
  assert.deepEqual(Object.keys(services).sort(), ['clickhouse', 'flowhouse', 'grafana', 'kafka', 'prometheus'])
  assert.match(services.kafka!.image!, /^apache\/kafka:3\.9\.\d+$/)
  assert.equal(services.kafka!.environment!.KAFKA_PROCESS_ROLES, 'broker,controller')
  assert.match(services.clickhouse!.image!, /^clickhouse\/clickhouse-server:\d+\.(3|8)(\.|$)/, 'ClickHouse LTS releases are the .3 and .8 ones')
  assert.match(services.prometheus!.image!, /^prom\/prometheus:v\d+\.\d+\.\d+$/)
  assert.match(services.grafana!.image!, /^grafana\/grafana:\d+\.\d+\.\d+$/)
  for (const [name, s] of Object.entries(services)) {
    assert.ok(s.healthcheck?.test, `${name} has no healthcheck`)
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) assert.equal(d.condition, 'service_healthy', `${name} → ${dep}`)
  }
  assert.deepEqual(Object.keys(services.flowhouse!.depends_on!).sort(), ['clickhouse', 'kafka'])
  assert.deepEqual(Object.keys(services.prometheus!.depends_on!), ['flowhouse'])
  assert.deepEqual(Object.keys(services.grafana!.depends_on!), ['prometheus'])
  assert.match(String(services.flowhouse!.healthcheck!.test), /\/health/)
  for (const s of Object.values(services)) for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `host port ${p} must bind to 127.0.0.1`)
})

test('flowhouse mounts ./pipelines, reaches Kafka and ClickHouse by service name, and Prometheus loads the alert rules and scrapes flowhouse', async () => {
  const { services } = await compose()
  const fh = services.flowhouse!
  assert.ok(fh.volumes!.includes('./pipelines:/app/pipelines:ro'))
  assert.equal(fh.environment!.FLOWHOUSE_PIPELINES, '/app/pipelines')
  assert.equal(fh.environment!.KAFKA_BROKERS, 'kafka:9092')
  assert.equal(fh.environment!.CLICKHOUSE_URL, 'http://clickhouse:8123')
  assert.equal(fh.environment!.FLOWHOUSE_HOST, '0.0.0.0')
  assert.ok(services.prometheus!.volumes!.includes('./grafana/alerts.yml:/etc/prometheus/rules/flowhouse-alerts.yml:ro'))
  const prom = parse(await readFile(path.join(ROOT, 'deploy/prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> }
  assert.deepEqual(prom.rule_files, ['/etc/prometheus/rules/flowhouse-alerts.yml'])
  const job = prom.scrape_configs.find((j) => j.job_name === 'flowhouse')!
  assert.deepEqual(job.static_configs[0]!.targets, ['flowhouse:4000'])
  assert.ok(services.grafana!.volumes!.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'))
  const ds = parse(await readFile(path.join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ type: string; url: string }> }
  assert.deepEqual(ds.datasources.map((d) => [d.type, d.url]), [['prometheus', 'http://prometheus:9090']])
  const dash = parse(await readFile(path.join(ROOT, 'grafana/provisioning/dashboards/flowhouse.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> }
  const mount = services.grafana!.volumes!.find((v) => v.startsWith('./grafana/dashboards:'))!
  assert.equal(mount.split(':')[1], dash.providers[0]!.options.path)
})

test('every variable the compose file gives flowhouse is documented in the README and read by the daemon', async () => {
  const { services } = await compose()
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8')
  const sources = (await Promise.all(['src/config.ts', 'src/clickhouse/options.ts', 'src/util/log.ts'].map((f) => readFile(path.join(ROOT, f), 'utf8')))).join('\n')
  for (const name of Object.keys(services.flowhouse!.environment!)) {
    assert.ok(readme.includes(`\`${name}\``), `${name} is not in the README's environment table`)
    assert.ok(sources.includes(name), `${name} is not read by src/config.ts, src/clickhouse/options.ts or src/util/log.ts`)
  }
})

test('the Dockerfile is multi-stage, installs production dependencies only, runs as a non-root user and has a HEALTHCHECK on /health', async () => {
  const text = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8')
  const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'))
  assert.ok(lines.filter((l) => /^FROM /.test(l)).length >= 2, 'multi-stage')
  assert.ok(lines.some((l) => /npm ci .*--omit=dev/.test(l)), 'npm ci --omit=dev')
  const user = lines.filter((l) => /^USER /.test(l)).at(-1)
  assert.ok(user && !/root|^USER 0/.test(user), `runs as ${user}`)
  assert.ok(lines.some((l) => /^HEALTHCHECK .*/.test(l)) && /\/health/.test(text))
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  assert.ok(pkg.dependencies.tsx, 'tsx runs the daemon and the pipeline modules: it must be a production dependency')
  const ignore = await readFile(path.join(ROOT, '.dockerignore'), 'utf8')
  for (const entry of ['node_modules', '.data', '.services', 'test']) assert.ok(ignore.split('\n').includes(entry), `.dockerignore lacks ${entry}`)
})

test('the image can run on production dependencies: everything bin/, src/ and pipelines/ import is a dependency or a Node builtin', async () => {
  const { readdir } = await import('node:fs/promises')
  const { builtinModules } = await import('node:module')
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> }
  const allowed = new Set([pkg.name, ...Object.keys(pkg.dependencies)])
  const walk = async (dir: string): Promise<string[]> =>
    (await Promise.all((await readdir(dir, { withFileTypes: true })).map((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.(ts|mjs|js)$/.test(e.name) ? [path.join(dir, e.name)] : [])))).flat()
  const problems: string[] = []
  for (const file of [...(await walk(path.join(ROOT, 'bin'))), ...(await walk(path.join(ROOT, 'src'))), ...(await walk(path.join(ROOT, 'pipelines')))]) {
    const text = await readFile(file, 'utf8')
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
      if (!allowed.has(name)) problems.push(`${path.relative(ROOT, file)} imports ${spec}, which is not a production dependency`)
    }
  }
  assert.deepEqual(problems, [])
})
