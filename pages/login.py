"""/login with the three tabs of SPEC §3.1, the two hops that finish a login, and /logout."""
import uuid

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, run, ui

from components import forms, session
from components.auth import PAGE_TIMEOUT, report_failure
from components.dialogs import heading
from components.frame import SYSTEM_NAME, add_style
from components.menu import registered_paths
from glrc_ui import security
from glrc_ui.errors import ValidationError
from glrc_ui.http import client_ip
from glrc_ui.security import LoginError
from glrc_ui.services import accounts
from glrc_ui.validators import phone_error

UNIT, PERSON, STAFF = '单位用户', '个人用户', '管理人员'
# fixed notices chosen by key: no text from the URL is ever shown
NOTICES = {
    'relogin': ('修改成功，请重新登录', 'ok'),
    'registered': ('注册成功，请登录', 'ok'),
    'logout': ('您已安全退出登录', 'ok'),
    'expired': ('登录已失效，请重新登录', 'warn'),
    'timeout': ('您长时间未操作，登录已超时，请重新登录', 'warn'),
    'changed': ('您的密码或登录账号已在其他地方修改，请使用新的密码或账号重新登录', 'warn'),
    'disabled': ('您的账号已被停用，已退出登录。如有疑问，请联系市人才服务中心', 'warn'),
    'locked': ('原密码多次输入错误，账号已临时锁定，请稍后再登录', 'warn'),
}


def register() -> None:
    @ui.page('/login', title=f'登录 - {SYSTEM_NAME}', response_timeout=PAGE_TIMEOUT)
    def login_page(next: str = '/', msg: str = ''):
        target = session.safe_next(next)
        add_style()
        notice = NOTICES.get(msg)
        ui.query('.nicegui-content').classes('p-0')
        with ui.element('div').classes('glrc-auth-page'):
            heading(SYSTEM_NAME, 1).classes('glrc-auth-title')
            with ui.card().classes('glrc-auth-card p-0'):
                if notice:
                    text, kind = notice
                    colors = 'bg-green-1 text-green-10' if kind == 'ok' else 'bg-orange-1 text-deep-orange-10'
                    ui.label(text).classes(f'w-full {colors} p-3 text-center').props('role=status')
                with ui.tabs().classes('w-full text-grey-9').props('active-color=red-9 indicator-color=red-9') as tabs:
                    unit_tab, person_tab, staff_tab = ui.tab(UNIT), ui.tab(PERSON), ui.tab(STAFF)
                with ui.tab_panels(tabs, value=unit_tab, animated=False, keep_alive=False).classes('w-full'):
                    with ui.tab_panel(unit_tab):
                        _account_form(('unit',), target)
                    with ui.tab_panel(person_tab):
                        _person_forms(target)
                    with ui.tab_panel(staff_tab):
                        _account_form(('reviewer', 'center'), target)
                with ui.row().classes('w-full justify-center gap-6 pb-4'):
                    for label, path in (('单位注册', '/register/unit'), ('个人注册', '/register/person')):
                        if path in registered_paths:  # a link only to a page that exists
                            ui.link(label, path)
            ui.label('主办：桂林市人才服务中心').classes('text-grey-9 text-sm mt-6')

    @app.get('/login/finish', include_in_schema=False)
    async def login_finish(request: Request, n: str = ''):
        """Hop 1 (same browser only): end the session this browser had and give it a new storage id."""
        new_id = str(uuid.uuid4())
        if not session.pending_logins.finish(n, request.session.get('id'), new_id):
            return RedirectResponse('/login?msg=expired', status_code=303)
        old = app.storage.user.pop('token', None)
        if old:
            await run.io_bound(security.end_session, old, 'replaced', client_ip(request))
        request.session['id'] = new_id
        return RedirectResponse(f'/login/complete?n={n}', status_code=303)

    @app.get('/login/complete', include_in_schema=False)
    async def login_complete(request: Request, n: str = ''):
        """Hop 2: the fresh storage gets the session token; then on to the page asked for."""
        pending = session.pending_logins.complete(n, request.session.get('id'))
        if pending is None:
            return RedirectResponse('/login?msg=expired', status_code=303)
        token, target = pending
        app.storage.user['token'] = token
        return RedirectResponse(session.safe_next(target), status_code=303)
    # No GET /logout: a link on another site could end a user's session. 退出登录 is a page action
    # (an event over the page's own socket, checked like every other event).


