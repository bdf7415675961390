"""`python main.py create-staff | seed-demo` as an operator runs them (SPEC §8, SECURITY A5)."""
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import func, select

from db.engine import session_scope
from db.models import Org, User
from glrc_ui import security
from glrc_ui.services import accounts
from tests import factories as f
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r'[\u4e00-\u9fff]')


def cli(*args: str) -> subprocess.Popen:
    """Start `python main.py ARGS` on this test's data dir and database (same env as the test)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTEST_CURRENT_TEST', 'NICEGUI_USER_SIMULATION')}
    return subprocess.Popen([sys.executable, 'main.py', *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def assert_one_line_chinese_error(proc: subprocess.Popen, *words: str) -> None:
    code, _, err = finish(proc)
    assert code != 0
    assert 'Traceback' not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert CJK.search(lines[0]), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


def users() -> list[User]:
    with session_scope() as s:
        return list(s.exec(select(User).order_by(User.id)).all())


def test_fresh_database_has_no_account_at_all():
    """A5: migrations and org seeding create no login; only create-staff or seed-demo do."""
    assert accounts.has_any_login() is False
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 0
        assert s.exec(select(func.count()).select_from(Org)).one() > 0       # the schema is really there


def test_create_staff_and_its_refusals():
    # independent refusals run side by side (each subprocess costs an interpreter start)
    ok = cli('create-staff', '--role', 'reviewer', '--account', 'xiufeng_rev', '--password', PASSWORD,
             '--name', '张审核', '--org', '秀峰区')
    unknown_org = cli('create-staff', '--role', 'reviewer', '--account', 'nowhere_rev', '--password', PASSWORD,
                      '--name', '李审核', '--org', '不存在的机构')
    weak = cli('create-staff', '--role', 'center', '--account', 'weak_admin', '--password', 'password',
               '--name', '王', '--admin')
    code, out, err = finish(ok)
    assert code == 0, err
    assert 'xiufeng_rev' in out and err == ''
    assert_one_line_chinese_error(unknown_org, '不存在的机构')
    assert_one_line_chinese_error(weak, '密码')

    duplicate = cli('create-staff', '--role', 'center', '--account', 'xiufeng_rev', '--password', PASSWORD,
                    '--name', '重复')
    assert_one_line_chinese_error(duplicate, '已被使用')

    [user] = users()
    assert (user.account, user.role, user.display_name, user.is_admin) == ('xiufeng_rev', 'reviewer', '张审核', False)
    with session_scope() as s:
        assert s.get(Org, user.org_id).name == '秀峰区'
    assert user.password_hash.startswith('$argon2id$') and PASSWORD not in user.password_hash
    token = f.login('xiufeng_rev')
    assert security.resolve_session(token).role == 'reviewer'


def test_seed_demo_prints_the_logins():
    code, out, err = finish(cli('seed-demo'))
    assert code == 0, err
    accounts_in_db = {u.account for u in users()}
    assert accounts_in_db, 'seed-demo created no account'
    printed = [a for a in accounts_in_db if a in out]
    assert sorted(printed) == sorted(accounts_in_db)            # every demo login is printed
    password = re.search(r'密码[^A-Za-z0-9]*([A-Za-z0-9@#!%&*_.+-]{8,})', out)
    assert password, out
    account = sorted(accounts_in_db)[0]
    role = next(u.role for u in users() if u.account == account)
    assert f.login(account, password.group(1), roles=(role,))


def test_seed_demo_has_persons_in_every_state():
    from sqlmodel import select

    from db.engine import session_scope
    from db.models import Person
    code, out, err = finish(cli('seed-demo'))
    assert code == 0, err
    with session_scope() as s:
        rows = s.exec(select(Person)).all()
        states = {p.state for p in rows}
        created = [p for p in rows if p.created_by_unit]
    assert states == {'registered', 'pending_unit', 'returned', 'active'}
    assert len(created) == 1 and '个人用户  13977300007' in out and '首次登录须修改密码' in out
    assert '个人用户  13977300002      韦秀梅 · 桂林高新光电有限公司 · 待单位审核' in out
