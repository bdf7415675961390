#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (idempotent; quick and silent when nothing changed).
# Says what it does while it works: one line per step and one per package being fetched.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "正在创建虚拟环境 .venv（$("$PY" --version 2>&1)）…"
  "$PY" -m venv .venv
fi
stamp=.venv/.glrc-deps
want=$(cat requirements.txt requirements-dev.txt requirements-lock.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  started=$SECONDS
  # (this machine's pip config names local mirrors that may be absent: drop those warnings only)
  echo "正在更新 pip…"
  .venv/bin/python -m pip install -q --upgrade pip 2> >(grep -v 'is ignored' >&2) >/dev/null
  echo "正在安装依赖（首次约 1–2 分钟）…"
  # pip's own lines, shortened to one per package fetched and one when it installs them
  .venv/bin/python -m pip install --progress-bar off -r requirements-dev.txt -c requirements-lock.txt \
      2> >(grep -v 'is ignored' >&2) |
    awk '/^Collecting /      { n++; printf "  [%d] 获取 %s\n", n, $2; fflush() }
         /^Installing collected packages/ { print "  正在安装已获取的包…"; fflush() }'
  echo "$want" > "$stamp"
  echo "依赖已就绪（用时 $((SECONDS - started)) 秒）"
fi
