"""The role menus of SPEC §3, exact labels. An entry shows only once its page is registered."""
from glrc_ui.actor import Actor

# Paths registered through protected_page(); the menu shows only entries whose page exists.
registered_paths: set[str] = set()

HOME = ('首页', '/')
MENUS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    'unit': [
        ('', [HOME]),
        ('账号管理', [('单位信息维护', '/unit/info'), ('账号信息设置', '/account/settings'),
                  ('单位人员账号设置', '/unit/persons')]),
        ('业务办理', [('高层次人才认定审核', '/review/applications')]),
        ('信息查询', [('人才认定情况查询', '/query/applications')]),
    ],
    'person': [
        ('', [HOME]),
        ('账号管理', [('个人信息维护', '/person/info'), ('账号信息设置', '/account/settings')]),
        ('业务办理', [('高层次人才认定申报', '/person/applications')]),
        ('信息查询', [('人才认定情况查询', '/query/applications')]),
    ],
    'reviewer': [
        ('', [HOME]),
        ('审核管理', [('单位注册审核', '/review/units'), ('高层次人才认定审核', '/review/applications')]),
        ('信息查询', [('人才认定情况查询', '/query/applications')]),
        ('账号管理', [('账号信息设置', '/account/settings')]),
    ],
}
MENUS['center'] = MENUS['reviewer']
ADMIN_GROUP = ('系统管理', [('审核机构管理', '/admin/orgs'), ('用户管理', '/admin/users'),
                        ('认定目录管理', '/admin/catalogue'), ('操作日志', '/admin/audit'), ('短信记录', '/admin/sms')])
# Until active, units and persons see only these groups (SPEC §2.1, §2.2), without the entries that
# need an active account (a unit's persons).
INACTIVE_GROUPS = ('', '账号管理')
ACTIVE_ONLY_PATHS = {'/unit/persons'}


def menu_for(actor: Actor, existing: set[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    groups = list(MENUS[actor.role])
    if actor.role == 'center' and actor.is_admin:
        groups.append(ADMIN_GROUP)
    inactive = actor.role in ('unit', 'person') and actor.status != 'active'
    result = []
    for group, items in groups:
        if inactive and group not in INACTIVE_GROUPS:
            continue
        shown = [(label, path) for label, path in items
                 if path in existing and not (inactive and path in ACTIVE_ONLY_PATHS)]
        if shown:
            result.append((group, shown))
    return result
