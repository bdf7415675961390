"""Issue 7, item 9: what the app writes (NiceGUI user storage with the session token, the database with
its -wal/-shm, the generated secrets, the SMS outbox, uploads) is 0600 inside a 0700 data dir.

The test process starts each test with the umask of an ordinary shell (022) and gets its own back
afterwards; before the fix, files came out 0644 (and dirs 0755) under that umask."""
import logging
import os
import stat
import uuid
from pathlib import Path

import pytest
from nicegui import storage

from db.engine import get_engine, session_scope
from glrc_ui import cli, config
from glrc_ui.actor import Actor
from glrc_ui.services import files, sms
from tests import factories as f
from tests.conftest import SQLITE_NAME, TEST_DB_URL
from tests.factories import TINY_PNG


@pytest.fixture
def shell_umask():
    """A process started from a shell (umask 022); the test process's umask is restored afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(root: Path) -> dict[str, str]:
    """Every path under root (root included) with its permission bits."""
    found = {'.': oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob('*'):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def test_everything_written_into_a_fresh_data_dir_is_private(tmp_path, monkeypatch, shell_umask):
    data_dir = tmp_path / 'fresh' / 'data'
    monkeypatch.setenv('GLRC_DATA_DIR', str(data_dir))
    settings = cli.prepare()
    config.secret(settings, 'storage')
    config.secret(settings, 'sms')
    with session_scope() as s:
        sms.send_message(s, '13800138000', '【桂林市人才服务】测试', 'notice')
    user_id = f.person('13800138000')
    files.store(TINY_PNG, 'a.png', kind='doc', entity='avatar', entity_id=user_id,
                actor=Actor(user_id, '13800138000', 'person', f.IP))
    # NiceGUI's user storage where main.py puts it, through the call Storage itself uses for a user
    monkeypatch.setattr(storage.Storage, 'path', data_dir / 'nicegui')
    user_storage = storage.Storage._create_persistent_dict(f'user-{uuid.uuid4()}')
    user_storage['token'] = 'session-token'  # written at once when no event loop runs

    found = modes(data_dir)  # the engine is still open: SQLite's -wal and -shm exist now
    expected = {'sms_outbox.jsonl', '.storage.secret', '.sms.secret', 'files', 'files/tmp', 'nicegui'}
    if not TEST_DB_URL:
        expected |= {SQLITE_NAME, f'{SQLITE_NAME}-wal', f'{SQLITE_NAME}-shm'}
    assert expected <= set(found), found
    assert any(name.startswith('nicegui/storage-user-') for name in found), found
    assert sum(1 for name in found if name.startswith('files/') and name != 'files/tmp') == 1, found
    wrong = {name: mode for name, mode in found.items()
             if mode != ('0o700' if (data_dir / name).is_dir() else '0o600')}
    assert wrong == {}, f'not private: {wrong}'
    get_engine().dispose()


def test_an_existing_data_dir_with_wider_rights_is_tightened_with_a_warning(tmp_path, monkeypatch, shell_umask,
                                                                            caplog):
    data_dir = tmp_path / 'old' / 'data'
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o755)
    monkeypatch.setenv('GLRC_DATA_DIR', str(data_dir))
    with caplog.at_level(logging.WARNING, logger='glrc'):
        config.load()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert [r.getMessage() for r in caplog.records if str(data_dir) in r.getMessage()], caplog.text
    assert '0o755' in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger='glrc'):
        config.load()  # already private: nothing to say
    assert not [r for r in caplog.records if str(data_dir) in r.getMessage()]
