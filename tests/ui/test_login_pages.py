"""/login as people use it (SPEC §3.1) and the deny-by-default wall around every page.

SECURITY A4 (lockout, same answer for unknown accounts), S2 (new token per login), S3 (timeout on
page load), S4 (logout), S5 (cookie flags), C1 (every route needs a login), V2 (relative redirects)."""
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from nicegui import Client, app, ui
from nicegui.testing import User
from nicegui.testing.user_simulation import user_simulation
from starlette.routing import Route

from glrc_ui import security
from tests import factories as f
from tests.factories import PASSWORD

MAIN = Path(__file__).resolve().parents[2] / 'main.py'
ALLOW_LIST = {'/login', '/register/unit', '/register/person', '/healthz'}
NICEGUI_ASSETS = ('/_nicegui', '/favicon.ico')


async def failed_login_message(user: User, tab: str, identifier: str, password: str) -> str:
    await f.submit_login(user, tab, identifier, password)
    return f.alert_text(user, f.tab_panel(user, tab))


# ---------------------------------------------------------------- the page

async def test_login_page_has_the_three_tabs_and_their_fields(user: User):
    await user.open('/login')
    for label in ('单位用户', '个人用户', '管理人员', '单位注册'):  # 个人注册: see test_login_smoke
        await user.should_see(label)
    for tab in ('单位用户', '管理人员'):
        panel = f.tab_panel(user, tab)
        f.field(user, '登录账号', panel)
        f.field(user, '密码', panel)
        f.button(user, '登录', panel)
    with user.client:
        person_tabs = {t.props['name'] for t in f.tab_panel(user, '个人用户').descendants() if isinstance(t, ui.tab)}
    assert person_tabs == {'密码登录', '验证码登录'}
    password_panel, code_panel = f.tab_panel(user, '密码登录'), f.tab_panel(user, '验证码登录')
    f.field(user, '手机号', password_panel)
    f.field(user, '密码', password_panel)
    f.field(user, '手机号', code_panel)
    f.field(user, '验证码', code_panel)
    f.button(user, '获取验证码', code_panel)
    f.button(user, '登录', code_panel)


async def test_wrong_password_shows_the_chinese_message(user: User):
    f.staff('center_one')
    await user.open('/login')
    message = await failed_login_message(user, '管理人员', 'center_one', 'Wrong#Pass1')
    assert message == '账号或密码错误，连续 5 次错误将锁定 30 分钟'
    await user.should_see('管理人员')                      # still on /login


async def test_five_wrong_passwords_lock_and_an_unknown_account_reads_the_same(user: User):
    user_id = f.staff('center_one')
    await user.open('/login')
    real = [await failed_login_message(user, '管理人员', 'center_one', 'Wrong#Pass1') for _ in range(5)]
    ghost = [await failed_login_message(user, '管理人员', 'nobody_here', 'Wrong#Pass1') for _ in range(5)]
    assert real[-1] == '账号或密码错误次数过多，已暂时锁定，请 30 分钟后再试'
    assert real[0].startswith('账号或密码错误') and real[0] != real[-1]
    assert ghost == real
    assert f.get_user(user_id).locked_until is not None
    assert await failed_login_message(user, '管理人员', 'center_one', PASSWORD) == real[-1]   # locked: no entry


async def test_staff_login_lands_on_home_with_its_menu(user: User):
    f.staff('rev_one', role='reviewer', name='张审核')
    await user.open('/login')
    await f.submit_login(user, '管理人员', 'rev_one', PASSWORD)
    await user.should_see('您好，张审核', retries=100)
    for label in ('首页', '账号信息设置', '退出登录', '消息'):
        await user.should_see(label)
    brand = user.find(marker='brand').elements.pop()   # the system's name, in two halves that wrap on phones
    assert re.sub('<[^>]+>', '', brand.content) == '桂林市人才服务信息化管理系统'
    await user.should_not_see('单位用户')                  # the login tabs are gone


async def test_person_logs_in_with_phone_and_password(user: User):
    f.person('13800138000', name='李个人')
    await user.open('/login')
    await f.submit_login(user, '个人用户', '13800138000', PASSWORD)
    await user.should_see('您好，李个人', retries=100)


async def test_unit_cannot_use_the_staff_tab(user: User):
    f.unit_user('unit_demo')
    await user.open('/login')
    assert (await failed_login_message(user, '管理人员', 'unit_demo', PASSWORD)).startswith('账号或密码错误')


