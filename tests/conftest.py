"""Shared fixtures: a fresh data dir and database per test, on SQLite or PostgreSQL.

GLRC_TEST_DATABASE_URL=postgresql+psycopg://…/test runs the same suite on PostgreSQL (the schema
`public` of that database is dropped and recreated for every test)."""
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

pytest_plugins = ['nicegui.testing.user_plugin']

TEST_DB_URL = os.environ.get('GLRC_TEST_DATABASE_URL', '').strip()


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.execute(text('DROP SCHEMA IF EXISTS public CASCADE'))
        conn.execute(text('CREATE SCHEMA public'))
    engine.dispose()


class FakeClock:
    """A clock the test moves by hand (lockouts, code expiry, session timeouts)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """Environment for a fresh app: data dir and database URL. Returns the data dir."""
    data_dir = tmp_path / 'data'
    monkeypatch.setenv('GLRC_DATA_DIR', str(data_dir))
    if TEST_DB_URL:
        reset_postgres(TEST_DB_URL)
        monkeypatch.setenv('GLRC_DATABASE_URL', TEST_DB_URL)
    else:
        monkeypatch.delenv('GLRC_DATABASE_URL', raising=False)
    return data_dir


@pytest.fixture
def app_db(data_env):
    """Settings loaded, engine created, migrations applied, orgs seeded, throttles cleared."""
    from glrc_ui import cli, clock, security
    settings = cli.prepare()
    for limiter in (security.ip_throttle, security.sms_ip_limit, security.register_ip_limit,
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
