"""Password policy and hashing, login with lockout and throttling, server-side sessions."""
import hashlib
import logging
import os
import secrets
import threading
import time
import types
from collections.abc import Callable
from datetime import datetime, timedelta

import limits.storage.memory
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter
from passlib.context import CryptContext
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import AuthSession, User, saved_id
from glrc_ui import clock, config
from glrc_ui.actor import Actor
from glrc_ui.errors import NotFound, PermissionDenied, is_storage_failure
from glrc_ui.services import audit

# argon2id at OWASP's minimum (m=19 MiB, t=2, p=1): ~25 ms of one core, where the library default
# (64 MiB, t=3, p=4) cost 0.17–0.3 s and a 2-core server could not take a deadline-day login peak.
# Hashes made with other parameters are replaced at the next good login (verify_and_update).
PWD = CryptContext(schemes=['argon2'], argon2__type='ID', argon2__memory_cost=19456, argon2__rounds=2,
                   argon2__parallelism=1)
# Hashes at once: one core fewer than the machine has (at least one), so that a login peak never takes
# every core from the event loop that serves the pages (300 logins a minute need ~10 s of one core);
# the other worker threads (page data, saves) go on meanwhile.
HASHING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 1) - 1))
MAX_FAILURES = 5
LOCK_MINUTES = 30
IP_WINDOW = timedelta(minutes=10)
IP_MAX_FAILURES = 30
MAX_TRACKED_KEYS = 200_000        # per throttle; ~100 000 addresses active at once
STAFF_ROLES = ('reviewer', 'center')

LOGIN_FAILED = '账号或密码错误，连续 5 次错误将锁定 30 分钟'
LOGIN_LOCKED = '账号或密码错误次数过多，已暂时锁定，请 30 分钟后再试'
LOGIN_THROTTLED = '本网络登录失败次数过多，请 10 分钟后再试'
LOGIN_DISABLED = '该账号已停用，请联系市人才服务中心'


class LoginError(Exception):
    pass


