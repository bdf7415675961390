"""Settings from the environment (SPEC §8) and secrets generated once into the data dir."""
import os
import secrets
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


def load() -> Settings:
    data_dir = Path(os.environ.get('GLRC_DATA_DIR', './data')).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = os.environ.get('GLRC_DATABASE_URL', '').strip() or f'sqlite:///{data_dir / "glrc.sqlite3"}'
    if url.startswith('postgresql://'):
        url = 'postgresql+psycopg://' + url[len('postgresql://'):]
    return Settings(
        data_dir=data_dir,
        host=os.environ.get('GLRC_HOST', '127.0.0.1'),
        port=_int('GLRC_PORT', 8080),
        database_url=url,
        idle_minutes=_int('GLRC_IDLE_MINUTES', 30),
        staff_idle_minutes=_int('GLRC_STAFF_IDLE_MINUTES', 15),
        absolute_hours=_int('GLRC_SESSION_HOURS', 8),
        secure_cookies=os.environ.get('GLRC_SECURE_COOKIES', '').lower() in {'1', 'true', 'yes'},
        sms_backend=os.environ.get('GLRC_SMS_BACKEND', 'outbox'),
    )


def secret(settings: Settings, name: str) -> str:
    """A random secret kept in the data dir: created on first use, reused after restarts."""
    path = settings.data_dir / f'.{name}.secret'
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    tmp = path.with_suffix('.tmp')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(value)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
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
