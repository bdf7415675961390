"""Who is behind this browser: the session token in NiceGUI's user storage, resolved on the server
(STYLE 4), and the login hand-over that gives the browser a fresh storage id. Builds no UI."""
import re
import secrets
import threading
import time
from dataclasses import dataclass

from nicegui import app, context, run, storage, ui

from glrc_ui import security
from glrc_ui.actor import Actor
from glrc_ui.http import client_ip


def request_ip() -> str | None:
    try:
        request = context.client.request
    except (RuntimeError, AttributeError):
        return None
    return client_ip(request)


def _user_storage():
    """This browser's NiceGUI user storage, for the page's own request (in pages and events alike)."""
    try:
        request = context.client.request
    except (RuntimeError, AttributeError):
        request = None  # a plain HTTP route: the middleware has set the request already
    if request is not None:
        storage.request_contextvar.set(request)
    return app.storage.user


def _token() -> str | None:
    try:
        token = _user_storage().get('token')
    except RuntimeError:
        return None
    return token if isinstance(token, str) else None


def has_token() -> bool:
    return _token() is not None


async def current_actor(touch: bool = True) -> Actor | None:
    """Resolve the session behind this browser; None when absent, expired or revoked."""
    token = _token()
    if token is None:
        return None
    return await run.io_bound(security.resolve_session, token, touch=touch, ip=request_ip())


# why a session ended -> the notice /login shows (pages/login.py NOTICES)
END_NOTICES = {'disabled': 'disabled', 'credentials_changed': 'changed', 'locked': 'locked',
               'idle_timeout': 'timeout', 'absolute_timeout': 'timeout', 'logout': 'logout', 'replaced': 'expired'}


async def login_url_after_end(next_path: str | None = None) -> str:
    """/login with the reason this browser's session ended (停用, password changed elsewhere, timeout…)."""
    token = _token()
    reason = await run.io_bound(security.session_end_reason, token) if token else None
    query = [f'next={safe_next(next_path)}'] if next_path and safe_next(next_path) != '/' else []
    query.append(f'msg={END_NOTICES.get(reason or "", "expired")}')
    return '/login?' + '&'.join(query)


SAFE_NEXT_RE = re.compile(r'^/[A-Za-z0-9/_-]*$')


def safe_next(path: str | None) -> str:
    """Only plain same-site paths are followed after login: no //host, scheme, escapes or control
    characters (browsers drop tabs and newlines, so '/\t/evil.com' would become '//evil.com')."""
    if not path or not SAFE_NEXT_RE.match(path) or path.startswith('//'):
        return '/'
    return path


@dataclass
class _Pending:
    token: str
    target: str
    browser: str          # the storage id of the browser the login happened in (later: its new one)
    created: float
    finished: bool = False


class PendingLogins:
    """Tokens on their way from the login form to the browser's fresh storage: bound to the browser
    that logged in (its storage id), one use, 60 s. A captured /login/finish URL opened in another
    browser is refused (no login CSRF: nobody can make a victim work inside the attacker's account)."""

    TTL = 60

    def __init__(self) -> None:
        self._items: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def add(self, token: str, target: str, browser: str) -> str:
        now = time.monotonic()
        nonce = secrets.token_urlsafe(24)
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if now - v.created < self.TTL}
            self._items[nonce] = _Pending(token, target, browser, now)
        return nonce

    def finish(self, nonce: str, browser: str | None, new_browser: str) -> bool:
        """Hop 1: the same browser, not finished before; it is moved to its new storage id. A nonce
        presented by another browser is dropped (single use, whoever presents it)."""
        with self._lock:
            item = self._items.get(nonce)
            if item is None or item.finished or time.monotonic() - item.created >= self.TTL \
                    or not browser or not secrets.compare_digest(item.browser, browser):
                self._items.pop(nonce, None)
                return False
            item.browser, item.finished = new_browser, True
            return True

    def complete(self, nonce: str, browser: str | None) -> tuple[str, str] | None:
        """Hop 2: the (token, target) for the browser that finished hop 1; the nonce is used up."""
        with self._lock:
            item = self._items.pop(nonce, None)
        if item is None or not item.finished or time.monotonic() - item.created >= self.TTL \
                or not browser or not secrets.compare_digest(item.browser, browser):
            return None
        return item.token, item.target


pending_logins = PendingLogins()


def sign_in(token: str, target: str) -> None:
    """Finish a login over HTTP: /login/finish gives the browser a new storage id (a new cookie, so a
    planted cookie is worthless: no session fixation), then /login/complete stores the token there.
    The hand-over is bound to this browser's storage id, so it works in this browser only."""
    browser = context.client.request.session.get('id', '')
    ui.navigate.to(f'/login/finish?n={pending_logins.add(token, safe_next(target), browser)}')


def forget_token() -> None:
    """Drop the token from this browser (its session row was already ended by the service)."""
    _user_storage().pop('token', None)


async def sign_out() -> None:
    token = _token()
    _user_storage().pop('token', None)
    if token:
        await run.io_bound(security.end_session, token, 'logout', request_ip())
