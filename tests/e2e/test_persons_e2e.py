"""Person journeys in real Chromium (issue 9, "Done when"): 个人注册 with an SMS code → 个人信息维护 →
提交审核 → the unit returns it with an opinion → fixed and resubmitted → approved, identity locked;
a person created by its unit logs in with the SMS'd initial password and must change it; the same
registration and form on a 390×844 phone.

The demo data (`seed-demo`) gives the active unit unit_gaoxin (桂林高新光电有限公司) and one person of
it already waiting (13977300002). What the user sees is asserted in the browser, what is stored by a
read of the person row in this process (tests/e2e/person_helpers.py)."""
import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import helpers
from tests.e2e.layout_helpers import LayoutWalk, Viewport
from tests.e2e.person_helpers import (
    GAOXIN_NAME,
    badge,
    choose,
    confirm,
    field_box,
    fill_registration,
    go_menu,
    id_number,
    menu,
    password_login,
    pending_count,
    person_row,
    review_opinions,
    unit_id_of,
    unit_page,
)

PASSWORD = 'Person#Pass2026'


@pytest.fixture(scope='module')
def demo(server):
    helpers.cli(server, 'seed-demo')
    return server


# ---------------------------------------------------------------- 1. registration → return → approval

def test_register_submit_return_resubmit_approve(page: Page, browser: Browser, demo):
    server = demo
    phone, name, born = '13977310001', '蒙振华', date(1991, 3, 15)
    id_no = id_number(born, 11, male=True)
    gaoxin = unit_id_of(server, 'unit_gaoxin')

    # 个人注册, from the login page's link
    page.goto(server.url('/login'))
    page.get_by_role('link', name='个人注册').click()
    expect(page).to_have_url(server.url('/register/person'))
    fill_registration(page, server, phone, name, id_no, GAOXIN_NAME, PASSWORD)
    page.get_by_role('button', name='注册', exact=True).click()
    expect(page.get_by_role('status').filter(has_text='注册成功')).to_be_visible()
    row = person_row(server, phone)
    assert row is not None, 'no person row after 注册成功'
    assert (row['state'], row['unit_id'], row['name'], row['id_number'], row['gender'], row['birth_date']) == \
        ('registered', gaoxin, name, id_no, '男', born)
    assert (row['account'], row['must_change_password'], row['created_by_unit']) == (phone, False, False)

    # SMS-code login: a registered person sees only 首页 and 账号管理
    page.get_by_role('button', name='前往登录').click()
    expect(page.get_by_text('注册成功，请登录')).to_be_visible()
    helpers.person_code_login(page, server, phone)
    helpers.expect_home(page, server, name)
    expect(menu(page)).to_contain_text('账号管理')
    expect(menu(page)).to_contain_text('个人信息维护')
    expect(menu(page)).to_contain_text('账号信息设置')
    for hidden in ('业务办理', '信息查询', '高层次人才认定申报', '人才认定情况查询'):
        expect(menu(page)).not_to_contain_text(hidden)
    panel = page.locator('section', has=page.get_by_role('heading', name='个人账号状态'))
    expect(badge(panel, '未提交')).to_be_visible()
    expect(panel).to_contain_text(GAOXIN_NAME)
    expect(panel).to_contain_text('请先完善个人信息，然后提交所在单位审核')

    # 个人信息维护: what registration filled in, the rest by hand, 提交审核 with its confirmation
    panel.get_by_role('button', name='去完善个人信息').click()
    expect(page).to_have_url(server.url('/person/info'))
    expect(page.get_by_label('姓名', exact=True)).to_have_value(name)
    expect(page.get_by_label('身份证号', exact=True)).to_have_value(id_no)
    expect(page.get_by_label('出生日期', exact=True)).to_have_value(born.isoformat())
    expect(field_box(page, '性别')).to_contain_text('男')
    expect(page.get_by_text(phone, exact=True)).to_be_visible()          # the login phone, read-only above the form
    choose(page, '民族', '壮族')
    choose(page, '政治面貌', '群众')
    choose(page, '最高学历', '大学本科')
    page.get_by_label('毕业院校', exact=True).fill('桂林电子科技大学')
    page.get_by_label('所学专业', exact=True).fill('光电信息科学与工程')
    page.get_by_label('电子邮箱', exact=True).fill('mengzh@example.com')
    page.get_by_role('button', name='提交审核', exact=True).click()
    confirm(page, '确认提交审核', f'确定将「{name}」的个人信息提交「{GAOXIN_NAME}」审核吗？', '未保存的修改将一并保存。')
    expect(badge(page, '待单位审核')).to_be_visible()
    expect(page.get_by_text('个人信息正在审核中，暂不能修改。')).to_be_visible()
    expect(page.get_by_role('button', name='提交审核', exact=True)).to_be_disabled()
    row = person_row(server, phone)
    assert (row['state'], row['ethnicity'], row['education'], row['school']) == \
        ('pending_unit', '壮族', '大学本科', '桂林电子科技大学')
    assert row['submitted_at'] is not None
    person_id = row['id']

    # the unit: 首页 counts it, 单位人员账号设置 lists it, 退回修改 needs an opinion
    waiting = pending_count(server, gaoxin)
    assert waiting == 2   # the demo's 韦秀梅 and this person
    unit = unit_page(browser, server)
    counter = unit.locator('section', has=unit.get_by_role('heading', name='待审核的个人注册'))
    expect(counter).to_contain_text('待本单位审核的人员')
    expect(counter.locator('.text-3xl')).to_have_text(str(waiting))
    expect(counter).to_contain_text('最早提交：')
    counter.get_by_role('button', name='去审核').click()
    expect(unit).to_have_url(server.url('/unit/persons'))
    table_row = unit.locator('.glrc-table tbody tr', has_text=name)
    expect(table_row).to_contain_text('待单位审核')
    expect(table_row).to_contain_text('139****0001')          # masked in the list
    expect(table_row).not_to_contain_text(id_no)
    table_row.get_by_role('button', name=f'审核 {name}', exact=True).click()
    expect(unit).to_have_url(server.url(f'/unit/persons/{person_id}'))
    expect(unit.get_by_role('heading', name='个人信息审核', level=1)).to_be_visible()
    expect(unit.get_by_text(id_no, exact=True)).to_be_visible()   # unmasked on the review page
    expect(unit.get_by_text('光电信息科学与工程', exact=True)).to_be_visible()
    unit.get_by_role('button', name='退回修改', exact=True).click()
    expect(unit.get_by_text('请填写审核意见（退回修改时必填）')).to_be_visible()
    opinion = '请补充最高学位和专业技术职称'
    unit.get_by_label('审核意见', exact=True).fill(opinion)
    unit.get_by_role('button', name='退回修改', exact=True).click()
    confirm(unit, '确认退回修改', f'确定对「{name}」执行“退回修改”吗？', f'审核意见：{opinion}')
    expect(unit).to_have_url(server.url('/unit/persons'))
    expect(unit.locator('.glrc-table tbody tr', has_text=name)).to_have_count(0)   # no longer waiting
    row = person_row(server, phone)
    assert row['state'] == 'returned'
    assert review_opinions(server, person_id)[-1] == ('return_', opinion)

    # the person: the opinion on 首页 and on 个人信息维护; fixed and resubmitted
    page.goto(server.url('/'))
    panel = page.locator('section', has=page.get_by_role('heading', name='个人账号状态'))
    expect(badge(panel, '退回修改')).to_be_visible()
    expect(panel).to_contain_text(f'审核意见：{opinion}')
    go_menu(page, server, '个人信息维护', '/person/info')
    expect(page.get_by_text(f'审核意见：{opinion}')).to_have_count(2)   # above the form and in 审核记录
    expect(page.get_by_text(f'审核意见：{opinion}').first).to_be_in_viewport()
    expect(page.get_by_label('毕业院校', exact=True)).to_have_value('桂林电子科技大学')   # kept as submitted
    choose(page, '最高学位', '学士')
    page.get_by_label('专业技术职称', exact=True).fill('助理工程师')
    page.get_by_role('button', name='保存', exact=True).click()
    expect(page.get_by_text('保存成功')).to_be_visible()
    page.get_by_role('button', name='提交审核', exact=True).click()
    confirm(page, '确认提交审核', f'确定将「{name}」的个人信息提交「{GAOXIN_NAME}」审核吗？')
    expect(badge(page, '待单位审核')).to_be_visible()
    row = person_row(server, phone)
    assert (row['state'], row['degree'], row['title']) == ('pending_unit', '学士', '助理工程师')

    # the unit approves
    unit.goto(server.url('/'))
    expect(unit.locator('section', has=unit.get_by_role('heading', name='待审核的个人注册'))
           .locator('.text-3xl')).to_have_text('2')
    go_menu(unit, server, '单位人员账号设置', '/unit/persons')
    unit.locator('.glrc-table tbody tr', has_text=name).get_by_role('button', name=f'审核 {name}', exact=True).click()
    expect(unit.get_by_text('助理工程师', exact=True)).to_be_visible()
    expect(unit.get_by_text(opinion).first).to_be_visible()        # the history shows the earlier return
    unit.get_by_label('审核意见', exact=True).fill('信息属实，同意')
    unit.get_by_role('button', name='通过', exact=True).click()
    confirm(unit, '确认通过', f'确定对「{name}」执行“通过”吗？')
    expect(unit).to_have_url(server.url('/unit/persons'))
    unit.get_by_role('button', name='全部', exact=True).click()
    expect(unit.locator('.glrc-table tbody tr', has_text=name)).to_contain_text('审核通过')
    unit.context.close()
    row = person_row(server, phone)
    assert row['state'] == 'active'
    assert [a for a, _ in review_opinions(server, person_id)] == ['submit', 'return_', 'submit', 'approve']
    sms = [m for m in server.sms_outbox() if m['phone'] == phone and m['purpose'] == 'notice']
    assert len(sms) == 2 and opinion in sms[0]['text'] and '信息属实，同意' in sms[1]['text'], sms

    # the person: 审核通过, the identity locked with the note; other fields still editable
    page.goto(server.url('/'))
    panel = page.locator('section', has=page.get_by_role('heading', name='个人账号状态'))
    expect(badge(panel, '审核通过')).to_be_visible()
    expect(panel.get_by_role('button', name='去完善个人信息')).to_have_count(0)
    go_menu(page, server, '个人信息维护', '/person/info')
    expect(badge(page, '审核通过')).to_be_visible()
    note = page.get_by_role('note')
    expect(note).to_contain_text('姓名、身份证号、性别、出生日期和所在单位不能再修改')
    expect(note).to_contain_text('今后的申报将复制修改后的信息，已提交的申报不受影响')
    for label in ('姓名', '身份证号', '出生日期'):
        expect(page.get_by_role('textbox', name=label, exact=True)).not_to_be_editable()
        expect(field_box(page, label)).to_have_class(re.compile(r'\bq-field--readonly\b'))
    expect(field_box(page, '性别')).to_have_class(re.compile(r'\bq-field--readonly\b'))
    field_box(page, '性别').click()                       # a locked select does not open
    page.wait_for_timeout(300)
    expect(page.get_by_role('listbox')).to_have_count(0)
    for label in ('毕业院校', '通讯地址', '专业技术职称'):
        expect(page.get_by_label(label, exact=True)).to_be_editable()
    page.get_by_label('通讯地址', exact=True).fill('桂林市七星区朝阳路 8 号')
    page.get_by_role('button', name='保存', exact=True).click()
    expect(page.get_by_text('保存成功')).to_be_visible()
    row = person_row(server, phone)
    assert (row['state'], row['address'], row['name'], row['id_number']) == \
        ('active', '桂林市七星区朝阳路 8 号', name, id_no)
    SHOTS.mkdir(parents=True, exist_ok=True)
    helpers.shot(page, 'persons/approved-person-info')


