/**
 * Example pipeline: real US flights (vega-datasets flights-3m.parquet, Jan–Jun 2001).
 *
 *   POST /ingest/flights  or  flowhouse replay <file> --pipeline flights
 *     → topic `flights` → validation → enrich() → table `flights`
 *     → MV flights_daily_delays_mv  (SummingMergeTree: flights, delay and delayed flights per origin per day)
 *     → MV flights_route_stats_mv   (AggregatingMergeTree states: count, avg distance, max delay per route)
 */
import { IngestPipeline, Key, MaterializedView, OlapTable, t, type Static } from 'flowhouse'

/** A flight as it arrives: `id` is assigned by the producer (replay uses the row number). */
export const Flight = t.Object({
  id: Key(t.String()),
  /** Scheduled departure, ISO-8601 in UTC. */
  date: t.DateTime(),
  /** Arrival delay in minutes (negative: early). */
  delay: t.Int32(),
  /** Distance in miles. */
  distance: t.UInt32(),
  /** IATA code of the origin airport. */
  origin: t.String({ pattern: '^[A-Z0-9]{3}$' }),
  /** IATA code of the destination airport. */
  destination: t.String({ pattern: '^[A-Z0-9]{3}$' }),
})
export type Flight = Static<typeof Flight>

/** A flight with its derived fields, as stored. */
export const EnrichedFlight = t.Object({
  ...Flight.properties,
  /** More than 15 minutes late (the US DOT definition of a delayed flight). */
  delayed: t.Boolean(),
  /** `ORIGIN-DESTINATION`, e.g. `LAS-PHL`. */
  route: t.String(),
})
export type EnrichedFlight = Static<typeof EnrichedFlight>

export const flightsPipeline = new IngestPipeline('flights', {
  schema: Flight,
  ingestApi: true,
  stream: { parallelism: 2, retentionPeriod: 7 * 24 * 3600 },
  // The raw stream is not stored as-is: the transform below writes the enriched rows.
  table: false,
  deadLetterQueue: true,
})

export const flightsTable = new OlapTable('flights', EnrichedFlight, {
  orderByFields: ['id'],
  engine: 'MergeTree',
})

export function enrich(flight: Flight): EnrichedFlight[] {
  return [{ ...flight, delayed: flight.delay > 15, route: `${flight.origin}-${flight.destination}` }]
}

flightsPipeline.stream.addTransform(flightsTable, enrich)

export const dailyDelays = new MaterializedView({
  name: 'flights_daily_delays_mv',
  source: flightsTable,
  select: `
    SELECT origin, toDate(date) AS day,
           count() AS flights, sum(delay) AS total_delay, countIf(delayed) AS delayed_flights
    FROM flights
    GROUP BY origin, day`,
  target: { name: 'flights_daily_delays', engine: 'SummingMergeTree', orderByFields: ['origin', 'day'] },
})

export const routeStats = new MaterializedView({
  name: 'flights_route_stats_mv',
  source: flightsTable,
  select: `
    SELECT route, countState() AS flights, avgState(distance) AS avg_distance, maxState(delay) AS max_delay
    FROM flights
    GROUP BY route`,
  target: { name: 'flights_route_stats', engine: 'AggregatingMergeTree', orderByFields: ['route'] },
})