def hash_password(password: str) -> str:
    with HASHING:
        return PWD.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        with HASHING:
            return PWD.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def verify_and_update(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(password right?, new hash when the stored one was made with other parameters than PWD's now)."""
    try:
        with HASHING:
            return PWD.verify_and_update(password, password_hash)
    except (ValueError, TypeError):
        return False, None


# A hash to verify against when the account does not exist, so both paths cost the same.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


class _AppClockTime(types.ModuleType):
    """Stands in for the `time` module inside limits' memory storage (the library takes no clock), so
    its windows and key expiries follow glrc_ui.clock, which tests move by hand. That module calls
    only time.time()."""

    def __init__(self) -> None:
        super().__init__('glrc_ui.security.app_clock_time')

    @staticmethod
    def time() -> float:
        return clock.now().timestamp()


limits.storage.memory.time = _AppClockTime()


class IpThrottle:
    """At most `limit` events per client address in a sliding window; loose enough for an office behind
    one NAT. The counting is the `limits` library's sliding-window counter: in this process's memory,
    whose keys expire two windows after their last event, or, with GLRC_REDIS_URL (several processes
    behind one proxy, see README), in Redis under GLRC_REDIS_KEY_PREFIX + `name`, so every process
    counts the same events. The storage is chosen on first use, from the environment then."""

    def __init__(self, window: timedelta = IP_WINDOW, limit: int = IP_MAX_FAILURES,
                 max_keys: int = MAX_TRACKED_KEYS, *, name: str = 'ip') -> None:
        self.window, self.limit, self.max_keys, self.name = window, limit, max_keys, name
        self._item = RateLimitItemPerSecond(limit, int(window.total_seconds()))
        self._storage: Storage | None = None
        self._limiter: SlidingWindowCounterRateLimiter | None = None
        self._setup = threading.Lock()
        self._last_outage = float('-inf')

    def blocked(self, ip: str | None) -> bool:
        """True when the address already has `limit` events in the window (counts nothing)."""
        if not ip:
            return False
        return not self._allowed(lambda limiter: limiter.test(self._item, ip))

    def fail(self, ip: str | None) -> None:
        """Count one event (one past the limit is not counted: the address is blocked either way)."""
        if ip:
            self._bound()
            self._allowed(lambda limiter: limiter.hit(self._item, ip))

    def hit(self, ip: str | None) -> bool:
        """Count one event; True when the address is already over its limit (the event is refused)."""
        if not ip:
            return False
        self._bound()
        return not self._allowed(lambda limiter: limiter.hit(self._item, ip))

    def clear(self) -> None:
        self._counter()
        assert self._storage is not None
        self._storage.reset()

    def tracked(self) -> int:
        """Counters held now (two per active address: this window and the previous one)."""
        self._counter()
        storage = self._storage
        if isinstance(storage, MemoryStorage):
            return len(storage.expirations)   # the storage's own expiry table: limits has no public count
        assert isinstance(storage, RedisStorage)
        client = storage.storage   # the redis.Redis client (a test's look at how many addresses are held)
        return len(list(client.scan_iter(match=storage.prefixed_key('*'), count=1000)))

    def _counter(self) -> SlidingWindowCounterRateLimiter:
        limiter = self._limiter
        if limiter is None:
            with self._setup:
                if self._limiter is None:
                    self._storage = _throttle_storage(self.name)
                    self._limiter = SlidingWindowCounterRateLimiter(self._storage)
                limiter = self._limiter
        return limiter

    def _allowed(self, ask: Callable[[SlidingWindowCounterRateLimiter], bool]) -> bool:
        """The limiter's answer; True (allowed) while Redis does not answer: the site keeps serving
        without these limits (account lockout is on the user row and still counts), and the log says
        so at most once a minute per throttle."""
        try:
            return ask(self._counter())
        except StorageError as exc:
            now = time.monotonic()
            if now - self._last_outage >= 60:
                self._last_outage = now
                logging.getLogger('glrc').error('限流计数 %s 无法访问 Redis（GLRC_REDIS_URL），暂不限流：%s',
                                                self.name, exc.storage_error)
            return True

    def _bound(self) -> None:
        # Expiry bounds memory by the traffic of 20 minutes; a flood of distinct addresses beyond the
        # cap forgets every counter rather than the process's memory (as the hand-written one did).
        # Redis keys expire on their own (and Redis has its own memory limit).
        self._counter()
        if isinstance(self._storage, MemoryStorage) and self.tracked() >= self.max_keys:
            self._storage.reset()


def _throttle_storage(name: str) -> Storage:
    """Memory (one process), or Redis when GLRC_REDIS_URL is set: short timeouts, so a Redis that does
    not answer costs a login a moment, not a hung worker thread."""
    url = config.redis_url()
    if not url:
        return MemoryStorage()
    return RedisStorage(url, key_prefix=f'{config.redis_key_prefix()}{name}', wrap_exceptions=True,
                        socket_connect_timeout=2, socket_timeout=2)


ip_throttle = IpThrottle(name='login_ip')
# SMS cost and account enumeration: code requests and registrations per address
sms_ip_limit = IpThrottle(timedelta(minutes=10), 30, name='sms_ip')
register_ip_limit = IpThrottle(timedelta(minutes=10), 20, name='register_ip')
BUSY = '本网络操作过于频繁，请 10 分钟后再试'


class GhostAccounts:
    """Counts failures for accounts that do not exist, so they answer exactly like real ones (A4)."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[int, datetime | None]] = {}
        self._lock = threading.Lock()

    def fail(self, identifier: str) -> str:
        key = identifier.strip().lower()[:64]
        now = clock.now()
        with self._lock:
            if len(self._state) > 100_000:
                self._state.clear()
            count, locked_until = self._state.get(key, (0, None))
            if locked_until is not None and locked_until > now:
                return LOGIN_LOCKED
            count += 1
            if count >= MAX_FAILURES:
                self._state[key] = (0, now + timedelta(minutes=LOCK_MINUTES))
                return LOGIN_LOCKED
            self._state[key] = (count, None)
            return LOGIN_FAILED

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


_ghost_accounts = GhostAccounts()


def actor_of(user: User, ip: str | None = None, s: Session | None = None) -> Actor:
    status = effective_status(s, user) if s is not None else user.status
    return Actor(user.id, user.account, user.role, ip, user.org_id, user.is_admin, user.display_name,
                 status, user.must_change_password)


def effective_status(s: Session, user: User) -> str:
    """A unit operator's status is its unit's review state, a person's its person row's state (a
    disabled account stays disabled); staff carry their own."""
    if user.role == 'unit' and user.unit_id is not None:
        from db.models import Unit
        unit = s.get(Unit, user.unit_id)
        if unit is not None:
            return unit.state
    if user.role == 'person' and user.status != 'disabled':
        from db.models import Person
        person = s.exec(select(Person).where(Person.user_id == user.id)).first()
        if person is not None:
            return person.state
    return user.status


def _find_login(session: Session, roles: tuple[str, ...], identifier: str) -> User | None:
    identifier = identifier.strip()
    column = col(User.phone) if roles == ('person',) else col(User.account)
    return session.exec(select(User).where(column == identifier, col(User.role).in_(roles))).first()


def login_password(roles: tuple[str, ...], identifier: str, password: str, ip: str | None) -> tuple[str, Actor]:
    """Check a password login. Returns (session token, actor) or raises LoginError with the message to show.

    The slow hash check runs outside any transaction (no write lock held while hashing); the
    counters are then updated on the locked user row, so parallel guesses cannot lose a count. A hash
    made with older argon2 parameters is replaced on that row by one made with the current ones."""
    if ip_throttle.blocked(ip):
        audit.record_now('login_throttled', ip=ip, account=identifier[:64], result='denied')
        raise LoginError(LOGIN_THROTTLED)
    with session_scope() as s:
        user = _find_login(s, roles, identifier)
        user_id, stored_hash = (user.id, user.password_hash) if user else (None, None)
        locked = bool(user and user.locked_until and user.locked_until > clock.now())
    ok, new_hash = verify_and_update(password, stored_hash if stored_hash and not locked else _dummy_hash())
    ok = ok and not locked
    with session_scope() as s:
        user = lock_user(s, user_id) if user_id else None
        error = _record_attempt(s, user, identifier, ok, ip)
        if error is None:
            assert user is not None   # _record_attempt refuses an unknown account
            # old argon2 parameters: the same password under the current ones, unless the row got a
            # newer hash while we were hashing (a password change, a parallel login's rehash)
            if new_hash and user.password_hash == stored_hash:
                user.password_hash = new_hash
            return start_session(s, user, ip, 'password')
    # the failure counters and audit entries above are committed before the error is raised
    raise LoginError(error)


def lock_user(s: Session, user_id: int) -> User:
    """The user row, locked until the transaction ends (PostgreSQL; SQLite writers are serialised)."""
    return s.exec(select(User).where(User.id == user_id).with_for_update()).one()


def user_id_of(actor: Actor) -> int:
    """The acting user's id, for what only a logged-in user may do (an anonymous actor has none)."""
    if actor.user_id is None:
        raise PermissionDenied()
    return actor.user_id


def own_user(s: Session, actor: Actor) -> User:
    """The acting user's own row."""
    return user_row(s, user_id_of(actor))


def user_row(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound('账号不存在')
    return user


def _record_attempt(s: Session, user: User | None, identifier: str, ok: bool, ip: str | None) -> str | None:
    """None when the password was right for an enabled, unlocked account; else the message to show."""
    now = clock.now()
    if user is None:
        ip_throttle.fail(ip)
        audit.record(s, 'login_failed', ip=ip, account=identifier[:64], result='unknown_account')
        return _ghost_accounts.fail(identifier)
    if user.locked_until and user.locked_until > now:
        audit.record(s, 'login_locked', actor=actor_of(user, ip), obj=f'user:{user.id}', result='denied')
        return LOGIN_LOCKED
    if not ok:
        ip_throttle.fail(ip)
        return count_failure(s, user, ip, 'login_failed', 'wrong_password')
    if effective_status(s, user) == 'disabled':
        audit.record(s, 'login_failed', actor=actor_of(user, ip), obj=f'user:{user.id}', result='disabled')
        return LOGIN_DISABLED
    return None


def count_failure(s: Session, user: User, ip: str | None, event: str, result: str) -> str:
    """One more wrong password on a locked row; the 5th locks the account for 30 minutes."""
    user.failed_logins += 1
    s.add(user)
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = clock.now() + timedelta(minutes=LOCK_MINUTES)
        user.failed_logins = 0
        audit.record(s, 'lockout', actor=actor_of(user, ip), obj=f'user:{user.id}', result='locked')
        return LOGIN_LOCKED
    audit.record(s, event, actor=actor_of(user, ip), obj=f'user:{user.id}', result=result)
    return LOGIN_FAILED


def start_session(s: Session, user: User, ip: str | None, method: str) -> tuple[str, Actor]:
    """Create a fresh session row for a user who just proved who they are."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = clock.now()
    s.add(user)
    token = secrets.token_urlsafe(32)
    s.add(AuthSession(token_hash=_token_hash(token), user_id=saved_id(user), ip=ip))
    actor = actor_of(user, ip, s)
    audit.record(s, 'login', actor=actor, obj=f'user:{user.id}', detail=method)
    return token, actor


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit(role: str) -> timedelta:
    settings = config.current()
    return timedelta(minutes=settings.staff_idle_minutes if role in STAFF_ROLES else settings.idle_minutes)


def resolve_session(token: str | None, *, touch: bool = True, ip: str | None = None) -> Actor | None:
    """The actor behind a session token, or None (fails closed). Expired sessions are ended and audited.

    When the database refuses writes (read-only file, full disk), the session is still resolved
    without touching it, so pages can be read and a save can say why it failed."""
    try:
        return _resolve_session(token, touch=touch, ip=ip)
    except Exception as exc:
        if not touch or not is_storage_failure(exc):
            raise
        logging.getLogger('glrc').warning('session not touched: the database refuses writes (%s)', exc)
        return _resolve_session(token, touch=False, ip=ip, writable=False)


# A session in use is marked as such (last_seen_at) at most this often, by the app clock: a write
# (on SQLite the database's one write lock) for every click of every open tab held up page changes
# with a few hundred clerks at work. Its validity (revoked, disabled, timed out) is still checked on
# every event. The idle limit counts from the last mark, so a session may end up to this much before
# the idle limit has passed since the very last click: the stricter side, never a longer session.
TOUCH_EVERY = timedelta(seconds=30)


def _resolve_session(token: str | None, *, touch: bool, ip: str | None, writable: bool = True) -> Actor | None:
    """writable=False: read only; a session that should end is refused without recording it.

    Read first (no write lock): a live session that was marked in use within TOUCH_EVERY is answered
    from the read. Only ending a session or marking it in use opens a write transaction, which looks
    at the row again (another tab may have ended or marked it meanwhile)."""
    if not token or not isinstance(token, str):
        return None
    now = clock.now()
    actor = None
    with read_scope() as s:
        row, user, reason = _session_state(s, token, now)
        if row is None:
            return None
        if user is not None and reason is None:
            actor = actor_of(user, ip, s)
            if not (touch and writable and now - row.last_seen_at >= TOUCH_EVERY):
                return actor
        if not writable:
            return None
    if actor is not None:   # only the mark is due: best effort, never a refused click
        try:
            return _end_or_mark(token, touch=touch, ip=ip)
        except OperationalError as exc:
            if 'locked' not in str(exc).lower():
                raise
            logging.getLogger('glrc').info('session not marked in use: the database is busy')
            return actor
    return _end_or_mark(token, touch=touch, ip=ip)


def _end_or_mark(token: str, *, touch: bool, ip: str | None) -> Actor | None:
    """The write half of _resolve_session: end a session that must end, or mark it in use."""
    with session_scope() as s:
        now = clock.now()
        row, user, reason = _session_state(s, token, now)
        if row is None:
            return None
        if reason == 'disabled' or user is None:
            row.revoked_at, row.revoked_reason = now, 'disabled'
            s.add(row)
            return None
        if reason:
            row.revoked_at, row.revoked_reason = now, reason
            s.add(row)
            audit.record(s, 'session_expired', actor=actor_of(user, ip), obj=f'user:{user.id}', result=reason)
            return None
        if touch and now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
            s.add(row)
        return actor_of(user, ip, s)


def _session_state(s: Session, token: str, now: datetime) -> tuple[AuthSession | None, User | None, str | None]:
    """(row, user, why it must end now or None); row None: no such session, or already ended."""
    row = s.exec(select(AuthSession).where(AuthSession.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None, None, None
    user = s.get(User, row.user_id)
    if user is None or effective_status(s, user) == 'disabled':
        return row, user, 'disabled'
    if now - row.created_at > timedelta(hours=config.current().absolute_hours):
        return row, user, 'absolute_timeout'
    if now - row.last_seen_at > _idle_limit(user.role):
        return row, user, 'idle_timeout'
    return row, user, None


def session_end_reason(token: str | None) -> str | None:
    """Why the session behind token ended (disabled, credentials_changed, idle_timeout, …), or None
    when it is unknown or still open. Read only: the sign-in page says why a tab was signed out."""
    if not token or not isinstance(token, str):
        return None
    with read_scope() as s:
        row = s.exec(select(AuthSession).where(AuthSession.token_hash == _token_hash(token))).first()
        return row.revoked_reason if row is not None else None


def end_session(token: str | None, reason: str = 'logout', ip: str | None = None) -> None:
    if not token:
        return
    with session_scope() as s:
        row = s.exec(select(AuthSession).where(AuthSession.token_hash == _token_hash(token))).first()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at, row.revoked_reason = clock.now(), reason
        s.add(row)
        user = s.get(User, row.user_id)
        if reason == 'logout' and user is not None:
            audit.record(s, 'logout', actor=actor_of(user, ip), obj=f'user:{user.id}')


def end_all_sessions(s: Session, user_id: int, reason: str) -> int:
    """Revoke every open session of a user (password/account change, disable, reset)."""
    rows = s.exec(select(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))).all()
    for row in rows:
        row.revoked_at, row.revoked_reason = clock.now(), reason
        s.add(row)
    return len(rows)
