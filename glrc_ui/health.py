"""/healthz: is the database reachable AND writable, and is there room on the data dir's disk?
The write probe is cheap (an UPDATE that changes nothing, rolled back) and runs at most once per
PROBE_EVERY seconds; between probes the last answer is reused."""
import logging
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import text

from db.engine import get_engine, read_scope
from glrc_ui.errors import is_storage_failure

PROBE_EVERY = 30.0
log = logging.getLogger('glrc')
_lock = threading.Lock()
_last: tuple[float, dict] | None = None


def status(data_dir: Path, min_free_mb: int, *, now: float | None = None) -> dict:
    """{'status', 'database', 'writable', 'disk_free_mb', 'disk_ok'}; status 'ok' only when all hold."""
    global _last
    now = time.monotonic() if now is None else now
    with _lock:
        if _last is not None and now - _last[0] < PROBE_EVERY:
            return _last[1]
        readable, writable = _probe()
        free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
        disk_ok = free_mb >= min_free_mb
        result = {'status': 'ok' if readable and writable and disk_ok else 'error', 'database': readable,
                  'writable': writable, 'disk_free_mb': free_mb, 'disk_ok': disk_ok}
        if result['status'] != 'ok':
            log.error('health check failed: %s', result)
        _last = (now, result)
        return result


def forget() -> None:
    """Drop the cached answer (tests; after an operator fixed the cause)."""
    global _last
    with _lock:
        _last = None


def _probe() -> tuple[bool, bool]:
    """(reachable, writable). The write is a real UPDATE of the migration table, rolled back."""
    try:
        with read_scope() as s:       # a reader: works on a read-only database too
            s.execute(text('SELECT 1'))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; logged
        log.error('health: database unreachable: %s', exc)
        return False, False
    try:
        with get_engine().connect() as conn:
            with conn.begin() as transaction:
                conn.execute(text('UPDATE alembic_version SET version_num = version_num'))
                transaction.rollback()
        return True, True
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; logged
        log.error('health: database refuses writes%s: %s', ' (storage)' if is_storage_failure(exc) else '', exc)
        return True, False
