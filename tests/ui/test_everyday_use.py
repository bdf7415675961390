"""Everyday use (issue 8) through NiceGUI's `user` fixture: Chinese pages for unknown URLs and refused
files, why a signed-out tab lands on /login, the date range check, oldest first in the queue, the
avatar in the header, the unsaved-changes guard, the missing-field marks and the confirmations."""
from urllib.parse import parse_qs, urlsplit

from nicegui import ElementFilter, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from db.engine import session_scope
from glrc_ui import security
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import accounts, unit_review
from tests import factories as f
from tests.ui.test_unit_pages import RETRIES, confirm, login, on_page, open_page, texts, wait_for

HTML = {'accept': 'text/html,application/xhtml+xml'}


def dialog_open(user: User):
    with user.client:
        return next((d for d in ElementFilter(kind=ui.dialog, local_scope=False) if d.value), None)


def menu(user: User, label: str) -> None:
    """Click the left menu's entry (its text sits in the item's section)."""
    from nicegui.testing.user_interaction import UserInteraction
    with user.client:
        items = [e for e in ElementFilter(kind=ui.item, local_scope=False)
                 if any(getattr(child, 'text', None) == label for child in e.descendants())]
    assert len(items) == 1, f'menu entry {label!r}: {len(items)} found'
    UserInteraction(user, set(items), None).click()


# ---------------------------------------------------------------- Chinese pages instead of JSON
async def test_an_unknown_url_gets_a_chinese_404_page_with_the_way_home(user: User):
    response = await user.http_client.get('/no/such/page', headers=HTML)
    assert response.status_code == 404
    assert '页面不存在' in response.text and '返回首页' in response.text
    assert "This page doesn't exist" not in response.text
    assert response.text.count('"tag":"h1"') == 1                      # its one level-one heading
    assert response.headers['content-type'].startswith('text/html')


async def test_a_refused_or_missing_file_is_a_chinese_page_for_the_browser(user: User):
    response = await user.http_client.get('/files/1', headers=HTML)
    assert response.status_code == 401 and '请先登录' in response.text and '前往登录' in response.text
    assert response.headers['content-type'].startswith('text/html')
    f.unit_registered(60)
    await login(user, '单位用户', 'unit_t060')
    response = await user.http_client.get('/files/987654', headers=HTML)
    assert response.status_code == 404 and '文件不存在或无权访问' in response.text and '返回首页' in response.text
    assert response.headers['content-type'].startswith('text/html')
    response = await user.http_client.get('/files/987654')            # a script still gets JSON
    assert response.status_code == 404 and response.json() == {'detail': '文件不存在或无权访问'}


# ---------------------------------------------------------------- why a tab was signed out
async def _signed_out_notice(user: User, end_session, notice: str) -> None:
    unit_id, account = f.unit_registered(61)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    end_session(f.actor_of_account(account).user_id)
    # the open tab's next action finds the session gone and goes to /login with the reason
    f.button(user, '保存').click()
    await user.should_see(notice, retries=RETRIES)
    # and so does opening a page
    response = await user.http_client.get('/unit/info', follow_redirects=False)
    location = urlsplit(response.headers['location'])
    assert location.path == '/login'
    query = parse_qs(location.query)
    await user.open(f'/login?{location.query}')
    await user.should_see(notice)
    assert query.get('next') == ['/unit/info']


def _end_with(reason: str):
    def end(user_id: int) -> None:
        with session_scope() as s:
            security.end_all_sessions(s, user_id, reason)
    return end


async def test_a_disabled_account_is_told_so_on_login(user: User):
    await _signed_out_notice(user, _end_with('disabled'), '您的账号已被停用，已退出登录')


async def test_a_password_changed_elsewhere_is_told_so_on_login(user: User):
    await _signed_out_notice(user, _end_with('credentials_changed'), '您的密码或登录账号已在其他地方修改')


async def test_a_timed_out_session_is_told_so_on_login(user: User, fake_clock):
    await _signed_out_notice(user, lambda _: fake_clock.advance(hours=3), '您长时间未操作，登录已超时')


async def test_logging_out_says_so(user: User):
    f.staff('bye_one', name='离开者')
    await f.open_logged_in(user, 'bye_one')
    f.button(user, '退出登录').click()
    await user.should_see('您已安全退出登录', retries=RETRIES)


