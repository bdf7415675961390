"""Failures that look healthy (issue 7, item 4): when the database refuses to write (a read-only file,
a full disk), the user is told so in plain words, next to the form, and the operator log says what
failed. A read-only database is simulated the way the database itself reports it: SQLite's
query_only pragma ("attempt to write a readonly database"), PostgreSQL's read-only transactions."""
import logging

from nicegui.testing import User

from glrc_ui.errors import STORAGE_FAILED, is_storage_failure
from tests import factories as f
from tests.factories import PASSWORD, submit_login


def test_a_refused_write_is_recognised_as_a_storage_failure():
    f.staff('ro_probe')
    with f.read_only_database():
        try:
            f.login('ro_probe')
        except Exception as exc:  # noqa: BLE001 - the point is which exception it is
            assert is_storage_failure(exc), repr(exc)
        else:
            raise AssertionError('a login wrote to a read-only database')
    assert not is_storage_failure(ValueError('a bug'))


async def test_login_on_a_read_only_database_says_so_and_logs_it(user: User, caplog):
    f.staff('ro_login')
    await user.open('/login')
    with f.read_only_database(), caplog.at_level(logging.ERROR, logger='glrc'):
        await submit_login(user, '管理人员', 'ro_login', PASSWORD)
        try:
            await f.eventually(lambda: STORAGE_FAILED in f.alert_text(user), 15)
        except AssertionError:
            raise AssertionError(f'alert: {f.alert_text(user)!r}; notes: {user.notify.messages}') from None
    assert any('storage refused the write' in r.getMessage() for r in caplog.records)
    caplog.clear()   # the expected ERROR entry is not a test failure


async def test_saving_unit_info_on_a_read_only_database_keeps_the_input_and_says_so(user: User, caplog):
    unit_id, account = f.unit_registered(95)
    await f.open_logged_in(user, account, tab='单位用户', path='/unit/info', expect='当前状态：')
    await f.settle()
    f.fill(user, {'单位地址': '桂林市七星区只读路 1 号'})
    with f.read_only_database(), caplog.at_level(logging.ERROR, logger='glrc'):
        f.button(user, '保存').click()
        await f.eventually(lambda: STORAGE_FAILED in f.alert_text(user), 15, f'alert: {f.alert_text(user)!r}')
    assert f.field(user, '单位地址').elements.pop().value == '桂林市七星区只读路 1 号'   # nothing typed is lost
    assert f.unit_get(unit_id).address is None
    caplog.clear()


async def test_healthz_answers_503_while_the_database_refuses_writes(user: User, caplog):
    from glrc_ui import health
    health.forget()
    ok = await user.http_client.get('/healthz')
    assert ok.status_code == 200 and ok.json()['writable'] is True
    health.forget()
    with f.read_only_database(), caplog.at_level(logging.ERROR, logger='glrc'):
        refused = await user.http_client.get('/healthz')
    assert refused.status_code == 503
    assert refused.json() | {'disk_free_mb': 0} == {'status': 'error', 'database': True, 'writable': False,
                                                    'disk_free_mb': 0, 'disk_ok': True}
    assert any('refuses writes' in r.getMessage() for r in caplog.records)   # the operator log says what
    caplog.clear()
    health.forget()


async def test_an_upload_on_a_full_disk_says_so_and_keeps_nothing(user: User, monkeypatch, caplog):
    import errno

    from nicegui import ui
    from nicegui.elements.upload_files import SmallFileUpload

    from db.models import StoredFile
    from glrc_ui.pdf import simple_pdf
    from glrc_ui.services import files
    unit_id, account = f.unit_registered(96)
    await f.open_logged_in(user, account, tab='单位用户', path='/unit/info', expect='当前状态：')
    await f.settle()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(files.os, 'fsync', full_disk)        # the write that finds the disk full
    upload = user.find(ui.upload).elements.pop()
    with caplog.at_level(logging.ERROR, logger='glrc'):
        await upload.handle_uploads([SmallFileUpload('执照.pdf', 'application/pdf', simple_pdf(['x']))])
        await f.eventually(lambda: STORAGE_FAILED in f.alert_text(user), 15, f'alert: {f.alert_text(user)!r}')
    assert f.count_rows(StoredFile) == 0 and f.unit_get(unit_id).licence_file_id is None
    assert any('storage refused the write' in r.getMessage() for r in caplog.records)
    caplog.clear()
