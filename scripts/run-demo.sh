#!/usr/bin/env bash
# Runs the app on SQLite with demo data in ./data (GLRC_DATA_DIR to change), at http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python main.py seed-demo
exec .venv/bin/python main.py
