#!/usr/bin/env bash
# Python tools of the test suite (schemathesis, for the OpenAPI contract test), installed from PyPI
# into a virtualenv under .services/python (git-ignored). Idempotent: a second run only checks.
#   bash scripts/lib/python-tools.sh          installs if needed, prints the schemathesis executable
# Uses python3.13 / python3.12 (on PATH or under pyenv), else python3 (3.11.7 and older 3.11 releases crash in
# hypothesis's ast.parse). Without the venv module (Debian), installs python3-venv with apt-get as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
SCHEMATHESIS_VERSION=4.32.5
venv="$root/.services/python"
st="$venv/bin/schemathesis"
log() { echo "python-tools: $*" >&2; }

python=
candidates="python3.13 python3.12"
# pyenv's shims only run the selected version: ask pyenv for the others' interpreters.
if command -v pyenv >/dev/null; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -V -r); do candidates="$candidates $(pyenv root)/versions/$v/bin/python3"; done
fi
for candidate in $candidates python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || { log "python3 is required (apt-get install python3 python3-venv)"; exit 1; }
stamp="$python schemathesis==$SCHEMATHESIS_VERSION"

mkdir -p "$root/.services"
exec 9>"$root/.services/python.lock"
flock 9
if [ ! -x "$st" ] || [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing python3-venv"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2
    else
      log "$python has no venv module: apt-get install python3-venv (as root)"
      exit 1
    fi
  fi
  log "installing schemathesis $SCHEMATHESIS_VERSION with $python into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  echo "$stamp" >"$venv/.installed"
fi
echo "$st"
