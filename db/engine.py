"""Engine per database URL, SQLite pragmas, session_scope() and migrations."""
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

_engine: Engine | None = None
_read_engine: Engine | None = None
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
    # Writers BEGIN IMMEDIATE: they wait on busy_timeout at BEGIN instead of failing later on upgrade.
    # Readers (read_scope) BEGIN DEFERRED: in WAL mode they never wait for a writer.
    conn.exec_driver_sql('BEGIN' if conn.get_execution_options().get('glrc_read') else 'BEGIN IMMEDIATE')


def init_engine(url: str) -> Engine:
    """Create (or replace) the process-wide engine for this URL."""
    global _engine, _read_engine, _url
    if _engine is not None:
        _engine.dispose()
    if url.startswith('sqlite'):
        _create_private_sqlite_file(url)
        # as many connections as worker threads may want at a peak (GLRC_WORKER_THREADS, 40)
        engine = create_engine(url, connect_args={'check_same_thread': False, 'timeout': 10},
                               pool_size=20, max_overflow=30)
        event.listen(engine, 'connect', _sqlite_on_connect)
        event.listen(engine, 'begin', _sqlite_on_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30)
    _engine, _url = engine, url
    _read_engine = engine.execution_options(glrc_read=True)
    return engine


def _create_private_sqlite_file(url: str) -> None:
    """Create a missing SQLite database file 0600 before SQLite does (it would use 0644 minus the
    umask). SQLite gives its -wal and -shm files the database file's rights."""
    name = make_url(url).database
    if not name or name == ':memory:' or name.startswith('file:'):
        return
    path = Path(name)
    if path.parent.is_dir():  # else SQLite reports the missing directory, as before
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError('init_engine(url) must run first (cli.prepare does it)')
    return _engine


_open: ContextVar[tuple[Session, bool] | None] = ContextVar('glrc_open_session', default=None)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One write transaction (SQLite: BEGIN IMMEDIATE): commit on success, roll back on any error.

    Called while a transaction is already open in this thread, it joins that transaction instead of
    opening a second one, so services compose: the outermost scope commits. A write inside an open
    read transaction is a programming error (SQLite could not upgrade it safely) and raises.

    Side effects outside the database register a callable in session.info['after_commit'] (run once
    the outermost transaction has committed) or session.info['after_rollback'] (e.g. remove a file
    that was moved into place for a row that is not kept)."""
    with _scope(write=True) as session:
        yield session


@contextmanager
def read_scope() -> Iterator[Session]:
    """A read-only transaction: no write lock on SQLite (deferred BEGIN); joins any open transaction."""
    with _scope(write=False) as session:
        yield session


@contextmanager
def _scope(write: bool) -> Iterator[Session]:
    current = _open.get()
    if current is not None:
        session, writing = current
        if write and not writing:
            raise RuntimeError('session_scope() inside read_scope(): open the write transaction first')
        yield session
        return
    engine = get_engine() if write else _read_engine
    with Session(engine, expire_on_commit=False) as session:
        token = _open.set((session, write))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            _open.reset(token)
            for action in session.info.pop('after_rollback', []):
                action()
            raise
        _open.reset(token)
        session.info.pop('after_rollback', None)
        for action in session.info.pop('after_commit', []):
            action()


def in_transaction() -> bool:
    return _open.get() is not None


MIGRATIONS = Path(__file__).parent / 'migrations'


def head_revision() -> str:
    """The newest migration's revision id, from the file names (NNNN_*.py, revision = NNNN)."""
    return max(path.name.split('_', 1)[0] for path in (MIGRATIONS / 'versions').glob('[0-9][0-9][0-9][0-9]_*.py'))


def at_head(engine: Engine) -> bool:
    """True when the database already carries the newest revision: start-up then skips Alembic (its
    import and script scan cost ~0.4 s of every cold start)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError
    try:
        with engine.connect() as conn:
            return conn.execute(text('SELECT version_num FROM alembic_version')).scalar() == head_revision()
    except SQLAlchemyError:   # no table yet (a new database), or not readable: let Alembic decide
        return False


def migrate(url: str | None = None, *, quick: bool = False) -> None:
    """Apply all Alembic migrations (`python main.py migrate`; with quick, start-up: nothing when the
    database is already at the newest revision)."""
    engine = get_engine() if url is None or url == _url else init_engine(url)
    if quick and at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option('script_location', str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes['connection'] = conn
        command.upgrade(cfg, 'head')


def optimize() -> str:
    """Keep the query planner's statistics current (SQLite: the first time a bounded ANALYZE, then
    `PRAGMA optimize`, which re-analyses only what changed enough; PostgreSQL's autovacuum does this
    itself). Without statistics SQLite may pick an index that serves neither filter nor order (a
    name search over 100k applications: 392 ms instead of 37). Returns what it ran."""
    from sqlalchemy import text
    engine = get_engine()
    if engine.dialect.name != 'sqlite':
        return ''
    with engine.begin() as conn:
        conn.exec_driver_sql('PRAGMA analysis_limit=1000')   # approximate: milliseconds even at 1M rows
        has_stats = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        statement = 'PRAGMA optimize' if has_stats else 'ANALYZE'
        conn.exec_driver_sql(statement)
    return statement


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