@pytest.mark.parametrize('target', ['//evil.example/x', 'https://evil.example/', '/\\evil.example'])
async def test_login_follows_only_relative_next(user: User, target):
    f.staff('center_one', name='陈中心')
    await user.open(f'/login?next={target}')
    await f.submit_login(user, '管理人员', 'center_one', PASSWORD)
    await user.should_see('您好，陈中心', retries=100)     # landed on 首页, not elsewhere


async def test_every_login_gets_a_new_token_and_the_old_one_dies(user: User, monkeypatch):
    f.staff('center_one', name='陈中心')
    tokens = f.record_tokens(monkeypatch)
    await user.open('/login')
    await f.submit_login(user, '管理人员', 'center_one', PASSWORD)
    await user.should_see('您好，陈中心', retries=100)
    await user.open('/login')
    await f.submit_login(user, '管理人员', 'center_one', PASSWORD)
    await user.should_see('您好，陈中心', retries=100)
    first, second = tokens
    assert first != second
    assert security.resolve_session(first) is None
    assert security.resolve_session(second) is not None


async def test_logout_ends_the_session(user: User, monkeypatch):
    f.staff('center_one', name='陈中心')
    tokens = f.record_tokens(monkeypatch)
    await user.open('/login')
    await f.submit_login(user, '管理人员', 'center_one', PASSWORD)
    await user.should_see('您好，陈中心', retries=100)
    user.find(kind=ui.button, content='退出登录').click()
    await user.should_see('单位用户', retries=100)
    assert security.resolve_session(tokens[0]) is None
    response = await user.http_client.get('/', follow_redirects=False)
    assert response.status_code in (302, 303, 307) and urlsplit(response.headers['location']).path == '/login'


async def test_idle_session_is_refused_on_page_load(user: User, fake_clock):
    f.staff('center_one', name='陈中心')
    await user.open('/login')
    await f.submit_login(user, '管理人员', 'center_one', PASSWORD)
    await user.should_see('您好，陈中心', retries=100)
    fake_clock.advance(minutes=14)
    await user.open('/')
    await user.should_see('您好，陈中心', retries=100)
    fake_clock.advance(minutes=15, seconds=1)
    response = await user.http_client.get('/account/settings', follow_redirects=False)
    assert urlsplit(response.headers['location']).path == '/login'


# ---------------------------------------------------------------- C1 deny by default

def app_get_paths() -> list[tuple[str, bool]]:
    """(path, is_page) for every GET route the app registered, NiceGUI's own assets left out."""
    pages = set(Client.page_routes.values())
    found = []
    for route in app.routes:
        if not isinstance(route, Route) or 'GET' not in (route.methods or ()):
            continue
        if route.path.startswith(NICEGUI_ASSETS) or route.path in ALLOW_LIST:
            continue
        found.append((route.path, route.path in pages))
    return found


def concrete(path: str) -> str:
    return re.sub(r'\{[^}]+\}', '1', path)


async def test_every_route_outside_the_allow_list_needs_a_login(user: User):
    f.staff('center_one')                                   # the app has data; the visitor has no session
    routes = app_get_paths()
    pages = [path for path, is_page in routes if is_page]
    assert {'/', '/account/settings', '/messages'} <= set(pages)      # the enumeration found the pages
    refused = []
    for path, is_page in routes:
        response = await user.http_client.get(concrete(path), follow_redirects=False)
        location = urlsplit(response.headers.get('location', '')).path
        redirected = response.status_code in (302, 303, 307) and location == '/login'
        if is_page and not redirected:
            refused.append((path, response.status_code, location))
        if not is_page and not (redirected or response.status_code in (401, 403)):
            refused.append((path, response.status_code, location))
    assert refused == []


async def test_allow_listed_pages_open_without_login(user: User):
    for path in ALLOW_LIST & set(Client.page_routes.values()):
        response = await user.http_client.get(path, follow_redirects=False)
        assert response.status_code == 200, path
    assert (await user.http_client.get('/healthz')).json()['database'] is True


# ---------------------------------------------------------------- S5 cookie

def session_cookie(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list('set-cookie') if c.lower().startswith('session=')]
    assert len(cookies) == 1, response.headers.get_list('set-cookie')
    return cookies[0].lower()


@pytest.mark.parametrize('secure', [False, True], ids=['http', 'https-setting'])
async def test_session_cookie_is_httponly_and_samesite_lax(monkeypatch, secure):
    if secure:
        monkeypatch.setenv('GLRC_SECURE_COOKIES', '1')
    async with user_simulation(main_file=MAIN) as visitor:
        cookie = session_cookie(await visitor.http_client.get('/login'))
    attributes = {part.strip().split('=')[0]: part.strip() for part in cookie.split(';')}
    assert 'httponly' in attributes
    assert attributes.get('samesite') == 'samesite=lax'
    assert ('secure' in attributes) is secure
