"""Issue 8: the employer's and the reviewer's path laid out for a phone (390×844) and a laptop (1366×768).

One walk per viewport, in its own browser context: /login → 单位注册 → register a unit → log in →
单位信息维护 (fill, upload the licence, 保存, 提交审核 with its confirmation) → 退出登录 → a 秀峰区
reviewer logs in → 单位注册审核 queue → 审核 → 审核意见 → 通过 → 确定.

At every step a full-page screenshot goes to test-artifacts/layout/<viewport>-<nn>-<step>.png and
layout_helpers.LayoutWalk measures: no sideways page scroll (scrollWidth ≤ viewport), nothing sticking
out, no cut-off or squeezed text, the step's key controls inside the viewport and uncovered. On the
phone the left menu starts closed and the header's 菜单 button opens it; on the laptop it is open.
Layout problems are collected and reported together at the end (test-artifacts/layout/<viewport>-problems.txt)."""
import re

import pytest
from playwright.sync_api import Page, expect

from glrc_ui.demo import credit_code
from glrc_ui.pdf import simple_pdf
from tests.e2e import helpers
from tests.e2e.layout_helpers import LayoutWalk, Viewport, menu_button, menu_entry

pytestmark = pytest.mark.ui_only   # the same markup on either database: SQLite pass only (scripts/test.sh)

PASSWORD = 'Unit#Pass2026'
REVIEWER, REVIEWER_PASSWORD, REVIEWER_NAME = 'layout_xf_review', 'Staff#Pass2026', '秀峰布局审核员'
ANDROID_CHROME = ('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) '
                  'Chrome/124.0.0.0 Mobile Safari/537.36')
PHONE = Viewport('phone-390x844', 390, 844, mobile=True, scale=3, user_agent=ANDROID_CHROME)
DESKTOP = Viewport('desktop-1366x768', 1366, 768, mobile=False)
# per viewport: a long but ordinary unit name, its credit code number, account, operator phone
UNITS = {PHONE.name: ('桂林市漓江手机端布局验证科技有限责任公司', 951, 'layout_phone', '13907730951'),
         DESKTOP.name: ('桂林市七星桌面端布局验证科技有限责任公司', 952, 'layout_desktop', '13907730952')}
SHORT = 3000  # ms: for what today's app may not have (menu button, confirmation), so a walk stays fast


@pytest.fixture(scope='module')
def reviewer(server):
    helpers.cli(server, 'create-staff', '--role', 'reviewer', '--account', REVIEWER, '--password',
                REVIEWER_PASSWORD, '--name', REVIEWER_NAME, '--org', '秀峰区')
    return server


def header_controls(page: Page, mobile: bool) -> list:
    """The header's controls; the user's name may be left out on a phone (then it is not measured)."""
    header = page.locator('.q-header')
    return [('header: system name', header.get_by_text('桂林市人才服务信息化管理系统', exact=True)),
            ('header: user name', page.get_by_test_id('user-name'), mobile),
            ('header: 消息', header.get_by_role('button', name=re.compile('消息'))),
            ('header: 退出登录', header.get_by_role('button', name=re.compile('退出登录')))]


def menu_check_on_load(walk: LayoutWalk) -> None:
    if walk.viewport.mobile:
        walk.expect_menu_closed()
    else:
        walk.expect_menu_open()


