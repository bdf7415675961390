"""seed-demo: a realistic demo on a fresh data dir. Prints the demo logins."""
from sqlmodel import select

from db.engine import session_scope
from db.models import User
from glrc_ui.services import accounts

DEMO_PASSWORD = 'Glrc@2026demo'
STAFF = [
    ('center', 'center_admin', '李主任（中心管理员）', None, True),
    ('center', 'center_staff', '王审核（中心）', None, False),
    ('reviewer', 'xiufeng_review', '张审核（秀峰区）', '秀峰区', False),
    ('reviewer', 'qixing_review', '陈审核（七星区）', '七星区', False),
    ('reviewer', 'jiaoyu_review', '刘审核（市教育局）', '市教育局', False),
]


def seed() -> list[str]:
    """Idempotent: accounts that exist are kept as they are."""
    lines = ['演示账号（密码均为 %s）：' % DEMO_PASSWORD]
    with session_scope() as s:
        existing = set(s.exec(select(User.account)).all())
    for role, account, name, org, admin in STAFF:
        if account not in existing:
            accounts.create_staff(role, account, DEMO_PASSWORD, name, org, admin)
        lines.append(f'  管理人员  {account:<16} {name}')
    return lines
