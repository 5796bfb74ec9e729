#!/usr/bin/env bash
# Runs the test suite: the typecheck and unit tests (no network), then integration tests against
# the real services this script starts (Kafka broker, ClickHouse server; embedded ClickHouse
# in-process). System packages the tests need are installed first by scripts/setup.sh.
#   npm test                 everything
#   npm test -- unit         typecheck and unit tests only
#   npm test -- FILE...      the given test files (services are started if any is an integration test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
if [ "${1:-}" = unit ]; then
  files=$(find test/unit -name '*.test.ts' | sort)
elif [ $# -gt 0 ]; then
  files="$*"
else
  files=$(find test/unit test/integration -name '*.test.ts' | sort)
fi
if [ $# -eq 0 ] || [ "${1:-}" = unit ]; then
  echo "[test] typecheck (tsc --noEmit)" >&2
  npx tsc -p tsconfig.json --noEmit
fi
if echo "$files" | grep -q integration; then
  bash scripts/services.sh up all
fi
# One test file at a time: integration tests share the local broker and server.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec $files
