"""Foundation in a real browser: the three login paths, the frame, logout and the password change.

Every test uses its own accounts, so they share one server per module and run in any order."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import helpers
from tests.e2e.helpers import ADMIN_ACCOUNT, ADMIN_NAME, ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_center_admin_logs_in_sees_frame_and_logs_out(page: Page, server):
    page.goto(server.url('/login'))
    for tab in ('单位用户', '个人用户', '管理人员'):
        expect(page.get_by_role('tab', name=tab, exact=True)).to_be_visible()
    expect(page.get_by_role('link', name='单位注册')).to_be_visible()
    expect(page.get_by_role('link', name='个人注册')).to_have_attribute('href', '/register/person')
    helpers.shot(page, 'login')

    helpers.staff_login(page, server, ADMIN_ACCOUNT, ADMIN_PASSWORD)

    helpers.expect_home(page, server, ADMIN_NAME)
    expect(page.get_by_text(f'您好，{ADMIN_NAME}')).to_be_visible()
    expect(page.get_by_text('市人才服务中心（系统管理员）')).to_be_visible()
    menu = page.locator('.glrc-menu')
    expect(menu.get_by_text('首页', exact=True)).to_be_visible()
    expect(menu.get_by_text('账号信息设置', exact=True)).to_be_visible()
    expect(page.get_by_role('button', name='消息')).to_be_visible()
    expect(page.get_by_role('button', name='退出登录')).to_be_visible()
    expect(page).to_have_title(re.compile('首页'))
    helpers.shot(page, 'home')

    menu.get_by_text('账号信息设置', exact=True).click()
    expect(page).to_have_url(server.url('/account/settings'))
    expect(page.locator('.glrc-title', has_text='账号信息设置')).to_be_visible()
    expect(page.get_by_label('登录账号', exact=True)).to_have_value(ADMIN_ACCOUNT)
    helpers.shot(page, 'account-settings')

    page.get_by_role('button', name='退出登录').click()
    helpers.expect_login_page(page, server)

    page.goto(server.url('/'))
    helpers.expect_login_page(page, server)
    expect(page.get_by_test_id('user-name')).to_have_count(0)


def test_person_logs_in_with_sms_code(page: Page, server):
    phone, name = '13900000001', '孙个人'
    helpers.create_person(server, phone, name, 'Person#2026ok')

    helpers.person_code_login(page, server, phone, screenshot='login-person-code')

    helpers.expect_home(page, server, name)
    expect(page.get_by_text(f'您好，{name}')).to_be_visible()
    expect(page.get_by_text('个人用户', exact=True)).to_be_visible()
    menu = page.locator('.glrc-menu')
    expect(menu.get_by_text('账号信息设置', exact=True)).to_be_visible()


def test_wrong_password_shows_chinese_error(page: Page, server):
    helpers.staff_login(page, server, ADMIN_ACCOUNT, 'Wrong#Pass2026')

    alert = page.get_by_role('alert').filter(has_text='账号或密码错误')
    expect(alert).to_have_text('账号或密码错误，连续 5 次错误将锁定 30 分钟')
    expect(page).to_have_url(server.url('/login'))
    expect(page.get_by_label('密码', exact=True)).to_have_value('')  # the wrong password is not kept
    expect(page.get_by_test_id('user-name')).to_have_count(0)

    # an unknown account answers exactly the same (no account enumeration)
    panel = helpers.open_login_tab(page, server, '管理人员', path=None)
    panel.get_by_label('登录账号', exact=True).fill('nobody_here')
    panel.get_by_label('密码', exact=True).fill('Wrong#Pass2026')
    panel.get_by_role('button', name='登录', exact=True).click()
    expect(alert).to_have_text('账号或密码错误，连续 5 次错误将锁定 30 分钟')


def test_reviewer_with_initial_password_must_change_it_first(page: Page, server):
    account, old, new, name = 'e2e_reviewer', 'Init#Pass2026', 'Fresh#Pass2027', '周审核（秀峰区）'
    helpers.create_staff(server, 'reviewer', account, old, name, '秀峰区', must_change=True)

    helpers.staff_login(page, server, account, old)
    expect(page).to_have_url(server.url('/account/settings'))
    expect(page.get_by_text('您的密码为初始密码或已被重置，请先修改密码后再使用系统。')).to_be_visible()
    page.goto(server.url('/'))  # 首页 stays closed until the password is changed
    expect(page).to_have_url(server.url('/account/settings'))

    _change_password(page, old, new)
    helpers.expect_login_page(page, server)
    expect(page.get_by_role('status')).to_have_text('修改成功，请重新登录')

    helpers.staff_login(page, server, account, new)
    helpers.expect_home(page, server, name)
    expect(page.get_by_text('审核人员  ·  秀峰区')).to_be_visible()


def test_change_password_then_login_with_the_new_one(page: Page, server):
    account, old, new, name = 'e2e_center', 'Old#Pass2026', 'New#Pass2027', '吴中心'
    helpers.create_staff(server, 'center', account, old, name)
    helpers.staff_login(page, server, account, old)
    helpers.expect_home(page, server, name)

    page.locator('.glrc-menu').get_by_text('账号信息设置', exact=True).click()
    expect(page).to_have_url(server.url('/account/settings'))
    # a mismatched confirmation is refused next to its field, nothing changes
    page.get_by_label('原密码', exact=True).fill(old)
    page.get_by_label('新密码', exact=True).fill(new)
    page.get_by_label('确认新密码', exact=True).fill(new + 'x')
    page.get_by_role('button', name='保存').click()
    expect(page.get_by_text('两次输入的新密码不一致')).to_be_visible()
    expect(page).to_have_url(server.url('/account/settings'))

    _change_password(page, old, new)
    helpers.expect_login_page(page, server)
    expect(page.get_by_text('修改成功，请重新登录')).to_be_visible()
    helpers.shot(page, 'login-relogin')

    helpers.staff_login(page, server, account, old)
    expect(page.get_by_role('alert').filter(has_text='账号或密码错误')).to_be_visible()

    helpers.staff_login(page, server, account, new)
    helpers.expect_home(page, server, name)


def _change_password(page: Page, old: str, new: str) -> None:
    page.get_by_label('原密码', exact=True).fill(old)
    page.get_by_label('新密码', exact=True).fill(new)
    page.get_by_label('确认新密码', exact=True).fill(new)
    page.get_by_role('button', name='保存').click()
