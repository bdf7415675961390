"""Audit entries for security events (SECURITY L1), no secrets in logs or tables (L2), and an audit
log the database itself keeps append-only (L3)."""
import logging
import sqlite3

import pytest
from psycopg.errors import RaiseException
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from db.engine import get_engine, session_scope
from db.models import StoredFile
from glrc_ui import security
from glrc_ui.errors import ValidationError
from glrc_ui.security import LoginError
from glrc_ui.services import accounts, audit, files, sms
from tests import factories as f
from tests.conftest import TEST_DB_URL
from tests.factories import IP, NEW_PASSWORD, PASSWORD, TINY_PNG


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def only(event: str):
    rows = f.audit_rows(event)
    assert len(rows) == 1, f'expected one {event!r} entry, found {[(r.event, r.result) for r in rows]}'
    return rows[0]


def assert_complete(row, *, user_id: int, account: str, role: str, at, result: str | None = None) -> None:
    """time, user, role, IP, event, object, result: all present (L1, SPEC §5)."""
    assert row.at == at
    assert (row.user_id, row.account, row.role, row.ip) == (user_id, account, role, IP)
    assert row.event
    assert row.object, f'{row.event} has no object'
    assert row.result
    if result is not None:
        assert row.result == result


# ---------------------------------------------------------------- L1

def test_login_ok_is_audited(fake_clock):
    user_id = f.staff('center_one')
    f.login('center_one')
    assert_complete(only('login'), user_id=user_id, account='center_one', role='center', at=fake_clock.now,
                    result='ok')


def test_login_failed_is_audited_for_known_and_unknown_accounts(fake_clock):
    user_id = f.staff('rev_one', role='reviewer')
    with pytest.raises(LoginError):
        f.login('rev_one', 'Wrong#Pass1')
    assert_complete(only('login_failed'), user_id=user_id, account='rev_one', role='reviewer', at=fake_clock.now,
                    result='wrong_password')
    with pytest.raises(LoginError):
        f.login('ghost_user', 'Wrong#Pass1')
    ghost = f.audit_rows('login_failed')[-1]
    assert (ghost.user_id, ghost.account, ghost.ip, ghost.result) == (None, audit.account_token('ghost_user'), IP, 'unknown_account')
    assert ghost.at == fake_clock.now


def test_lockout_is_audited(fake_clock):
    user_id = f.staff('center_one')
    for _ in range(5):
        with pytest.raises(LoginError):
            f.login('center_one', 'Wrong#Pass1')
    assert_complete(only('lockout'), user_id=user_id, account='center_one', role='center', at=fake_clock.now,
                    result='locked')
    with pytest.raises(LoginError):
        f.login('center_one')
    assert_complete(only('login_locked'), user_id=user_id, account='center_one', role='center',
                    at=fake_clock.now, result='denied')


def test_logout_is_audited(fake_clock):
    user_id = f.staff('center_one')
    token = f.login('center_one')
    fake_clock.advance(minutes=3)
    security.end_session(token, 'logout', IP)
    assert_complete(only('logout'), user_id=user_id, account='center_one', role='center', at=fake_clock.now,
                    result='ok')


def test_password_change_and_its_refusal_are_audited(fake_clock):
    user_id = f.staff('center_one')
    actor = security.resolve_session(f.login('center_one'), ip=IP)
    with pytest.raises(ValidationError) as err:
        accounts.change_credentials(actor, 'Wrong#Old1', None, NEW_PASSWORD, NEW_PASSWORD)
    assert (err.value.field, err.value.message) == ('原密码', '原密码不正确')
    assert security.verify_password(PASSWORD, f.get_user(user_id).password_hash)  # nothing was changed
    refused = only('password_change')
    assert_complete(refused, user_id=user_id, account='center_one', role='center', at=fake_clock.now,
                    result='wrong_old_password')
    fake_clock.advance(minutes=1)
    accounts.change_credentials(actor, PASSWORD, None, NEW_PASSWORD, NEW_PASSWORD)
    done = f.audit_rows('password_change')[-1]
    assert_complete(done, user_id=user_id, account='center_one', role='center', at=fake_clock.now, result='ok')


@pytest.mark.parametrize('minutes, reason', [(16, 'idle_timeout'), (None, 'absolute_timeout')])
def test_session_expiry_is_audited(fake_clock, minutes, reason):
    user_id = f.staff('rev_one', role='reviewer')
    token = f.login('rev_one')
    if minutes:
        fake_clock.advance(minutes=minutes)
    else:
        for _ in range(8 * 6):
            fake_clock.advance(minutes=10)
            assert security.resolve_session(token) is not None
        fake_clock.advance(minutes=1)
    assert security.resolve_session(token, ip=IP) is None
    assert_complete(only('session_expired'), user_id=user_id, account='rev_one', role='reviewer',
                    at=fake_clock.now, result=reason)


