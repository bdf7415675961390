"""消息: a transition notifies the unit in-app; the bell counts unread; opening 消息 reads them."""
from nicegui import ui
from nicegui.testing import User

from glrc_ui.services import unit_review
from tests import factories as f
from tests.factories import PASSWORD, submit_login


def unread_badges(user: User) -> list[str]:
    return [b.text for b in user.find(kind=ui.badge).elements if b.text.isdigit()]


async def test_a_returned_unit_reads_the_opinion_in_its_messages(user: User):
    unit_id, account = f.unit_submitted(31, '秀峰区')
    f.staff('msg_rev', role='reviewer', org='秀峰区')
    unit_review.review(f.actor_of_account('msg_rev'), unit_id, 'return_', f.unit_get(unit_id).version, '请补充法定代表人信息')
    await user.open('/login')
    await submit_login(user, '单位用户', account, PASSWORD)
    await user.should_see('首页')
    await f.settle()
    assert unread_badges(user) == ['1']
    await user.open('/messages')
    await user.should_see('单位注册审核（桂林测试031有限公司）：退回修改。审核意见：请补充法定代表人信息')
    await f.settle()
    assert unread_badges(user) == []  # opening 消息 marks them read