def go_by_menu(walk: LayoutWalk, label: str, path: str, server) -> None:
    """Open a page through the left menu: on the phone first the header's 菜单 button (screenshot of the
    open menu), on the laptop straight from the open menu."""
    page = walk.page
    entry = menu_entry(page, label)
    if walk.viewport.mobile:
        button = menu_button(page)
        try:
            expect(button).to_be_visible(timeout=SHORT)
        except AssertionError:
            walk.problem('no menu button (aria-label 菜单 / 打开菜单) in the header: a phone cannot open the menu')
            button = None
        if button is not None:
            walk.control('header: 菜单 button', button)
            button.click()
            try:
                expect(entry).to_be_in_viewport(ratio=1, timeout=SHORT)
            except AssertionError:
                walk.problem(f'the 菜单 button does not show the menu entry 「{label}」')
            walk.step(f'menu-open-{path.strip("/").replace("/", "-") or "home"}',
                      [(f'menu entry 「{label}」', entry), ('menu entry 「首页」', menu_entry(page, '首页'))])
        if not entry.is_visible() or not _in_viewport(page, entry, walk.viewport.width):
            page.goto(server.url(path))  # fall back so the rest of the walk still runs (the problem is recorded)
            expect(page).to_have_url(server.url(path))
            return
    else:
        walk.control(f'menu entry 「{label}」', entry)
    entry.click()
    expect(page).to_have_url(server.url(path))


def _in_viewport(page: Page, locator, width: int) -> bool:
    box = locator.bounding_box()
    return box is not None and box['x'] >= -1 and box['x'] + box['width'] <= width + 1


def login_form(walk: LayoutWalk, server, tab: str, account: str, password: str, slug: str) -> None:
    """On /login (already open): pick the tab, fill, screenshot with the key controls, 登录."""
    page = walk.page
    panel = helpers.open_login_tab(page, server, tab, path=None)
    panel.get_by_label('登录账号', exact=True).fill(account)
    panel.get_by_label('密码', exact=True).fill(password)
    walk.step(slug, [
        ('system name', page.get_by_text('桂林市人才服务信息化管理系统', exact=True).first),
        *[(f'tab 「{t}」', page.get_by_role('tab', name=t, exact=True)) for t in ('单位用户', '个人用户', '管理人员')],
        ('login card', page.locator('.q-card').first),
        ('input 登录账号', panel.get_by_label('登录账号', exact=True)),
        ('input 密码', panel.get_by_label('密码', exact=True)),
        ('button 登录', panel.get_by_role('button', name='登录', exact=True)),
        ('link 单位注册', page.get_by_role('link', name='单位注册')),
        ('link 个人注册', page.get_by_role('link', name='个人注册'), True),  # only once that page exists
    ])
    panel.get_by_role('button', name='登录', exact=True).click()
    expect(page).to_have_url(server.url('/'))


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role('option', name=option, exact=True).click()


UNIT_FIELDS = ('单位名称', '统一社会信用代码', '单位类型', '单位分配管理', '单位审核归属', '所属行业', '单位地址',
               '法定代表人', '单位联系电话', '单位简介')
REGISTER_FIELDS = ('单位名称', '统一社会信用代码', '操作人姓名', '操作人手机号', '登录账号', '密码', '确认密码')


def unit_form_controls(page: Page) -> list:
    return [(f'field 「{label}」', page.get_by_label(label, exact=True)) for label in UNIT_FIELDS] + [
        ('licence upload', page.locator('.q-uploader').first),
        ('button 保存', page.get_by_role('button', name='保存', exact=True)),
        ('button 提交审核', page.get_by_role('button', name='提交审核', exact=True)),
    ]


def check_field_widths(walk: LayoutWalk, labels) -> None:
    """On the phone the form is one column: no field squeezed next to another."""
    if not walk.viewport.mobile:
        return
    for label in labels:
        box = walk.page.get_by_label(label, exact=True).locator('xpath=ancestor-or-self::*[contains(@class,"q-field")][1]') \
            .bounding_box()
        if box and box['width'] < 0.7 * (walk.viewport.width - 32):
            walk.problem(f'field 「{label}」 is only {box["width"]:.0f} px wide on a {walk.viewport.width} px screen '
                         '(the form should be one column)')


def row_button(row, label: str):
    """A row's button: its name is the label, or the label and the row's name (审核 桂林…)."""
    return row.get_by_role('button', name=re.compile(rf'^{label}(\s|$)'))


CONFIRM = re.compile('^确定')  # 确定, or a more telling 确定提交


