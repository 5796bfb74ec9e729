/**
 * A real Prometheus server (Debian's `prometheus` package) for integration tests: started on
 * 127.0.0.1 with a temporary config and data folder, scraping the given targets every second and
 * evaluating the given rule files; stopped (SIGTERM, then SIGKILL) by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { stringify } from 'yaml'
import { freePort, waitFor } from '../helpers.ts'

export interface PrometheusServer {
  url: string
  /** Runs an instant PromQL query; returns the result vector. @throws when Prometheus answers an error. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>
  /** GET an API path (e.g. `/api/v1/rules`) and return `data`. */
  api<T>(pathAndQuery: string): Promise<T>
  output(): string
  stop(): Promise<void>
}

/**
 * @param targets `host:port` of the /metrics endpoints (job `flowhouse`).
 * @param ruleFiles absolute paths of rule files to load.
 */
export async function startPrometheus(targets: string[], ruleFiles: string[] = []): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowhouse-prometheus-'))
  const config = path.join(dir, 'prometheus.yml')
  await writeFile(config, stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: [{ job_name: 'flowhouse', static_configs: [{ targets }] }],
  }))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let output = ''
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1h',
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`prometheus did not start (apt-get install prometheus): ${e.message}`))))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${url}${p}`)
    const body = (await res.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`Prometheus ${p}: ${body.error}`)
    return body.data
  }
  try {
    await Promise.race([
      spawnError,
      waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${output}`)
        return (await fetch(`${url}/-/ready`)).ok
      }, { timeoutMs: 30_000, what: 'Prometheus to be ready' }),
    ])
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    api,
    query: async (expr) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    output: () => output,
    stop,
  }
}
