#!/usr/bin/env bash
# Runs the app on SQLite with demo data in ./data (GLRC_DATA_DIR to change), at http://127.0.0.1:8080
# (GLRC_HOST / GLRC_PORT to change). Prints each step and the demo logins as they are in the database.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== 1/3 准备 Python 环境 (.venv) =="
bash scripts/setup.sh
echo "== 2/3 填充演示数据（${GLRC_DATA_DIR:-./data}；已有的账号保持不变）=="
.venv/bin/python main.py seed-demo
url="http://${GLRC_HOST:-127.0.0.1}:${GLRC_PORT:-8080}"
echo "== 3/3 启动服务：${url} （Ctrl+C 停止）=="
exec .venv/bin/python main.py