def confirm_dialog(walk: LayoutWalk, unit_name: str, slug: str) -> bool:
    """The confirmation naming the unit: screenshot, 取消/确定 inside the screen, click 确定.
    False when no dialog appeared (the caller records or raises it)."""
    dialog = walk.page.get_by_role('dialog')
    try:
        expect(dialog).to_be_visible(timeout=SHORT)
    except AssertionError:
        return False
    expect(dialog).to_contain_text(unit_name)
    walk.step(slug, [('dialog', dialog.locator('.q-card').first),
                     ('dialog text naming the unit', dialog.get_by_text(unit_name).first),
                     ('dialog 取消', dialog.get_by_role('button', name='取消', exact=True)),
                     ('dialog 确定', dialog.get_by_role('button', name=CONFIRM))])
    dialog.get_by_role('button', name=CONFIRM).click()
    return True


@pytest.mark.parametrize('viewport', [PHONE, DESKTOP], ids=lambda v: v.name)
def test_unit_registration_to_review_fits_the_screen(pdf_browser, reviewer, tmp_path, viewport: Viewport):
    """(The full Chromium: the review step checks the licence's in-page preview.)"""
    server = reviewer
    name, code_no, account, phone = UNITS[viewport.name]
    context = pdf_browser.new_context(**viewport.context_args())
    context.set_default_timeout(10_000)
    page = context.new_page()
    walk = LayoutWalk(page, viewport)
    try:
        _walk(walk, server, tmp_path, name, credit_code(code_no), account, phone)
    except Exception:
        try:
            walk.step('FAILED')
        except Exception:  # noqa: BLE001 - keep the walk's own error
            pass
        report = walk.finish()
        if report:
            print(f'\nlayout problems before the failure:\n{report}')
        raise
    finally:
        context.close()
    report = walk.finish()
    if report:
        pytest.fail(f'{viewport.name}: layout problems (screenshots in test-artifacts/layout/):\n{report}',
                    pytrace=False)


