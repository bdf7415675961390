"""No traceback reaches a user: a failing page shows a Chinese message; a failing click says so too."""
from nicegui.testing import User

from glrc_ui.services import accounts
from tests import factories as f
from tests.factories import PASSWORD, submit_login


async def test_a_page_that_fails_shows_a_chinese_message_without_traceback(user: User, monkeypatch, caplog):
    f.staff('err_center')
    await user.open('/login')
    await submit_login(user, '管理人员', 'err_center', PASSWORD)
    await user.should_see('首页')
    await f.settle()

    def broken(_user_id):
        raise RuntimeError('secret internals /work/main/db')
    monkeypatch.setattr(accounts, 'profile', broken)
    await user.open('/account/settings')
    await user.should_see('系统繁忙，页面暂时无法打开，请稍后重试')
    await user.should_not_see('secret internals')
    await user.should_not_see('Traceback')
    assert any('page /account/settings failed' in r.getMessage() for r in caplog.records)
    caplog.clear()  # logged for the operator (as it should be); the fixture fails tests on unexpected errors


async def test_a_click_that_fails_says_so_in_chinese_and_keeps_the_input(user: User, monkeypatch, caplog):
    from glrc_ui.services import units
    _, account = f.unit_registered(41)
    await f.open_logged_in(user, account, tab='单位用户', path='/unit/info', expect='当前状态：')

    def broken(*_args, **_kwargs):
        raise RuntimeError('database exploded')
    monkeypatch.setattr(units, 'save_info', broken)
    f.fill(user, {'单位地址': '桂林市象山区某路 1 号'})
    f.button(user, '保存').click()
    await user.should_see('操作未能完成，请稍后重试；如多次出现，请联系市人才服务中心')
    await user.should_not_see('database exploded')
    assert f.field(user, '单位地址').elements.pop().value == '桂林市象山区某路 1 号'
    assert any('event handler save failed' in r.getMessage() for r in caplog.records)
    caplog.clear()
