#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (idempotent; quick when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.glrc-deps
want=$(cat requirements.txt requirements-dev.txt requirements-lock.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # (this machine's pip config names local mirrors that may be absent: drop those warnings only)
  .venv/bin/python -m pip install -q --upgrade pip 2> >(grep -v 'is ignored' >&2) >/dev/null
  .venv/bin/python -m pip install -q -r requirements-dev.txt -c requirements-lock.txt 2> >(grep -v 'is ignored' >&2)
  echo "$want" > "$stamp"
fi
