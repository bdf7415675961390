"""Recognition-application pages through NiceGUI's `user` fixture (issue 10, SPEC §3.6–3.8, §4):
the menus, the person's form (保存, 示例, 5001 characters, 申报层次 → 认定依据), the row buttons per
state, 提交 (what is missing, the confirmation), the freeze after 提交 (also against a stale page and
the service), HTML shown as text, the review page (opinion, 认定层次, a stale page), the queues
(批量通过), 人才认定情况查询 (filters, 导出Excel) and 审核结果 (its own applications only).

Each test waits, bounded by WAIT, for the whole outcome it checks: the database and the page."""
import json
import re

import pytest
from nicegui import ElementFilter, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from sqlmodel import select

from db.models import MATERIAL_TYPES, Application, StoredFile
from glrc_ui.errors import ValidationError
from glrc_ui.services import application_review, applications, catalogue
from tests import factories as f
from tests.ui.test_everyday_use import dialog_open, menu
from tests.ui.test_person_pages import emit, login_person, select_of
from tests.ui.test_unit_pages import confirm, login, on_page, open_page, texts, wait_for

DENIED = '无权访问此页面'
CONFLICT = '已被他人处理'
NOT_VISIBLE = '该申报不存在或不在您的权限范围内'
HTML = '<b>x</b><script>alert(1)</script>'
ALL_TYPES = tuple(MATERIAL_TYPES)
LIST = '/person/applications'
# the buttons each state's row shows in the person's list (SPEC §3.6: each only when the workflow allows it)
ROW_BUTTONS = {
    'draft': ['编辑', '附件', '提交', '删除'],
    'pending_unit': ['附件', '撤回', '审核结果'],
    'pending_org': ['附件', '审核结果'],
    'returned': ['编辑', '附件', '提交', '审核结果'],
    'approved': ['附件', '审核结果'],
    'rejected': ['附件', '审核结果'],
}


# ---------------------------------------------------------------- helpers
def app_in(world: dict, state: str, level: str = 'D', *, actor=None, **values) -> int:
    """An application of the world's person (or `actor`) brought to `state` through the services; every
    required material is marked 线下提交 (no uploads: the per-account upload rate stays out of it)."""
    person = actor or world['person']
    if state == 'draft':
        return f.application_complete(person, level, offline=ALL_TYPES, **values)['id']
    app_id = f.application_submitted(person, level, offline=ALL_TYPES, **values)['id']
    for who, action in f.APPLICATION_STEPS[state]:
        opinion = None if action == 'approve' else f'{who}：请补充材料'
        data = {'granted_level': level} if who == 'center' else None
        application_review.review(world[who], app_id, action, f.application_get(app_id).version, opinion, data)
    assert f.application_get(app_id).state == state
    return app_id


def decide(world: dict, who: str, app_id: int, action: str, opinion: str | None = None, **data) -> None:
    application_review.review(world[who], app_id, action, f.application_get(app_id).version, opinion, data or None)


def review_records(app_id: int) -> list:
    """The application's review records (one per transition), oldest first."""
    from db.models import ReviewRecord
    with f.session_scope() as s:
        return list(s.exec(select(ReviewRecord).where(ReviewRecord.entity == 'application',
                                                      ReviewRecord.entity_id == app_id)
                           .order_by(ReviewRecord.id)).all())


def menu_groups(user: User) -> dict[str, list[str]]:
    """The left menu as {group: [entries]} in page order ('' for the ungrouped 首页)."""
    groups: dict[str, list[str]] = {}
    current = ''
    with user.client:
        for e in ElementFilter(local_scope=False):
            if isinstance(e, ui.item_label):
                current = e.text
                groups.setdefault(current, [])
            elif isinstance(e, ui.item):
                label = next((c.text for c in e.descendants() if getattr(c, 'text', None)), None)
                groups.setdefault(current, []).append(label)
    return groups


def the_table(user: User) -> ui.table:
    with user.client:
        [table] = list(ElementFilter(kind=ui.table, local_scope=False))
    return table


def row_actions(table: ui.table) -> list[tuple[str, str | None, str]]:
    """(label, row flag that shows it or None, event name) of every row button in the table's slot."""
    template = table.slots['body-cell-actions'].template
    actions = []
    for chunk in template.split('<q-btn')[1:]:
        condition = re.search(r'^\s*v-if="props\.row\.(\w+)"', chunk)
        label = re.search(r' label="([^"]+)"', chunk)
        event = re.search(r"\$emit\('(act_\d+)'", chunk)
        assert label and event, chunk
        actions.append((label[1], condition[1] if condition else None, event[1]))
    return actions


