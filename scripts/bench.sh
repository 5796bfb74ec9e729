#!/usr/bin/env bash
# npm run bench: starts Kafka and runs the benchmarks (figures only; never fails on timings).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh up kafka
exec node --import tsx bench/run.ts
