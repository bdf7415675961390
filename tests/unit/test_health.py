"""/healthz tells the truth (issue 7, item 4): a database that refuses writes or a disk under the
free-space floor is unhealthy; the write probe changes nothing and runs at most every 30 s."""
from collections import namedtuple

from sqlalchemy import text

from db.engine import get_engine
from glrc_ui import config, health
from tests.factories import read_only_database

Usage = namedtuple('Usage', 'total used free')


def check(now: float, min_free_mb: int = 100) -> dict:
    return health.status(config.current().data_dir, min_free_mb, now=now)


def test_a_healthy_database_and_disk():
    health.forget()
    result = check(1000.0)
    assert result['status'] == 'ok' and result['database'] and result['writable'] and result['disk_ok']
    with get_engine().connect() as conn:   # the probe changed nothing
        assert conn.execute(text('SELECT count(*) FROM alembic_version')).scalar_one() == 1


def test_a_database_that_refuses_writes_is_unhealthy_once_the_cache_expires():
    health.forget()
    assert check(2000.0)['status'] == 'ok'
    with read_only_database():
        assert check(2010.0)['status'] == 'ok'            # within 30 s: the last answer, no new probe
        result = check(2031.0)
    assert result['status'] == 'error' and result['database'] and not result['writable']
    health.forget()


def test_a_disk_under_the_floor_is_unhealthy(monkeypatch):
    health.forget()
    monkeypatch.setattr(health.shutil, 'disk_usage', lambda path: Usage(10**12, 10**12 - 50 * 2**20, 50 * 2**20))
    result = check(3000.0, min_free_mb=200)
    assert result['status'] == 'error' and result['disk_free_mb'] == 50 and not result['disk_ok']
    health.forget()