def buttons_of(table: ui.table, app_id: int) -> list[str]:
    """The buttons the browser draws in this row (the slot's v-if evaluated on the row's flags)."""
    row = next(r for r in table.rows if r['id'] == app_id)
    return [label for label, flag, _ in row_actions(table) if flag is None or row.get(flag)]


def press(user: User, table: ui.table, label: str, app_id: int) -> None:
    """What the row's button sends when clicked."""
    [event] = [event for text, _, event in row_actions(table) if text == label]
    emit(user, table, event, app_id)


def rows_by_id(user: User) -> dict[int, str]:
    return {row['id']: row['state_label'] for row in the_table(user).rows}


def element_by_label(user: User, kind, label: str):
    with user.client:
        [element] = [e for e in ElementFilter(kind=kind, local_scope=False) if e.props.get('aria-label') == label]
    return element


def buttons(user: User) -> list[str]:
    with user.client:
        return [b.text for b in ElementFilter(kind=ui.button, only_visible=True, local_scope=False)]


def dialog_labels(user: User) -> list[str]:
    dialog = dialog_open(user)
    if dialog is None:
        return []
    with user.client:
        return [e.text for e in ElementFilter(kind=ui.label, local_scope=False).within(instance=dialog)]


def markup(user: User) -> list[str]:
    """Elements that would put HTML into the page: <b>/<script> elements, or ui.html/ui.markdown
    besides the header's brand (fixed text). Empty when every user text went in as text."""
    found = []
    with user.client:
        for e in ElementFilter(local_scope=False):
            if e.tag in ('b', 'script'):
                found.append(f'<{e.tag}> element')
            elif isinstance(e, ui.html | ui.markdown) and 'brand' not in e._markers:
                found.append(f'{type(e).__name__}: {getattr(e, "content", "")!r}')
    return found


def app_errors(caplog) -> list[str]:
    """The app's ERROR log records so far, then forgotten: the test asserts on them itself (the user
    fixture would otherwise fail at teardown and leave NiceGUI started for every later test)."""
    found = [f'{r.name}: {r.getMessage()}: {r.exc_info[1]!r}' if r.exc_info else f'{r.name}: {r.getMessage()}'
             for r in caplog.get_records('call') if r.levelname == 'ERROR']
    caplog.clear()
    return found


def denied(obj: str) -> list:
    return [r for r in f.audit_rows('permission_denied') if r.object == obj]


async def person_list(user: User) -> ui.table:
    await open_page(user, LIST, '新增')
    await wait_for(lambda: user.find(ui.table).elements, lambda: 'no table')
    return the_table(user)


# ================================================================ menus and access
async def test_an_active_person_has_the_application_menus(user: User):
    f.application_world(1)
    await login_person(user, 1)
    groups = menu_groups(user)
    assert groups.get('业务办理') == ['高层次人才认定申报'], groups
    assert groups.get('信息查询') == ['人才认定情况查询'], groups
    menu(user, '高层次人才认定申报')
    await wait_for(lambda: on_page(user, '填写申报信息并保存后') and '新增' in buttons(user),
                   lambda: f'the list did not open: {texts(user)}')
    menu(user, '人才认定情况查询')
    await wait_for(lambda: on_page(user, '人才认定情况查询') and user.find(ui.table).elements,
                   lambda: f'the query did not open: {texts(user)}')


async def test_an_active_unit_has_the_review_and_query_menus(user: User):
    world = f.application_world(1)
    await login(user, '单位用户', world['unit_account'])
    groups = menu_groups(user)
    assert groups.get('业务办理') == ['高层次人才认定审核'], groups
    assert groups.get('信息查询') == ['人才认定情况查询'], groups
    menu(user, '高层次人才认定审核')
    await wait_for(lambda: '批量通过' in buttons(user), lambda: f'the queue did not open: {texts(user)}')


async def test_a_person_not_yet_active_has_no_application_menus_and_the_urls_are_refused(user: User):
    unit_id, _ = f.unit_active(2)
    f.person_registered(3, unit_id)
    await login_person(user, 3)
    groups = menu_groups(user)
    assert '业务办理' not in groups and '信息查询' not in groups, groups
    assert '高层次人才认定申报' not in str(groups) and '人才认定情况查询' not in str(groups)
    for path, page in ((LIST, LIST), (LIST + '/new', LIST + '/new'), ('/query/applications', '/query/applications'),
                       (LIST + '/1', LIST + '/{app_id}')):
        await open_page(user, path, DENIED)
        assert '新增' not in buttons(user) and '保存' not in buttons(user)
        assert len(denied(f'page:{page}')) == 1, [r.object for r in f.audit_rows('permission_denied')]


