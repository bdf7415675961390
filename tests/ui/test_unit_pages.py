"""Unit pages through NiceGUI's `user` fixture: menus and direct URLs until active, the info form's
messages, the review detail's scope, the licence route's access and headers, the upload size cap.

Event handlers (uploads, saves, batch reviews) run as background tasks after the simulated click:
each test waits, bounded by WAIT, for the whole outcome it checks (database and page together), and
asserts what appears only when the feature worked, not labels the page always shows."""
import re
from urllib.parse import unquote

from nicegui import ElementFilter, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from glrc_ui import security
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import unit_review
from tests import factories as f
from tests.factories import PASSWORD, submit_login

WAIT = 15.0  # seconds a background handler or a page build may take on a busy machine
RETRIES = int(WAIT / 0.1)  # user.should_see polls every 0.1 s


async def login(user: User, tab: str, account: str) -> None:
    await user.open('/login')
    await submit_login(user, tab, account, PASSWORD)
    await user.should_see('首页', retries=RETRIES)
    await f.settle()  # the navigation to 首页 has finished before the test opens another page


async def open_page(user: User, path: str, ready: str) -> None:
    """Open path and wait until its (async) build shows `ready` and has finished. Only the page's own
    elements count: an earlier notification that happens to contain the text must not pass for it."""
    await user.open(path)
    await wait_for(lambda: on_page(user, ready), lambda: f'{path} never showed {ready!r}; labels: {texts(user)}')
    await f.settle()


async def confirm(user: User) -> None:
    """Review decisions ask first: click 确定 in the dialog once it is open."""
    def open_dialog():
        with user.client:
            return next((d for d in ElementFilter(kind=ui.dialog, local_scope=False) if d.value), None)
    await wait_for(open_dialog, lambda: 'no confirmation dialog opened')
    f.button(user, '确定', within=open_dialog()).click()


async def wait_for(predicate, describe) -> None:
    """Poll predicate() for up to WAIT seconds; on timeout fail with describe(), the state at that moment."""
    try:
        await f.eventually(predicate, WAIT)
    except AssertionError:
        raise AssertionError(describe()) from None


def on_page(user: User, text: str) -> bool:
    """A visible element of the page (not a notification) contains text."""
    with user.client:
        return bool(list(ElementFilter(content=text, only_visible=True, local_scope=False)))


def texts(user: User, kind=ui.label) -> list[str]:
    """The visible texts of all elements of one kind, in page order."""
    with user.client:
        return [e.text for e in ElementFilter(kind=kind, only_visible=True, local_scope=False)]


def licence_shown(user: User, unit_id: int, name: str) -> bool:
    """The unit has a licence and the page lists it: its name and a download link to that very file."""
    licence = f.unit_get(unit_id).licence_file_id
    if licence is None:
        return False
    with user.client:
        hrefs = [e.props.get('href') for e in ElementFilter(kind=ui.link, only_visible=True, local_scope=False)]
    return name in texts(user) and f'/files/{licence}' in hrefs


def queue_rows(user: User) -> list[tuple[int, str]]:
    """(unit id, state label) of every row the queue table shows now."""
    return [(row['id'], row['state_label']) for row in user.find(ui.table).elements.pop().rows]


async def test_inactive_unit_sees_only_home_and_account_pages(user: User):
    f.unit_registered(1)
    await login(user, '单位用户', 'unit_t001')
    await user.should_see('请先完善单位信息和单位账户信息，然后提交审核')
    await user.should_see('单位信息维护')
    await user.should_see('账号信息设置')
    await user.should_not_see('业务办理')
    await user.should_not_see('单位注册审核')
    # a direct URL outside the role is refused and audited
    await open_page(user, '/review/units', '无权访问此页面')
    assert any(r.object == 'page:/review/units' for r in f.audit_rows('permission_denied'))


async def test_unit_form_shows_pairing_and_format_messages_and_keeps_input(user: User):
    f.unit_registered(2)
    await login(user, '单位用户', 'unit_t002')
    await open_page(user, '/unit/info', '当前状态：')
    with user.client:
        selects = {s.props.get('aria-label'): s for s in ElementFilter(kind=ui.select, local_scope=False)}
    selects['单位类型'].set_value('市直机关事业单位')
    selects['单位分配管理'].set_value('district')  # wrong: 市直机关事业单位 uses 主管部门
    f.fill(user, {'单位联系电话': 'abc', '单位地址': '桂林市七星区某路 8 号'})
    f.button(user, '保存').click()
    await user.should_see('市直机关事业单位的单位分配管理应选择“主管部门”', retries=RETRIES)
    await user.should_see('联系电话格式不正确', retries=RETRIES)
    assert f.field(user, '单位地址').elements.pop().value == '桂林市七星区某路 8 号'
    assert f.unit_get(1).address is None  # nothing half-saved


