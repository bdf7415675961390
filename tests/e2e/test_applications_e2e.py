"""Recognition-application journeys in real Chromium (issue 10, "Done when"):

a. 新增 → 保存 → 附件 (every required type a PDF or PNG, one 线下提交纸质材料) → 提交 → the unit 通过 →
   the district reviewer 通过 → the center 通过 with 认定层次 → the person's 审核结果: 认定通过, 认定层次,
   证书编号 and all three opinions;
b. 退回修改 at the district stage → the person edits a field and adds a file → resubmits → the unit's
   review page shows what changed;
c. 不予通过 at the center → the person's 审核结果 says 不予认定 with the opinion;
d. 撤回 before anyone reviewed → 已保存 again;
e. the person's form and 附件 on a 390×844 phone, nothing wider than the screen.

Each journey has its own world (tests/factories.py application_world: an active unit of 秀峰区, its
active person, a 秀峰区 reviewer and a center account), made in this process against the server's
data dir. Steps the journey is not about are taken through the services (application_helpers)."""
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import helpers
from tests.e2e.application_helpers import (
    CERTIFICATE,
    CLAUSE_D1,
    D1_REQUIRED,
    LIST_PATH,
    QUEUE_PATH,
    Pages,
    application_row,
    decide,
    file_application,
    fill_form,
    list_row,
    make_world,
    mark_offline,
    material,
    named_copy,
    number_of,
    open_review,
    person_page,
    review_as,
    row_button,
    sample_files,
    save_form,
    sheet_value,
    staff_page,
    state_badge,
    upload,
)
from tests.e2e.layout_helpers import LayoutWalk, Viewport
from tests.e2e.person_helpers import choose, confirm, go_menu

SHOTS = 'applications'   # test-artifacts/applications/
ANDROID_CHROME = ('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) '
                  'Chrome/124.0.0.0 Mobile Safari/537.36')
PHONE = Viewport('applications-phone-390x844', 390, 844, mobile=True, scale=2, user_agent=ANDROID_CHROME)


@pytest.fixture
def pages(browser: Browser, request):
    """Pages.new(): a page in a browser context of its own; failures photographed, JS errors fail the test.
    A test marked pdf_viewer gets the full Chromium (conftest pdf_browser): it looks at the in-page preview."""
    opened = Pages(request.getfixturevalue('pdf_browser') if request.node.get_closest_marker('pdf_viewer') else browser)
    failed_before = request.session.testsfailed
    yield opened
    name = re.sub(r'[^\w.-]+', '_', request.node.name)
    js_errors = opened.close(name, failed=request.session.testsfailed > failed_before)
    if js_errors:
        pytest.fail('JavaScript errors in the browser:\n' + '\n'.join(js_errors), pytrace=False)


def shot(page: Page, name: str) -> None:
    (helpers.ARTIFACTS / SHOTS).mkdir(parents=True, exist_ok=True)
    helpers.shot(page, f'{SHOTS}/{name}')


def app_id_from(page: Page) -> int:
    match = re.search(r'/person/applications/(\d+)', page.url)
    assert match, f'not on an application page: {page.url}'
    return int(match.group(1))


def expect_row_buttons(row, *labels: str) -> None:
    """The row shows exactly these buttons, in this order (each only when the workflow allows it)."""
    expect(row.locator('.glrc-actions .q-btn')).to_have_text(list(labels))


# ---------------------------------------------------------------- a. filed, three approvals, certificate