# ---------------------------------------------------------------- 2. a person created by the unit

def test_unit_creates_person_who_must_change_the_initial_password(page: Page, browser: Browser, demo):
    server = demo
    phone, name = '13977310002', '石雅琴'
    id_no = id_number(date(1994, 11, 2), 22, male=False)
    new_password = 'Fresh#Pass2026'

    unit = unit_page(browser, server)
    go_menu(unit, server, '单位人员账号设置', '/unit/persons')
    unit.get_by_role('button', name='新增单位人员').click()
    dialog = unit.get_by_role('dialog', name='新增单位人员')
    expect(dialog).to_contain_text('保存后系统将以短信把初始密码发送到该手机号')
    dialog.get_by_label('姓名', exact=True).fill(name)
    dialog.get_by_label('手机号', exact=True).fill(phone)
    dialog.get_by_label('身份证号', exact=True).fill(id_no)
    before = len(server.sms_outbox())
    dialog.get_by_role('button', name='保存', exact=True).click()
    expect(unit.get_by_text(f'已新增单位人员「{name}」，初始密码已通过短信发送')).to_be_visible()
    expect(dialog).to_have_count(0)
    expect(unit.locator('.glrc-table tbody tr', has_text=name)).to_contain_text('审核通过')   # the list shows 全部
    unit.context.close()

    sent = [m for m in server.sms_outbox()[before:] if m['phone'] == phone]
    assert len(sent) == 1 and sent[0]['purpose'] == 'account', sent
    initial = sent[0]['code']
    assert initial and initial in sent[0]['text'] and GAOXIN_NAME in sent[0]['text']
    row = person_row(server, phone)
    assert (row['state'], row['created_by_unit'], row['must_change_password'], row['gender']) == \
        ('active', True, True, '女')

    # the first login goes to 账号信息设置 until the password is changed
    password_login(page, server, phone, initial)
    expect(page).to_have_url(server.url('/account/settings'))
    expect(page.get_by_text('您的密码为初始密码或已被重置，请先修改密码后再使用系统。')).to_be_visible()
    page.goto(server.url('/person/info'))
    expect(page).to_have_url(server.url('/account/settings'))
    expect(page.get_by_label('登录账号', exact=True)).to_have_value(phone)
    page.get_by_label('原密码', exact=True).fill(initial)
    page.get_by_label('新密码', exact=True).fill(new_password)
    page.get_by_label('确认新密码', exact=True).fill(new_password)
    page.get_by_role('button', name='保存', exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(server.url('/login')) + r'\?msg=relogin$'))
    expect(page.get_by_text('修改成功，请重新登录')).to_be_visible()
    assert person_row(server, phone)['must_change_password'] is False

    password_login(page, server, phone, initial, path=None)       # the initial password no longer works
    expect(page.get_by_text(re.compile('密码错误|账号或密码'))).to_be_visible()
    password_login(page, server, phone, new_password, path=None)
    helpers.expect_home(page, server, name)
    panel = page.locator('section', has=page.get_by_role('heading', name='个人账号状态'))
    expect(badge(panel, '审核通过')).to_be_visible()
    go_menu(page, server, '个人信息维护', '/person/info')
    expect(page.get_by_label('身份证号', exact=True)).to_have_value(id_no)