def test_permission_denied_is_audited(fake_clock):
    owner_id = f.staff('center_one')
    other_id = f.staff('rev_one', role='reviewer')
    owner = security.resolve_session(f.login('center_one'), ip=IP)
    other = security.resolve_session(f.login('rev_one'), ip=IP)
    # an entity no service has claimed: deny by default
    stored = files.store(TINY_PNG, 'a.png', kind='doc', entity='unclaimed', entity_id=1, actor=owner)
    assert files.open_for(other, stored['id']) is None
    assert_complete(only('permission_denied'), user_id=other_id, account='rev_one', role='reviewer',
                    at=fake_clock.now, result='denied')
    assert only('permission_denied').object == f'file:{stored["id"]}'
    assert f.audit_rows('file_download') == []  # nothing was handed out
    # denied by the rule, not missing: the owner's file is there and was not deleted
    with session_scope() as s:
        row = s.get(StoredFile, stored['id'])
        assert (row.uploaded_by, row.original_name, row.deleted_at) == (owner_id, 'a.png', None)


# ---------------------------------------------------------------- L3

def test_the_database_refuses_to_change_or_delete_audit_entries(fake_clock):
    """L3: even plain SQL past the services cannot rewrite or remove the audit trail (DB trigger)."""
    f.staff('center_one')
    f.login('center_one')
    with pytest.raises(LoginError):
        f.login('center_one', 'Wrong#Pass1')

    def snapshot():
        return [(r.id, r.at, r.user_id, r.account, r.event, r.object, r.result) for r in f.audit_rows()]
    before = snapshot()
    assert {'login', 'login_failed'} <= {row[4] for row in before}  # rows to refuse changing
    for sql in ("UPDATE audit_log SET result = 'ok', account = 'someone_else'", 'DELETE FROM audit_log'):
        with pytest.raises(DBAPIError) as err:
            with get_engine().begin() as conn:
                conn.execute(text(sql))
        refusal = err.value.orig
        if TEST_DB_URL:  # RAISE EXCEPTION in the trigger function: SQLSTATE P0001 raise_exception
            assert (type(err.value), type(refusal), refusal.sqlstate) == (ProgrammingError, RaiseException, 'P0001')
        else:  # RAISE(ABORT, …) in the trigger: a constraint error
            assert (type(err.value), type(refusal)) == (IntegrityError, sqlite3.IntegrityError)
        assert str(refusal).splitlines()[0] == 'audit log is append-only', sql
    assert snapshot() == before


# ---------------------------------------------------------------- L2

def test_no_password_code_or_phone_in_logs_or_tables(fake_clock, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    code, wrong_code = '246810', '135791'
    monkeypatch.setattr(sms.secrets, 'randbelow', lambda n: int(code))
    phone, stranger = '13912345678', '13711112222'
    wrong_password = 'Wr0ng#Guess'
    user_id = f.person(phone)

    for identifier, password in ((phone, wrong_password), (stranger, wrong_password)):
        with pytest.raises(LoginError):
            security.login_password(('person',), identifier, password, IP)
    token, _ = security.login_password(('person',), phone, PASSWORD, IP)
    accounts.request_login_code(phone, IP)
    with pytest.raises(LoginError):
        accounts.login_code(phone, wrong_code, IP)
    fake_clock.advance(seconds=61)
    accounts.request_login_code(phone, IP)
    accounts.login_code(phone, code, IP)
    actor = security.resolve_session(token, ip=IP)
    accounts.change_credentials(actor, PASSWORD, None, NEW_PASSWORD, NEW_PASSWORD)
    with session_scope() as s:
        sms.send_message(s, phone, '【桂林市人才服务】您的申报已通过审核。', 'notice')
    assert f.get_user(user_id).must_change_password is False

    audit_text = f.table_text('audit_log')   # person accounts (phones) are stored masked
    sms_text = f.table_text('sms_message', exclude=('phone',))       # the recipient column of 短信记录
    code_text = f.table_text('sms_code', exclude=('phone',))
    assert len(f.audit_rows()) >= 6 and sms_text.count('\n') >= 2       # the scan has something to read
    assert phone in f.table_text('sms_message')                          # and would see a leak
    for secret in (PASSWORD, NEW_PASSWORD, wrong_password, code, wrong_code, phone, stranger):
        assert secret not in caplog.text, secret
        assert secret not in audit_text, secret
        assert secret not in sms_text, secret
        assert secret not in code_text, secret
    # a failed code login names the phone only masked
    masked = [r.account for r in f.audit_rows('login_failed') if r.result == 'bad_code']
    assert masked == ['139****5678']