@pytest.mark.pdf_viewer
def test_file_submit_and_approve_at_three_stages(pages, server, tmp_path):
    world = make_world(server, 801)
    files = sample_files(tmp_path)
    page = person_page(pages, server, world)

    # 高层次人才认定申报: empty, 新增
    go_menu(page, server, '高层次人才认定申报', LIST_PATH)
    expect(page.get_by_text('暂无数据')).to_be_visible()
    page.get_by_role('button', name='新增').click()
    expect(page).to_have_url(server.url(LIST_PATH + '/new'))
    expect(sheet_value(page, '姓名')).to_have_text(world.person_name)          # the person's info, read-only
    expect(sheet_value(page, '身份证号')).to_have_text(re.compile(r'^\d{3,6}\*+\w{2,4}$'))   # masked
    expect(sheet_value(page, '所在单位')).to_have_text(world.unit_name)
    expect(page.get_by_role('note').filter(has_text='示例')).to_be_visible()     # the example catalogue says so
    specialty, achievements = '光电材料研发 / 研发中心主任', '主持完成国家级科研项目 2 项，获授权发明专利 6 项。'
    fill_form(page, clause=CLAUSE_D1, specialty=specialty, achievements=achievements, honors='桂林市科技进步奖一等奖')
    needed = page.get_by_text(re.compile('^该认定依据需提供的附件：'))
    for label in D1_REQUIRED:
        expect(needed).to_contain_text(label)
    expect(page.get_by_text(f'{len(achievements)} / 5000')).to_be_visible()     # the live counter
    number = save_form(page)
    assert re.fullmatch(r'SB\d{11,}', number), number
    # the new application's page keeps its address: /person/applications/<id> (a reload shows it again)
    expect(page).to_have_url(re.compile(re.escape(server.url(LIST_PATH + '/')) + r'\d+$'))
    app_id = app_id_from(page)
    page.reload()
    expect(page.get_by_text(f'申报编号：{number}')).to_be_visible()
    expect(state_badge(page, '已保存')).to_be_visible()
    expect(page.get_by_label('现从事专业及岗位', exact=True)).to_have_value(specialty)
    row = application_row(server, app_id)
    assert (row['state'], row['level'], row['specialty'], row['pledge']) == ('draft', 'D', specialty, True)

    # 附件: 提交 too early lists every missing type; then a file for each, 社保 线下提交
    page.get_by_role('button', name='附件').click()
    expect(page).to_have_url(server.url(f'{LIST_PATH}/{app_id}/files'))
    for label in D1_REQUIRED:
        expect(material(page, label)).to_contain_text('必需')
    page.get_by_role('button', name='提交', exact=True).click()
    missing = page.get_by_role('dialog', name='尚不能提交')
    for label in D1_REQUIRED:
        expect(missing).to_contain_text(label)
    shot(page, 'a-01-missing')
    missing.get_by_role('button', name='关闭').click()
    expect(missing).to_have_count(0)
    upload(page, '身份证', named_copy(files['pdf'], '身份证正反面.pdf'))
    upload(page, '学历学位证书', named_copy(files['png'], '博士学位证书.png'))
    upload(page, '专业技术职称证书', named_copy(files['pdf'], '正高级职称证书.pdf'))
    upload(page, '劳动合同或聘用证明', named_copy(files['png'], '聘用合同.png'))
    offline_note = '社保缴纳记录含涉密单位信息，纸质材料线下提交'
    mark_offline(page, '社保缴纳证明', offline_note)
    shot(page, 'a-02-evidence')
    page.get_by_role('button', name='返回列表').click()
    expect(page).to_have_url(server.url(LIST_PATH))

    # 提交 from the list, with its confirmation
    mine = list_row(page, number)
    expect(mine).to_contain_text('D类')
    expect(mine).to_contain_text('已保存')
    expect_row_buttons(mine, '编辑', '附件', '提交', '删除')
    row_button(mine, '提交').click()
    confirm(page, '确认提交', f'确定提交申报「{number}」吗？', '审核期间不能修改申报信息和附件')
    expect(page.get_by_text('已提交，等待所在单位审核')).to_be_visible()
    expect(mine).to_contain_text('待单位审核')
    expect(mine).to_contain_text('提交：')
    expect_row_buttons(mine, '附件', '撤回', '审核结果')
    assert application_row(server, app_id)['state'] == 'pending_unit'

    # the unit: everything entered, the files, the 线下提交 note; 通过
    unit = staff_page(pages, server, world.unit_account, world.password, unit=True)
    open_review(unit, server, world.person_name)
    expect(unit.get_by_text(f'申报编号：{number}')).to_be_visible()
    expect(unit.get_by_text(specialty, exact=True)).to_be_visible()
    expect(unit.get_by_text(achievements, exact=True)).to_be_visible()
    expect(unit.get_by_text(f'线下提交纸质材料：{offline_note}')).to_be_visible()
    for name in ('身份证正反面.pdf', '博士学位证书.png', '正高级职称证书.pdf', '聘用合同.png'):
        expect(unit.get_by_text(name, exact=True).first).to_be_visible()
    expect(unit.locator('iframe[title$="身份证正反面.pdf预览"]')).to_be_visible()   # the first file, in the page
    unit.get_by_role('button', name='查看 学历学位证书 博士学位证书.png').click()
    expect(unit.get_by_role('img', name='学历学位证书：博士学位证书.png')).to_be_visible()
    shot(unit, 'a-03-unit-review')
    opinions = {'unit': '情况属实，同意推荐', 'reviewer': '材料齐全，同意上报', 'center': '经审核，符合 D 类认定条件'}
    decide(unit, server, world.person_name, number, '通过', opinions['unit'])
    unit.context.close()
    assert application_row(server, app_id)['state'] == 'pending_org'

    # the district reviewer 通过
    review_as(pages, server, world.reviewer, world.password, world.person_name, number, '通过', opinions['reviewer'])
    assert application_row(server, app_id)['state'] == 'pending_center'

    # the center: 通过 with 认定层次 (preselected with the 申报层次, may be changed)
    center = staff_page(pages, server, world.center, world.password)
    open_review(center, server, world.person_name)
    expect(center.get_by_label('认定层次', exact=True).first).to_contain_text('D类')   # the 申报层次, preselected
    choose(center, '认定层次', 'C类')
    expect(center.get_by_label('认定层次', exact=True).first).to_contain_text('C类')
    shot(center, 'a-04-center-review')
    decide(center, server, world.person_name, number, '通过', opinions['center'], level='D类')
    center.context.close()
    stored = application_row(server, app_id)
    assert stored['state'] == 'approved' and stored['granted_level'] == 'D'
    assert CERTIFICATE.match(stored['certificate_no']), stored['certificate_no']

    # the person: 认定通过 in the list, 审核结果 with 层次, 证书编号 and the three opinions
    page.goto(server.url(LIST_PATH))
    mine = list_row(page, number)
    expect(mine).to_contain_text('认定通过')
    expect_row_buttons(mine, '附件', '审核结果')
    row_button(mine, '审核结果').click()
    expect(page).to_have_url(server.url(f'/applications/{app_id}/result'))
    expect(state_badge(page, '认定通过')).to_be_visible()
    expect(sheet_value(page, '审核结果')).to_have_text('认定通过')
    expect(sheet_value(page, '认定层次')).to_have_text('D类')
    expect(sheet_value(page, '证书编号')).to_have_text(CERTIFICATE)
    expect(sheet_value(page, '证书编号')).to_have_text(stored['certificate_no'])
    for opinion in opinions.values():
        expect(page.get_by_text(f'审核意见：{opinion}')).to_be_visible()
    history = page.locator('.q-timeline')
    expect(history).to_contain_text(world.unit_name)
    expect(history).to_contain_text('秀峰区')
    expect(history).to_contain_text('桂林市人才服务中心')
    shot(page, 'a-05-result')
    page.context.close()


