#!/usr/bin/env bash
# npm run bench: starts Kafka and the schema registry and runs the benchmarks (figures only; never fails on timings).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh up kafka
bash scripts/services.sh up registry
exec node --import tsx bench/run.ts
