"""Shared fixtures: a fresh data dir and database per test, on SQLite or PostgreSQL.

Migrating and seeding from scratch was most of a typical unit test's time, so the schema is
built once per session and every test starts from a copy of that state:

- SQLite: one migrated + seeded template file; each test gets a plain copy as its glrc.sqlite3.
- PostgreSQL (GLRC_TEST_DATABASE_URL=postgresql+psycopg://…/test): the schema `public` of that
  database is rebuilt once per session; each test then empties every table (DELETE with the foreign
  keys' triggers off, sequences restarted, so ids start at 1 again) and the orgs are seeded again. A test that drops or changes the
  schema (backup/restore, the browser tests) makes the next test rebuild it from the migrations.

`cli.prepare()` still runs for every test (migrate is then a no-op check, seeding fills the org table
again on PostgreSQL), so whatever it sets up happens exactly as in the application."""
import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytest_plugins = ['nicegui.testing.user_plugin']

TEST_DB_URL = os.environ.get('GLRC_TEST_DATABASE_URL', '').strip()
SQLITE_NAME = 'glrc.sqlite3'  # the file name config.load() gives the default SQLite database
E2E_DIR = Path(__file__).resolve().parent / 'e2e'
E2E_TIMEOUT = 300  # seconds; a browser journey also starts `python main.py` and Chromium


def reset_postgres(url: str) -> None:
    """Drop and recreate the schema `public` (the next `cli.prepare()` migrates it from scratch)."""
    engine = create_engine(url, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.execute(text('DROP SCHEMA IF EXISTS public CASCADE'))
        conn.execute(text('CREATE SCHEMA public'))
    engine.dispose()


def pytest_collection_modifyitems(items):
    """Browser tests get a longer default timeout than pytest.ini's (unless they set their own)."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents and item.get_closest_marker('timeout') is None:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT))


class FakeClock:
    """A clock the test moves by hand (lockouts, code expiry, session timeouts)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope='session')
def db_template(tmp_path_factory):
    """The migrated + seeded database, built once per session; `.install(data_dir)` gives a test its copy."""
    template: PostgresTemplate | SqliteTemplate
    if TEST_DB_URL:
        template = PostgresTemplate(TEST_DB_URL, tmp_path_factory.mktemp('pg-template') / 'data')
    else:
        template = SqliteTemplate(tmp_path_factory.mktemp('sqlite-template') / 'data')
    yield template
    template.close()


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """Environment for a fresh app: data dir and database URL. Returns the data dir (not created yet).

    The database itself is app_db's business."""
    data_dir = tmp_path / 'data'
    monkeypatch.setenv('GLRC_DATA_DIR', str(data_dir))
    if TEST_DB_URL:
        monkeypatch.setenv('GLRC_DATABASE_URL', TEST_DB_URL)
    else:
        monkeypatch.delenv('GLRC_DATABASE_URL', raising=False)
    return data_dir


@pytest.fixture
def app_db(db_template, data_env):
    """Settings loaded, engine created, migrations applied, orgs seeded, throttles cleared."""
    from glrc_ui import cli, clock, security
    db_template.install(data_env)
    settings = cli.prepare()
    from glrc_ui.services import files
    for limiter in (security.ip_throttle, security.sms_ip_limit, security.register_ip_limit, files.upload_limit,
                    security._ghost_accounts):
        limiter.clear()
    yield settings
    clock.set_clock(None)
    from db import engine
    engine.get_engine().dispose()


@pytest.fixture
def fake_clock(app_db):
    from glrc_ui import clock
    fake = FakeClock()
    clock.set_clock(fake)
    yield fake
    clock.set_clock(None)


def _prepare_in(data_dir: Path, database_url: str | None) -> None:
    """`cli.prepare()` against data_dir (and database_url), without touching the calling test's env."""
    from db import engine
    from glrc_ui import cli
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('GLRC_DATA_DIR', str(data_dir))
        if database_url:
            mp.setenv('GLRC_DATABASE_URL', database_url)
        else:
            mp.delenv('GLRC_DATABASE_URL', raising=False)
        cli.prepare()
        engine.get_engine().dispose()


class SqliteTemplate:
    """A migrated + seeded SQLite file, closed and checkpointed, copied as each test's database."""

    def __init__(self, data_dir: Path) -> None:
        _prepare_in(data_dir, None)
        self.path = data_dir / SQLITE_NAME
        # Every connection is closed; fold any WAL content into the main file so one file is the whole
        # database (a copy without its -wal would miss commits).
        conn = sqlite3.connect(self.path)
        try:
            busy, _, _ = conn.execute('PRAGMA wal_checkpoint(TRUNCATE)').fetchone()
            assert busy == 0, 'the template database is still in use'
        finally:
            conn.close()  # the last connection of a WAL database removes its -wal and -shm files
        leftovers = sorted(p.name for p in data_dir.iterdir() if p.name != SQLITE_NAME)
        assert not leftovers, f'the template data dir holds more than the closed database: {leftovers}'

    def install(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, data_dir / SQLITE_NAME)

    def close(self) -> None:
        pass


class PostgresTemplate:
    """The schema migrated once per session; each test empties its tables instead of migrating again."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        reset_postgres(url)  # whatever an earlier run (or another branch's migrations) left there
        _prepare_in(data_dir, url)
        self.engine = create_engine(url, isolation_level='AUTOCOMMIT')
        with self.engine.connect() as conn:
            self.tables = self._tables(conn)
            self.head = self._version(conn)
            self.empty_sql = self._empty_sql(conn)

    def _empty_sql(self, conn) -> str:
        """What empties every table and restarts the ids at 1. DELETE with the foreign-key triggers off
        (session_replication_role = replica, for a superuser such as the local `postgres`) takes about
        10 ms on these near-empty tables, TRUNCATE about 75 ms (it swaps every table's files): over a
        thousand tests that is a minute. Without superuser rights, TRUNCATE … RESTART IDENTITY."""
        names = sorted(self.tables - {'alembic_version'})
        if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            listed = ', '.join(f'"{name}"' for name in names)
            return f'TRUNCATE {listed} RESTART IDENTITY CASCADE'
        sequences = conn.execute(text("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                                      "FROM pg_sequences WHERE schemaname = 'public'")).scalars()
        return '; '.join(["SET session_replication_role = replica",
                          *(f'DELETE FROM "{name}"' for name in names),
                          *(f'ALTER SEQUENCE {seq} RESTART' for seq in sequences),
                          "SET session_replication_role = DEFAULT"])

    def install(self, data_dir: Path) -> None:
        with self.engine.connect() as conn:
            # A connection the last test leaked would make TRUNCATE wait forever: fail instead.
            conn.execute(text("SET lock_timeout = '10s'"))
            if self._tables(conn) != self.tables or self._version(conn) != self.head:
                conn.close()
                reset_postgres(self.url)  # a test changed the schema: the app migrates it again
                return
            conn.execute(text(self.empty_sql))

    def close(self) -> None:
        self.engine.dispose()

    @staticmethod
    def _tables(conn) -> frozenset[str]:
        return frozenset(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())

    @staticmethod
    def _version(conn) -> str | None:
        if 'alembic_version' not in PostgresTemplate._tables(conn):
            return None
        return conn.execute(text('SELECT version_num FROM alembic_version')).scalar()
