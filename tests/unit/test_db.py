"""The database keeps what it is given (SECURITY R1, R6): pragmas, foreign keys, UTC, transactions."""
import sqlite3
from contextlib import ExitStack, closing
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError

from db.engine import get_engine, session_scope
from db.models import AuthSession, Notification
from glrc_ui import config
from tests import factories as f
from tests.conftest import TEST_DB_URL


def test_engine_is_the_configured_database():
    """The engine the services use is connected to the database the settings name (not a default)."""
    url = get_engine().url
    if TEST_DB_URL:
        assert url.get_backend_name() == 'postgresql'
        assert config.current().database_url == TEST_DB_URL
        assert (url.host, url.port, url.database) == (make_url(TEST_DB_URL).host, make_url(TEST_DB_URL).port,
                                                      make_url(TEST_DB_URL).database)
    else:
        assert url.get_backend_name() == 'sqlite'
        assert url.database == str(config.current().data_dir / 'glrc.sqlite3')


def test_every_connection_is_durable():
    """R1 on SQLite: WAL, synchronous=FULL, foreign keys on and a real busy timeout, read back from
    several connections the pool holds at once (not the same pooled connection three times), and WAL
    recorded in the database file itself. On PostgreSQL durability is the server's: fsync, full page
    writes and synchronous commit must be on for the app's own connections."""
    engine = get_engine()
    with ExitStack() as stack:
        # raw pooled connections: configured by the pool's connect hook, no BEGIN IMMEDIATE taken
        conns = [stack.enter_context(closing(engine.raw_connection())) for _ in range(3)]
        assert len({id(c.dbapi_connection) for c in conns}) == 3
        for conn in conns:
            def read(sql: str, conn=conn):
                cur = conn.cursor()
                try:
                    cur.execute(sql)
                    return cur.fetchone()[0]
                finally:
                    cur.close()
            if TEST_DB_URL:
                assert engine.dialect.name == 'postgresql'
                settings = {name: read(f'SHOW {name}') for name in ('fsync', 'full_page_writes', 'synchronous_commit')}
                assert settings == {'fsync': 'on', 'full_page_writes': 'on', 'synchronous_commit': 'on'}
            else:
                assert read('PRAGMA journal_mode').lower() == 'wal'
                assert read('PRAGMA synchronous') == 2           # FULL
                assert read('PRAGMA foreign_keys') == 1
                # long enough for a writer to wait out another writer's transaction instead of failing
                assert read('PRAGMA busy_timeout') >= 5000
    if not TEST_DB_URL:
        path = engine.url.database
        raw = sqlite3.connect(path)  # a connection without the app's pragmas sees the file's own mode
        try:
            assert raw.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
        finally:
            raw.close()


def test_foreign_keys_are_enforced():
    with pytest.raises(IntegrityError, match=r'(?i)foreign key'):  # not any other constraint
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


def test_optimize_gives_sqlite_planner_statistics():
    """Without statistics SQLite may plan a list through an index that serves neither its filter nor
    its order; optimize() makes them once (ANALYZE), then keeps them current (PRAGMA optimize)."""
    from sqlalchemy import text

    from db import engine
    if engine.get_engine().dialect.name != 'sqlite':
        assert engine.optimize() == ''        # PostgreSQL: autovacuum analyses
        return
    with engine.get_engine().begin() as conn:
        conn.execute(text('DROP TABLE IF EXISTS sqlite_stat1'))
    assert engine.optimize() == 'ANALYZE'
    with engine.get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'org'")).scalar() >= 1
    assert engine.optimize() == 'PRAGMA optimize'