# ---------------------------------------------------------------- b. returned by the district, changed, resubmitted

def test_return_at_district_edit_resubmit_shows_changes(pages, server, tmp_path):
    world = make_world(server, 802)
    app_id = file_application(server, world, 'pending_org', specialty='电子信息 / 工程师')
    number = number_of(server, app_id)
    opinion = '请补充近三年业绩成果的证明材料，并写明现岗位'
    review_as(pages, server, world.reviewer, world.password, world.person_name, number, '退回修改', opinion)
    assert application_row(server, app_id)['state'] == 'returned'

    # the person: 退回修改 with the opinion; edit one field, add a file, resubmit from 附件
    page = person_page(pages, server, world)
    go_menu(page, server, '高层次人才认定申报', LIST_PATH)
    mine = list_row(page, number)
    expect(mine).to_contain_text('退回修改')
    expect_row_buttons(mine, '编辑', '附件', '提交', '审核结果')
    row_button(mine, '编辑').click()
    expect(page).to_have_url(server.url(f'{LIST_PATH}/{app_id}'))
    expect(state_badge(page, '退回修改')).to_be_visible()
    expect(page.get_by_text(f'审核意见：{opinion}').first).to_be_visible()
    expect(page.get_by_label('现从事专业及岗位', exact=True)).to_have_value('电子信息 / 工程师')
    page.get_by_label('现从事专业及岗位', exact=True).fill('电子信息 / 高级工程师、研发部经理')
    save_form(page)
    page.get_by_role('button', name='附件').click()
    expect(page).to_have_url(server.url(f'{LIST_PATH}/{app_id}/files'))
    upload(page, '业绩成果证明材料', named_copy(sample_files(tmp_path)['pdf'], '项目验收报告.pdf'))
    page.get_by_role('button', name='提交', exact=True).click()
    confirm(page, '确认提交', f'确定提交申报「{number}」吗？')
    expect(page).to_have_url(server.url(LIST_PATH))
    expect(list_row(page, number)).to_contain_text('待单位审核')
    page.context.close()
    assert application_row(server, app_id)['state'] == 'pending_unit'

    # the unit: what changed since the returned submission
    unit = staff_page(pages, server, world.unit_account, world.password, unit=True)
    open_review(unit, server, world.person_name)
    changes = unit.locator('section', has=unit.get_by_role('heading', name=re.compile('^退回后修改情况')))
    expect(changes).to_be_visible()
    expect(changes).to_contain_text('现从事专业及岗位：电子信息 / 工程师 → 电子信息 / 高级工程师、研发部经理')
    expect(changes).to_contain_text('新增附件：业绩成果证明材料：项目验收报告.pdf')
    expect(changes).not_to_contain_text('删除附件')
    expect(unit.locator('.q-timeline')).to_contain_text(opinion)     # the history shows the return
    shot(unit, 'b-01-unit-sees-changes')
    unit.context.close()