def _walk(walk: LayoutWalk, server, tmp_path, name: str, code: str, account: str, phone: str) -> None:
    page = walk.page

    # ---- login page, then 单位注册
    page.goto(server.url('/login'))
    helpers.expect_login_page(page, server)
    walk.step('login', [
        ('system name', page.get_by_text('桂林市人才服务信息化管理系统', exact=True).first),
        *[(f'tab 「{t}」', page.get_by_role('tab', name=t, exact=True)) for t in ('单位用户', '个人用户', '管理人员')],
        ('login card', page.locator('.q-card').first),
        ('input 登录账号', page.get_by_label('登录账号', exact=True)),
        ('input 密码', page.get_by_label('密码', exact=True)),
        ('button 登录', page.get_by_role('button', name='登录', exact=True)),
        ('link 单位注册', page.get_by_role('link', name='单位注册')),
        ('link 个人注册', page.get_by_role('link', name='个人注册'), True),  # only once that page exists
        ('footer 主办', page.get_by_text('主办：桂林市人才服务中心')),
    ])
    page.get_by_role('link', name='单位注册').click()
    expect(page).to_have_url(server.url('/register/unit'))
    register_controls = [('title 单位注册', page.get_by_text('单位注册', exact=True).first),
                         ('register card', page.locator('.q-card').first)] + \
        [(f'field 「{label}」', page.get_by_label(label, exact=True)) for label in REGISTER_FIELDS] + \
        [('button 注册', page.get_by_role('button', name='注册', exact=True)),
         ('link 返回登录', page.get_by_role('link', name='已有账号？返回登录'))]
    walk.step('register', register_controls)
    for label, value in (('单位名称', name), ('统一社会信用代码', code), ('操作人姓名', '王操作'),
                         ('操作人手机号', phone), ('登录账号', account), ('密码', PASSWORD), ('确认密码', PASSWORD)):
        page.get_by_label(label, exact=True).fill(value)
    walk.step('register-filled', register_controls)
    page.get_by_role('button', name='注册', exact=True).click()
    expect(page.get_by_text('注册成功', exact=True)).to_be_visible()
    walk.step('registered', [('注册成功', page.get_by_text('注册成功', exact=True)),
                             ('button 前往登录', page.get_by_role('button', name='前往登录'))])
    page.get_by_role('button', name='前往登录').click()
    expect(page.get_by_text('注册成功，请登录')).to_be_visible()

    # ---- the unit logs in
    login_form(walk, server, '单位用户', account, PASSWORD, 'login-unit')
    expect(page.get_by_text('请先完善单位信息和单位账户信息，然后提交审核')).to_be_visible()
    menu_check_on_load(walk)
    walk.step('unit-home', header_controls(page, walk.viewport.mobile) + [
        ('title 单位账号状态', page.get_by_text('单位账号状态', exact=True)),
        ('unit name', page.get_by_text(name, exact=True).first),
        ('button 去完善单位信息', page.get_by_role('button', name='去完善单位信息'))])

    # ---- 单位信息维护: fill, upload, 保存, 提交审核
    go_by_menu(walk, '单位信息维护', '/unit/info', server)
    expect(page.get_by_label('单位地址', exact=True)).to_be_visible()
    menu_check_on_load(walk)
    walk.step('unit-info', header_controls(page, walk.viewport.mobile) + unit_form_controls(page))
    choose(page, '单位类型', '企业')
    expect(page.get_by_label('单位分配管理', exact=True)).to_contain_text('城区')
    choose(page, '单位审核归属', '秀峰区')
    page.get_by_label('所属行业', exact=True).fill('软件和信息技术服务业')
    page.get_by_label('单位地址', exact=True).fill('桂林市秀峰区解放西路 1 号 2 栋 301 室')
    page.get_by_label('法定代表人', exact=True).fill('李法人')
    page.get_by_label('单位联系电话', exact=True).fill('0773-2825566')
    page.get_by_label('单位简介', exact=True).fill('本单位主要从事软件开发与信息技术服务，现有员工 120 人，'
                                                 '其中高层次人才 8 人。')
    walk.step('unit-info-filled', header_controls(page, walk.viewport.mobile) + unit_form_controls(page))
    check_field_widths(walk, UNIT_FIELDS)
    licence = tmp_path / '营业执照.pdf'
    licence.write_bytes(simple_pdf(['Business licence']))
    page.locator('input[type=file]').set_input_files(str(licence))
    expect(page.get_by_text('营业执照已上传')).to_be_visible()
    expect(page.get_by_role('link', name=re.compile('^预览'))).to_be_visible()
    walk.step('unit-info-uploaded', unit_form_controls(page) + [
        ('licence file name', page.get_by_text('营业执照.pdf', exact=True)),
        ('link 预览', page.get_by_role('link', name=re.compile('^预览'))),
        ('link 下载', page.get_by_role('link', name=re.compile('^下载')))])
    page.get_by_role('button', name='保存', exact=True).click()
    expect(page.get_by_text('保存成功')).to_be_visible()
    expect(page.get_by_label('单位地址', exact=True)).to_have_value('桂林市秀峰区解放西路 1 号 2 栋 301 室')
    walk.step('unit-info-saved', unit_form_controls(page))
    page.get_by_role('button', name='提交审核', exact=True).click()
    if not confirm_dialog(walk, name, 'unit-info-submit-confirm'):
        walk.problem('提交审核 asks for no confirmation (expected a dialog naming the unit with 取消/确定)')
    expect(page.get_by_text('待城区/主管部门审核').first).to_be_visible()
    walk.step('unit-info-submitted', header_controls(page, walk.viewport.mobile) + [
        ('status 待城区/主管部门审核', page.get_by_text('待城区/主管部门审核').first),
        ('field 「单位地址」', page.get_by_label('单位地址', exact=True))])

    # ---- 退出登录, the district reviewer logs in
    page.locator('.q-header').get_by_role('button', name=re.compile('退出登录')).click()
    helpers.expect_login_page(page, server)
    login_form(walk, server, '管理人员', REVIEWER, REVIEWER_PASSWORD, 'login-reviewer')
    expect(page.get_by_test_id('user-name')).to_have_text(REVIEWER_NAME)
    menu_check_on_load(walk)
    walk.step('reviewer-home', header_controls(page, walk.viewport.mobile) + [
        ('title 待办事项', page.get_by_text('待办事项', exact=True)),
        # the 待办事项 panel's (the 首页 also has one for 待审核的人才认定申报)
        ('button 去审核', page.locator('section', has=page.get_by_role('heading', name='待办事项'))
         .get_by_role('button', name='去审核'))])

    # ---- 单位注册审核 queue
    go_by_menu(walk, '单位注册审核', '/review/units', server)
    row = page.locator('.q-table tbody tr', has_text=name)
    expect(row).to_be_visible()
    menu_check_on_load(walk)
    walk.step('review-queue', header_controls(page, walk.viewport.mobile) + [
        ('toggle 待审核', page.get_by_role('button', name='待审核', exact=True).or_(
            page.get_by_role('radio', name='待审核', exact=True)).first),
        ('field 「关键字」', page.get_by_label('关键字', exact=True)),
        ('field 「开始日期」', page.get_by_label('开始日期', exact=True)),
        ('field 「结束日期」', page.get_by_label('结束日期', exact=True)),
        ('button 查询', page.get_by_role('button', name='查询')),
        ('column header 单位名称', page.locator('.q-table thead th', has_text='单位名称').first),
        ('column header 操作', page.locator('.q-table thead th', has_text='操作').first),
        ('queue row: unit name cell', row.locator('td', has_text=name).first),
        ('queue row: 审核 button', row_button(row, '审核')),
        ('queue row: 详情 button', row_button(row, '详情')),
        ('button 批量通过', page.get_by_role('button', name='批量通过')),
    ])

    # ---- 审核 → 审核意见 → 通过 → 确定
    row_button(row, '审核').click()
    expect(page).to_have_url(re.compile(re.escape(server.url('/review/units/')) + r'\d+'))
    expect(page.locator('iframe[title="营业执照预览"]')).to_be_visible()
    menu_check_on_load(walk)
    review_controls = header_controls(page, walk.viewport.mobile) + [
        ('unit name in the sheet', page.locator('.glrc-sheet').get_by_text(name, exact=True).first),
        ('sheet label 单位名称', page.locator('.glrc-sheet').get_by_text('单位名称', exact=True)),
        ('sheet label 统一社会信用代码', page.locator('.glrc-sheet').get_by_text('统一社会信用代码', exact=True)),
        ('sheet label 单位地址', page.locator('.glrc-sheet').get_by_text('单位地址', exact=True)),
        ('sheet value 单位地址', page.locator('.glrc-sheet').get_by_text('桂林市秀峰区解放西路 1 号 2 栋 301 室')),
        ('licence preview', page.locator('iframe[title="营业执照预览"]')),
        ('field 「审核意见」', page.get_by_label('审核意见', exact=True)),
        ('button 通过', page.get_by_role('button', name='通过', exact=True)),
        ('button 退回修改', page.get_by_role('button', name='退回修改', exact=True)),
        ('button 返回列表', page.get_by_role('button', name='返回列表')),
    ]
    walk.step('review', review_controls)
    page.get_by_label('审核意见', exact=True).fill('材料齐全，同意通过。')
    walk.step('review-opinion', review_controls)
    page.get_by_role('button', name='通过', exact=True).click()
    assert confirm_dialog(walk, name, 'review-approve-confirm'), '通过 shows no confirmation dialog'
    expect(page).to_have_url(server.url('/review/units'))
    menu_check_on_load(walk)
    page.get_by_text('已审核', exact=True).click()
    done_row = page.locator('.q-table tbody tr', has_text=name)
    expect(done_row).to_contain_text('待市人才服务中心审核')
    walk.step('review-done', header_controls(page, walk.viewport.mobile) + [
        ('queue row: unit name cell', done_row.locator('td', has_text=name).first),
        ('queue row: 详情 button', row_button(done_row, '详情'))])


