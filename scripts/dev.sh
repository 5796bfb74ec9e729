#!/usr/bin/env bash
# npm run dev: local Kafka + the daemon on the embedded ClickHouse with ./pipelines, a replay of
# the 3,000,000 real flights, and a sample query over a materialized view (see README).
# Extra arguments go to `flowhouse dev` (e.g. npm run dev -- --limit 100000 --exit).
set -euo pipefail
cd "$(dirname "$0")/.."
export FLOWHOUSE_LOG_LEVEL=${FLOWHOUSE_LOG_LEVEL:-warn}
exec node bin/flowhouse.js dev "$@"