# ---------------------------------------------------------------- c. 不予通过 at the center

def test_center_rejects_and_the_person_sees_it(pages, server):
    world = make_world(server, 803)
    app_id = file_application(server, world, 'pending_center')
    number = number_of(server, app_id)
    opinion = '申报业绩与所选认定依据条件不符，不予认定'
    review_as(pages, server, world.center, world.password, world.person_name, number, '不予通过', opinion)
    stored = application_row(server, app_id)
    assert (stored['state'], stored['certificate_no']) == ('rejected', None)

    page = person_page(pages, server, world)
    go_menu(page, server, '高层次人才认定申报', LIST_PATH)
    mine = list_row(page, number)
    expect(mine).to_contain_text('不予认定')
    expect_row_buttons(mine, '附件', '审核结果')
    row_button(mine, '审核结果').click()
    expect(page).to_have_url(server.url(f'/applications/{app_id}/result'))
    expect(state_badge(page, '不予认定')).to_be_visible()
    expect(sheet_value(page, '审核结果')).to_have_text('不予认定')
    expect(page.get_by_text('审核已办结')).to_be_visible()
    expect(page.get_by_text(f'审核意见：{opinion}').first).to_be_visible()
    expect(sheet_value(page, '证书编号')).to_have_count(0)
    shot(page, 'c-01-rejected-result')
    page.context.close()


# ---------------------------------------------------------------- d. 撤回 before review