# ---------------------------------------------------------------- the recognition-application pages (issue 10)
#
# One walk per viewport through every page of the application feature, as each role sees it: the
# person's list, 新增 and 编辑 forms, 附件 (with 「线下提交纸质材料」 open), both answers of 「提交」 (the
# confirmation, and what is still missing), 审核结果 and 人才认定情况查询; then the unit's, the district
# reviewer's and the center's 高层次人才认定审核 queue and review page (with 通过's confirmation, and
# the center's 认定层次), and the center's query with 导出Excel. Applications in every state are filed
# through the services for one person (tests/e2e/application_helpers.py). Screenshots and the report:
# test-artifacts/layout/apps-<viewport>-*.
APP_VIEWPORTS = [Viewport('apps-' + v.name, v.width, v.height, v.mobile, v.scale, v.user_agent) for v in (PHONE, DESKTOP)]


@pytest.fixture(scope='module')
def app_site(server) -> dict:
    from tests.e2e.application_helpers import file_application, make_world, number_of
    world = make_world(server, 911)
    apps = {state: file_application(server, world, state, level=level)
            for state, level in (('approved', 'D'), ('pending_unit', 'E'), ('pending_org', 'B'),
                                 ('pending_center', 'A'), ('draft', 'D'), ('incomplete', 'C'))}
    return {'world': world, 'apps': apps, 'numbers': {state: number_of(server, i) for state, i in apps.items()}}