def _account_form(roles: tuple[str, ...], target: str) -> None:
    _password_form(roles, '登录账号', lambda v: None if v.strip() else '请输入登录账号', target)


def _password_form(roles: tuple[str, ...], id_label: str, id_error, target: str) -> None:
    """登录账号 (or 手机号) + 密码 → a session for one of `roles`."""
    with ui.column().classes('w-full gap-3 glrc-form p-2'):
        identifier = forms.text(id_label, autocomplete='username')
        password = forms.text('密码', password=True, autocomplete='current-password')
        message = forms.error_line()
        errors = forms.ErrorBinder({id_label: identifier, '密码': password}, message)

        async def submit() -> None:
            errors.clear()
            if error := id_error(identifier.value):
                errors.show(error, id_label)
                return
            if not password.value:
                errors.show('请输入密码', '密码')
                return
            try:
                token, _ = await run.io_bound(security.login_password, roles, identifier.value, password.value,
                                              session.request_ip())
            except LoginError as exc:
                password.value = ''
                errors.show(str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - e.g. a read-only database: say so, log it
                password.value = ''
                report_failure(exc, 'login', errors)
                return
            session.sign_in(token, target)

        password.on('keydown.enter', submit)
        ui.button('登录', on_click=submit).props('unelevated color=red-9').classes('w-full')


def _person_forms(target: str) -> None:
    with ui.tabs().props('dense active-color=red-9 indicator-color=red-9').classes('w-full') as inner:
        pwd_tab, code_tab = ui.tab('密码登录'), ui.tab('验证码登录')
    with ui.tab_panels(inner, value=pwd_tab, animated=False, keep_alive=False).classes('w-full'):
        with ui.tab_panel(pwd_tab).classes('p-0'):
            _person_password(target)
        with ui.tab_panel(code_tab).classes('p-0'):
            _person_code(target)


def _person_password(target: str) -> None:
    _password_form(('person',), '手机号', phone_error, target)


def _person_code(target: str) -> None:
    with ui.column().classes('w-full gap-3 glrc-form p-2'):
        phone = forms.text('手机号', autocomplete='tel')
        with ui.row().classes('w-full no-wrap items-start gap-2'):
            code = forms.text('验证码', autocomplete='one-time-code').props('maxlength=6')
            send = ui.button('获取验证码').props('outline color=red-9').classes('shrink-0 h-10')
        message = forms.error_line()
        errors = forms.ErrorBinder({'手机号': phone, '验证码': code}, message)

        async def request_code() -> None:
            errors.clear()
            try:
                await run.io_bound(accounts.request_login_code, phone.value.strip(), session.request_ip())
            except ValidationError as exc:
                errors.show(exc)
                return
            except Exception as exc:  # noqa: BLE001 - e.g. a read-only database: say so, log it
                report_failure(exc, 'login code request', errors)
                return
            ui.notify('验证码已发送，请查看手机短信（5 分钟内有效）', type='positive')
            send.disable()
            ui.timer(60, send.enable, once=True)

        async def submit() -> None:
            errors.clear()
            if error := phone_error(phone.value):
                errors.show(error, '手机号')
                return
            if not code.value.strip():
                errors.show('请输入验证码', '验证码')
                return
            try:
                token, _ = await run.io_bound(accounts.login_code, phone.value.strip(), code.value, session.request_ip())
            except LoginError as exc:
                errors.show(str(exc), '验证码')
                return
            except Exception as exc:  # noqa: BLE001 - e.g. a read-only database: say so, log it
                report_failure(exc, 'login by code', errors)
                return
            session.sign_in(token, target)

        send.on_click(request_code)
        ui.button('登录', on_click=submit).props('unelevated color=red-9').classes('w-full')
