from nicegui.testing import User


async def test_login_page_has_three_tabs(user: User):
    await user.open('/login')
    await user.should_see('单位用户')
    await user.should_see('个人用户')
    await user.should_see('管理人员')


async def test_login_links_only_to_registration_pages_that_exist(user: User):
    from nicegui import ui
    await user.open('/login')
    await user.should_see('单位注册')
    links = {link.props.get('href') for link in user.find(kind=ui.link).elements}
    assert {'/register/unit', '/register/person'} <= links   # both pages exist (SPEC §3.1)
    user.find(kind=ui.link, content='单位注册').click()
    await user.should_see('统一社会信用代码')