def test_withdraw_before_review(pages, server):
    world = make_world(server, 804)
    app_id = file_application(server, world, 'pending_unit')
    number = number_of(server, app_id)

    page = person_page(pages, server, world)
    go_menu(page, server, '高层次人才认定申报', LIST_PATH)
    mine = list_row(page, number)
    expect(mine).to_contain_text('待单位审核')
    row_button(mine, '撤回').click()
    confirm(page, '确认撤回', f'确定撤回申报「{number}」吗？')
    expect(page.get_by_text('已撤回，申报回到“已保存”状态')).to_be_visible()
    expect(mine).to_contain_text('已保存')
    expect_row_buttons(mine, '编辑', '附件', '提交', '删除', '审核结果')
    assert application_row(server, app_id)['state'] == 'draft'
    shot(page, 'd-01-withdrawn')
    row_button(mine, '编辑').click()                        # editable again
    expect(state_badge(page, '已保存')).to_be_visible()
    expect(page.get_by_label('现从事专业及岗位', exact=True)).to_be_editable()
    page.context.close()

    # the unit no longer sees it
    unit = staff_page(pages, server, world.unit_account, world.password, unit=True)
    go_menu(unit, server, '高层次人才认定审核', QUEUE_PATH)
    unit.get_by_role('button', name='全部', exact=True).click()
    expect(unit.get_by_text('暂无数据')).to_be_visible()
    unit.context.close()


# ---------------------------------------------------------------- e. the form and 附件 on a phone

def test_phone_form_and_evidence(pages, server, tmp_path):
    world = make_world(server, 805)
    page = person_page(pages, server, world, **PHONE.context_args())
    walk = LayoutWalk(page, PHONE)
    try:
        page.goto(server.url(LIST_PATH))
        walk.expect_menu_closed()
        walk.step('list', [('button 新增', page.get_by_role('button', name='新增'))])
        page.get_by_role('button', name='新增').click()
        expect(page).to_have_url(server.url(LIST_PATH + '/new'))
        fields = [(f'field 「{label}」', page.get_by_label(label, exact=True).first)
                  for label in ('申报层次', '认定依据', '现从事专业及岗位', '主要业绩及成果', '获奖及荣誉情况',
                                '其他需要说明的情况')]
        walk.step('form', fields)
        fill_form(page, clause=CLAUSE_D1, specialty='应用数学 / 数据分析师',
                  achievements='负责市级大数据平台建设，主持完成数据治理项目 4 项，成果在全市推广应用。' * 3)
        walk.step('form-filled', [*fields, ('checkbox 本人承诺', page.get_by_role('checkbox', name='本人承诺所填信息及所提交材料真实有效')),
                                  ('button 保存', page.get_by_role('button', name='保存', exact=True))])
        number = save_form(page)
        walk.step('form-saved', [('button 附件', page.get_by_role('button', name='附件'))])
        page.get_by_role('button', name='附件').click()
        expect(page).to_have_url(re.compile(re.escape(server.url(LIST_PATH + '/')) + r'\d+/files$'))
        app_id = int(page.url.rsplit('/', 2)[-2])
        walk.step('evidence', [('button 上传身份证：选择文件', page.get_by_role('button', name='上传身份证：选择文件')),
                               ('checkbox 身份证 线下提交', page.get_by_role('checkbox', name='身份证：线下提交纸质材料')),
                               ('button 提交', page.get_by_role('button', name='提交', exact=True))])
        long_name = named_copy(sample_files(tmp_path)['pdf'], '居民身份证正反面扫描件（2026年重新办理）.pdf')
        upload(page, '身份证', long_name)
        box = material(page, '身份证')
        walk.step('evidence-uploaded', [('file name', box.get_by_text(long_name.name, exact=True)),
                                        ('link 预览', box.get_by_role('link', name=f'预览 {long_name.name}')),
                                        ('link 下载', box.get_by_role('link', name=f'下载 {long_name.name}')),
                                        ('button 删除', box.get_by_role('button', name=f'删除 {long_name.name}'))])
        stored = application_row(server, app_id)
        assert (stored['number'], stored['level'], stored['state']) == (number, 'D', 'draft')
    finally:
        report = walk.finish()
        page.context.close()
    assert not report, f'layout problems on a {PHONE.width}×{PHONE.height} phone (screenshots in test-artifacts/layout/):\n{report}'
