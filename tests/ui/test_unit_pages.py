"""Unit pages through NiceGUI's `user` fixture: menus and direct URLs until active, the info form's
messages, the review detail's scope, the licence route's access and headers, the upload size cap."""
from nicegui import ElementFilter, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from glrc_ui import security
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import units
from tests import factories as f
from tests.factories import PASSWORD
from tests.factories import submit_login


async def login(user: User, tab: str, account: str) -> None:
    await user.open('/login')
    await submit_login(user, tab, account, PASSWORD)
    await user.should_see('首页')
    await f.settle()  # the navigation to 首页 has finished before the test opens another page


async def test_inactive_unit_sees_only_home_and_account_pages(user: User):
    f.unit_registered(1)
    await login(user, '单位用户', 'unit_t001')
    await user.should_see('请先完善单位信息和单位账户信息，然后提交审核')
    await user.should_see('单位信息维护')
    await user.should_see('账号信息设置')
    await user.should_not_see('业务办理')
    await user.should_not_see('单位注册审核')
    await user.open('/review/units')  # a direct URL outside the role is refused and audited
    await user.should_see('无权访问此页面')
    assert any(r.object == 'page:/review/units' for r in f.audit_rows('permission_denied'))


async def test_unit_form_shows_pairing_and_format_messages_and_keeps_input(user: User):
    f.unit_registered(2)
    await login(user, '单位用户', 'unit_t002')
    await user.open('/unit/info')
    await user.should_see('当前状态：')  # async pages finish building after open() returns
    with user.client:
        from nicegui import ElementFilter
        selects = {s.props.get('aria-label'): s for s in ElementFilter(kind=ui.select, local_scope=False)}
    selects['单位类型'].set_value('市直机关事业单位')
    selects['单位分配管理'].set_value('district')  # wrong: 市直机关事业单位 uses 主管部门
    f.fill(user, {'单位联系电话': 'abc', '单位地址': '桂林市七星区某路 8 号'})
    f.button(user, '保存').click()
    await user.should_see('市直机关事业单位的单位分配管理应选择“主管部门”')
    await user.should_see('联系电话格式不正确')
    assert f.field(user, '单位地址').elements.pop().value == '桂林市七星区某路 8 号'
    assert f.unit_get(1).address is None  # nothing half-saved


async def test_licence_upload_rejects_a_disguised_file_and_accepts_a_pdf(user: User):
    unit_id, account = f.unit_registered(3)
    await login(user, '单位用户', account)
    await user.open('/unit/info')
    await user.should_see('当前状态：')  # async pages finish building after open() returns
    upload = user.find(ui.upload).elements.pop()
    await upload.handle_uploads([SmallFileUpload('营业执照.pdf', 'application/pdf', b'<html><script>x</script></html>')])
    await user.should_see('文件内容不是有效的')
    assert f.unit_get(unit_id).licence_file_id is None
    await upload.handle_uploads([SmallFileUpload('营业执照.pdf', 'application/pdf', simple_pdf(['ok']))])
    await user.should_see('营业执照已上传')
    assert f.unit_get(unit_id).licence_file_id is not None


async def test_submit_without_licence_lists_what_is_missing(user: User):
    unit_id, account = f.unit_filled(4, licence=False)
    await login(user, '单位用户', account)
    await user.open('/unit/info')
    await user.should_see('当前状态：')  # async pages finish building after open() returns
    f.button(user, '提交审核').click()
    await user.should_see('营业执照')
    await f.eventually(lambda: '营业执照' in f.alert_text(user))
    assert f.unit_get(unit_id).state == 'registered'


async def test_reviewer_of_another_org_cannot_open_the_unit(user: User):
    unit_id, _ = f.unit_submitted(5, '秀峰区')
    f.staff('qx_rev', role='reviewer', org='七星区')
    await login(user, '管理人员', 'qx_rev')
    await user.open(f'/review/units/{unit_id}')
    await user.should_see('该单位不存在或不在您的审核范围内')
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
    await user.should_see(kind=ui.table)
    await f.settle()
    assert [r['name'] for r in user.find(ui.table).elements.pop().rows] == ['桂林测试006有限公司']
    await user.open(f'/review/units/{unit_id}?mode=review')
    await user.should_see('审核意见')
    licence = f.unit_get(unit_id).licence_file_id
    response = await user.http_client.get(f'/files/{licence}')
    assert response.status_code == 200
    assert response.headers['content-disposition'].startswith('attachment;')
    assert "filename*=UTF-8''" in response.headers['content-disposition']
    assert response.headers['x-content-type-options'] == 'nosniff'
    assert response.headers['cache-control'] == 'no-store'
    assert 'content-encoding' not in response.headers  # PDFs are not gzipped
    assert response.content.startswith(b'%PDF-')
    inline = await user.http_client.get(f'/files/{licence}?inline=1')
    assert inline.headers['content-disposition'].startswith('inline;')
    f.button(user, '通过').click()
    await f.eventually(lambda: f.unit_get(unit_id).state == 'pending_center')
    assert [r.action for r in f.unit_reviews(unit_id)] == ['submit', 'approve']


async def test_a_25_mb_post_straight_to_the_upload_route_is_refused(user: User):
    unit_id, account = f.unit_registered(7)
    await login(user, '单位用户', account)
    await user.open('/unit/info')
    await user.should_see('当前状态：')  # async pages finish building after open() returns
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
    await user.should_see('待审核单位注册')  # the reviewer's 首页 lists what waits
    await user.open('/review/units')
    await user.should_see(kind=ui.table)
    await f.settle()
    table = user.find(ui.table).elements.pop()
    table.selected[:] = [row for row in table.rows if row['id'] in (first, second)]
    f.button(user, '批量通过').click()
    await f.eventually(lambda: f.unit_get(second).state == 'pending_center')
    assert f.unit_get(first).state == 'pending_center'
    assert f.unit_get(third).state == 'pending_org'
    assert sum(r.action == 'approve' for r in f.unit_reviews(first)) == 1


async def test_batch_approve_without_selection_explains_itself(user: User):
    f.unit_submitted(11, '秀峰区')
    f.staff('xf_batch2', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_batch2')
    await user.open('/review/units')
    await user.should_see(kind=ui.table)
    await f.settle()
    f.button(user, '批量通过').click()
    await user.should_see('请先勾选待审核的单位')


async def test_a_center_admin_disables_and_enables_an_active_unit(user: User):
    unit_id, account = f.unit_submitted(12, '秀峰区')
    f.staff('xf_rev12', role='reviewer', org='秀峰区')
    f.staff('admin12', admin=True)
    units.review(f.actor_of_account('xf_rev12'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    units.review(f.actor_of_account('admin12'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    operator_token = f.login(account, roles=('unit',))
    await login(user, '管理人员', 'admin12')
    await user.open(f'/review/units/{unit_id}')
    await user.should_see('账号管理')
    f.button(user, '停用').click()
    await user.should_see('请填写审核意见')  # disabling needs a reason
    with user.client:
        box = next(e for e in ElementFilter(kind=ui.textarea, local_scope=False) if e.props.get('aria-label') == '审核意见')
    box.set_value('单位已注销')
    f.button(user, '停用').click()
    await f.eventually(lambda: f.unit_get(unit_id).state == 'disabled')
    assert security.resolve_session(operator_token) is None  # the unit's open sessions end at once
    await user.open(f'/review/units/{unit_id}')
    await user.should_see('已停用')
    f.button(user, '启用').click()
    await f.eventually(lambda: f.unit_get(unit_id).state == 'active')
