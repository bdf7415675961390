"""No raw value of an unknown account in the audit log (issue 7 item 6, SECURITY L2): what was typed
into 登录账号 may be a password, so for a name that is not a known account the log keeps only a keyed
token; the same name always gives the same token; known accounts and masked phones stay as they were."""
import logging
import re
import stat

import pytest

from glrc_ui import config, security
from glrc_ui.errors import ValidationError
from glrc_ui.security import LoginError
from glrc_ui.services import accounts, audit
from tests import factories as f
from tests.factories import IP, PASSWORD

TOKEN = re.compile(r'^\?[0-9a-f]{12}$')
TYPED_PASSWORD = 'Xq9#mellow-Pine42'   # a password typed into the 登录账号 field by mistake


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def fail_login(account: str, roles: tuple[str, ...] = ('reviewer', 'center')) -> None:
    with pytest.raises(LoginError):
        f.login(account, 'Wrong#Pass1', roles=roles)


def assert_nowhere_in_audit(secret: str) -> None:
    assert f.audit_rows(), 'the scan has something to read'
    for row in f.audit_rows():
        for value in (row.account, row.object, row.detail, row.result, row.event):
            assert secret not in (value or ''), (row.event, value)
    assert secret not in f.table_text('audit_log')


@pytest.mark.parametrize('roles', [('reviewer', 'center'), ('unit',), ('person',)])
def test_a_password_typed_as_account_is_not_stored(roles, caplog):
    caplog.set_level(logging.DEBUG)
    fail_login(TYPED_PASSWORD, roles)
    [entry] = f.audit_rows('login_failed')
    assert (entry.user_id, entry.ip, entry.result) == (None, IP, 'unknown_account')
    assert TOKEN.match(entry.account), entry.account
    assert entry.account == audit.account_token(TYPED_PASSWORD)
    assert_nowhere_in_audit(TYPED_PASSWORD)
    assert_nowhere_in_audit(TYPED_PASSWORD[:8])        # not even a prefix
    assert TYPED_PASSWORD not in caplog.text


def test_the_same_unknown_name_gives_the_same_token():
    fail_login(TYPED_PASSWORD)
    fail_login(f' {TYPED_PASSWORD} ')                  # the login trims the field: so does the token
    fail_login('another_ghost')
    first, second, other = (row.account for row in f.audit_rows('login_failed'))
    assert first == second
    assert TOKEN.match(other) and other != first
    assert audit.account_token('another_ghost') == other


def test_the_token_is_keyed_by_a_kept_secret():
    fail_login(TYPED_PASSWORD)
    token = f.audit_rows('login_failed')[0].account
    path = config.current().data_dir / '.audit.secret'
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.secret(config.current(), 'audit') == path.read_text().strip()
    path.write_text('another-secret')                  # another installation: tokens do not match
    assert audit.account_token(TYPED_PASSWORD) != token


def test_a_known_account_is_still_stored_as_is():
    user_id = f.staff('rev_one', role='reviewer')
    fail_login('rev_one')
    [entry] = f.audit_rows('login_failed')
    assert (entry.user_id, entry.account, entry.result) == (user_id, 'rev_one', 'wrong_password')
    f.login('rev_one')
    assert f.audit_rows('login')[-1].account == 'rev_one'


def test_a_throttled_attempt_stores_no_raw_name():
    for _ in range(security.IP_MAX_FAILURES):
        security.ip_throttle.fail(IP)
    fail_login(TYPED_PASSWORD)
    [entry] = f.audit_rows('login_throttled')
    assert entry.account == audit.account_token(TYPED_PASSWORD)
    assert_nowhere_in_audit(TYPED_PASSWORD)


def test_phones_stay_masked_and_other_text_in_the_phone_field_is_a_token():
    f.person('13800138000')
    fail_login('13800138000', ('person',))             # a known person: wrong password
    fail_login('13912345678', ('person',))             # an unknown phone
    assert [row.account for row in f.audit_rows('login_failed')] == ['138****8000', '139****5678']
    for typed in ('13912345678', TYPED_PASSWORD):      # a code login with a wrong code
        with pytest.raises(LoginError):
            accounts.login_code(typed, '000000', IP)
    masked, token = (row.account for row in f.audit_rows('login_failed') if row.result == 'bad_code')
    assert (masked, token) == ('139****5678', audit.account_token(TYPED_PASSWORD))
    assert_nowhere_in_audit(TYPED_PASSWORD)
    assert_nowhere_in_audit('13912345678')


def test_an_explicit_known_account_is_stored_as_is():
    from db.engine import session_scope
    with session_scope() as s:
        audit.record(s, 'probe', account='unit_demo', account_known=True)
        audit.record(s, 'probe', account='unit_demo')
        audit.record(s, 'probe', account='13800138000', account_known=True)
    assert [row.account for row in f.audit_rows('probe')] == \
        ['unit_demo', audit.account_token('unit_demo'), '138****8000']


def test_a_registered_unit_is_audited_under_its_account():
    _, account = f.unit_registered(1)
    assert f.audit_rows('unit_registered')[0].account == account


def test_nothing_raw_after_a_mixed_session():
    """The attack's scenario: wrong names, a password in the account field, then a real login."""
    f.staff('center_one')
    for typed in (TYPED_PASSWORD, PASSWORD, 'center_one ' + PASSWORD):
        fail_login(typed)
    with pytest.raises(ValidationError):
        accounts.request_login_code(TYPED_PASSWORD, IP)   # refused before anything is recorded
    f.login('center_one')
    for secret in (TYPED_PASSWORD, PASSWORD):
        assert_nowhere_in_audit(secret)
