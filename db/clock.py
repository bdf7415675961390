"""One clock for the whole app so tests can move time (lockouts, codes, sessions)."""
from datetime import UTC, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), 'Asia/Shanghai')


def _real_now() -> datetime:
    return datetime.now(UTC)


_now = _real_now


def now() -> datetime:
    """Current time, timezone-aware UTC (stored as UTC)."""
    return _now()


def set_clock(fn) -> None:
    """Replace the clock (tests pass a callable returning aware UTC)."""
    global _now
    _now = fn or _real_now


def local(dt: datetime | None) -> str:
    """Format a stored UTC time for people in Guilin."""
    if dt is None:
        return ''
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')
