#!/usr/bin/env bash
# Runs the whole test suite: unit tests (no network), then integration tests against the
# real services this script starts (Kafka broker, ClickHouse server; embedded ClickHouse in-process).
#   npm test                 everything
#   npm test -- unit         unit tests only
#   npm test -- FILE...      the given test files (services are started if any is an integration test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${1:-}" = unit ]; then
  files=$(find test/unit -name '*.test.ts' | sort)
elif [ $# -gt 0 ]; then
  files="$*"
else
  files=$(find test/unit test/integration -name '*.test.ts' | sort)
fi
if echo "$files" | grep -q integration; then
  bash scripts/services.sh up all
fi
# One test file at a time: integration tests share the local broker and server.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec $files
