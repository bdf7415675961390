from nicegui.testing import User


async def test_login_page_has_three_tabs(user: User):
    await user.open('/login')
    await user.should_see('单位用户')
    await user.should_see('个人用户')
    await user.should_see('管理人员')
