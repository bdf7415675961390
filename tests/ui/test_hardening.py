"""Review findings turned into tests: redirects, old-password guessing, avatar privacy, the password
gate on downloads, and a page built for one account refusing events after another account logs in."""
import pytest
from nicegui import app, storage
from nicegui.testing import User

from components.session import safe_next
from glrc_ui import security
from glrc_ui.services import accounts, files
from tests import factories as f
from tests.factories import PASSWORD, submit_login


@pytest.mark.parametrize('target', ['/\t/evil.com', '/\n/evil.com', '//evil.com', '/%2F%2Fevil.com', 'https://evil.com',
                                    '/\\evil.com', ' /x'])
def test_login_redirect_refuses_anything_but_a_plain_path(target):
    assert safe_next(target) == '/'


def test_login_redirect_keeps_a_plain_path():
    assert safe_next('/review/units/12') == '/review/units/12'


def test_wrong_old_password_counts_like_a_failed_login_and_saves_nothing():
    user_id = f.unit_user('unit_guess', phone='13900139001')
    f.login('unit_guess', roles=('unit',))
    actor = security.actor_of(f.get_user(user_id), f.IP)
    for _attempt in range(5):
        with pytest.raises(accounts.ValidationError) as err:
            accounts.change_credentials(actor, 'Wrong#Pass2026', None, 'N3w!Secret-2026', 'N3w!Secret-2026',
                                        display_name='改名', phone='13900139999')
    assert '锁定' in err.value.message  # the 5th wrong guess locks the account
    user = f.get_user(user_id)
    assert user.locked_until is not None
    assert (user.display_name, user.phone) != ('改名', '13900139999')  # nothing saved with a wrong password
    assert all(row.revoked_at is not None for row in f.sessions_of(user_id))


def test_avatars_are_visible_to_their_owner_only():
    """No page shows another user's photo, so nobody else may fetch it (staff included: persons'
    data reach staff only through applications, which bring their own rule)."""
    owner = f.unit_user('unit_face', phone='13900139002')
    other = f.unit_user('unit_other', phone='13900139003')
    reviewer = f.staff('face_rev', role='reviewer')
    owner_actor = security.actor_of(f.get_user(owner))
    stored = files.store(f._png_1x1(), 'me.png', kind='avatar', entity='avatar', entity_id=owner, actor=owner_actor,
                         allowed=files.IMAGE_TYPES, max_size=files.MAX_AVATAR)
    assert files.open_for(owner_actor, stored['id']) is not None
    assert files.open_for(security.actor_of(f.get_user(reviewer)), stored['id']) is None
    assert files.open_for(security.actor_of(f.get_user(other)), stored['id']) is None


def test_replacing_an_avatar_retires_the_old_file():
    owner = f.unit_user('unit_face2', phone='13900139004')
    actor = security.actor_of(f.get_user(owner))
    first = accounts.set_avatar(actor, f._png_1x1(), 'a.png')
    second = accounts.set_avatar(actor, f._png_1x1(), 'b.png')
    assert f.get_user(owner).avatar_file_id == second['id']
    assert files.open_for(actor, first['id']) is None
    assert files.open_for(actor, second['id']) is not None


async def test_downloads_wait_for_the_forced_password_change(user: User):
    f.staff('gate_rev', role='reviewer', must_change=True)
    unit_id, _ = f.unit_submitted(51, '秀峰区')
    await user.open('/login')
    await submit_login(user, '管理人员', 'gate_rev', PASSWORD)
    await f.settle()
    response = await user.http_client.get(f'/files/{f.unit_get(unit_id).licence_file_id}')
    assert response.status_code == 403


async def test_a_page_built_for_one_account_refuses_events_after_another_logs_in(user: User):
    unit_id, account = f.unit_registered(52)
    _, second = f.unit_registered(53)
    await f.open_logged_in(user, account, tab='单位用户', path='/unit/info', expect='当前状态：')
    await f.settle()
    token_b = f.login(second, roles=('unit',))
    storage.request_contextvar.set(user.client.request)  # this browser's storage, as the page sees it
    app.storage.user['token'] = token_b  # the same browser, another tab logged in as someone else
    f.fill(user, {'单位地址': '不该保存的地址'})
    f.button(user, '保存').click()
    await user.should_see('当前浏览器已登录其他账号，请刷新页面')
    await f.settle()
    assert f.unit_get(unit_id).address is None


def storage_id(cookie: str) -> str:
    import base64
    import json
    payload = cookie.split('.')[0]
    return json.loads(base64.b64decode(payload + '=' * (-len(payload) % 4)))['id']


async def test_login_gives_the_browser_a_new_storage_id(user: User):
    """No session fixation: a storage id planted before login is worthless after it."""
    f.staff('fix_staff')
    await user.open('/login')
    before = storage_id(user.http_client.cookies['session'])
    await submit_login(user, '管理人员', 'fix_staff', PASSWORD)
    await user.should_see('首页')
    await f.settle()
    after = storage_id(user.http_client.cookies['session'])
    assert before != after
    assert 'token' not in app.storage._users[before]  # the planted storage holds no session


async def test_a_stale_login_link_goes_back_to_login(user: User):
    await user.open('/login/finish?n=forged')
    await user.should_see('登录已失效，请重新登录')