async def test_a_unit_not_yet_active_has_no_application_menus_and_the_urls_are_refused(user: User):
    _, account = f.unit_registered(4)
    await login(user, '单位用户', account)
    groups = menu_groups(user)
    assert '业务办理' not in groups and '信息查询' not in groups, groups
    for path in ('/review/applications', '/query/applications'):
        await open_page(user, path, DENIED)
        assert '批量通过' not in buttons(user) and '导出Excel' not in buttons(user)
        assert len(denied(f'page:{path}')) == 1


# ================================================================ the person's form
async def test_saving_a_partial_draft_says_so_and_the_list_shows_it(user: User, caplog, monkeypatch):
    world = f.application_world(1)
    await login_person(user, 1)
    await open_page(user, LIST + '/new', '申报信息')
    replaced: list[str] = []     # the page's address follows the new application (history.replaceState)
    original = ui.run_javascript

    def recording(code: str, *args, **kwargs):   # fire-and-forget calls carry no request id to answer
        if match := re.match(r"history\.replaceState\(null, '', '([^']+)'\)", code):
            replaced.append(match[1])
        return original(code, *args, **kwargs)
    monkeypatch.setattr(ui, 'run_javascript', recording)
    # the seeded catalogue is an example, and the form says so
    assert on_page(user, catalogue.EXAMPLE_NOTE)
    with user.client:
        assert [b.text for b in ElementFilter(kind=ui.badge, only_visible=True, local_scope=False)
                if b.text == catalogue.EXAMPLE_MARK] == ['示例']
    achievements = f.field(user, '主要业绩及成果').elements.pop()
    assert str(achievements.props.get('maxlength')) == '5000' and 'counter' in achievements.props   # the live counter
    select_of(user, '申报层次').set_value('D')
    f.fill(user, {'现从事专业及岗位': '软件研发 / 高级工程师'})
    f.button(user, '保存').click()
    await wait_for(lambda: f.count_rows(Application) == 1 and user.notify.contains('保存成功，请在「附件」上传佐证材料后提交'),
                   lambda: f'not saved: {f.alert_text(user)!r}, notes {user.notify.messages}')
    with f.session_scope() as s:
        app = s.exec(select(Application)).one()
    assert (app.state, app.level, app.specialty, app.achievements, app.person_id) == \
        ('draft', 'D', '软件研发 / 高级工程师', None, world['person_id'])
    await wait_for(lambda: on_page(user, f'申报编号：{app.number}'), lambda: f'no number shown: {texts(user)}')
    await f.settle()
    # the whole handler ran: no failure after 保存成功, and the address is the application's own
    after_save = {'errors': app_errors(caplog), 'alert': f.alert_text(user), 'notes': list(user.notify.messages),
                  'address': list(replaced)}
    table = await person_list(user)
    [row] = table.rows
    assert (row['id'], row['number'], row['level_label'], row['state_label']) == (app.id, app.number, 'D类', '已保存')
    assert re.fullmatch(r'SB\d{11}', row['number']), row['number']
    assert buttons_of(table, app.id) == ROW_BUTTONS['draft']
    assert after_save == {'errors': [], 'alert': '', 'notes': ['保存成功，请在「附件」上传佐证材料后提交'],
                          'address': [f'{LIST}/{app.id}']}, after_save


