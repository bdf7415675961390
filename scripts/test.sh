#!/usr/bin/env bash
# Static checks (ruff, mypy on the core, import floors), then every test (unit, page, browser) on
# SQLite and on PostgreSQL. Installs what is missing.
#   GLRC_CHROMIUM           browser binary for the E2E tests (default: /usr/bin/chromium-headless-shell, else
#                           /usr/bin/chromium, else Playwright's own)
#   GLRC_TEST_PG_URL        PostgreSQL for the second run (default: postgresql+psycopg://postgres@127.0.0.1:5432/test)
#   GLRC_TEST_SKIP_PG=1     only SQLite (local use; CI never skips)
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Debian's Chromium (chromium), its old headless shell (chromium-headless-shell: the same engine without
# the browser UI and GPU process, about a third of the CPU; tests/e2e/conftest.py prefers it) and CJK fonts.
have_own_browser() { [ -n "${GLRC_CHROMIUM:-}" ] && [ -x "${GLRC_CHROMIUM}" ]; }
have_browser() {
  have_own_browser && return 0
  [ -x /usr/bin/chromium-headless-shell ] || [ -x /usr/bin/chromium ] && return 0
  ls -d "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium-* >/dev/null 2>&1 && return 0
  return 1
}
have_cjk_font() { fc-list 2>/dev/null | grep -qi 'CJK'; }
if { ! have_own_browser && [ ! -x /usr/bin/chromium-headless-shell ]; } || ! have_cjk_font; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian Chromium, its headless shell and CJK fonts for the browser tests…"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell fonts-noto-cjk >/dev/null
  fi
fi
have_browser || { echo "ERROR: no Chromium for the browser tests (install chromium or set GLRC_CHROMIUM)" >&2; exit 1; }

# nginx and Redis for the scale-out test (tests/e2e/test_scale_out_e2e.py starts both itself, on free
# ports): Debian's packages, installed without starting their services (policy-rc.d answers 101).
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if { ! has nginx || ! has redis-server; } && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian nginx and redis-server for the scale-out test (services not started)…"
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx redis-server >/dev/null || true
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# axe-core for the accessibility browser test, pinned in tests/e2e/axe/package-lock.json. `npm ci` runs
# when axe.min.js is missing or the lockfile changed since the last install (stamp: its SHA-256).
AXE_DIR=tests/e2e/axe
AXE_STAMP=$AXE_DIR/node_modules/.glrc-lock-sha256
axe_lock_sha() { sha256sum "$AXE_DIR/package-lock.json" | cut -d' ' -f1; }
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] || [ "$(cat "$AXE_STAMP" 2>/dev/null)" != "$(axe_lock_sha)" ]; then
  if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Node.js and npm (Debian) for axe-core…"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  command -v npm >/dev/null 2>&1 || {
    echo "ERROR: npm is needed to install axe-core for the accessibility test ($AXE_DIR); install Node.js and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1; }
  echo "Installing axe-core (npm ci in $AXE_DIR)…"
  (cd "$AXE_DIR" && npm ci --silent --no-audit --no-fund)
  axe_lock_sha > "$AXE_STAMP"
fi

echo "=== Static checks: ruff, mypy (core), import floors ==="
.venv/bin/ruff check .
.venv/bin/mypy
if [ -f ../shared/tools/layers.py ]; then
  python3 ../shared/tools/layers.py . | tail -1
fi

PG_URL=${GLRC_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
pg_ok() { .venv/bin/python -c "import sqlalchemy as sa,sys; sa.create_engine(sys.argv[1]).connect().close()" "$PG_URL" >/dev/null 2>&1; }
run_pg=1
if [ "${GLRC_TEST_SKIP_PG:-}" = 1 ] && [ "${CI:-}" != true ]; then
  echo "Skipping the PostgreSQL run (GLRC_TEST_SKIP_PG=1)"; run_pg=
fi
if [ -n "$run_pg" ] && ! pg_ok && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
  sleep 2
fi
if [ -n "$run_pg" ] && ! pg_ok; then
  if [ "${CI:-}" = true ]; then
    echo "ERROR: PostgreSQL at $PG_URL is unreachable; CI must run the suite on it" >&2; exit 1
  fi
  echo "WARNING: PostgreSQL at $PG_URL is unreachable; skipped the PostgreSQL run" >&2; run_pg=
fi

# The two passes run side by side (much of a pass waits on a browser, a server start or a socket; each
# has its own database, temp dir, ports and Redis key prefixes); GLRC_TEST_SERIAL=1 runs one after the
# other. The PostgreSQL pass skips the axe-core and layout checks (markup that does not depend on the
# database) and the tests that bring their own database: SQLite pass only.
work=$(mktemp -d "${TMPDIR:-/tmp}/glrc-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
pg_pass() {
  GLRC_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -m "not ui_only and not once" \
    --basetemp "$work/pg" "$@"
}
pg_status=0
if [ -n "$run_pg" ] && [ "${GLRC_TEST_SERIAL:-}" != 1 ]; then
  echo "=== Test suites on SQLite (shown as it runs) and on PostgreSQL (shown when done), side by side ==="
  pg_pass "$@" > "$work/pg.log" 2>&1 &
  pg_pid=$!
  sqlite_status=0
  .venv/bin/python -m pytest --basetemp "$work/sqlite" "$@" || sqlite_status=$?
  wait "$pg_pid" || pg_status=$?
  echo "=== Test suite on PostgreSQL ==="
  cat "$work/pg.log"
else
  echo "=== Test suite on SQLite ==="
  sqlite_status=0
  .venv/bin/python -m pytest --basetemp "$work/sqlite" "$@" || sqlite_status=$?
  if [ -n "$run_pg" ]; then
    echo "=== Test suite on PostgreSQL ==="
    pg_pass "$@" || pg_status=$?
  fi
fi
[ "$sqlite_status" = 0 ] || echo "FAILED: the SQLite pass (exit $sqlite_status)" >&2
[ "$pg_status" = 0 ] || echo "FAILED: the PostgreSQL pass (exit $pg_status)" >&2
[ "$sqlite_status" = 0 ] && [ "$pg_status" = 0 ]
