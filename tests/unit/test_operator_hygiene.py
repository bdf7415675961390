"""Issue 8, item 8 (operator hygiene): private modes set where the app creates its files (not only by
the umask), CLI commands that refuse their input create nothing, seed-demo prints what the database holds.

The CLI tests start `python main.py` as an operator does, from a shell umask (022), on a data dir of
their own; they run side by side (each subprocess costs an interpreter start)."""
import hashlib
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from db.engine import get_engine, session_scope
from db.models import Org, Unit, User
from glrc_ui import backup, cli, config, demo
from glrc_ui.actor import Actor
from glrc_ui.services import audit, files, sms, units
from tests import factories as f
from tests.conftest import SQLITE_NAME, TEST_DB_URL
from tests.factories import PASSWORD, TINY_PNG

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r'[\u4e00-\u9fff]')
SECRETS = ('.storage.secret', '.sms.secret', '.audit.secret')


@pytest.fixture
def shell_umask():
    """This process creates files as from a shell (umask 022); its own umask is restored afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    """Every path under root (root included, as '.') with its permission bits."""
    found = {'.': stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob('*'):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def not_private(root: Path) -> dict[str, str]:
    """Paths under root that are not 0700 (dirs) / 0600 (files)."""
    return {name: oct(mode) for name, mode in modes(root).items()
            if mode != (0o700 if (root / name).is_dir() else 0o600)}


def snapshot(root: Path) -> dict[str, tuple[int, str]] | None:
    """Every file under root with its mode and content hash (None when root does not exist)."""
    if not root.exists():
        return None
    return {str(p.relative_to(root)): (stat.S_IMODE(p.stat().st_mode),
                                       hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else 'dir')
            for p in sorted(root.rglob('*'))}


def start(data_dir: Path, *args: str) -> subprocess.Popen:
    """`python main.py ARGS` on data_dir (the test's database URL, if any), from a shell's umask 022."""
    env = {k: v for k, v in os.environ.items() if k not in ('PYTEST_CURRENT_TEST', 'NICEGUI_USER_SIMULATION')}
    env['GLRC_DATA_DIR'] = str(data_dir)
    return subprocess.Popen([sys.executable, 'main.py', *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=lambda: os.umask(0o022))


def refused(proc: subprocess.Popen, *words: str) -> None:
    """Exit code 2 and one line of Chinese on stderr naming `words`; nothing on stdout."""
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (proc.args, proc.returncode, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in err, err
    assert CJK.search(lines[0]) and lines[0].startswith('错误：'), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert out == ''


def staff_args(account: str = 'good_review', password: str = PASSWORD, name: str = '张审核',
               role: str = 'reviewer', org: str | None = '秀峰区', admin: bool = False) -> list[str]:
    args = ['create-staff', '--role', role, '--account', account, '--password', password, '--name', name]
    return args + (['--org', org] if org is not None else []) + (['--admin'] if admin else [])


def accounts_in_db() -> list[str]:
    with session_scope() as s:
        return sorted(s.exec(select(User.account)).all())


# --- a. modes ------------------------------------------------------------------------------------

def test_the_app_gives_its_files_private_modes_itself_not_only_through_the_umask(tmp_path, monkeypatch,
                                                                                   shell_umask):
    """With the process-wide umask left at 022 (private_files() disabled), everything the app itself
    creates is still 0700 / 0600: data dir, database with -wal/-shm, secrets, SMS outbox, upload dirs,
    uploads (also one streamed into the temp dir by other code), backups and restores."""
    monkeypatch.setattr(config, 'private_files', lambda: None)
    data_dir = tmp_path / 'fresh' / 'data'
    monkeypatch.setenv('GLRC_DATA_DIR', str(data_dir))
    settings = cli.prepare()
    for name in ('storage', 'sms', 'audit'):
        config.secret(settings, name)
    with session_scope() as s:
        sms.send_message(s, '13800138000', '【桂林市人才服务】测试', 'notice')
    user_id = f.person('13800138000')
    actor = Actor(user_id, '13800138000', 'person', f.IP)
    files.store(TINY_PNG, 'a.png', kind='doc', entity='avatar', entity_id=user_id, actor=actor)
    streamed = files.temp_path()  # as NiceGUI saves an upload: default rights (0644 under umask 022)
    streamed.write_bytes(TINY_PNG)
    assert stat.S_IMODE(streamed.stat().st_mode) == 0o644
    stored = files.accept(streamed, 'b.png', allowed=files.IMAGE_TYPES)

    found = modes(data_dir)  # the engine is open: SQLite's -wal and -shm exist now
    expected = {*SECRETS, 'sms_outbox.jsonl', 'files', 'files/tmp', f'files/{stored.stored_name}'}
    if not TEST_DB_URL:
        expected |= {SQLITE_NAME, f'{SQLITE_NAME}-wal', f'{SQLITE_NAME}-shm'}
    assert expected <= set(found), found
    assert not_private(data_dir) == {}

    manifest = backup.backup(settings, tmp_path / 'bk')
    assert f'files/{stored.stored_name}' in manifest['files'] and '.audit.secret' in manifest['files']
    assert not_private(tmp_path / 'bk') == {}
    (tmp_path / 'bk-here').mkdir(mode=0o755)  # an empty dir the operator made for it
    backup.backup(settings, tmp_path / 'bk-here')
    assert not_private(tmp_path / 'bk-here') == {}

    if not TEST_DB_URL:  # (restoring into PostgreSQL needs an empty database: test_backup.py does that)
        for path in (tmp_path / 'bk').rglob('*'):  # a backup copied around without its rights
            path.chmod(0o755 if path.is_dir() else 0o644)
        monkeypatch.setenv('GLRC_DATA_DIR', str(tmp_path / 'restored' / 'data'))
        restored = backup.restore(config.load(create=False), tmp_path / 'bk')
        assert set(restored['files']) <= set(modes(tmp_path / 'restored' / 'data'))
        assert not_private(tmp_path / 'restored' / 'data') == {}
    get_engine().dispose()


def test_a_missing_data_dir_is_made_private_and_a_wider_one_tightened(tmp_path, monkeypatch, shell_umask):
    monkeypatch.setattr(config, 'private_files', lambda: None)
    monkeypatch.setenv('GLRC_DATA_DIR', str(tmp_path / 'new' / 'data'))
    config.load(create=False)
    assert not (tmp_path / 'new').exists()  # the CLI checks its arguments with this: nothing made yet
    with monkeypatch.context() as m:
        m.setattr(config, '_tighten', lambda path: None)  # 0700 at creation, not by a chmod afterwards
        config.load()
    assert stat.S_IMODE((tmp_path / 'new' / 'data').stat().st_mode) == 0o700
    wide = tmp_path / 'wide'
    wide.mkdir(mode=0o755)
    monkeypatch.setenv('GLRC_DATA_DIR', str(wide))
    config.load()
    assert stat.S_IMODE(wide.stat().st_mode) == 0o700


# --- b. a refused command creates nothing ---------------------------------------------------------

def refused_in_process(capsys, *args: str, words: tuple[str, ...]) -> None:
    """cli.run as main.py calls it, in this process (an interpreter start per case would cost seconds)."""
    code = cli.run(list(args))
    out, err = capsys.readouterr()
    assert code == 2, (args, code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('错误：') and CJK.search(lines[0]), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert out == ''


FRESH_REFUSALS = {  # name: (arguments, words in the message)
    'bad_account': (staff_args(account='x', password='weak', org='不存在'), ('登录账号',)),
    'weak_password': (staff_args(password='password'), ('密码',)),
    'password_is_account': (staff_args(account='good_review', password='good_review'), ('密码',)),
    'empty_name': (staff_args(name='  '), ('姓名',)),
    'unknown_org': (staff_args(org='不存在的机构'), ('不存在的机构',)),
    'reviewer_without_org': (staff_args(org=None), ('--org',)),
    'admin_reviewer': (staff_args(admin=True), ('管理员',)),
    'center_with_org': (staff_args(role='center'), ('--org',)),
    'unknown_role': (staff_args(role='boss'), ('boss',)),
    'missing_arguments': (['create-staff', '--role', 'center'], ('--account', '--password')),
    'unknown_command': (['bogus'], ('bogus', 'create-staff')),
    'extra_argument': (['migrate', 'now'], ('now',)),
}


def test_refused_commands_on_a_fresh_machine_create_no_data_dir(tmp_path, monkeypatch, capsys):
    full = tmp_path / 'full-target'
    full.mkdir()
    (full / 'keep.txt').write_text('x')
    full_before = snapshot(full)
    not_a_backup = tmp_path / 'not-a-backup'
    not_a_backup.mkdir()
    cases = dict(FRESH_REFUSALS)
    cases['backup_into_a_full_dir'] = (['backup', str(full)], ('必须为空',))
    cases['restore_of_not_a_backup'] = (['restore', str(not_a_backup)], ('manifest.json',))
    if not TEST_DB_URL:  # (a PostgreSQL database to back up exists even when the data dir does not)
        cases['backup_of_nothing'] = (['backup', str(tmp_path / 'bk-nothing')], ('没有可备份的数据库',))
    # as an operator runs them: a few through main.py in a process of their own, side by side
    procs = {name: start(tmp_path / name / 'data', *FRESH_REFUSALS[name][0])
             for name in ('bad_account', 'unknown_org', 'unknown_command')}
    ok = start(tmp_path / 'ok' / 'data', *staff_args(account='new_review'))
    for name, (args, words) in cases.items():
        monkeypatch.setenv('GLRC_DATA_DIR', str(tmp_path / name / 'data'))
        refused_in_process(capsys, *args, words=words)
    for name, proc in procs.items():
        refused(proc, *cases[name][1])
    for name in cases:
        assert not (tmp_path / name).exists(), f'{name} left {sorted(p.name for p in (tmp_path / name).rglob("*"))}'
    assert not (tmp_path / 'bk-nothing').exists()
    assert snapshot(full) == full_before

    out, err = ok.communicate(timeout=60)  # the same command with good input does create them
    assert ok.returncode == 0, err
    assert 'new_review' in out and err == ''
    data_dir = tmp_path / 'ok' / 'data'
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    if not TEST_DB_URL:
        assert {p.name for p in data_dir.iterdir()} == {SQLITE_NAME}  # -wal and -shm folded back on exit
        assert stat.S_IMODE((data_dir / SQLITE_NAME).stat().st_mode) == 0o600
    assert not_private(data_dir) == {}


def test_refusals_leave_an_existing_data_dir_and_database_unchanged(app_db, tmp_path, capsys):
    f.staff('taken_one', role='center')
    with session_scope() as s:
        s.exec(select(Org).where(Org.name == '叠彩区')).one().enabled = False  # seeded, then disabled
    backup.backup(app_db, tmp_path / 'bk')
    get_engine().dispose()  # no connection of this process holds the database open
    before = snapshot(app_db.data_dir)
    proc = start(app_db.data_dir, *staff_args(account='taken_one'))
    for args, words in [
        (staff_args(account='taken_one'), ('已被使用',)),
        (staff_args(org='不存在的机构'), ('不存在的机构',)),
        (staff_args(org='叠彩区'), ('叠彩区',)),
        (staff_args(password='password'), ('密码',)),
        (['restore', str(tmp_path / 'bk')], ('只能恢复到空的',)),   # data dir (SQLite) or database (PostgreSQL)
        (['backup', str(app_db.data_dir / 'inside')], ('数据目录内',)),
    ]:
        refused_in_process(capsys, *args, words=words)
        assert snapshot(app_db.data_dir) == before, args
    refused(proc, '已被使用')
    assert snapshot(app_db.data_dir) == before
    assert accounts_in_db() == ['taken_one']


def test_a_failure_after_preparation_keeps_no_partial_row(app_db, monkeypatch, capsys):
    """create-staff writes the account and its audit entry in one transaction."""
    real_record = audit.record

    def failing_record(s, event, **kwargs):
        if event == 'staff_created':
            s.flush()  # the user row has been sent to the database by now
            raise OSError('磁盘已满')
        return real_record(s, event, **kwargs)

    monkeypatch.setattr(audit, 'record', failing_record)
    assert cli.run(staff_args(account='half_done')) == 1
    err = capsys.readouterr().err
    assert err.startswith('错误：') and len(err.strip().splitlines()) == 1, err
    cli.prepare()
    assert accounts_in_db() == []


def test_backup_and_restore_that_fail_midway_remove_what_they_wrote(app_db, tmp_path, monkeypatch):
    f.unit_filled(81)  # a licence file: the backup has files/ too
    real_digest = backup._digest

    def digest_fails_on_the_manifest(path):
        if path.parent.name == 'bk' or path.parent.parent.name == 'bk':
            raise OSError('读取失败')
        return real_digest(path)

    monkeypatch.setattr(backup, '_digest', digest_fails_on_the_manifest)
    with pytest.raises(OSError):
        backup.backup(app_db, tmp_path / 'deep' / 'bk')
    assert not (tmp_path / 'deep').exists()
    monkeypatch.setattr(backup, '_digest', real_digest)
    backup.backup(app_db, tmp_path / 'good')

    if TEST_DB_URL:
        return  # (restoring into PostgreSQL needs an empty database: test_backup.py does that)
    real_copy, copied = backup._copy_private, []

    def copy_fails_second(source, target):
        if copied:
            raise OSError('磁盘已满')
        real_copy(source, target)
        copied.append(target)

    monkeypatch.setattr(backup, '_copy_private', copy_fails_second)
    monkeypatch.setenv('GLRC_DATA_DIR', str(tmp_path / 'restore' / 'data'))
    with pytest.raises(OSError):
        backup.restore(config.load(create=False), tmp_path / 'good')
    assert copied and not (tmp_path / 'restore').exists()


# --- c. seed-demo prints the database's logins ----------------------------------------------------

def test_seed_demo_prints_the_states_the_database_holds_now(app_db, monkeypatch, capsys):
    f.cheap_hashing(monkeypatch)
    first = demo.seed()
    planned = {account: state for account, _, _, _, state in demo.UNITS}
    assert [line for line in first if 'unit_guike' in line and units.MACHINE.label('pending_org') in line]
    count = len(accounts_in_db())
    with session_scope() as s:  # the demo moves on: a unit approved, a reviewer disabled, a unit renamed
        guike = s.exec(select(User).where(User.account == 'unit_guike')).one()
        s.get(Unit, guike.unit_id).state = 'active'
        s.exec(select(User).where(User.account == 'xiufeng_review')).one().status = 'disabled'
        gaoxin = s.exec(select(User).where(User.account == 'unit_gaoxin')).one()
        s.get(Unit, gaoxin.unit_id).name = '桂林高新光电股份有限公司'

    assert cli.run(['seed-demo']) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith('  ')}
    assert len(accounts_in_db()) == count  # idempotent: nothing created twice
    assert set(lines) == {account for _, account, *_ in demo.STAFF} | set(planned) | {p for p, *_ in demo.PERSONS}
    assert units.MACHINE.label('active') in lines['unit_guike']
    assert units.MACHINE.label('pending_org') not in lines['unit_guike']
    assert '桂林高新光电股份有限公司' in lines['unit_gaoxin']
    assert '账号已停用' in lines['xiufeng_review'] and '秀峰区' in lines['xiufeng_review']
    assert '账号已停用' not in lines['qixing_review'] and '七星区' in lines['qixing_review']
    assert '系统管理员' in lines['center_admin'] and '系统管理员' not in lines['center_staff']
    with session_scope() as s:  # every unit line shows its unit's state as stored
        for user in s.exec(select(User).where(User.role == 'unit')).all():
            assert units.MACHINE.label(s.get(Unit, user.unit_id).state) in lines[user.account], user.account