@pytest.mark.parametrize('viewport', APP_VIEWPORTS, ids=lambda v: v.name)
def test_application_pages_fit_the_screen(browser, server, app_site, viewport: Viewport):
    context = browser.new_context(**viewport.context_args())
    context.set_default_timeout(10_000)
    page = context.new_page()
    walk = LayoutWalk(page, viewport)
    try:
        _application_walk(walk, server, app_site)
    except Exception:
        try:
            walk.step('FAILED')
        except Exception:  # noqa: BLE001 - keep the walk's own error
            pass
        report = walk.finish()
        if report:
            print(f'\nlayout problems before the failure:\n{report}')
        raise
    finally:
        context.close()
    report = walk.finish()
    if report:
        pytest.fail(f'{viewport.name}: layout problems (screenshots in test-artifacts/layout/):\n{report}',
                    pytrace=False)


def _log_out(walk: LayoutWalk, server) -> None:
    walk.page.locator('.q-header').get_by_role('button', name=re.compile('退出登录')).click()
    helpers.expect_login_page(walk.page, server)


def _open(walk: LayoutWalk, server, path: str, ready) -> None:
    """Go to path, wait for what shows it is there (a locator), check the menu on a phone."""
    walk.page.goto(server.url(path))
    expect(ready).to_be_visible()
    menu_check_on_load(walk)


def _table_controls(page: Page, row_text: str, *buttons: str) -> list:
    row = page.locator('.q-table tbody tr', has_text=row_text)
    return [('column header 操作', page.locator('.q-table thead th', has_text='操作').first),
            *[(f'row button {b}', row_button(row, b)) for b in buttons]]


def _form_controls(page: Page) -> list:
    fields = ('申报层次', '认定依据', '现从事专业及岗位', '主要业绩及成果', '获奖及荣誉情况', '其他需要说明的情况')
    return [(f'field 「{label}」', page.get_by_label(label, exact=True).first) for label in fields] + [
        ('checkbox 本人承诺', page.get_by_role('checkbox', name='本人承诺所填信息及所提交材料真实有效')),
        ('button 保存', page.get_by_role('button', name='保存', exact=True), True),
        ('button 返回列表', page.get_by_role('button', name='返回列表'))]


def _dialog_step(walk: LayoutWalk, dialog, slug: str, close: str) -> None:
    expect(dialog).to_be_visible()
    walk.step(slug, [('dialog', dialog.locator('.q-card').first.or_(dialog).first),
                     (f'dialog {close}', dialog.get_by_role('button', name=close, exact=True))])
    dialog.get_by_role('button', name=close, exact=True).click()
    expect(dialog).to_have_count(0)


