"""账号信息设置 (SPEC §3.4): forced first change, password change ends sessions, handlers re-check.

SECURITY A5 (must change on first login), A6 + S4 (change ends every session, open tabs included),
S3 (timeouts in event handlers), F1 (real upload route refuses 21 MB), F2 (avatar by content)."""
import pytest
from nicegui import ui
from nicegui.testing import User

from glrc_ui import security
from tests import factories as f
from tests.factories import NEW_PASSWORD, PASSWORD, TINY_PNG

SETTINGS = '/account/settings'
FORCED = '您的密码为初始密码或已被重置'


def upload_url(user: User) -> str:
    uploads = [e for e in user.client.layout.descendants() if isinstance(e, ui.upload)]
    assert len(uploads) == 1
    return uploads[0].props['url']


async def test_settings_page_shows_the_spec_fields(user: User):
    f.staff('center_one', name='陈中心')
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    await user.should_see('账号信息设置')
    for label in ('姓名', '登录账号', '原密码', '新密码', '确认新密码'):
        f.field(user, label)
    await user.should_see('头像')
    f.button(user, '保存')
    assert f.field(user, '登录账号').elements.pop().value == 'center_one'
    await user.should_not_see(FORCED)


async def test_unit_operator_sees_operator_fields(user: User):
    f.unit_user('unit_demo', phone='13900139000', name='王操作')
    await f.open_logged_in(user, 'unit_demo', tab='单位用户', path=SETTINGS, expect='保存')
    assert f.field(user, '操作人姓名').elements.pop().value == '王操作'
    assert f.field(user, '操作人手机号').elements.pop().value == '13900139000'


async def test_must_change_user_is_sent_to_settings_and_then_to_login(user: User, monkeypatch):
    user_id = f.staff('center_one', name='陈中心', must_change=True)
    tokens = f.record_tokens(monkeypatch)
    await f.open_logged_in(user, 'center_one', path='/', expect='保存')
    await user.should_see(FORCED)                              # '/' sent the user here
    await user.should_not_see('您好，陈中心')
    await user.open('/messages')
    await user.should_see(FORCED, retries=100)                 # and every other page too
    await f.settle()
    assert security.resolve_session(tokens[0]).must_change_password is True

    f.fill(user, {'原密码': PASSWORD, '新密码': NEW_PASSWORD, '确认新密码': NEW_PASSWORD})
    f.button(user, '保存').click()
    await user.should_see('修改成功，请重新登录', retries=100)
    await user.should_see('管理人员')                           # the login page
    assert security.resolve_session(tokens[0]) is None         # C: the old token no longer resolves
    assert f.get_user(user_id).must_change_password is False
    response = await user.http_client.get('/', follow_redirects=False)
    assert response.headers['location'].startswith('/login')

    # no longer forced to the settings page
    await f.open_logged_in(user, 'center_one', NEW_PASSWORD, path='/', expect='您好，陈中心')


async def test_password_change_ends_the_other_tabs_too(user: User, monkeypatch):
    f.staff('center_one', name='陈中心')
    tokens = f.record_tokens(monkeypatch)
    other_tab = f.login('center_one', ip='198.51.100.9')       # the same person on another computer
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    f.fill(user, {'原密码': PASSWORD, '新密码': NEW_PASSWORD, '确认新密码': NEW_PASSWORD})
    f.button(user, '保存').click()
    await user.should_see('修改成功，请重新登录', retries=100)
    assert security.resolve_session(tokens[-1]) is None
    assert security.resolve_session(other_tab) is None


async def test_wrong_old_password_is_shown_at_the_field_and_keeps_the_session(user: User, monkeypatch):
    user_id = f.staff('center_one', name='陈中心')
    tokens = f.record_tokens(monkeypatch)
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    f.fill(user, {'原密码': 'Wrong#Old1', '新密码': NEW_PASSWORD, '确认新密码': NEW_PASSWORD})
    f.button(user, '保存').click()
    old = f.field(user, '原密码').elements.pop()
    await f.eventually(lambda: old.error == '原密码不正确')
    assert security.resolve_session(tokens[-1]) is not None
    assert security.verify_password(PASSWORD, f.get_user(user_id).password_hash)


async def test_mismatched_confirmation_is_shown_at_its_field(user: User):
    f.staff('center_one')
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    f.fill(user, {'原密码': PASSWORD, '新密码': NEW_PASSWORD, '确认新密码': NEW_PASSWORD + 'x'})
    f.button(user, '保存').click()
    confirm = f.field(user, '确认新密码').elements.pop()
    await f.eventually(lambda: confirm.error == '两次输入的新密码不一致')


@pytest.mark.parametrize('how', ['idle', 'disabled', 'signed_out_elsewhere'])
async def test_an_ended_session_is_refused_at_the_next_click(user: User, fake_clock, how):
    """S3/S4: the open tab's next event is refused, and nothing is saved."""
    user_id = f.staff('center_one', name='陈中心')
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    if how == 'idle':
        fake_clock.advance(minutes=15, seconds=1)                 # staff idle limit
    elif how == 'disabled':
        f.set_user(user_id, status='disabled')
    else:
        from db.engine import session_scope
        with session_scope() as s:
            security.end_all_sessions(s, user_id, 'credentials_changed')
    f.fill(user, {'姓名': '改过的名字'})
    f.button(user, '保存').click()
    await user.should_see('登录已失效，请重新登录', retries=100)
    await user.should_see('单位用户', retries=100)               # back on /login
    assert f.get_user(user_id).display_name == '陈中心'


async def test_profile_save_keeps_the_session(user: User, monkeypatch):
    user_id = f.staff('center_one', name='陈中心')
    tokens = f.record_tokens(monkeypatch)
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    f.fill(user, {'姓名': '陈主任'})
    f.button(user, '保存').click()
    await user.should_see('保存成功', retries=100)
    assert f.get_user(user_id).display_name == '陈主任'
    assert security.resolve_session(tokens[-1]) is not None


# ---------------------------------------------------------------- uploads through the real route

async def test_21_mb_post_to_the_avatar_upload_route_is_refused(user: User):
    f.staff('center_one')
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    body = b'\x89PNG\r\n\x1a\n' + b'\x00' * (21 * 1024 * 1024)
    response = await user.http_client.post(upload_url(user), files={'file': ('big.png', body, 'image/png')})
    assert response.status_code == 413


async def test_avatar_upload_checks_the_content(user: User):
    user_id = f.staff('center_one')
    await f.open_logged_in(user, 'center_one', path=SETTINGS, expect='保存')
    url = upload_url(user)
    html = b'<html><body><script>alert(1)</script></body></html>'
    response = await user.http_client.post(url, files={'file': ('face.png', html, 'image/png')})
    assert response.status_code == 200
    await user.should_see('文件内容不是有效的', retries=100)
    assert f.get_user(user_id).avatar_file_id is None
    response = await user.http_client.post(url, files={'file': ('face.png', TINY_PNG, 'image/png')})
    assert response.status_code == 200
    await f.eventually(lambda: f.get_user(user_id).avatar_file_id is not None)
