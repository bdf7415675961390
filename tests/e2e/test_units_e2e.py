"""Employer journeys in real Chromium: register, complete info, upload, two-level review, return."""
import pytest
from playwright.sync_api import Page, expect

from glrc_ui.demo import credit_code
from glrc_ui.pdf import simple_pdf
from tests.e2e import helpers

PASSWORD = 'Unit#Pass2026'
STAFF_PASSWORD = 'Staff#Pass2026'


@pytest.fixture(scope='module')
def reviewers(server):
    for role, account, name, org in (('reviewer', 'xf_reviewer', '秀峰审核员', '秀峰区'),
                                     ('center', 'center_reviewer', '中心审核员', None)):
        args = ['create-staff', '--role', role, '--account', account, '--password', STAFF_PASSWORD, '--name', name]
        helpers.cli(server, *(args + (['--org', org] if org else [])))
    return server


def register_unit(page: Page, server, name: str, code: str, account: str, phone: str) -> None:
    page.goto(server.url('/login'))
    page.get_by_role('link', name='单位注册').click()
    expect(page).to_have_url(server.url('/register/unit'))
    for label, value in (('单位名称', name), ('统一社会信用代码', code), ('操作人姓名', '王操作'),
                         ('操作人手机号', phone), ('登录账号', account), ('密码', PASSWORD), ('确认密码', PASSWORD)):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role('button', name='注册', exact=True).click()
    expect(page.get_by_text('注册成功')).to_be_visible()
    page.get_by_role('button', name='前往登录').click()
    expect(page.get_by_text('注册成功，请登录')).to_be_visible()
    helpers.staff_login(page, server, account, PASSWORD, tab='单位用户')
    expect(page).to_have_url(server.url('/'))


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role('option', name=option, exact=True).click()


def complete_and_submit(page: Page, server, tmp_path, org: str = '秀峰区') -> None:
    page.locator('.glrc-menu').get_by_text('单位信息维护', exact=True).click()
    expect(page).to_have_url(server.url('/unit/info'))
    choose(page, '单位类型', '企业')
    expect(page.get_by_label('单位分配管理', exact=True)).to_contain_text('城区')
    choose(page, '单位审核归属', org)
    page.get_by_label('单位地址', exact=True).fill('桂林市秀峰区解放西路 1 号')
    page.get_by_label('法定代表人', exact=True).fill('李法人')
    page.get_by_label('单位联系电话', exact=True).fill('0773-2825566')
    licence = tmp_path / '营业执照.pdf'
    licence.write_bytes(simple_pdf(['Business licence']))
    page.locator('input[type=file]').set_input_files(str(licence))
    expect(page.get_by_text('营业执照已上传')).to_be_visible()
    expect(page.get_by_role('link', name='预览')).to_be_visible()
    page.get_by_role('button', name='提交审核', exact=True).click()
    dialog = page.get_by_role('alertdialog', name='确认提交审核')    # 提交审核 asks first, naming the unit
    expect(dialog).to_contain_text('的单位信息审核吗？')
    dialog.get_by_role('button', name='确定', exact=True).click()
    expect(page.get_by_text('待城区/主管部门审核').first).to_be_visible()


def review(browser, server, account: str, unit_name: str, button: str, opinion: str = '', confirm: bool = True) -> Page:
    """A reviewer's page on the unit's review. browser: the full Chromium (pdf_browser), for the licence's
    in-page preview (the headless shell shows its 新窗口预览 box instead)."""
    context = browser.new_context(viewport={'width': 1280, 'height': 800}, locale='zh-CN')
    context.set_default_timeout(10_000)
    page = context.new_page()
    helpers.staff_login(page, server, account, STAFF_PASSWORD)
    expect(page).to_have_url(server.url('/'))
    page.locator('.glrc-menu').get_by_text('单位注册审核', exact=True).click()
    row = page.locator('tr', has_text=unit_name)
    row.get_by_role('button', name=f'审核 {unit_name}', exact=True).click()   # row buttons name their row
    expect(page.get_by_text(unit_name).first).to_be_visible()
    expect(page.locator('iframe[title="营业执照预览"]')).to_be_visible()
    if opinion:
        page.get_by_label('审核意见', exact=True).fill(opinion)
    page.get_by_role('button', name=button, exact=True).click()
    if confirm:
        confirm_dialog(page, unit_name)
    return page