# ---------------------------------------------------------------- 3. the same on a phone

ANDROID_CHROME = ('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) '
                  'Chrome/124.0.0.0 Mobile Safari/537.36')
PHONE = Viewport('persons-phone-390x844', 390, 844, mobile=True, scale=2, user_agent=ANDROID_CHROME)
SHOTS = helpers.ARTIFACTS / 'persons'


class PhoneWalk(LayoutWalk):
    """LayoutWalk with its screenshots and report in test-artifacts/persons/, and a hard check of the
    page width at every step (besides the collected layout problems)."""

    def __post_init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob(f'{self.viewport.name}-*'):
            old.unlink()
        self.page.on('pageerror', lambda exc: self.js_errors.append(f'[{self.current}] uncaught: {exc}'))
        self.page.on('console', lambda msg: self.js_errors.append(f'[{self.current}] console.error: {msg.text}')
                     if msg.type == 'error' else None)

    def step(self, slug: str, controls: list[tuple] = (), *, settle_ms: int = 350) -> None:
        self.number += 1
        self.current = f'{self.viewport.name}-{self.number:02d}-{slug}'
        self.page.wait_for_timeout(settle_ms)
        self.page.evaluate('window.scrollTo(0, 0)')
        path = SHOTS / f'{self.current}.png'
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        widths = self.page.evaluate('() => [document.documentElement.scrollWidth, window.innerWidth]')
        assert widths[0] <= widths[1], f'[{self.current}] the page scrolls sideways: scrollWidth {widths[0]} > ' \
                                       f'innerWidth {widths[1]} (screenshot {path})'
        self._page_checks()
        for name, locator, *optional in controls:
            self.control(name, locator, optional=bool(optional and optional[0]))
        self.page.evaluate('window.scrollTo(0, 0)')

    def finish(self) -> str:
        lines = list(self.problems) + [f'JS error {e[:400]}' for e in dict.fromkeys(self.js_errors)]
        (SHOTS / f'{self.viewport.name}-problems.txt').write_text('\n'.join(lines) + '\n' if lines else 'no problems\n',
                                                                 encoding='utf-8')
        return '\n'.join(lines)