# ---------------------------------------------------------------- queue habits
async def _queue_as_reviewer(user: User, fake_clock) -> list[int]:
    made = []
    for n in (62, 63, 64):
        made.append(f.unit_submitted(n, '秀峰区')[0])
        fake_clock.advance(days=1)
    f.staff('xf_q', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_q')
    await user.open('/review/units')
    await user.should_see(kind=ui.table, retries=RETRIES)
    await f.settle()
    return made


async def test_the_queue_starts_with_the_oldest_submission(user: User, fake_clock):
    made = await _queue_as_reviewer(user, fake_clock)
    table = user.find(ui.table).elements.pop()
    assert [row['id'] for row in table.rows] == made                    # first come, first served


async def test_an_end_date_before_the_start_is_refused_next_to_it(user: User, fake_clock):
    made = await _queue_as_reviewer(user, fake_clock)
    f.fill(user, {'开始日期': '2026-12-10', '结束日期': '2026-12-01'})
    f.button(user, '查询').click()
    end = f.field(user, '结束日期').elements.pop()
    await wait_for(lambda: end.error == '结束日期不能早于开始日期', lambda: f'no message; error: {end.error!r}')
    assert [row['id'] for row in user.find(ui.table).elements.pop().rows] == made   # the list is kept
    f.fill(user, {'结束日期': ''})
    f.button(user, '查询').click()
    await wait_for(lambda: end.error is None and user.find(ui.table).elements.pop().rows == [],
                   lambda: f'error {end.error!r}')                    # from 12-10 on: nothing submitted


async def test_the_avatar_shows_in_the_header(user: User):
    staff_id = f.staff('pic_one', name='有头像')
    accounts.set_avatar(f.actor_of_account('pic_one'), f.TINY_PNG, '头像.png')
    await f.open_logged_in(user, 'pic_one')
    with user.client:
        images = [e for e in ElementFilter(kind=ui.image, local_scope=False) if e.props.get('data-testid') == 'header-avatar']
    assert len(images) == 1 and images[0].props['alt'] == '有头像的头像'
    assert images[0].source == f'/files/{f.get_user(staff_id).avatar_file_id}?inline=1'


# ---------------------------------------------------------------- no lost input
async def test_leaving_a_form_with_unsaved_changes_asks_first(user: User):
    unit_id, account = f.unit_registered(65)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    menu(user, '账号信息设置')   # nothing typed: the menu simply navigates
    await user.should_see('修改密码或登录账号需要输入原密码', retries=RETRIES)
    await open_page(user, '/unit/info', '当前状态：')
    f.fill(user, {'单位地址': '桂林市秀峰区解放西路 1 号'})
    await wait_for(lambda: on_page(user, '有尚未保存的修改'), lambda: 'no unsaved mark')
    menu(user, '账号信息设置')
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no question before leaving')
    assert on_page(user, '您有尚未保存的修改，离开后这些修改将丢失。')
    f.button(user, '留在此页', within=dialog_open(user)).click()
    await wait_for(lambda: dialog_open(user) is None, lambda: 'the dialog stayed open')
    assert f.field(user, '单位地址').elements.pop().value == '桂林市秀峰区解放西路 1 号'   # still there
    menu(user, '账号信息设置')
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no question the second time')
    f.button(user, '放弃修改并离开', within=dialog_open(user)).click()
    await user.should_see('修改密码或登录账号需要输入原密码', retries=RETRIES)
    assert f.unit_get(unit_id).address is None


async def test_a_licence_upload_keeps_typed_fields_unsaved(user: User):
    unit_id, account = f.unit_registered(66)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    f.fill(user, {'单位地址': '桂林市秀峰区中山中路 2 号'})
    upload = user.find(ui.upload).elements.pop()
    await upload.handle_uploads([SmallFileUpload('执照066.pdf', 'application/pdf', simple_pdf(['ok']))])
    await wait_for(lambda: f.unit_get(unit_id).licence_file_id is not None and '执照066.pdf' in texts(user),
                   lambda: f'licence not shown; labels {texts(user)}')
    await f.settle()
    # the typed address is still in its field, still marked unsaved, and not in the database
    assert f.field(user, '单位地址').elements.pop().value == '桂林市秀峰区中山中路 2 号'
    assert on_page(user, '有尚未保存的修改') and user.notify.contains('其他修改尚未保存')
    assert f.unit_get(unit_id).address is None
    f.button(user, '保存').click()
    await wait_for(lambda: f.unit_get(unit_id).address == '桂林市秀峰区中山中路 2 号',
                   lambda: f'not saved: {f.alert_text(user)!r}')           # the version moved on with the upload
    await wait_for(lambda: not on_page(user, '有尚未保存的修改'), lambda: 'still marked unsaved after 保存')


async def test_submit_marks_every_missing_field(user: User):
    unit_id, account = f.unit_registered(67)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    f.button(user, '提交审核').click()
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no confirmation before 提交审核')
    assert on_page(user, '确定提交「桂林测试067有限公司」的单位信息审核吗？')
    await confirm(user)
    wanted = {'单位类型': '请选择单位类型', '单位分配管理': '请选择单位分配管理', '单位审核归属': '请选择单位审核归属',
              '单位地址': '请填写单位地址', '法定代表人': '请填写法定代表人', '单位联系电话': '请填写单位联系电话'}

    def marks() -> dict:
        with user.client:
            return {e.props.get('aria-label'): e.error for e in ElementFilter(local_scope=False)
                    if getattr(e, 'error', None) and e.props.get('aria-label')}
    await wait_for(lambda: marks() == wanted, lambda: f'marks: {marks()}')
    assert '请上传营业执照（或法人证书）' in f.alert_text(user)
    assert '以下信息未填写或不正确，请补充后再提交审核：单位类型、' in f.alert_text(user)
    assert f.unit_get(unit_id).state == 'registered'


async def test_cancelling_the_submit_confirmation_submits_nothing(user: User):
    unit_id, account = f.unit_filled(68)
    await login(user, '单位用户', account)
    await open_page(user, '/unit/info', '当前状态：')
    f.button(user, '提交审核').click()
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no confirmation before 提交审核')
    f.button(user, '取消', within=dialog_open(user)).click()
    await wait_for(lambda: dialog_open(user) is None, lambda: 'the dialog stayed open')
    await f.settle()
    assert f.unit_get(unit_id).state == 'registered' and f.unit_reviews(unit_id) == []
    f.button(user, '提交审核').click()
    await confirm(user)
    await wait_for(lambda: f.unit_get(unit_id).state == 'pending_org', lambda: f'state {f.unit_get(unit_id).state}')


async def test_review_decisions_name_the_unit_and_can_be_cancelled(user: User):
    unit_id, _ = f.unit_submitted(69, '秀峰区')
    f.staff('xf_c69', role='reviewer', org='秀峰区')
    await login(user, '管理人员', 'xf_c69')
    await open_page(user, f'/review/units/{unit_id}?mode=review', '桂林测试069有限公司')
    for action in ('通过', '退回修改'):
        if action == '退回修改':
            f.fill(user, {'审核意见': '请补充材料'})
        f.button(user, action).click()
        await wait_for(lambda: dialog_open(user) is not None, lambda a=action: f'no confirmation for {a}')
        assert on_page(user, f'确定对「桂林测试069有限公司」执行“{action}”吗？此操作提交后不能撤销。')
        f.button(user, '取消', within=dialog_open(user)).click()
        await wait_for(lambda: dialog_open(user) is None, lambda: 'the dialog stayed open')
    await f.settle()
    assert f.unit_get(unit_id).state == 'pending_org'
    assert unit_review.queue(f.actor_of_account('xf_c69'), 'pending')[1] == 1


async def test_a_confirmed_handler_outlives_the_closing_dialog(user: User):
    """The browser reports the dialog hidden while a slow handler still runs (a busy server): the
    handler's notice must still reach the page, and the dialog goes once the handler is done."""
    import asyncio

    from components.dialogs import confirm as ask
    release = asyncio.Event()
    seen: list = []

    async def slow() -> None:
        await release.wait()
        ui.notify('处理完成')            # needs the slot of the button that was clicked
        seen.append('done')

    @ui.page('/test/confirm-race')
    def race_page():
        ui.button('开始', on_click=lambda: seen.append(ask('确认', ['确定吗？'], slow)))

    await user.open('/test/confirm-race')
    f.button(user, '开始').click()
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no dialog')
    dialog = dialog_open(user)
    f.button(user, '确定', within=dialog).click()
    await wait_for(lambda: not dialog.value, lambda: 'the dialog stayed open')
    with user.client:                        # what the browser sends once the dialog has faded out
        for listener_id, listener in list(dialog._event_listeners.items()):
            if listener.type == 'hide':
                dialog._handle_event({'listener_id': listener_id, 'args': None})
    await f.settle()
    assert not dialog.is_deleted             # the handler still runs in its slot
    release.set()
    await wait_for(lambda: 'done' in seen and user.notify.contains('处理完成'), lambda: f'seen {seen}')
    await wait_for(lambda: dialog.is_deleted, lambda: 'the dialog was never removed')
