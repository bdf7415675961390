"""Bad ids in URLs (issue 7, item 8): `/files/<not an id>` and `/review/units/<not an id>` answer like
any id the user may not see, after the login check; and the server sends no `server: uvicorn` banner.

Before the fix the routes took `int` parameters: FastAPI answered a non-numeric id with its 422 JSON
(also to anonymous callers, before the login check) and a number past 64 bits failed in the database."""
import inspect

import pytest
import uvicorn
from nicegui import core, ui, ui_run
from nicegui.testing import User

from tests import factories as f
from tests.ui.test_unit_pages import login, open_page

NOT_IDS = ['99999999999999999999999', str(2**63), 'abc', '-1', '0', '1e3', '0x10', '١٢', '%20', '1%0A']
REVIEW_NOT_FOUND = '该单位不存在或不在您的审核范围内'


@pytest.mark.parametrize('file_id', ['99999999999999999999999', 'abc', '1'])
async def test_anonymous_file_requests_stop_at_the_login_check(user: User, file_id):
    response = await user.http_client.get(f'/files/{file_id}')
    assert response.status_code == 401, response.text
    assert response.json() == {'detail': '请先登录'}


async def test_a_logged_in_user_gets_404_for_any_file_id_that_is_not_an_id(user: User):
    f.person('13800138000')
    await login(user, '个人用户', '13800138000')
    for file_id in [*NOT_IDS, str(2**31), str(2**31 - 1), str(2**63 - 1)]:  # ids are INTEGER; 2**31 - 1 is one, with no row
        response = await user.http_client.get(f'/files/{file_id}')
        assert response.status_code == 404, (file_id, response.status_code, response.text)
        assert response.json() == {'detail': '文件不存在或无权访问'}
    response = await user.http_client.get('/files/abc?inline=abc')
    assert response.status_code == 404, response.text


async def test_a_reviewer_sees_the_not_found_panel_for_a_unit_id_that_is_not_an_id(user: User):
    f.staff('xf_rev', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_rev')
    for unit_id in ('abc', '99999999999999999999999', '-3'):
        response = await user.http_client.get(f'/review/units/{unit_id}')
        assert response.status_code == 404, (unit_id, response.status_code)
        assert response.headers.get('x-nicegui-content') == 'page'   # the app's own page with the panel, no JSON
    await open_page(user, '/review/units/987654', REVIEW_NOT_FOUND)   # an id, but no such unit


async def test_an_anonymous_visit_to_a_bad_unit_id_goes_to_login(user: User):
    response = await user.http_client.get('/review/units/abc', follow_redirects=False)
    assert response.status_code == 303
    assert response.headers['location'] == '/login'


@pytest.fixture
def run_options(monkeypatch):
    """The keyword arguments main.py passes to ui.run (the user fixture runs main.py after this)."""
    recorded: dict = {}
    original = ui.run

    def recording_run(*args, **kwargs):
        recorded.update(kwargs)
        return original(*args, **kwargs)
    monkeypatch.setattr(ui, 'run', recording_run)
    return recorded


async def test_the_server_sends_no_uvicorn_banner(run_options, user: User):
    """ui.run hands every keyword it does not know itself to uvicorn's Config (nicegui/ui_run.py); the
    headers uvicorn adds to every response are the Config's encoded_headers."""
    assert run_options, 'main.py did not call ui.run'
    own = set(inspect.signature(ui_run.run).parameters)
    for_uvicorn = {name: value for name, value in run_options.items() if name not in own}
    config = uvicorn.Config(core.app, **for_uvicorn)
    config.load()
    assert b'server' not in dict(config.encoded_headers), config.encoded_headers
    assert b'server' in dict(uvicorn_defaults_loaded().encoded_headers)  # the check sees the banner when it is on


def uvicorn_defaults_loaded() -> uvicorn.Config:
    config = uvicorn.Config(core.app)
    config.load()
    return config
