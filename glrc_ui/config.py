"""Settings from the environment (SPEC §8) and secrets generated once into the data dir."""
import logging
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str
    port: int
    database_url: str
    idle_minutes: int
    staff_idle_minutes: int
    absolute_hours: int
    secure_cookies: bool
    sms_backend: str
    min_free_mb: int = 200
    worker_threads: int = 40     # NiceGUI's run.io_bound pool (main._worker_threads)
    redis_url: str = ''          # several processes: the per-address limits count in Redis (redis_url())
    redis_key_prefix: str = 'glrc:'
    session_check_seconds: int = 60   # how often an open tab asks whether its session still holds

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / 'files'

    @property
    def sms_outbox(self) -> Path:
        return self.data_dir / 'sms_outbox.jsonl'

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith('sqlite')


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, '').strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f'环境变量 {name} 必须是整数，当前为 {raw!r}') from None
    if value <= 0:
        raise SystemExit(f'环境变量 {name} 必须大于 0')
    return value


PRIVATE_UMASK = 0o077  # files 0600, dirs 0700: session tokens, database, secrets, SMS codes, uploads
log = logging.getLogger('glrc')


def load(*, create: bool = True) -> Settings:
    """Settings from the environment; with `create`, the data dir is made (0700) or tightened.

    The CLI loads with create=False to check a command's arguments first: a refused command leaves
    no data dir, database or secret behind."""
    private_files()
    data_dir = Path(os.environ.get('GLRC_DATA_DIR', './data')).expanduser().resolve()
    url = os.environ.get('GLRC_DATABASE_URL', '').strip() or f'sqlite:///{data_dir / "glrc.sqlite3"}'
    if url.startswith('postgresql://'):
        url = 'postgresql+psycopg://' + url[len('postgresql://'):]
    settings = Settings(
        data_dir=data_dir,
        host=os.environ.get('GLRC_HOST', '127.0.0.1'),
        port=_int('GLRC_PORT', 8080),
        database_url=url,
        idle_minutes=_int('GLRC_IDLE_MINUTES', 30),
        staff_idle_minutes=_int('GLRC_STAFF_IDLE_MINUTES', 15),
        absolute_hours=_int('GLRC_SESSION_HOURS', 8),
        secure_cookies=os.environ.get('GLRC_SECURE_COOKIES', '').lower() in {'1', 'true', 'yes'},
        sms_backend=os.environ.get('GLRC_SMS_BACKEND', 'outbox'),
        min_free_mb=_int('GLRC_MIN_FREE_MB', 200),
        worker_threads=max(4, _int('GLRC_WORKER_THREADS', 40)),
        redis_url=redis_url(),
        redis_key_prefix=redis_key_prefix(),
        session_check_seconds=max(5, _int('GLRC_SESSION_CHECK_SECONDS', 60)),
    )
    if create:
        make_data_dir(data_dir)
    return settings


REDIS_SCHEMES = ('redis://', 'rediss://', 'redis+unix://')


def redis_url() -> str:
    """GLRC_REDIS_URL (e.g. redis://127.0.0.1:6379/0), or '' for one process: the rate limits then count
    in this process's memory. Read from the environment alone (no data dir is made), because the
    throttles pick their storage on first use, also where no settings were loaded."""
    url = os.environ.get('GLRC_REDIS_URL', '').strip()
    if url and not url.startswith(REDIS_SCHEMES):
        # the value is not repeated: it may hold the Redis password
        raise SystemExit(f'环境变量 GLRC_REDIS_URL 必须以 {"、".join(REDIS_SCHEMES)} 开头')
    return url


def redis_key_prefix() -> str:
    """GLRC_REDIS_KEY_PREFIX: where this app's keys live in a shared Redis (default 'glrc:')."""
    return os.environ.get('GLRC_REDIS_KEY_PREFIX', '').strip() or 'glrc:'


def make_data_dir(data_dir: Path) -> None:
    """The data dir, created 0700 at once (not chmod-ed afterwards: no moment with wider rights), or an
    existing one tightened to 0700. Parent dirs that are missing get the usual rights."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(data_dir)


def private_files() -> None:
    """Everything this process creates from now on is for its own user only.

    The app's own files get their rights where they are created (data dir and upload dirs 0700, the
    SQLite file, secrets, the SMS outbox, uploads and backups 0600 through os.open/mkdir with a mode).
    A process-wide umask is still needed for what other code creates with default rights: NiceGUI's
    storage-user-*.json (they hold the session token), Python's temp files (large upload parts).
    Settings are loaded before anything is written, so it is set here."""
    os.umask(PRIVATE_UMASK)


def _tighten(data_dir: Path) -> None:
    """A data dir that already existed with wider rights (an older install, a `mkdir` by hand) becomes 0700."""
    info = data_dir.stat()
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return
    if info.st_uid != os.geteuid():
        log.warning('数据目录 %s 的权限为 %s，且不属于当前用户，无法收紧为 0700：请由其所有者修改', data_dir, oct(mode))
        return
    try:
        data_dir.chmod(0o700)
    except OSError as exc:
        log.warning('数据目录 %s 的权限为 %s，无法收紧为 0700：%s', data_dir, oct(mode), exc)
        return
    log.warning('数据目录 %s 的权限为 %s，其他用户可以进入；已收紧为 0700', data_dir, oct(mode))


_secret_lock = threading.Lock()


def secret(settings: Settings, name: str) -> str:
    """A random secret kept in the data dir: created on first use (once, also when two threads or two
    processes sharing the data dir ask at the same moment), reused after restarts."""
    with _secret_lock:
        return _secret(settings, name)


def _secret(settings: Settings, name: str) -> str:
    path = settings.data_dir / f'.{name}.secret'
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    # this process's own temp file (another process may be writing its own); a crash leftover goes
    # first, so O_EXCL below creates the file 0600 for sure
    tmp = path.with_suffix(f'.{os.getpid()}.tmp')
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(value)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)   # atomic and never over an existing file: the first process's secret wins
    except FileExistsError:
        value = path.read_text().strip()
    except OSError:          # a file system without hard links: one process per data dir there
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return value


_current: Settings | None = None


def current() -> Settings:
    global _current
    if _current is None:
        _current = load()
    return _current


def reset(settings: Settings | None = None) -> Settings:
    """Re-read the environment (start-up and tests)."""
    global _current
    _current = settings or load()
    return _current
