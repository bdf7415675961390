"""The shared review parts on the unit pages: the review box asks before it acts and names the unit;
a cancelled dialog changes nothing; the queue's batch bar names how many and which; a row button goes
through the same session re-check as every other event."""
from nicegui import ElementFilter, ui
from nicegui.testing import User

from glrc_ui import security
from tests import factories as f

WAIT = 15.0


def dialog_texts(user: User) -> list[str]:
    with user.client:
        dialogs = [d for d in ElementFilter(kind=ui.dialog, local_scope=False) if d.value]
        return [e.text for d in dialogs for e in ElementFilter(kind=ui.label, local_scope=False).within(instance=d)]


def dialog_button(user: User, text: str):
    with user.client:
        dialog = next(d for d in ElementFilter(kind=ui.dialog, local_scope=False) if d.value)
    return f.button(user, text, within=dialog)


async def test_approve_asks_first_naming_the_unit_and_cancel_changes_nothing(user: User):
    unit_id, _ = f.unit_submitted(81, '秀峰区')
    f.staff('rb_rev', role='reviewer', org='秀峰区')
    await f.open_logged_in(user, 'rb_rev', path=f'/review/units/{unit_id}', expect='审核记录')
    f.button(user, '通过').click()
    await f.eventually(lambda: any('桂林测试081有限公司' in t for t in dialog_texts(user)), WAIT,
                       'no confirmation naming the unit')
    dialog_button(user, '取消').click()
    await f.eventually(lambda: dialog_texts(user) == [], WAIT, 'the dialog stayed open')
    assert f.unit_get(unit_id).state == 'pending_org' and [r.action for r in f.unit_reviews(unit_id)] == ['submit']
    f.button(user, '通过').click()
    await f.eventually(lambda: dialog_texts(user), WAIT, 'no second confirmation')
    dialog_button(user, '确定').click()
    await f.eventually(lambda: f.unit_get(unit_id).state == 'pending_center', WAIT, 'not approved after 确定')
    assert [r.action for r in f.unit_reviews(unit_id)] == ['submit', 'approve']


async def test_returning_without_an_opinion_is_stopped_next_to_the_field_before_any_dialog(user: User):
    unit_id, _ = f.unit_submitted(82, '秀峰区')
    f.staff('rb_rev2', role='reviewer', org='秀峰区')
    await f.open_logged_in(user, 'rb_rev2', path=f'/review/units/{unit_id}', expect='审核记录')
    f.button(user, '退回修改').click()
    with user.client:
        box = next(e for e in ElementFilter(kind=ui.textarea, local_scope=False) if e.props.get('aria-label') == '审核意见')
    await f.eventually(lambda: box.error == '请填写审核意见（退回修改时必填）', WAIT, f'field error: {box.error!r}')
    assert dialog_texts(user) == [] and f.unit_get(unit_id).state == 'pending_org'


async def test_the_batch_bar_names_how_many_and_which_units_before_approving(user: User):
    first, _ = f.unit_submitted(83, '秀峰区')
    second, _ = f.unit_submitted(84, '秀峰区')
    f.staff('rb_rev3', role='reviewer', org='秀峰区')
    await f.open_logged_in(user, 'rb_rev3', path='/review/units', expect='批量通过')
    table = user.find(ui.table).elements.pop()
    table.selected[:] = list(table.rows)
    f.button(user, '批量通过').click()
    await f.eventually(lambda: any('2 家单位' in t for t in dialog_texts(user)), WAIT, 'no count in the dialog')
    names = ' '.join(dialog_texts(user))
    assert '桂林测试083有限公司' in names and '桂林测试084有限公司' in names
    assert f.unit_get(first).state == f.unit_get(second).state == 'pending_org'   # nothing before 确定
    dialog_button(user, '确定').click()
    await f.eventually(lambda: f.unit_get(first).state == f.unit_get(second).state == 'pending_center', WAIT,
                       'the batch did not run after 确定')


async def test_a_row_button_after_the_session_ended_goes_to_login_and_opens_nothing(user: User):
    unit_id, _ = f.unit_submitted(85, '秀峰区')
    reviewer = f.staff('rb_rev4', role='reviewer', org='秀峰区')
    await f.open_logged_in(user, 'rb_rev4', path='/review/units', expect='批量通过')
    with f.session_scope() as s:
        security.end_all_sessions(s, reviewer, 'test')
    user.find(ui.table).trigger('act_0', unit_id)      # what the row's 审核 button sends
    await f.eventually(lambda: user.notify.contains('登录已失效，请重新登录'), WAIT, 'no session notice')
    await f.settle()
    assert not any(path.startswith('/review/units/') for path in user.back_history)
