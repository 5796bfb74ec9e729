/**
 * Cluster resolution (contract seeds/003): a view's `cluster` is a cluster name, `auto` (the one
 * cluster `system.clusters` lists, ignoring ClickHouse's sample `test_*` clusters), or absent
 * for a single server. A clustered view's DDL runs ON CLUSTER, a Distributed table `<name>_dist`
 * reads every shard, and the backfill runs per node.
 */
import type { ClickHouse } from '../clickhouse/client.ts'
import { queryRows } from '../clickhouse/query.ts'
import { ConfigError } from '../errors.ts'

/** A resolved cluster: its name and one `host:port` (native protocol) per shard. */
export interface ClusterInfo {
  name: string
  /** First replica of every shard, in shard order. */
  nodes: string[]
}

interface ClusterRow {
  cluster: string
  shard_num: number | string
  replica_num: number | string
  host_name: string
  port: number | string
}

/** Clusters from system.clusters (as `SELECT cluster, shard_num, replica_num, host_name, port` rows). */
export function clustersFrom(rows: readonly ClusterRow[]): Map<string, ClusterInfo> {
  const out = new Map<string, ClusterInfo>()
  const sorted = [...rows].sort((a, b) => Number(a.shard_num) - Number(b.shard_num) || Number(a.replica_num) - Number(b.replica_num))
  for (const r of sorted) {
    const info = out.get(r.cluster) ?? { name: r.cluster, nodes: [] }
    if (Number(r.replica_num) === 1) info.nodes.push(`${r.host_name}:${Number(r.port)}`)
    out.set(r.cluster, info)
  }
  return out
}

/**
 * Picks the cluster for a request. `auto` takes the only cluster that is not a `test_*` sample
 * (none: single server).
 * @returns null for a single server.
 * @throws ConfigError when a named cluster is unknown, or `auto` finds several clusters.
 */
export function pickCluster(requested: string | undefined, clusters: Map<string, ClusterInfo>): ClusterInfo | null {
  if (requested === undefined || requested === '') return null
  if (requested === 'auto') {
    const candidates = [...clusters.values()].filter((c) => !c.name.startsWith('test_'))
    if (candidates.length === 0) return null
    if (candidates.length > 1) {
      throw new ConfigError(`cluster "auto" is ambiguous: system.clusters lists ${candidates.map((c) => `"${c.name}"`).join(', ')}; name the cluster instead`, { field: 'cluster' })
    }
    return candidates[0] as ClusterInfo
  }
  const found = clusters.get(requested)
  if (!found) {
    const known = [...clusters.keys()]
    throw new ConfigError(`cluster "${requested}" is not in system.clusters (${known.length ? `known: ${known.map((k) => `"${k}"`).join(', ')}` : 'no clusters are configured'}); configure it in remote_servers or leave cluster out`, { field: 'cluster' })
  }
  return found
}

/**
 * Resolves a view's cluster against the connected server.
 * @throws ConfigError as pickCluster; ClickHouseError when system.clusters cannot be read.
 */
export async function resolveCluster(ch: ClickHouse, requested: string | undefined): Promise<ClusterInfo | null> {
  if (requested === undefined || requested === '') return null
  const rows = await queryRows<ClusterRow>(ch, 'SELECT cluster, shard_num, replica_num, host_name, port FROM system.clusters')
  return pickCluster(requested, clustersFrom(rows))
}