async def test_5001_characters_are_refused_next_to_the_field_and_nothing_is_lost(user: User):
    world = f.application_world(1)
    draft = f.application_draft(world['person'], 'D', achievements='原有业绩', specialty='原岗位')
    await login_person(user, 1)
    await open_page(user, f'{LIST}/{draft["id"]}', '原有业绩')
    f.fill(user, {'现从事专业及岗位': '新岗位', '获奖及荣誉情况': '新荣誉'})
    box = f.field(user, '主要业绩及成果').elements.pop()
    box.set_value('业' * 5001)                      # past the browser's maxlength: a forged value
    f.button(user, '保存').click()
    await wait_for(lambda: box.error == '主要业绩及成果最多 5000 字', lambda: f'field error {box.error!r}')
    # what was typed is still there, and nothing stored changed
    assert f.field(user, '现从事专业及岗位').elements.pop().value == '新岗位'
    assert f.field(user, '获奖及荣誉情况').elements.pop().value == '新荣誉'
    assert box.value == '业' * 5001
    assert select_of(user, '申报层次').value == 'D' and select_of(user, '认定依据').value == f.clause_of('D')
    stored = f.application_get(draft['id'])
    assert (stored.achievements, stored.specialty, stored.honors, stored.version) == \
        ('原有业绩', '原岗位', '桂林市科技进步奖一等奖', draft['version'])
    assert on_page(user, '有尚未保存的修改')
    # 5000 is fine, and then everything typed is saved
    box.set_value('业' * 5000)
    f.button(user, '保存').click()
    await wait_for(lambda: f.application_get(draft['id']).achievements == '业' * 5000,
                   lambda: f'not saved: {f.alert_text(user)!r}')
    assert (f.application_get(draft['id']).specialty, f.application_get(draft['id']).honors) == ('新岗位', '新荣誉')


async def test_choosing_the_level_offers_that_levels_clauses(user: User):
    f.application_world(1)
    options = catalogue.options()
    await login_person(user, 1)
    await open_page(user, LIST + '/new', '申报信息')
    level, clause = select_of(user, '申报层次'), select_of(user, '认定依据')
    assert level.options == {k: f'{k}类' for k in 'ABCDE'}
    assert not clause.options
    level.set_value('D')
    await wait_for(lambda: clause.options == options['clauses']['D'], lambda: f'clauses {clause.options}')
    assert all('（示例）' in text for text in clause.options.values())
    clause.set_value(f.clause_of('D', 0))             # D-1: 正高级职称 → the title certificate too
    await wait_for(lambda: on_page(user, '该认定依据需提供的附件：身份证、学历学位证书、劳动合同或聘用证明、社保缴纳证明、专业技术职称证书'),
                   lambda: f'materials not listed: {texts(user)}')
    level.set_value('E')
    await wait_for(lambda: clause.options == options['clauses']['E'] and clause.value is None,
                   lambda: f'clauses {clause.options}, value {clause.value}')
    assert not set(clause.options) & set(options['clauses']['D'])
    assert on_page(user, '请选择申报层次和认定依据，系统将列出需提供的附件。')


async def test_the_row_buttons_follow_the_state(user: User):
    world = f.application_world(1)
    made = {'rejected': app_in(world, 'rejected', 'A'), 'draft': app_in(world, 'draft', 'A'),
            'pending_unit': app_in(world, 'pending_unit', 'B'), 'pending_org': app_in(world, 'pending_org', 'C'),
            'returned': app_in(world, 'returned', 'D'), 'approved': app_in(world, 'approved', 'E')}
    await login_person(user, 1)
    table = await person_list(user)
    assert {row['id'] for row in table.rows} == set(made.values())
    for state, app_id in made.items():
        assert buttons_of(table, app_id) == ROW_BUTTONS[state], state
    # 撤回 while nobody acted: back to 已保存 with the draft's buttons
    press(user, table, '撤回', made['pending_unit'])
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no confirmation before 撤回')
    await confirm(user)
    await wait_for(lambda: f.application_get(made['pending_unit']).state == 'draft'
                   and rows_by_id(user).get(made['pending_unit']) == '已保存',
                   lambda: f'not withdrawn: {f.application_get(made["pending_unit"]).state}, rows {rows_by_id(user)}')
    # a draft again, with the draft's buttons; it has a history now (提交, 撤回), so 审核结果 stays
    assert buttons_of(the_table(user), made['pending_unit']) == ROW_BUTTONS['draft'] + ['审核结果']


async def test_a_hidden_row_action_sent_anyway_is_refused_by_the_server(user: User):
    """删除 is not drawn for a submitted row; the event sent anyway (a forged click) changes nothing."""
    world = f.application_world(1)
    app_id = app_in(world, 'pending_unit')
    await login_person(user, 1)
    table = await person_list(user)
    assert '删除' not in buttons_of(table, app_id)
    before = f.application_get(app_id)
    press(user, table, '删除', app_id)
    await confirm(user)                                 # the page asks first; then the service refuses
    await wait_for(lambda: user.notify.contains('当前状态不允许此操作'), lambda: f'notes {user.notify.messages}')
    await f.settle()
    after = f.application_get(app_id)
    assert (after.state, after.version) == ('pending_unit', before.version)
    assert not user.notify.contains('申报已删除')
    assert rows_by_id(user) == {app_id: '待单位审核'}


