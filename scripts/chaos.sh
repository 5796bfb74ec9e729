#!/usr/bin/env bash
# Chaos suite: kills daemons, the broker and the ClickHouse server, and sends poison messages,
# then checks every flight is written once. Faults hit the shared local services, so the run
# holds the integration lock (/tmp/flowhouse-it.lock) and leaves the services running.
#   npm run chaos              the whole suite (about 20 minutes)
#   npm run chaos -- --short   the CI subset: one kill -9, the negative control, one SIGTERM, the poison list
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/services.sh up all
exec flock /tmp/flowhouse-it.lock node --import tsx test/chaos/run.ts "$@"
