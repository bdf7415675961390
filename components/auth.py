"""Deny by default (STYLE 4, SECURITY C1, S3): pages and event handlers re-check the session and role
every time. The event guard is also the one place where a service's UserError reaches the user:
next to its field (through the handler's ErrorBinder) or as a notice. Nothing else catches it."""
import functools
import inspect
import logging
from collections.abc import Callable

from fastapi.responses import RedirectResponse
from nicegui import context, run, ui

from components.errors import ACTION_FAILED, error_panel
from components.forms import ErrorBinder
from components.frame import denied_page, session_watch
from components.menu import registered_paths
from components.session import current_actor, has_token, login_url_after_end
from glrc_ui.actor import Actor
from glrc_ui.errors import STORAGE_FAILED, UserError, is_storage_failure
from glrc_ui.services import audit

log = logging.getLogger('glrc')
SESSION_GONE = '登录已失效，请重新登录'
# How long a page may take to build before NiceGUI gives up on it. Its default (3 s) turned a busy
# minute (a login peak) into error pages; the data arrives later then, but it arrives.
PAGE_TIMEOUT = 30.0


def protected_page(path: str, roles: tuple[str, ...] | None = None, *, title: str = '',
                   active_only: bool = False, admin_only: bool = False, password_gate: bool = True):
    """A page that needs a live session and one of `roles`. The builder gets the actor first."""
    def decorator(build: Callable):
        registered_paths.add(path)

        async def page(**kwargs):
            actor = await current_actor()
            if actor is None:
                target = path if '{' not in path else None
                if has_token():   # an ended session: say why
                    return RedirectResponse(await login_url_after_end(target), status_code=303)
                return RedirectResponse(f'/login?next={target}' if target else '/login', status_code=303)
            if password_gate and actor.must_change_password and path != '/account/settings':
                return RedirectResponse('/account/settings', status_code=303)
            if not allowed(actor, roles, active_only, admin_only):
                await run.io_bound(audit.record_now, 'permission_denied', actor=actor, obj=f'page:{path}',
                                   result='denied')
                denied_page(actor)
                return None
            context.client.glrc_user_id = actor.user_id
            try:
                result = build(actor, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                session_watch()
            except Exception:
                if context.client.is_deleted:   # NiceGUI gave up on this page (overload, the browser left):
                    log.warning('page %s abandoned before it was built', path)   # its data came back empty
                    return None
                log.exception('page %s failed', path)
                error_panel()
                return None
            return result
        page.__name__ = build.__name__
        page.__signature__ = _without_actor(build)  # type: ignore[attr-defined]
        full_title = f'{title} - 桂林市人才服务信息化管理系统' if title else '桂林市人才服务信息化管理系统'
        return ui.page(path, title=full_title, response_timeout=PAGE_TIMEOUT)(page)
    return decorator


def _without_actor(fn: Callable) -> inspect.Signature:
    sig = inspect.signature(fn)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


def allowed(actor: Actor, roles: tuple[str, ...] | None, active_only: bool = False, admin_only: bool = False) -> bool:
    if roles is not None and actor.role not in roles:
        return False
    if active_only and actor.status != 'active':
        return False
    return actor.is_admin or not admin_only


def guarded(fn: Callable, roles: tuple[str, ...] | None = None, *, active_only: bool = False,
            admin_only: bool = False, password_gate: bool = True,
            errors: 'ErrorBinder | Callable[[], ErrorBinder | None] | None' = None) -> Callable:
    """Wrap an event handler: re-check the session and role at every event, then call fn(actor, ...).

    fn receives as many of the event's arguments as it declares after `actor` (none, or the event).
    `errors` (a binder, or a callable returning the current one) is cleared before the call and shows
    a UserError next to its field; without it the error is a notice."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    takes_all = any(p.kind == p.VAR_POSITIONAL for p in params)
    wanted = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

    @functools.wraps(fn)
    async def handler(*args, **kwargs):
        actor = await current_actor()
        if actor is None:
            ui.notify(SESSION_GONE, type='warning')
            ui.navigate.to(await login_url_after_end())
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
        binder = errors() if callable(errors) and not isinstance(errors, ErrorBinder) else errors
        if binder is not None:
            binder.clear()
        try:
            result = fn(actor, *(args if takes_all else args[:wanted]))
            if inspect.isawaitable(result):
                result = await result
        except UserError as exc:
            show_error(exc, binder)
            return None
        except Exception as exc:  # noqa: BLE001 - logged for the operator, a plain message for the user
            report_failure(exc, f'event handler {fn.__name__}', binder)
            return None
        return result
    return handler


def report_failure(exc: Exception, what: str, binder: ErrorBinder | None = None) -> None:
    """An unexpected failure: the operator log says what failed; the user gets a plain message,
    the storage one when the database or disk refuses to write."""
    if is_storage_failure(exc):
        log.error('%s: storage refused the write: %s', what, exc, exc_info=exc)
        message = STORAGE_FAILED
    else:
        log.error('%s failed', what, exc_info=exc)
        message = ACTION_FAILED
    if binder is not None and binder.fallback is not None:
        binder.show(message)
    ui.notify(message, type='negative')


def show_error(exc: UserError, binder: ErrorBinder | None) -> None:
    if binder is not None:
        binder.show(exc)
    else:
        ui.notify(exc.message, type='negative', multi_line=True)
