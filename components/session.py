"""Who is behind this browser: the session token in NiceGUI's user storage, resolved on the server
(STYLE 4), and the login hand-over that gives the browser a fresh storage id. Builds no UI."""
import re
import secrets
import time

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


async def current_actor(touch: bool = True) -> Actor | None:
    """Resolve the session behind this browser; None when absent, expired or revoked."""
    token = _token()
    if token is None:
        return None
    return await run.io_bound(security.resolve_session, token, touch=touch, ip=request_ip())


SAFE_NEXT_RE = re.compile(r'^/[A-Za-z0-9/_-]*$')


def safe_next(path: str | None) -> str:
    """Only plain same-site paths are followed after login: no //host, scheme, escapes or control
    characters (browsers drop tabs and newlines, so '/\t/evil.com' would become '//evil.com')."""
    if not path or not SAFE_NEXT_RE.match(path) or path.startswith('//'):
        return '/'
    return path


class PendingLogins:
    """Tokens on their way from the login form to the browser's fresh storage (one use, 60 s)."""

    TTL = 60

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, str, float]] = {}

    def add(self, token: str, target: str) -> str:
        now = time.monotonic()
        self._items = {k: v for k, v in self._items.items() if now - v[2] < self.TTL}
        nonce = secrets.token_urlsafe(24)
        self._items[nonce] = (token, target, now)
        return nonce

    def known(self, nonce: str) -> bool:
        item = self._items.get(nonce)
        return item is not None and time.monotonic() - item[2] < self.TTL

    def pop(self, nonce: str) -> tuple[str, str] | None:
        item = self._items.pop(nonce, None)
        if item is None or time.monotonic() - item[2] >= self.TTL:
            return None
        return item[0], item[1]


pending_logins = PendingLogins()


def sign_in(token: str, target: str) -> None:
    """Finish a login over HTTP: /login/finish gives the browser a new storage id (a new cookie, so a
    planted cookie is worthless: no session fixation), then /login/complete stores the token there."""
    ui.navigate.to(f'/login/finish?n={pending_logins.add(token, safe_next(target))}')


def forget_token() -> None:
    """Drop the token from this browser (its session row was already ended by the service)."""
    _user_storage().pop('token', None)


async def sign_out() -> None:
    token = _token()
    _user_storage().pop('token', None)
    if token:
        await run.io_bound(security.end_session, token, 'logout', request_ip())