def _review_controls(walk: LayoutWalk, *buttons: str) -> list:
    page = walk.page
    return header_controls(page, walk.viewport.mobile) + [
        ('sheet label 姓名', page.locator('.glrc-sheet').get_by_text('姓名', exact=True).first),
        ('sheet label 认定依据', page.locator('.glrc-sheet').get_by_text('认定依据', exact=True).first),
        ('file 查看 button', page.get_by_role('button', name=re.compile('^查看 身份证')).first),
        *([('field 「审核意见」', page.get_by_label('审核意见', exact=True))] if buttons else []),   # 详情: no review box
        *[(f'button {b}', page.get_by_role('button', name=b, exact=True)) for b in buttons],
        ('button 返回列表', page.get_by_role('button', name='返回列表'))]


def _application_walk(walk: LayoutWalk, server, site: dict) -> None:
    from tests.e2e.person_helpers import password_login
    page, world, apps, numbers = walk.page, site['world'], site['apps'], site['numbers']

    # ---- the person
    password_login(page, server, world.person_phone, world.password)
    expect(page).to_have_url(server.url('/'))
    _open(walk, server, '/person/applications', page.locator('.q-table tbody tr', has_text=numbers['draft']))
    walk.step('person-list', header_controls(page, walk.viewport.mobile) + [
        ('button 新增', page.get_by_role('button', name='新增'))]
        + _table_controls(page, numbers['draft'], '编辑', '附件', '提交', '删除'))
    _open(walk, server, '/person/applications/new', page.get_by_label('申报层次', exact=True).first)
    walk.step('person-new', _form_controls(page))
    _open(walk, server, f'/person/applications/{apps["draft"]}', page.get_by_text(f'申报编号：{numbers["draft"]}'))
    walk.step('person-edit', _form_controls(page) + [('button 附件', page.get_by_role('button', name='附件'))])
    _open(walk, server, f'/person/applications/{apps["approved"]}', page.get_by_text(f'申报编号：{numbers["approved"]}'))
    walk.step('person-view-approved', [('button 返回列表', page.get_by_role('button', name='返回列表'))])

    _open(walk, server, f'/person/applications/{apps["draft"]}/files', page.get_by_role('heading', name='身份证'))
    box = page.locator('section', has=page.get_by_role('heading', name='身份证', exact=True))
    files_controls = [('button 上传身份证：选择文件', page.get_by_role('button', name='上传身份证：选择文件')),
                      ('file name 身份证.pdf', box.get_by_text('身份证.pdf', exact=True)),
                      ('link 预览', box.get_by_role('link', name='预览 身份证.pdf')),
                      ('button 删除', box.get_by_role('button', name='删除 身份证.pdf')),
                      ('checkbox 线下提交', page.get_by_role('checkbox', name='身份证：线下提交纸质材料')),
                      ('button 提交', page.get_by_role('button', name='提交', exact=True)),
                      ('button 编辑申报信息', page.get_by_role('button', name='编辑申报信息'))]
    walk.step('person-files', files_controls)
    page.get_by_role('checkbox', name='其他材料：线下提交纸质材料').click()
    note = page.get_by_label('其他材料线下提交说明', exact=True)
    expect(note).to_be_visible()
    note.fill('涉密材料，不适宜网络传输，纸质材料交市人才服务中心')
    walk.step('person-files-offline', [('field 「其他材料线下提交说明」', note),
                                       ('button 保存说明', page.locator('section', has=note).get_by_role('button', name='保存说明'))])
    page.get_by_role('button', name='提交', exact=True).click()
    _dialog_step(walk, page.get_by_role('alertdialog', name='确认提交'), 'person-submit-confirm', '取消')
    _open(walk, server, f'/person/applications/{apps["incomplete"]}/files', page.get_by_role('heading', name='身份证'))
    page.get_by_role('button', name='提交', exact=True).click()
    missing = page.get_by_role('dialog', name='尚不能提交')
    expect(missing).to_contain_text('主要业绩及成果')
    walk.step('person-submit-missing', [('dialog', missing.locator('.q-card').first),
                                        ('button 上传附件', missing.get_by_role('button', name='上传附件')),
                                        ('button 填写申报信息', missing.get_by_role('button', name='填写申报信息')),
                                        ('button 关闭', missing.get_by_role('button', name='关闭'))])
    missing.get_by_role('button', name='关闭').click()
    expect(missing).to_have_count(0)

    _open(walk, server, f'/applications/{apps["approved"]}/result', page.get_by_role('heading', name='审核过程'))
    walk.step('person-result', [('sheet label 证书编号', page.locator('.glrc-sheet').get_by_text('证书编号', exact=True)),
                                ('certificate number', page.get_by_text(re.compile(r'^GLRC-\d{4}-D-\d{6}$'))),
                                ('timeline', page.locator('.q-timeline'))])
    _open(walk, server, '/query/applications', page.locator('.q-table tbody tr', has_text=numbers['approved']))
    walk.step('person-query', header_controls(page, walk.viewport.mobile) + [
        ('field 「关键字」', page.get_by_label('关键字', exact=True)),
        ('button 查询', page.get_by_role('button', name='查询'))]
        + _table_controls(page, numbers['approved'], '审核结果'))
    _log_out(walk, server)

    # ---- the unit, the district reviewer, the center: queue, review page, 通过's confirmation
    name = world.person_name
    stages = (('unit', '单位用户', world.unit_account, 'pending_unit'),
              ('reviewer', '管理人员', world.reviewer, 'pending_org'),
              ('center', '管理人员', world.center, 'pending_center'))
    for role, tab, account, state in stages:
        helpers.staff_login(page, server, account, world.password, tab=tab)
        expect(page).to_have_url(server.url('/'))
        _open(walk, server, '/review/applications', page.locator('.q-table tbody tr', has_text=numbers[state]))
        walk.step(f'{role}-queue', header_controls(page, walk.viewport.mobile) + [
            ('toggle 待审核', page.get_by_role('button', name='待审核', exact=True)),
            ('field 「关键字」', page.get_by_label('关键字', exact=True)),
            ('field 「申报层次」', page.get_by_label('申报层次', exact=True).first),
            ('field 「开始日期」', page.get_by_label('开始日期', exact=True)),
            ('button 查询', page.get_by_role('button', name='查询'))]
            + _table_controls(page, numbers[state], '审核', '详情'))
        row_button(page.locator('.q-table tbody tr', has_text=numbers[state]), '审核').click()
        expect(page).to_have_url(server.url(f'/review/applications/{apps[state]}'))
        expect(page.get_by_text(f'申报编号：{numbers[state]}')).to_be_visible()
        menu_check_on_load(walk)
        extra = [('field 「认定层次」', page.get_by_label('认定层次', exact=True).first)] if role == 'center' else []
        walk.step(f'{role}-review', _review_controls(walk, '通过', '退回修改', '不予通过') + extra)
        page.get_by_role('button', name='通过', exact=True).click()
        dialog = page.get_by_role('alertdialog', name='确认通过')
        expect(dialog).to_contain_text(name)
        _dialog_step(walk, dialog, f'{role}-review-confirm', '取消')
        if role == 'center':
            _open(walk, server, f'/review/applications/{apps["approved"]}', page.get_by_text(f'申报编号：{numbers["approved"]}'))
            walk.step('center-detail', _review_controls(walk))
            _open(walk, server, '/query/applications', page.locator('.q-table tbody tr', has_text=numbers['approved']))
            walk.step('center-query', header_controls(page, walk.viewport.mobile) + [
                ('button 导出Excel', page.get_by_role('button', name='导出Excel'))]
                + _table_controls(page, numbers['approved'], '审核结果'))
        _log_out(walk, server)