# ================================================================ 提交
async def test_submit_with_missing_items_lists_them_by_name(user: User):
    world = f.application_world(1)
    draft = f.application_draft(world['person'], 'D', achievements='', pledge=False)   # clause D-1
    await login_person(user, 1)
    table = await person_list(user)
    press(user, table, '提交', draft['id'])
    await wait_for(lambda: dialog_open(user) is not None and '尚不能提交' in str(dialog_open(user).props),
                   lambda: f'no 尚不能提交 dialog: {texts(user)}')
    labels = dialog_labels(user)
    assert '以下信息或材料未填写、未上传，请补充后再提交：' in labels
    items = [t for t in labels if '：' in t and not t.endswith('：')]
    upload = '请上传{0}，或勾选「线下提交纸质材料」并说明'
    wanted = ['主要业绩及成果：请填写主要业绩及成果',
              f'{applications.PLEDGE}：请勾选「{applications.PLEDGE}」'] + \
        [f'{name}：{upload.format(name)}' for name in ('身份证', '学历学位证书', '专业技术职称证书',
                                                      '劳动合同或聘用证明', '社保缴纳证明')]
    assert sorted(items) == sorted(wanted), items
    assert not any(t.startswith(('业绩成果证明材料', '其他材料', '现从事专业及岗位')) for t in items)   # not required / filled
    f.button(user, '关闭', within=dialog_open(user)).click()
    await wait_for(lambda: dialog_open(user) is None, lambda: 'the dialog stayed open')
    await f.settle()
    assert f.application_get(draft['id']).state == 'draft'
    assert rows_by_id(user) == {draft['id']: '已保存'}


async def test_submit_of_a_complete_application_asks_then_goes_to_the_unit(user: User):
    world = f.application_world(1)
    d = f.application_complete(world['person'], 'D', offline=('social_security',))
    await login_person(user, 1)
    table = await person_list(user)
    press(user, table, '提交', d['id'])
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no confirmation before 提交')
    assert f'确定提交申报「{d["number"]}」吗？' in dialog_labels(user)
    assert f.application_get(d['id']).state == 'draft'                 # nothing before 确定
    await confirm(user)
    await wait_for(lambda: f.application_get(d['id']).state == 'pending_unit'
                   and rows_by_id(user) == {d['id']: '待单位审核'},
                   lambda: f'not submitted: {f.application_get(d["id"]).state}, rows {rows_by_id(user)}')
    assert user.notify.contains('已提交，等待所在单位审核')
    assert buttons_of(the_table(user), d['id']) == ROW_BUTTONS['pending_unit']


# ================================================================ frozen after 提交
async def test_after_submit_the_form_is_read_only_and_a_stale_save_is_refused(user: User):
    world = f.application_world(1)
    d = f.application_complete(world['person'], 'D', offline=ALL_TYPES, specialty='提交前的岗位')
    await login_person(user, 1)
    await open_page(user, f'{LIST}/{d["id"]}', '提交前的岗位')
    assert '保存' in buttons(user)
    # another tab submits; this page still shows 保存: its click is refused and changes nothing
    applications.submit(world['person'], d['id'], d['version'])
    frozen = f.application_get(d['id'])
    f.fill(user, {'现从事专业及岗位': '提交后偷改的岗位'})
    f.button(user, '保存').click()
    await wait_for(lambda: '请刷新页面后再保存' in f.alert_text(user), lambda: f'alert {f.alert_text(user)!r}')
    await f.settle()
    after = f.application_get(d['id'])
    assert (after.state, after.specialty, after.version) == ('pending_unit', '提交前的岗位', frozen.version)
    assert not user.notify.contains('保存成功')
    # opened again: read-only, no 保存
    await open_page(user, f'{LIST}/{d["id"]}', '申报已提交，审核期间不能修改。')
    assert '保存' not in buttons(user)
    assert f.field(user, '现从事专业及岗位').elements.pop().props.get('readonly') is True
    assert element_by_label(user, ui.checkbox, applications.PLEDGE).enabled is False
    # the service refuses even with the right version
    try:
        applications.save(world['person'], d['id'], f.application_values('D', specialty='直接调用'), frozen.version)
    except ValidationError as exc:
        assert exc.message == '申报已提交，审核期间不能修改'
    else:
        raise AssertionError('the service saved a submitted application')
    assert f.application_get(d['id']).specialty == '提交前的岗位'


