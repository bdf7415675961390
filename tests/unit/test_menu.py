"""The role menus (SPEC §3): exact labels; units and persons see only 首页 and 账号管理 until active."""
from components.menu import MENUS, menu_for
from glrc_ui.actor import Actor

EVERY_PATH = {path for groups in MENUS.values() for _, items in groups for _, path in items} | {
    '/admin/orgs', '/admin/users', '/admin/catalogue', '/admin/audit', '/admin/sms'}


def labels(actor: Actor) -> list[str]:
    return [label for _, items in menu_for(actor, EVERY_PATH) for label, _ in items]


def groups(actor: Actor) -> list[str]:
    return [group for group, _ in menu_for(actor, EVERY_PATH)]


def unit(status: str) -> Actor:
    return Actor(1, 'u', 'unit', status=status)


def test_an_active_unit_sees_business_and_queries():
    assert groups(unit('active')) == ['', '账号管理', '业务办理', '信息查询']
    assert labels(unit('active')) == ['首页', '单位信息维护', '账号信息设置', '单位人员账号设置', '高层次人才认定审核',
                                      '人才认定情况查询']


def test_a_unit_under_review_sees_only_home_and_account_management():
    for status in ('registered', 'pending_org', 'pending_center', 'returned'):
        assert groups(unit(status)) == ['', '账号管理']


def test_staff_menus_and_the_admin_group():
    reviewer = Actor(2, 'r', 'reviewer', org_id=1)
    assert labels(reviewer) == ['首页', '单位注册审核', '高层次人才认定审核', '人才认定情况查询', '账号信息设置']
    admin = Actor(3, 'c', 'center', is_admin=True)
    assert groups(admin)[-1] == '系统管理'
    assert labels(admin)[-5:] == ['审核机构管理', '用户管理', '认定目录管理', '操作日志', '短信记录']
    assert '系统管理' not in groups(Actor(4, 'c2', 'center'))


def test_entries_without_a_page_are_hidden():
    shown = menu_for(unit('active'), {'/', '/account/settings'})
    assert shown == [('', [('首页', '/')]), ('账号管理', [('账号信息设置', '/account/settings')])]
