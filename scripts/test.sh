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
# Static checks: the typecheck, the import rules (.dependency-cruiser.cjs, docs/ARCHITECTURE.md),
# unused files, exports and dependencies (knip.json) and the file-size limit. All of them run and
# each failure is named; the tests then run all the same, and the script fails at the end.
checks_failed=()
if [ $# -eq 0 ] || [ "${1:-}" = unit ]; then
  echo "[test] typecheck (tsc --noEmit)" >&2
  npx tsc -p tsconfig.json --noEmit || checks_failed+=(typecheck)
  echo "[test] import rules (dependency-cruiser)" >&2
  npm run --silent lint:deps || checks_failed+=(lint:deps)
  echo "[test] unused files, exports and dependencies (knip)" >&2
  npm run --silent lint:unused || checks_failed+=(lint:unused)
  echo "[test] file sizes (scripts/check-size.mjs)" >&2
  npm run --silent lint:size || checks_failed+=(lint:size)
fi
if echo "$files" | grep -q integration; then
  bash scripts/services.sh up all
fi
# One test file at a time: integration tests share the local broker and server.
status=0
node --import tsx --test --test-concurrency=1 --test-reporter=spec $files || status=$?
if [ ${#checks_failed[@]} -gt 0 ]; then
  echo "[test] failed checks: ${checks_failed[*]}" >&2
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