def fields(page: Page, *labels: str) -> list[tuple]:
    return [(f'field 「{label}」', page.get_by_label(label, exact=True).first) for label in labels]


def test_phone_registration_login_and_person_info(browser: Browser, demo):
    server = demo
    phone, name, born = '13977310003', '欧阳晓琳', date(1996, 6, 30)
    id_no = id_number(born, 33, male=False)
    context = browser.new_context(**PHONE.context_args())
    context.set_default_timeout(10_000)
    page = context.new_page()
    walk = PhoneWalk(page, PHONE)
    try:
        page.goto(server.url('/login'))
        walk.step('login', [('link 个人注册', page.get_by_role('link', name='个人注册'))])
        page.get_by_role('link', name='个人注册').click()
        expect(page).to_have_url(server.url('/register/person'))
        walk.step('register-empty', [*fields(page, '手机号', '验证码', '姓名', '身份证号', '所在单位', '密码', '确认密码'),
                                     ('button 获取验证码', page.get_by_role('button', name='获取验证码')),
                                     ('button 注册', page.get_by_role('button', name='注册', exact=True))])
        fill_registration(page, server, phone, name, id_no, GAOXIN_NAME, PASSWORD)
        walk.step('register-filled', [*fields(page, '手机号', '验证码', '所在单位', '确认密码'),
                                      ('button 注册', page.get_by_role('button', name='注册', exact=True))])
        page.get_by_role('button', name='注册', exact=True).click()
        expect(page.get_by_role('status').filter(has_text='注册成功')).to_be_visible()
        walk.step('register-done', [('button 前往登录', page.get_by_role('button', name='前往登录'))])
        assert person_row(server, phone)['state'] == 'registered'

        page.get_by_role('button', name='前往登录').click()
        panel = helpers.open_login_tab(page, server, '个人用户', '密码登录', path=None)
        panel.get_by_label('手机号', exact=True).fill(phone)
        panel.get_by_label('密码', exact=True).fill(PASSWORD)
        walk.step('login-person', [*[(f'tab 「{t}」', page.get_by_role('tab', name=t, exact=True))
                                     for t in ('单位用户', '个人用户', '管理人员', '密码登录', '验证码登录')],
                                   ('input 手机号', panel.get_by_label('手机号', exact=True)),
                                   ('input 密码', panel.get_by_label('密码', exact=True)),
                                   ('button 登录', panel.get_by_role('button', name='登录', exact=True))])
        panel.get_by_role('button', name='登录', exact=True).click()
        helpers.expect_home(page, server, name)
        walk.expect_menu_closed()
        go = page.get_by_role('button', name='去完善个人信息')
        walk.step('home', [('button 去完善个人信息', go)])

        go.click()
        expect(page).to_have_url(server.url('/person/info'))
        walk.step('person-info', fields(page, '姓名', '性别', '身份证号', '出生日期', '民族', '最高学历', '通讯地址'))
        choose(page, '民族', '汉族')
        choose(page, '最高学历', '硕士研究生')
        choose(page, '最高学位', '硕士')
        page.get_by_label('毕业院校', exact=True).fill('广西师范大学')
        page.get_by_label('所学专业', exact=True).fill('应用数学')
        page.get_by_label('参加工作时间', exact=True).fill('2021-07-01')
        page.get_by_label('通讯地址', exact=True).fill('桂林市秀峰区中山中路 18 号 3 单元 502 室')
        walk.step('person-info-filled', [*fields(page, '民族', '最高学历', '最高学位', '参加工作时间', '通讯地址'),
                                         ('button 保存', page.get_by_role('button', name='保存', exact=True)),
                                         ('button 提交审核', page.get_by_role('button', name='提交审核', exact=True))])
        page.get_by_role('button', name='提交审核', exact=True).click()
        dialog = page.get_by_role('alertdialog', name='确认提交审核')
        expect(dialog).to_contain_text(f'确定将「{name}」的个人信息提交「{GAOXIN_NAME}」审核吗？')
        walk.step('person-info-confirm', [('dialog', dialog),
                                          ('button 取消', dialog.get_by_role('button', name='取消', exact=True)),
                                          ('button 确定', dialog.get_by_role('button', name='确定', exact=True))])
        confirm(page, '确认提交审核')
        expect(badge(page, '待单位审核')).to_be_visible()
        walk.step('person-info-submitted', [('state badge', badge(page, '待单位审核'))])
        row = person_row(server, phone)
        assert (row['state'], row['education'], row['work_start'], row['gender']) == \
            ('pending_unit', '硕士研究生', date(2021, 7, 1), '女')
    finally:
        report = walk.finish()
        context.close()
    assert not report, f'layout problems on a {PHONE.width}×{PHONE.height} phone (screenshots in {SHOTS}):\n{report}'
