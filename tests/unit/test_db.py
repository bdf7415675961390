"""The database keeps what it is given (SECURITY R1, R6): pragmas, foreign keys, UTC, transactions."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db.engine import get_engine, session_scope
from db.models import AuthSession, Notification
from glrc_ui import config
from tests import factories as f
from tests.conftest import TEST_DB_URL


def test_engine_is_the_configured_database():
    dialect = get_engine().dialect.name
    if TEST_DB_URL:
        assert dialect == 'postgresql'
        assert config.current().database_url == TEST_DB_URL
    else:
        assert dialect == 'sqlite'
        assert str(config.current().data_dir) in config.current().database_url


def test_sqlite_pragmas_are_durable_or_postgres_is_used():
    """R1 on SQLite: WAL, synchronous=FULL, foreign keys on, a busy timeout; read back from pooled
    connections. On PostgreSQL durability is the server's setting: the dialect is what is checked."""
    engine = get_engine()
    if TEST_DB_URL:
        assert engine.dialect.name == 'postgresql'
        return
    assert engine.dialect.name == 'sqlite'
    for _ in range(3):   # every connection the pool hands out, not only the first
        with engine.connect() as conn:
            assert conn.exec_driver_sql('PRAGMA journal_mode').scalar().lower() == 'wal'
            assert conn.exec_driver_sql('PRAGMA synchronous').scalar() == 2           # FULL
            assert conn.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1
            assert conn.exec_driver_sql('PRAGMA busy_timeout').scalar() > 0


def test_foreign_keys_are_enforced():
    with pytest.raises(IntegrityError):
        with session_scope() as s:
            s.add(AuthSession(token_hash='0' * 64, user_id=987654))


def test_failed_transaction_leaves_nothing_behind():
    user_id = f.person('13800138000')
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            s.add(Notification(user_id=user_id, title='半截', body='不应保存'))
            s.flush()
            raise RuntimeError('crash in the middle of an action')
    with get_engine().connect() as conn:
        assert conn.execute(text('SELECT count(*) FROM notification')).scalar() == 0


def test_times_round_trip_as_aware_utc(fake_clock):
    user_id = f.person('13800138000')
    local = datetime(2026, 11, 28, 10, 30, tzinfo=timezone(timedelta(hours=8)))
    f.set_user(user_id, locked_until=local)
    stored = f.get_user(user_id)
    assert stored.locked_until == local                       # the same instant
    assert stored.locked_until.utcoffset() == timedelta(0)    # returned as UTC
    assert stored.created_at == fake_clock.now and stored.created_at.tzinfo is not None
    assert stored.locked_until.astimezone(UTC).hour == 2
