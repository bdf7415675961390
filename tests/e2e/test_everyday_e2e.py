"""Everyday use in a real browser (issue 8): the browser's own leave guard (beforeunload) while a form
holds unsaved input, 提交审核 bringing the first missing field into view, the PDF preview's fallback
where the browser has no PDF viewer, and one level-one heading on every page."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import helpers

DEMO_PASSWORD = 'Glrc@2026demo'


@pytest.fixture(scope='module')
def demo(server):
    """The demo data (staff and units in every state), and one fresh unit with nothing filled in."""
    helpers.cli(server, 'seed-demo')
    from glrc_ui.demo import credit_code
    from glrc_ui.services import units
    with helpers.app_services(server):
        units.register('桂林空白测试有限公司', credit_code(90), '空白操作员', '13907739090', 'unit_blank',
                       DEMO_PASSWORD, DEMO_PASSWORD, None)
    return server


def unit_id(server, account: str) -> int:
    from sqlmodel import select

    from db.engine import read_scope
    from db.models import User
    with helpers.app_services(server), read_scope() as s:
        return s.exec(select(User.unit_id).where(User.account == account)).one()


def log_in(page: Page, server, account: str, tab: str) -> None:
    helpers.staff_login(page, server, account, DEMO_PASSWORD, tab=tab)
    expect(page).to_have_url(server.url('/'))


def test_unsaved_input_arms_the_browsers_leave_guard(page: Page, demo):
    log_in(page, demo, 'unit_new', '单位用户')
    page.goto(demo.url('/unit/info'))
    address = page.get_by_label('单位地址', exact=True)
    expect(address).to_be_editable()
    leaving_is_stopped = ("() => { const e = new Event('beforeunload', {cancelable: true}); "
                          "window.dispatchEvent(e); return e.defaultPrevented; }")
    assert page.evaluate(leaving_is_stopped) is False           # nothing typed: leave freely
    address.fill('桂林市秀峰区漓江路 9 号')
    page.wait_for_function('window.glrcDirty === true')
    assert page.evaluate(leaving_is_stopped) is True            # the browser asks before a reload or close
    expect(page.get_by_text('有尚未保存的修改')).to_be_visible()
    page.get_by_role('button', name='保存', exact=True).click()
    expect(page.get_by_text('保存成功')).to_be_visible()
    page.wait_for_function('window.glrcDirty === false')
    assert page.evaluate(leaving_is_stopped) is False


def test_submit_brings_the_first_missing_field_into_view(page: Page, demo):
    page.set_viewport_size({'width': 390, 'height': 844})
    log_in(page, demo, 'unit_blank', '单位用户')
    page.goto(demo.url('/unit/info'))
    page.mouse.wheel(0, 3000)                                   # the buttons are at the bottom
    page.get_by_role('button', name='提交审核', exact=True).click()
    dialog = page.get_by_role('alertdialog')
    expect(dialog).to_contain_text('确定提交「桂林空白测试有限公司」的单位信息审核吗？')
    dialog.get_by_role('button', name='确定', exact=True).click()
    first = page.locator('.q-field--error').first
    expect(first).to_contain_text('单位类型')
    expect(first).to_be_in_viewport()
    page.wait_for_function("document.activeElement && document.activeElement.closest('.q-field--error') !== null")
    assert page.locator('.q-field--error').count() == 6
    expect(page.get_by_text('请上传营业执照（或法人证书）')).to_be_visible()


def _open_review(page: Page, server) -> None:
    log_in(page, server, 'xiufeng_review', '管理人员')
    page.goto(server.url(f'/review/units/{unit_id(server, "unit_guike")}?mode=review'))
    expect(page.get_by_role('heading', name='营业执照')).to_be_visible()


def test_the_pdf_preview_falls_back_to_a_link_where_the_browser_cannot_show_it(page: Page, demo):
    page.add_init_script("Object.defineProperty(navigator, 'pdfViewerEnabled', {get: () => false})")
    _open_review(page, demo)
    fallback = page.locator('.glrc-pdf-fallback')
    expect(fallback).to_be_visible()
    expect(fallback).to_contain_text('当前浏览器不能在页面内显示 PDF。')
    link = fallback.get_by_role('link', name='在新窗口预览营业执照')
    expect(link).to_have_attribute('href', re.compile(r'^/files/\d+\?inline=1$'))
    expect(link).to_have_attribute('target', '_blank')
    assert page.locator('iframe.glrc-pdf-frame').count() == 0


@pytest.mark.pdf_viewer
def test_the_pdf_preview_shows_in_the_page_where_it_can(page: Page, demo):
    _open_review(page, demo)
    expect(page.locator('iframe.glrc-pdf-frame')).to_be_visible()
    expect(page.locator('.glrc-pdf-fallback')).to_be_hidden()


@pytest.mark.parametrize('account, tab, paths', [
    (None, None, ['/login', '/register/unit']),   # the 404 page: tests/ui/test_everyday_use.py
    ('unit_tuihui', '单位用户', ['/', '/unit/info', '/account/settings', '/messages', '/review/units']),
    ('center_admin', '管理人员', ['/', '/review/units', '/review/units/{guike}?mode=review', '/account/settings',
                                 '/messages']),
], ids=['anonymous', 'unit', 'center'])
def test_every_page_has_one_level_one_heading(page: Page, demo, account, tab, paths):
    if account:
        log_in(page, demo, account, tab)
    for path in paths:
        page.goto(demo.url(path.format(guike=unit_id(demo, 'unit_guike'))))
        expect(page.locator('h1')).to_have_count(1)
        expect(page.locator('h1')).to_be_visible()
