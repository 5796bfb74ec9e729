/** Pipeline modules the benchmarks run the daemon on (written into a temporary pipelines folder). */

/** The flights pipeline without a transform: the pipeline's own table, the derived columns computed in the views. */
export const transformFreeModule = (topic: string, partitions: number): string => `
import { IngestPipeline, Key, MaterializedView, t } from 'flowhouse'

const Flight = t.Object({
  id: Key(t.String()), date: t.DateTime(), delay: t.Int32(), distance: t.UInt32(),
  origin: t.String({ pattern: '^[A-Z0-9]{3}$' }), destination: t.String({ pattern: '^[A-Z0-9]{3}$' }),
})

export const p = new IngestPipeline('${topic}', { schema: Flight, stream: { parallelism: ${partitions} }, table: { orderByFields: ['id'], engine: 'MergeTree' } })
export const daily = new MaterializedView({
  name: 'flights_daily_delays_mv', source: p.table!,
  select: \`SELECT origin, toDate(date) AS day, count() AS flights, sum(delay) AS total_delay, countIf(delay > 15) AS delayed_flights FROM ${topic} GROUP BY origin, day\`,
  target: { name: 'flights_daily_delays', engine: 'SummingMergeTree', orderByFields: ['origin', 'day'] },
})
export const routes = new MaterializedView({
  name: 'flights_route_stats_mv', source: p.table!,
  select: \`SELECT concat(origin, '-', destination) AS route, countState() AS flights, avgState(distance) AS avg_distance, maxState(delay) AS max_delay FROM ${topic} GROUP BY route\`,
  target: { name: 'flights_route_stats', engine: 'AggregatingMergeTree', orderByFields: ['route'] },
})
`
