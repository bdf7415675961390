"""backup / restore (SPEC §8, SECURITY R5): a consistent copy with checksums, restored into an empty
data dir, refused when tampered with or when the target is not empty."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlmodel import func, select

from db.engine import session_scope
from db.models import AuditLog, StoredFile, Unit
from glrc_ui import backup, cli, config
from tests import factories as f
from tests.conftest import TEST_DB_URL, reset_postgres

ROOT = Path(__file__).resolve().parents[2]


def counts() -> dict:
    with session_scope() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).one() for m in (Unit, StoredFile, AuditLog)}


def switch_data_dir(monkeypatch, path: Path) -> config.Settings:
    """Point the app at another (empty) data dir; on PostgreSQL, empty the database too."""
    monkeypatch.setenv('GLRC_DATA_DIR', str(path))
    if TEST_DB_URL:
        from db.engine import get_engine
        get_engine().dispose()
        reset_postgres(TEST_DB_URL)
    return config.reset()


def test_backup_then_restore_into_an_empty_data_dir(tmp_path, monkeypatch):
    unit_id, _ = f.unit_submitted(71)
    f.unit_filled(72)
    before = counts()
    secret = config.secret(config.current(), 'storage')  # as a served app has it
    manifest = backup.backup(config.current(), tmp_path / 'bk')
    assert manifest['files']  # every file has a checksum
    assert all(len(v['sha256']) == 64 for v in manifest['files'].values())
    licence_name = f'files/{_stored_name(f.unit_get(unit_id).licence_file_id)}'
    assert licence_name in manifest['files']

    settings = switch_data_dir(monkeypatch, tmp_path / 'restored')
    backup.restore(settings, tmp_path / 'bk')
    cli.prepare()
    assert counts() == before
    path = (settings.upload_dir / licence_name.split('/')[1])
    assert path.read_bytes().startswith(b'%PDF-')
    assert config.secret(settings, 'storage') == secret  # the same secret: logins survive a restore


def _stored_name(file_id: int) -> str:
    with session_scope() as s:
        return s.get(StoredFile, file_id).stored_name


def test_restore_refuses_a_tampered_backup_and_a_data_dir_in_use(tmp_path, monkeypatch):
    f.unit_filled(73)
    backup.backup(config.current(), tmp_path / 'bk')
    with pytest.raises(backup.BackupError, match='只能恢复到空的数据目录'):
        backup.restore(config.current(), tmp_path / 'bk')  # the live data dir is not empty
    victim = next((tmp_path / 'bk' / 'files').iterdir())
    victim.write_bytes(victim.read_bytes() + b'x')
    settings = switch_data_dir(monkeypatch, tmp_path / 'restored')
    with pytest.raises(backup.BackupError, match='校验失败'):
        backup.restore(settings, tmp_path / 'bk')
    assert not (settings.upload_dir).exists()  # nothing was written


def test_backup_needs_an_empty_target(tmp_path):
    (tmp_path / 'bk').mkdir()
    (tmp_path / 'bk' / 'old.txt').write_text('x')
    with pytest.raises(backup.BackupError, match='备份目录必须为空'):
        backup.backup(config.current(), tmp_path / 'bk')


def test_backup_while_the_app_writes_is_consistent(tmp_path):
    """Units are registered while the backup runs: the copy is a clean snapshot that opens."""
    stop = threading.Event()

    def writer():
        n = 100
        while not stop.is_set() and n < 130:
            f.unit_registered(n)
            n += 1
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = backup.backup(config.current(), tmp_path / 'bk')
    finally:
        stop.set()
        thread.join()
    assert 'manifest.json' not in manifest['files']
    if not TEST_DB_URL:
        import sqlite3
        conn = sqlite3.connect(tmp_path / 'bk' / backup.SQLITE_NAME)
        assert conn.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
        units = conn.execute('SELECT count(*) FROM unit').fetchone()[0]
        users = conn.execute("SELECT count(*) FROM app_user WHERE role = 'unit'").fetchone()[0]
        assert units == users  # no half-registered unit in the snapshot
        conn.close()


def test_the_cli_backs_up_and_restores(tmp_path):
    f.unit_filled(74)
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTEST_')}
    done = subprocess.run([sys.executable, 'main.py', 'backup', str(tmp_path / 'bk')], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '备份完成' in done.stdout
    assert json.loads((tmp_path / 'bk' / 'manifest.json').read_text())['files']
    again = subprocess.run([sys.executable, 'main.py', 'backup', str(tmp_path / 'bk')], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and '备份目录必须为空' in again.stderr and 'Traceback' not in again.stderr
