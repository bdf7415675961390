"""Current user for pages and event handlers; deny by default (STYLE 4, SECURITY C1, S3)."""
import functools
import logging
import re
import secrets
import time
import inspect
from collections.abc import Callable

from fastapi.responses import RedirectResponse
from nicegui import app, context, run, storage, ui

from glrc_ui import security
from glrc_ui.http import client_ip
from glrc_ui.services import audit
from glrc_ui.services.audit import Actor

log = logging.getLogger('glrc')
# Paths registered through protected_page(); the menu shows only entries whose page exists.
registered_paths: set[str] = set()
SESSION_GONE = '登录已失效，请重新登录'
ACTION_FAILED = '操作未能完成，请稍后重试；如多次出现，请联系市人才服务中心'


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


def protected_page(path: str, roles: tuple[str, ...] | None = None, *, title: str = '',
                   active_only: bool = False, admin_only: bool = False, password_gate: bool = True):
    """A page that needs a live session and one of `roles`. The builder gets the actor first."""
    def decorator(build: Callable):
        registered_paths.add(path)

        async def page(**kwargs):
            actor = await current_actor()
            if actor is None:
                return RedirectResponse(f'/login?next={path}' if '{' not in path else '/login', status_code=303)
            if password_gate and actor.must_change_password and path != '/account/settings':
                return RedirectResponse('/account/settings', status_code=303)
            if not allowed(actor, roles, active_only, admin_only):
                await run.io_bound(audit.record_now, 'permission_denied', actor=actor, obj=f'page:{path}',
                                   result='denied')
                from components.frame import denied_page
                denied_page(actor)
                return None
            context.client.glrc_user_id = actor.user_id
            try:
                result = build(actor, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                from components.frame import session_watch
                session_watch()
            except Exception:  # noqa: BLE001 - logged for the operator, a plain message for the user
                log.exception('page %s failed', path)
                from components.errors import error_panel
                error_panel()
                return None
            return result
        page.__name__ = build.__name__
        page.__signature__ = _without_actor(build)
        full_title = f'{title} - 桂林市人才服务信息化管理系统' if title else '桂林市人才服务信息化管理系统'
        return ui.page(path, title=full_title)(page)
    return decorator


def _without_actor(fn: Callable) -> inspect.Signature:
    sig = inspect.signature(fn)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


def allowed(actor: Actor, roles: tuple[str, ...] | None, active_only: bool = False, admin_only: bool = False) -> bool:
    if roles is not None and actor.role not in roles:
        return False
    if active_only and actor.status != 'active':
        return False
    if admin_only and not actor.is_admin:
        return False
    return True


def guarded(fn: Callable, roles: tuple[str, ...] | None = None, *, active_only: bool = False,
            admin_only: bool = False, password_gate: bool = True) -> Callable:
    """Wrap an event handler: re-check the session and role at every event, then call fn(actor, ...).

    fn receives as many of the event's arguments as it declares after `actor` (none, or the event)."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    takes_all = any(p.kind == p.VAR_POSITIONAL for p in params)
    wanted = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

    @functools.wraps(fn)
    async def handler(*args, **kwargs):
        actor = await current_actor()
        if actor is None:
            ui.notify(SESSION_GONE, type='warning')
            ui.navigate.to('/login')
            return None
        if password_gate and actor.must_change_password:
            ui.navigate.to('/account/settings')
            return None
        built_for = getattr(context.client, 'glrc_user_id', actor.user_id)
        if built_for != actor.user_id:  # another account logged in from this browser meanwhile
            ui.notify('当前浏览器已登录其他账号，请刷新页面', type='warning')
            ui.navigate.to('/')
            return None
        if not allowed(actor, roles, active_only, admin_only):
            await run.io_bound(audit.record_now, 'permission_denied', actor=actor, obj=f'event:{fn.__name__}',
                               result='denied')
            ui.notify('无权执行此操作', type='negative')
            return None
        try:
            result = fn(actor, *(args if takes_all else args[:wanted]))
            if inspect.isawaitable(result):
                result = await result
        except Exception:  # noqa: BLE001 - logged for the operator, a plain message for the user
            log.exception('event handler %s failed', fn.__name__)
            ui.notify(ACTION_FAILED, type='negative')
            return None
        return result
    return handler


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