async def test_after_submit_the_files_page_has_no_uploader_and_a_stale_upload_is_refused(user: User):
    world = f.application_world(1)
    d = f.application_complete(world['person'], 'D', offline=ALL_TYPES)
    await login_person(user, 1)
    await open_page(user, f'{LIST}/{d["id"]}/files', '身份证')
    uploads = user.find(ui.upload).elements
    assert len(uploads) == len(MATERIAL_TYPES)                         # one per material type while a draft
    upload = next(u for u in uploads if u.props.get('label') == '上传身份证')
    applications.submit(world['person'], d['id'], d['version'])       # submitted from another tab
    before = f.count_rows(StoredFile)
    await upload.handle_uploads([SmallFileUpload('身份证.pdf', 'application/pdf', f.TINY_PDF)])
    await wait_for(lambda: '申报已提交，审核期间不能修改附件' in f.alert_text(user),
                   lambda: f'no refusal: {f.alert_text(user)!r}')
    assert f.count_rows(StoredFile) == before and f.application_file_ids(d['id']) == []
    await open_page(user, f'{LIST}/{d["id"]}/files', '申报已提交，审核期间不能修改附件。')
    with user.client:
        assert not list(ElementFilter(kind=ui.upload, local_scope=False))
    assert not {'提交', '删除', '保存说明'} & set(buttons(user))
    with user.client:
        assert not list(ElementFilter(kind=ui.checkbox, local_scope=False))
    assert on_page(user, '线下提交纸质材料：涉密材料，线下提交')


# ================================================================ HTML stays text
async def test_html_is_text_on_the_review_page(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'pending_unit', specialty=HTML, achievements=HTML, honors='荣誉' + HTML)
    await login(user, '单位用户', world['unit_account'])
    await open_page(user, f'/review/applications/{app_id}', '主要业绩及成果')
    shown = texts(user)
    assert shown.count(HTML) == 2, shown                 # 现从事专业及岗位 (sheet) and 主要业绩及成果
    assert '荣誉' + HTML in shown
    assert markup(user) == []
    assert on_page(user, catalogue.EXAMPLE_NOTE)


async def test_html_is_text_on_the_persons_form_and_result_page(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'pending_unit', achievements=HTML, specialty=HTML)
    decide(world, 'unit', app_id, 'return_', HTML)
    await login_person(user, 1)
    await open_page(user, f'{LIST}/{app_id}', '审核意见：')
    assert f'审核意见：{HTML}' in texts(user)                        # the returned opinion
    assert f.field(user, '主要业绩及成果').elements.pop().value == HTML
    assert f.field(user, '现从事专业及岗位').elements.pop().value == HTML
    assert markup(user) == []
    await open_page(user, f'/applications/{app_id}/result', '审核过程')
    assert texts(user).count(f'审核意见：{HTML}') == 2                # the opinion box and the timeline
    assert markup(user) == []


# ================================================================ the review page
async def test_the_unit_review_page_offers_three_decisions_and_return_needs_an_opinion(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'pending_unit')
    await login(user, '单位用户', world['unit_account'])
    await open_page(user, f'/review/applications/{app_id}', '审核记录')
    assert [b for b in buttons(user) if b in ('通过', '退回修改', '不予通过')] == ['通过', '退回修改', '不予通过']
    f.button(user, '退回修改').click()
    box = element_by_label(user, ui.textarea, '审核意见')
    await wait_for(lambda: box.error == '请填写审核意见（退回修改时必填）', lambda: f'field error {box.error!r}')
    await f.settle()
    assert dialog_open(user) is None and f.application_get(app_id).state == 'pending_unit'
    box.set_value('请补充社保证明')
    f.button(user, '退回修改').click()
    await confirm(user)
    await wait_for(lambda: f.application_get(app_id).state == 'returned' and user.notify.contains('操作完成：已退回修改'),
                   lambda: f'{f.application_get(app_id).state}, notes {user.notify.messages}')
    assert [r.opinion for r in review_records(app_id)][-1] == '请补充社保证明'


