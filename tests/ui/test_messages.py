"""消息 (issue 8, item 5): a transition notifies the unit in-app with a title that says who did what
and what comes next; the body names the item and the opinion without repeating the title; 查看 opens
the item and reads that message; the bell counts exactly the rows marked 未读."""
from nicegui import ElementFilter, ui
from nicegui.testing import User

from glrc_ui.services import notifications, unit_review
from tests import factories as f
from tests.factories import PASSWORD, submit_login

TITLE = '秀峰区退回修改，请根据审核意见修改单位信息后重新提交'


def unread_badges(user: User) -> list[str]:
    """The header bell's count ('' hidden when none)."""
    with user.client:
        return [b.text for b in ElementFilter(kind=ui.badge, local_scope=False, only_visible=True) if b.text.isdigit()]


def unread_rows(user: User) -> int:
    with user.client:
        return sum(1 for b in ElementFilter(kind=ui.badge, local_scope=False, only_visible=True) if b.text == '未读')


async def returned_unit_logged_in(user: User, n: int) -> tuple[int, str]:
    unit_id, account = f.unit_submitted(n, '秀峰区')
    f.staff(f'msg_rev{n}', role='reviewer', org='秀峰区')
    unit_review.review(f.actor_of_account(f'msg_rev{n}'), unit_id, 'return_', f.unit_get(unit_id).version,
                       '请补充法定代表人信息')
    await user.open('/login')
    await submit_login(user, '单位用户', account, PASSWORD)
    await user.should_see('首页')
    await f.settle()
    return unit_id, account


async def test_the_message_says_who_did_what_and_view_opens_the_item(user: User):
    unit_id, account = await returned_unit_logged_in(user, 31)
    assert unread_badges(user) == ['1']
    await user.open('/messages')
    await user.should_see(TITLE)
    await user.should_see('事项：单位注册审核（桂林测试031有限公司）\n审核意见：请补充法定代表人信息')
    await f.settle()
    # the list and the bell agree: one row marked 未读, the bell says 1, until the user acts
    assert unread_rows(user) == 1 and unread_badges(user) == ['1']
    [row] = notifications.list_for(f.actor_of_account(account).user_id)
    assert TITLE not in row['body'] and row['link'] == '/unit/info'
    f.button(user, '查看').click()
    await user.should_see('当前状态：')            # 查看 leads to the item (单位信息维护)
    await f.settle()
    assert unread_badges(user) == []              # and that message is read
    await user.open('/messages')
    await user.should_see(TITLE)
    await f.settle()
    assert unread_rows(user) == 0 and unread_badges(user) == []


async def test_mark_all_read_clears_the_rows_and_the_bell(user: User):
    await returned_unit_logged_in(user, 32)
    await user.open('/messages')
    await user.should_see('共 1 条，1 条未读')
    f.button(user, '全部标为已读').click()
    await user.should_see('共 1 条，0 条未读')
    await f.settle()
    assert unread_rows(user) == 0 and unread_badges(user) == []


async def test_a_message_of_another_user_cannot_be_opened(user: User):
    unit_id, account = f.unit_submitted(33, '秀峰区')
    f.staff('msg_rev33', role='reviewer', org='秀峰区')
    unit_review.review(f.actor_of_account('msg_rev33'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    owner = f.actor_of_account(account).user_id
    [row] = notifications.list_for(owner)
    other = f.staff('someone_else', role='reviewer', org='秀峰区')
    assert notifications.open_one(other, row['id']) is None
    assert notifications.list_for(owner)[0]['read'] is False
    assert notifications.open_one(owner, row['id']) == '/unit/info'
    assert notifications.list_for(owner)[0]['read'] is True