def confirm_dialog(page: Page, item_name: str) -> None:
    """Every review decision asks first, naming the unit."""
    dialog = page.get_by_role('dialog')
    expect(dialog).to_contain_text(item_name)
    dialog.get_by_role('button', name='确定', exact=True).click()


def test_register_to_active_through_two_reviews(page: Page, reviewers, pdf_browser, tmp_path):
    server = reviewers
    name = '桂林端到端科技有限公司'
    register_unit(page, server, name, credit_code(901), 'e2e_unit_a', '13907730901')
    expect(page.get_by_text('请先完善单位信息和单位账户信息，然后提交审核')).to_be_visible()
    menu = page.locator('.glrc-menu')
    expect(menu).to_contain_text('单位信息维护')
    expect(menu).not_to_contain_text('业务办理')
    complete_and_submit(page, server, tmp_path)
    helpers.shot(page, 'unit-info-submitted')

    district = review(pdf_browser, server, 'xf_reviewer', name, '通过', '材料齐全')
    expect(district).to_have_url(server.url('/review/units'))
    district.context.close()
    center = review(pdf_browser, server, 'center_reviewer', name, '通过')
    expect(center).to_have_url(server.url('/review/units'))
    center.get_by_text('已审核', exact=True).click()
    expect(center.locator('tr', has_text=name)).to_contain_text('审核通过')
    center.context.close()

    page.goto(server.url('/'))
    expect(page.get_by_text('单位账号已审核通过').first).to_be_visible()
    expect(page.locator('.q-badge', has_text='审核通过')).to_be_visible()
    page.locator('.glrc-menu').get_by_text('单位信息维护', exact=True).click()
    expect(page.get_by_text('材料齐全')).to_be_visible()  # the history shows the district's opinion


def test_return_and_resubmit(page: Page, reviewers, pdf_browser, tmp_path):
    server = reviewers
    name = '桂林退回重提有限公司'
    register_unit(page, server, name, credit_code(902), 'e2e_unit_b', '13907730902')
    complete_and_submit(page, server, tmp_path)

    district = review(pdf_browser, server, 'xf_reviewer', name, '退回修改', confirm=False)
    expect(district.get_by_text('请填写审核意见')).to_be_visible()  # returning needs an opinion
    district.get_by_label('审核意见', exact=True).fill('单位地址请填写到门牌号')
    district.get_by_role('button', name='退回修改', exact=True).click()
    confirm_dialog(district, name)
    expect(district).to_have_url(server.url('/review/units'))
    district.context.close()

    page.goto(server.url('/'))
    expect(page.get_by_text('审核意见：单位地址请填写到门牌号')).to_be_visible()
    page.locator('.glrc-menu').get_by_text('单位信息维护', exact=True).click()
    page.get_by_label('单位地址', exact=True).fill('桂林市秀峰区解放西路 1 号 2 栋')
    page.get_by_role('button', name='提交审核', exact=True).click()
    dialog = page.get_by_role('alertdialog', name='确认提交审核')    # 提交审核 asks first, naming the unit
    expect(dialog).to_contain_text('的单位信息审核吗？')
    dialog.get_by_role('button', name='确定', exact=True).click()
    expect(page.get_by_text('待城区/主管部门审核').first).to_be_visible()

    again = review(pdf_browser, server, 'xf_reviewer', name, '通过')
    expect(again).to_have_url(server.url('/review/units'))
    again.context.close()


def test_bad_registration_inputs_are_shown_next_to_fields(page: Page, reviewers):
    server = reviewers
    page.goto(server.url('/register/unit'))
    page.get_by_label('单位名称', exact=True).fill('桂林校验测试有限公司')
    page.get_by_label('统一社会信用代码', exact=True).fill(credit_code(903)[:-1] + ('0' if credit_code(903)[-1] != '0' else '1'))
    page.get_by_label('操作人姓名', exact=True).fill('张三')
    page.get_by_label('操作人手机号', exact=True).fill('12345')
    page.get_by_label('登录账号', exact=True).fill('e2e_unit_c')
    page.get_by_label('密码', exact=True).fill('short')
    page.get_by_label('确认密码', exact=True).fill('short')
    page.get_by_role('button', name='注册', exact=True).click()
    expect(page.get_by_text('统一社会信用代码校验位不正确，请核对')).to_be_visible()
    expect(page.get_by_text('手机号格式不正确')).to_be_visible()
    expect(page.get_by_text('密码至少 8 位')).to_be_visible()
    expect(page.get_by_label('单位名称', exact=True)).to_have_value('桂林校验测试有限公司')  # nothing typed is lost