async def test_the_centers_approval_needs_the_granted_level(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'pending_center')
    await login(user, '管理人员', 'ctr_u001')
    await open_page(user, f'/review/applications/{app_id}', '审核记录')
    level = element_by_label(user, ui.select, '认定层次')
    assert level.options == {k: f'{k}类' for k in 'ABCDE'} and level.value == 'D'   # preselected: the 申报层次
    level.set_value(None)
    f.button(user, '通过').click()
    await wait_for(lambda: level.error == '请选择认定层次', lambda: f'field error {level.error!r}')
    await f.settle()
    assert dialog_open(user) is None and f.application_get(app_id).state == 'pending_center'
    level.set_value('C')
    f.button(user, '通过').click()
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no confirmation')
    assert '认定层次：C类' in dialog_labels(user)
    await confirm(user)
    await wait_for(lambda: f.application_get(app_id).state == 'approved', lambda: f'{f.application_get(app_id).state}')
    app = f.application_get(app_id)
    assert app.granted_level == 'C' and re.fullmatch(r'GLRC-\d{4}-C-\d{6}', app.certificate_no), app.certificate_no


async def test_a_stale_review_page_says_someone_else_handled_it(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'pending_unit')
    await login(user, '单位用户', world['unit_account'])
    await open_page(user, f'/review/applications/{app_id}', '审核记录')
    decide(world, 'unit', app_id, 'approve')                           # approved in another tab meanwhile
    before = f.application_get(app_id)
    f.button(user, '通过').click()
    await confirm(user)
    await wait_for(lambda: CONFLICT in f.alert_text(user), lambda: f'alert {f.alert_text(user)!r}')
    await f.settle()
    after = f.application_get(app_id)
    assert (after.state, after.version) == ('pending_org', before.version)
    assert not user.notify.contains('操作完成')


async def test_the_center_queue_has_no_batch_approval(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'pending_center')
    await login(user, '管理人员', 'ctr_u001')
    await open_page(user, '/review/applications', '逐条确定认定层次')
    await wait_for(lambda: user.find(ui.table).elements, lambda: 'no table')
    table = the_table(user)
    assert [row['id'] for row in table.rows] == [app_id]
    assert '批量通过' not in buttons(user)
    assert table.props.get('selection') in (None, 'none')


async def test_the_unit_batch_approves_two_selected_applications(user: User):
    world = f.application_world(1)
    second = f.person_active(2, world['unit_id'], world['unit_account'])
    third = f.person_active(3, world['unit_id'], world['unit_account'])
    assert second and third
    first_app = app_in(world, 'pending_unit')
    second_app = app_in(world, 'pending_unit', actor=f.person_actor(2))
    third_app = app_in(world, 'pending_unit', actor=f.person_actor(3))
    await login(user, '单位用户', world['unit_account'])
    await open_page(user, '/review/applications', '批量通过')
    await wait_for(lambda: user.find(ui.table).elements, lambda: 'no table')
    table = the_table(user)
    assert sorted(row['id'] for row in table.rows) == sorted([first_app, second_app, third_app])
    table.selected[:] = [row for row in table.rows if row['id'] in (first_app, second_app)]
    f.button(user, '批量通过').click()
    await wait_for(lambda: '确定批量通过以下 2 条吗？' in dialog_labels(user), lambda: f'dialog {dialog_labels(user)}')
    assert '测试人员001' in ' '.join(dialog_labels(user)) and '测试人员002' in ' '.join(dialog_labels(user))
    await confirm(user)
    await wait_for(lambda: [f.application_get(a).state for a in (first_app, second_app, third_app)]
                   == ['pending_org', 'pending_org', 'pending_unit']
                   and [row['id'] for row in the_table(user).rows] == [third_app],
                   lambda: f'states {[f.application_get(a).state for a in (first_app, second_app, third_app)]}, '
                           f'rows {rows_by_id(user)}')
    assert user.notify.contains('已通过 2 条')


# ================================================================ 人才认定情况查询
def _query_world() -> dict:
    world = f.application_world(1)
    f.person_active(2, world['unit_id'], world['unit_account'])
    world['d1'] = app_in(world, 'approved', 'D')
    world['e1'] = app_in(world, 'pending_org', 'E')
    world['d2'] = app_in(world, 'pending_center', 'D', actor=f.person_actor(2))
    return world


