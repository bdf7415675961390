"""Engine per database URL, SQLite pragmas, session_scope() and migrations."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

_engine: Engine | None = None
_url: str | None = None

SQLITE_PRAGMAS = (
    'PRAGMA journal_mode=WAL',
    'PRAGMA synchronous=FULL',
    'PRAGMA foreign_keys=ON',
    'PRAGMA busy_timeout=10000',
)


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's BEGIN reach SQLite so writers take the lock at BEGIN IMMEDIATE time below.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


def _sqlite_on_begin(conn) -> None:
    # IMMEDIATE: a writer waits on busy_timeout at BEGIN instead of failing later on upgrade.
    conn.exec_driver_sql('BEGIN IMMEDIATE')


def init_engine(url: str) -> Engine:
    """Create (or replace) the process-wide engine for this URL."""
    global _engine, _url
    if _engine is not None:
        _engine.dispose()
    if url.startswith('sqlite'):
        engine = create_engine(url, connect_args={'check_same_thread': False, 'timeout': 10})
        event.listen(engine, 'connect', _sqlite_on_connect)
        event.listen(engine, 'begin', _sqlite_on_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    _engine, _url = engine, url
    return engine


def get_engine() -> Engine:
    if _engine is None:
        from glrc_ui import config
        init_engine(config.current().database_url)
    return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    Side effects outside the database (e.g. the SMS outbox file) register a callable in
    session.info['after_commit']; they run only once the transaction has committed."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        for action in session.info.pop('after_commit', []):
            action()


def migrate(url: str | None = None) -> None:
    """Apply all Alembic migrations (start-up and `python main.py migrate`)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option('script_location', str(Path(__file__).parent / 'migrations'))
    engine = get_engine() if url is None or url == _url else init_engine(url)
    with engine.begin() as conn:
        cfg.attributes['connection'] = conn
        command.upgrade(cfg, 'head')


def ping() -> bool:
    from sqlalchemy import text
    try:
        with get_engine().connect() as conn:
            conn.execute(text('SELECT 1'))
        return True
    except Exception:  # noqa: BLE001 - health check reports any failure as unhealthy
        return False


def serialize_on(session: Session, key: str) -> None:
    """Serialise transactions that share `key` until this one ends (counters with no row to lock).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: writers already run one at a time
    (BEGIN IMMEDIATE), so nothing more is needed."""
    if session.get_bind().dialect.name == 'postgresql':
        from sqlalchemy import text
        session.execute(text('SELECT pg_advisory_xact_lock(hashtext(:key))'), {'key': key})