async def test_licence_upload_rejects_a_disguised_file_and_accepts_a_pdf(user: User):
    unit_id, account = f.unit_registered(3)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    upload = user.find(ui.upload).elements.pop()
    fake = SmallFileUpload('伪装的执照.pdf', 'application/pdf', b'<html><script>x</script></html>')
    await upload.handle_uploads([fake])
    await wait_for(lambda: '文件内容不是有效的' in f.alert_text(user),
                   lambda: f'no refusal shown; alert: {f.alert_text(user)!r}')
    assert f.unit_get(unit_id).licence_file_id is None  # refused: the handler has finished
    assert not any('伪装的执照' in text for text in texts(user))
    await upload.handle_uploads([SmallFileUpload('营业执照扫描件003.pdf', 'application/pdf', simple_pdf(['ok']))])
    await wait_for(lambda: licence_shown(user, unit_id, '营业执照扫描件003.pdf'),
                   lambda: f'licence {f.unit_get(unit_id).licence_file_id} not listed; labels: {texts(user)}')
    await f.settle()
    assert '文件内容不是有效的' not in f.alert_text(user)   # the stale refusal is gone with the new try


async def test_submit_without_licence_lists_what_is_missing(user: User):
    unit_id, account = f.unit_filled(4, licence=False)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    f.button(user, '提交审核').click()
    await confirm(user)
    # the refusal lists what is missing (the licence and nothing else: the rest was filled in) and
    # marks it next to the licence upload
    summary = '以下信息未填写或不正确，请补充后再提交审核：营业执照'
    await wait_for(lambda: sorted(f.alert_text(user).split(' ')) == sorted([summary, '请上传营业执照（或法人证书）']),
                   lambda: f'no list of missing items; alert: {f.alert_text(user)!r}')
    assert f.unit_get(unit_id).state == 'registered'
    assert [r.action for r in f.unit_reviews(unit_id)] == []


async def test_reviewer_of_another_org_cannot_open_the_unit(user: User):
    unit_id, _ = f.unit_submitted(5, '秀峰区')
    f.staff('qx_rev', role='reviewer', org='七星区')
    await login(user, '管理人员', 'qx_rev')
    await open_page(user, f'/review/units/{unit_id}', '该单位不存在或不在您的审核范围内')
    assert any(r.object == f'unit:{unit_id}' for r in f.audit_rows('permission_denied'))
    licence = f.unit_get(unit_id).licence_file_id
    response = await user.http_client.get(f'/files/{licence}')
    assert response.status_code == 404
    assert any(r.object == f'file:{licence}' for r in f.audit_rows('permission_denied'))