async def test_the_query_filters_change_the_rows_and_export_downloads_them(user: User, tmp_path):
    world = _query_world()
    await login(user, '单位用户', world['unit_account'])
    await open_page(user, '/query/applications', '导出Excel')
    await wait_for(lambda: user.find(ui.table).elements, lambda: 'no table')
    assert set(rows_by_id(user)) == {world['d1'], world['e1'], world['d2']}
    select_of(user, '申报层次').set_value('E')
    await wait_for(lambda: set(rows_by_id(user)) == {world['e1']}, lambda: f'rows {rows_by_id(user)}')
    select_of(user, '申报层次').set_value('D')
    await wait_for(lambda: set(rows_by_id(user)) == {world['d1'], world['d2']}, lambda: f'rows {rows_by_id(user)}')
    f.fill(user, {'关键字': '测试人员002'})
    f.button(user, '查询').click()
    await wait_for(lambda: set(rows_by_id(user)) == {world['d2']}, lambda: f'rows {rows_by_id(user)}')
    # 导出Excel: the filtered rows (层次 D, 测试人员002), downloaded through the app's route
    f.button(user, '导出Excel').click()
    await wait_for(lambda: len(user.download.http_responses) == 1, lambda: f'no download; notes {user.notify.messages}')
    response = user.download.http_responses[0]
    assert response.status_code == 200 and response.content.startswith(b'PK'), response.status_code
    assert response.headers['x-content-type-options'] == 'nosniff'
    path = tmp_path / 'export.xlsx'
    path.write_bytes(response.content)
    sheet = f.xlsx_sheet(path)
    assert sheet['rows'][0][:2] == ['申报编号', '姓名']
    assert [row[:2] for row in sheet['rows'][1:]] == [[f.application_get(world['d2']).number, '测试人员002']]
    assert user.notify.contains('已导出 1 条记录')
    [row] = f.audit_rows('export')
    detail = json.loads(row.detail)
    assert (row.user_id, detail['level'], detail['keyword'], detail['rows']) == \
        (world['unit'].user_id, 'D', '测试人员002', 1)


@pytest.mark.parametrize('account', ['rev_u001', 'ctr_u001'])
async def test_staff_export_from_the_query_page(user: User, account):
    _query_world()
    await login(user, '管理人员', account)
    await open_page(user, '/query/applications', '导出Excel')
    f.button(user, '导出Excel').click()
    await wait_for(lambda: len(user.download.http_responses) == 1,
                   lambda: f'{account}: no download; notes {user.notify.messages}')
    response = user.download.http_responses[0]
    assert response.status_code == 200 and response.content.startswith(b'PK')
    [row] = f.audit_rows('export')
    assert row.user_id == f.actor_of_account(account).user_id
    assert json.loads(row.detail)['rows'] == 3          # every one reached the org: approved, pending_org, pending_center


async def test_the_person_has_the_query_but_no_export(user: User):
    world = _query_world()
    await login_person(user, 1)
    await open_page(user, '/query/applications', '人才认定情况查询')
    await wait_for(lambda: user.find(ui.table).elements, lambda: 'no table')
    assert set(rows_by_id(user)) == {world['d1'], world['e1']}            # its own, not person 2's
    assert '导出Excel' not in buttons(user)
    assert f.audit_rows('export') == []


# ================================================================ 审核结果
async def test_the_person_sees_the_result_after_three_approvals(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'approved', 'D')
    app = f.application_get(app_id)
    assert app.certificate_no
    await login_person(user, 1)
    table = await person_list(user)
    press(user, table, '审核结果', app_id)
    await wait_for(lambda: on_page(user, '审核过程'), lambda: f'no result page: {texts(user)}')
    await f.settle()
    shown = texts(user)
    for label, value in (('审核结果', '认定通过'), ('认定层次', 'D类'), ('证书编号', app.certificate_no)):
        assert shown[shown.index(label) + 1] == value, (label, shown)
    assert '审核已办结' in shown
    with user.client:
        titles = [e.props.get('title') for e in ElementFilter(kind=ui.timeline_entry, local_scope=False)]
    assert titles == ['提交审核：已保存 → 待单位审核', '通过：待单位审核 → 待主管部门/城区审核',
                      '通过：待主管部门/城区审核 → 待市人才服务中心审核', '通过：待市人才服务中心审核 → 认定通过'], titles


async def test_another_persons_result_is_refused_and_audited(user: User):
    world = f.application_world(1)
    app_id = app_in(world, 'approved', 'D')
    f.person_active(2, world['unit_id'], world['unit_account'])
    await login_person(user, 2)
    await open_page(user, f'/applications/{app_id}/result', NOT_VISIBLE)
    shown = ' '.join(texts(user))
    assert f.application_get(app_id).certificate_no not in shown and '测试人员001' not in shown
    assert len(denied(f'application:{app_id}')) == 1
    await open_page(user, f'{LIST}/{app_id}', '该申报不存在或不属于您')
    assert '保存' not in buttons(user)
    assert len(denied(f'application:{app_id}')) == 2