async def test_reviewer_of_the_org_reviews_and_downloads_with_safe_headers(user: User):
    unit_id, _ = f.unit_submitted(6, '秀峰区')
    f.staff('xf_rev', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_rev')
    await user.open('/review/units')
    await user.should_see(kind=ui.table, retries=RETRIES)
    await f.settle()
    assert [r['name'] for r in user.find(ui.table).elements.pop().rows] == ['桂林测试006有限公司']
    await open_page(user, f'/review/units/{unit_id}?mode=review', '桂林测试006有限公司')
    licence = f.unit_get(unit_id).licence_file_id
    response = await user.http_client.get(f'/files/{licence}')
    assert response.status_code == 200
    assert response.headers['content-disposition'].startswith('attachment;')
    # RFC 6266/8187: the original (Chinese) name, percent-encoded UTF-8; the charset name is case-insensitive
    encoded = re.search(r"filename\*=utf-8''([^;\s]+)", response.headers['content-disposition'], re.IGNORECASE)
    assert encoded and unquote(encoded[1]) == '营业执照.pdf', response.headers['content-disposition']
    assert response.headers['x-content-type-options'] == 'nosniff'
    assert response.headers['cache-control'] == 'no-store'
    assert 'content-encoding' not in response.headers  # PDFs are not gzipped
    assert response.content.startswith(b'%PDF-')
    inline = await user.http_client.get(f'/files/{licence}?inline=1')
    assert inline.headers['content-disposition'].startswith('inline;')
    f.button(user, '通过').click()
    await confirm(user)
    await wait_for(lambda: f.unit_get(unit_id).state == 'pending_center' and user.notify.contains('已通过'),
                   lambda: f'not approved: state {f.unit_get(unit_id).state}, notes {user.notify.messages}')
    assert [r.action for r in f.unit_reviews(unit_id)] == ['submit', 'approve']


async def test_a_25_mb_post_straight_to_the_upload_route_is_refused(user: User):
    unit_id, account = f.unit_registered(7)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    upload = user.find(ui.upload).elements.pop()
    big = b'%PDF-1.4\n' + b'0' * (25 * 1024 * 1024) + b'\n%%EOF\n'
    response = await user.http_client.post(upload.props['url'], files={'file': ('big.pdf', big, 'application/pdf')})
    assert response.status_code == 413
    assert f.unit_get(unit_id).licence_file_id is None


async def test_batch_approve_approves_only_the_selected_units_at_this_stage(user: User):
    first, _ = f.unit_submitted(8, '秀峰区')
    second, _ = f.unit_submitted(9, '秀峰区')
    third, _ = f.unit_submitted(10, '秀峰区')
    f.staff('xf_batch', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_batch')
    labels = texts(user)  # the reviewer's 首页 counts what waits: the three units
    assert labels[labels.index('待审核单位注册') + 1] == '3', labels
    await user.open('/review/units')
    await user.should_see(kind=ui.table, retries=RETRIES)
    await f.settle()
    table = user.find(ui.table).elements.pop()
    assert sorted(row['id'] for row in table.rows) == [first, second, third]
    table.selected[:] = [row for row in table.rows if row['id'] in (first, second)]
    f.button(user, '批量通过').click()
    # the confirmation names how many and which
    await wait_for(lambda: on_page(user, '确定批量通过以下 2 家单位吗？'), lambda: f'no count; labels: {texts(user)}')
    assert on_page(user, '桂林测试008有限公司、桂林测试009有限公司')
    await confirm(user)

    # rows are newest first, so the handler approves `first` last; then it reloads the queue
    def done() -> bool:
        return (f.unit_get(first).state == f.unit_get(second).state == 'pending_center'
                and queue_rows(user) == [(third, '待城区/主管部门审核')])
    await wait_for(done, lambda: f'batch not done: states {[f.unit_get(u).state for u in (first, second, third)]}, '
                                 f'rows {queue_rows(user)}')
    assert user.notify.contains('已通过 2 家单位')
    assert f.unit_get(third).state == 'pending_org'
    assert [[r.action for r in f.unit_reviews(u)] for u in (first, second, third)] == \
        [['submit', 'approve'], ['submit', 'approve'], ['submit']]


async def test_batch_approve_without_selection_explains_itself(user: User):
    unit_id, _ = f.unit_submitted(11, '秀峰区')
    f.staff('xf_batch2', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_batch2')
    await user.open('/review/units')
    await user.should_see(kind=ui.table, retries=RETRIES)
    await f.settle()
    f.button(user, '批量通过').click()
    await user.should_see('请先勾选待审核的单位', retries=RETRIES)
    assert f.unit_get(unit_id).state == 'pending_org'


async def test_a_center_admin_disables_and_enables_an_active_unit(user: User):
    unit_id, account = f.unit_submitted(12, '秀峰区')
    f.staff('xf_rev12', role='reviewer', org='秀峰区')
    f.staff('admin12', admin=True)
    unit_review.review(f.actor_of_account('xf_rev12'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    unit_review.review(f.actor_of_account('admin12'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    operator_token = f.login(account, roles=('unit',))
    await login(user, '管理人员', 'admin12')
    await open_page(user, f'/review/units/{unit_id}', '桂林测试012有限公司')  # not '账号管理': a menu group too
    f.button(user, '停用').click()
    with user.client:
        box = next(e for e in ElementFilter(kind=ui.textarea, local_scope=False) if e.props.get('aria-label') == '停用原因')
    await wait_for(lambda: box.error == '请填写停用原因',  # disabling needs a reason, next to the field
                   lambda: f'no refusal shown; field error: {box.error!r}')
    assert f.unit_get(unit_id).state == 'active'
    box.set_value('单位已注销')
    f.button(user, '停用').click()
    await confirm(user)
    # the whole handler: stored, confirmed to the admin; then it navigates back to the queue
    await wait_for(lambda: f.unit_get(unit_id).state == 'disabled' and user.notify.contains('单位已停用'),
                   lambda: f'not disabled: state {f.unit_get(unit_id).state}, notes {user.notify.messages}')
    await f.settle()
    assert security.resolve_session(operator_token) is None  # the unit's open sessions end at once
    await open_page(user, f'/review/units/{unit_id}', '已停用')  # the new state on the unit's own page
    f.button(user, '启用').click()
    await confirm(user)
    await wait_for(lambda: f.unit_get(unit_id).state == 'active' and user.notify.contains('单位已启用'),
                   lambda: f'not enabled: state {f.unit_get(unit_id).state}, notes {user.notify.messages}')
    assert [r.action for r in f.unit_reviews(unit_id)][-2:] == ['disable', 'enable']
