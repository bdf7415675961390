"""Passwords, hashing, lockout, throttling and server-side sessions (SECURITY A1, A3-A6, S1-S4)."""
import hashlib
from datetime import timedelta

import pytest

from glrc_ui import config, security
from glrc_ui.errors import ValidationError
from glrc_ui.security import LOGIN_DISABLED, LOGIN_FAILED, LOGIN_LOCKED, LOGIN_THROTTLED, LoginError
from glrc_ui.services import accounts
from tests import factories as f
from tests.factories import IP, NEW_PASSWORD, PASSWORD


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def attempt(account: str, password: str, *, roles=('reviewer', 'center'), ip: str | None = IP) -> str:
    """'ok' or the message the login form would show."""
    try:
        f.login(account, password, roles=roles, ip=ip)
    except LoginError as exc:
        return str(exc)
    return 'ok'


# ---------------------------------------------------------------- A3 hashing

def test_production_hash_is_salted_argon2id_without_truncation(monkeypatch):
    monkeypatch.setattr(security, 'PWD', f.REAL_PWD)
    first, second = security.hash_password(PASSWORD), security.hash_password(PASSWORD)
    assert first.startswith('$argon2id$') and second.startswith('$argon2id$')
    assert first != second                                   # random salt
    assert PASSWORD not in first
    params = dict(p.split('=') for p in first.split('$')[3].split(','))
    assert int(params['m']) >= 19456 and int(params['t']) >= 2  # OWASP argon2id minimum
    assert security.verify_password(PASSWORD, first)


def test_long_password_is_not_truncated():
    long_password = 'Aa1#' * 32                              # 128 characters
    stored = security.hash_password(long_password)
    assert security.verify_password(long_password, stored)
    assert not security.verify_password(long_password[:72], stored)
    assert not security.verify_password(long_password[:-1], stored)


@pytest.mark.parametrize('stored', ['', 'not-a-hash', '$argon2id$broken', '$2b$12$abc'])
def test_verify_against_garbage_fails_closed(stored):
    assert security.verify_password(PASSWORD, stored) is False


def test_create_staff_refuses_weak_password_and_stores_only_a_hash():
    with pytest.raises(ValidationError) as err:
        accounts.create_staff('center', 'center_one', 'abcdefgh', '测试')
    assert err.value.field == '密码'
    with pytest.raises(ValidationError):
        accounts.create_staff('center', 'center_one', 'Xcenter_one#1', '测试')   # contains the account
    user_id = f.staff('center_one')
    stored = f.get_user(user_id).password_hash
    assert stored.startswith('$argon2id$') and PASSWORD not in stored
    assert PASSWORD not in f.table_text('app_user')


# ---------------------------------------------------------------- A4 lockout

def test_five_failures_lock_for_thirty_minutes(fake_clock):
    user_id = f.staff('center_one')
    assert [attempt('center_one', 'Wrong#Pass1') for _ in range(4)] == [LOGIN_FAILED] * 4
    assert attempt('center_one', 'Wrong#Pass1') == LOGIN_LOCKED
    assert f.get_user(user_id).locked_until == fake_clock.now + timedelta(minutes=30)
    assert attempt('center_one', PASSWORD) == LOGIN_LOCKED     # even the right password
    fake_clock.advance(minutes=29, seconds=59)
    assert attempt('center_one', PASSWORD) == LOGIN_LOCKED
    fake_clock.advance(seconds=2)
    assert attempt('center_one', PASSWORD) == 'ok'
    assert f.get_user(user_id).failed_logins == 0


def test_failures_must_be_in_a_row():
    f.staff('center_one')
    assert [attempt('center_one', 'Wrong#Pass1') for _ in range(4)] == [LOGIN_FAILED] * 4
    assert attempt('center_one', PASSWORD) == 'ok'            # success resets the count
    assert [attempt('center_one', 'Wrong#Pass1') for _ in range(4)] == [LOGIN_FAILED] * 4
    assert attempt('center_one', PASSWORD) == 'ok'


def test_unknown_account_answers_exactly_like_a_real_one(fake_clock):
    f.staff('center_one')

    def story(account: str) -> list[str]:
        answers = [attempt(account, 'Wrong#Pass1') for _ in range(6)]
        fake_clock.advance(minutes=31)
        answers.append(attempt(account, 'Wrong#Pass1'))
        return answers

    real, ghost = story('center_one'), story('no_such_user')
    assert real == ghost
    assert real == [LOGIN_FAILED] * 4 + [LOGIN_LOCKED] * 2 + [LOGIN_FAILED]


def test_accounts_are_bound_to_their_login_tab():
    f.staff('center_one')
    f.unit_user('unit_demo')
    f.person('13800138000')
    assert attempt('unit_demo', PASSWORD, roles=('reviewer', 'center')) == LOGIN_FAILED
    assert attempt('center_one', PASSWORD, roles=('unit',)) == LOGIN_FAILED
    assert attempt('13800138000', PASSWORD, roles=('reviewer', 'center')) == LOGIN_FAILED
    assert attempt('13800138000', PASSWORD, roles=('person',)) == 'ok'
    assert attempt('unit_demo', PASSWORD, roles=('unit',)) == 'ok'
    assert attempt(' center_one ', PASSWORD) == 'ok'          # stray spaces around the account


def test_disabled_account_cannot_log_in():
    user_id = f.staff('center_one')
    f.set_user(user_id, status='disabled')
    assert attempt('center_one', PASSWORD) == LOGIN_DISABLED
    assert attempt('center_one', 'Wrong#Pass1') == LOGIN_FAILED   # a wrong password reveals nothing more


def test_ip_throttle_is_loose_but_real(fake_clock):
    f.staff('center_one')
    for _ in range(security.IP_MAX_FAILURES - 2):
        security.ip_throttle.fail(IP)
    assert attempt('nobody_here', 'Wrong#Pass1') == LOGIN_FAILED  # failure number 29 comes from a login
    assert attempt('center_one', PASSWORD) == 'ok'                 # 29 failures: an office still gets in
    assert attempt('nobody_else', 'Wrong#Pass1') == LOGIN_FAILED   # 30
    assert attempt('center_one', PASSWORD) == LOGIN_THROTTLED      # right password, same address
    assert attempt('center_one', PASSWORD, ip='198.51.100.1') == 'ok'
    assert f.audit_rows('login_throttled')[-1].ip == IP
    fake_clock.advance(minutes=10, seconds=1)
    assert attempt('center_one', PASSWORD) == 'ok'
    assert security.IP_MAX_FAILURES >= 30 and timedelta(minutes=10) >= security.IP_WINDOW


# ---------------------------------------------------------------- S1, S2 session tokens

def test_session_token_is_random_stored_hashed_and_new_at_every_login():
    user_id = f.staff('center_one')
    first, second = f.login('center_one'), f.login('center_one')
    assert first != second and len(first) >= 43                      # 32 random bytes
    stored = f.table_text('auth_session')
    assert first not in stored and second not in stored
    assert hashlib.sha256(first.encode()).hexdigest() in stored
    assert security.resolve_session(first).user_id == user_id
    assert security.resolve_session(second).user_id == user_id
    security.end_session(first, 'replaced')                            # what sign_in does to the old token
    assert security.resolve_session(first) is None
    assert security.resolve_session(second).user_id == user_id


@pytest.mark.parametrize('token', [None, '', 123, b'bytes', 'forged-token-value', '\x00'])
def test_unknown_or_malformed_tokens_resolve_to_nobody(token):
    f.staff('center_one')
    f.login('center_one')
    assert security.resolve_session(token) is None


def test_tampered_token_resolves_to_nobody():
    f.staff('center_one')
    token = f.login('center_one')
    assert security.resolve_session(token[:-1] + ('A' if token[-1] != 'A' else 'B')) is None
    assert security.resolve_session(token + 'x') is None
    assert security.resolve_session(token) is not None


def test_actor_carries_role_and_must_change_flag():
    f.staff('rev_one', role='reviewer', must_change=True)
    actor = security.resolve_session(f.login('rev_one'), ip=IP)
    assert (actor.role, actor.account, actor.must_change_password, actor.ip) == ('reviewer', 'rev_one', True, IP)
    assert actor.org_id is not None


# ---------------------------------------------------------------- S3 timeouts

def test_person_idle_timeout_is_thirty_minutes(fake_clock):
    user_id = f.person('13800138000')
    token = f.login('13800138000', roles=('person',))
    fake_clock.advance(minutes=29, seconds=59)
    assert security.resolve_session(token) is not None              # use within the limit keeps it alive
    fake_clock.advance(minutes=29, seconds=59)
    assert security.resolve_session(token) is not None
    fake_clock.advance(minutes=30, seconds=1)
    assert security.resolve_session(token) is None
    fake_clock.advance(seconds=1)
    assert security.resolve_session(token) is None                   # stays dead
    [row] = f.sessions_of(user_id)
    assert row.revoked_reason == 'idle_timeout'


@pytest.mark.parametrize('role', ['reviewer', 'center'])
def test_staff_idle_timeout_is_fifteen_minutes(fake_clock, role):
    f.staff('staff_one', role=role)
    token = f.login('staff_one')
    fake_clock.advance(minutes=14, seconds=59)
    assert security.resolve_session(token) is not None
    fake_clock.advance(minutes=15, seconds=1)
    assert security.resolve_session(token) is None


def test_unit_idle_timeout_is_thirty_minutes(fake_clock):
    f.unit_user('unit_demo')
    token = f.login('unit_demo', roles=('unit',))
    fake_clock.advance(minutes=20)
    assert security.resolve_session(token) is not None                # longer than a staff member's 15
    fake_clock.advance(minutes=30, seconds=1)
    assert security.resolve_session(token) is None


def test_a_check_without_touch_does_not_extend_the_session(fake_clock):
    f.person('13800138000')
    token = f.login('13800138000', roles=('person',))
    fake_clock.advance(minutes=20)
    assert security.resolve_session(token, touch=False) is not None    # the open tab's background check
    fake_clock.advance(minutes=10, seconds=1)
    assert security.resolve_session(token) is None


def test_absolute_limit_is_eight_hours_even_when_busy(fake_clock):
    user_id = f.person('13800138000')
    token = f.login('13800138000', roles=('person',))
    for _ in range(8 * 3):
        fake_clock.advance(minutes=20)
        assert security.resolve_session(token) is not None             # 8:00 exactly is still inside
    fake_clock.advance(minutes=1)
    assert security.resolve_session(token) is None
    [row] = f.sessions_of(user_id)
    assert row.revoked_reason == 'absolute_timeout'


def test_the_open_tabs_session_check_interval_is_configurable(monkeypatch):
    """GLRC_SESSION_CHECK_SECONDS: 60 by default, at least 5 (a tab asking every second would load the
    server), and a clear message for a value that is not a number. The scale-out browser test runs
    with 5 and waits less than 60 s for the other process's tab to notice."""
    monkeypatch.delenv('GLRC_SESSION_CHECK_SECONDS', raising=False)
    assert config.load(create=False).session_check_seconds == 60
    monkeypatch.setenv('GLRC_SESSION_CHECK_SECONDS', '12')
    assert config.load(create=False).session_check_seconds == 12
    monkeypatch.setenv('GLRC_SESSION_CHECK_SECONDS', '1')
    assert config.load(create=False).session_check_seconds == 5
    monkeypatch.setenv('GLRC_SESSION_CHECK_SECONDS', '一分钟')
    with pytest.raises(SystemExit, match='GLRC_SESSION_CHECK_SECONDS 必须是整数'):
        config.load(create=False)


def test_timeouts_are_configurable(fake_clock, monkeypatch):
    monkeypatch.setenv('GLRC_IDLE_MINUTES', '5')
    monkeypatch.setenv('GLRC_SESSION_HOURS', '1')
    config.reset()
    try:
        f.person('13800138000')
        token = f.login('13800138000', roles=('person',))
        fake_clock.advance(minutes=5, seconds=1)
        assert security.resolve_session(token) is None
        token = f.login('13800138000', roles=('person',))
        for _ in range(15):
            fake_clock.advance(minutes=4)
            assert security.resolve_session(token) is not None
        fake_clock.advance(minutes=1)
        assert security.resolve_session(token) is None
    finally:
        monkeypatch.undo()
        config.reset()


# ---------------------------------------------------------------- S4, A6 ending sessions

def test_logout_ends_only_that_session():
    f.staff('center_one')
    a, b = f.login('center_one'), f.login('center_one')
    security.end_session(a, 'logout', IP)
    assert security.resolve_session(a) is None
    assert security.resolve_session(b) is not None


def test_disabling_a_user_ends_every_session_at_once():
    user_id = f.staff('center_one')
    tokens = [f.login('center_one') for _ in range(2)]
    f.set_user(user_id, status='disabled')
    assert [security.resolve_session(t) for t in tokens] == [None, None]
    f.set_user(user_id, status='active')
    assert [security.resolve_session(t) for t in tokens] == [None, None]   # revoked, not paused


def test_password_change_needs_the_old_password_and_ends_all_sessions():
    user_id = f.staff('center_one')
    tab_one, tab_two = f.login('center_one'), f.login('center_one', ip='198.51.100.2')
    actor = security.resolve_session(tab_one, ip=IP)
    old_hash = f.get_user(user_id).password_hash

    with pytest.raises(ValidationError) as err:
        accounts.change_credentials(actor, 'Wrong#Old1', None, NEW_PASSWORD, NEW_PASSWORD)
    assert err.value.field == '原密码'
    with pytest.raises(ValidationError) as err:
        accounts.change_credentials(actor, '', None, NEW_PASSWORD, NEW_PASSWORD)
    assert err.value.field == '原密码'
    with pytest.raises(ValidationError) as err:
        accounts.change_credentials(actor, PASSWORD, None, NEW_PASSWORD, NEW_PASSWORD + 'x')
    assert err.value.field == '确认新密码'
    with pytest.raises(ValidationError) as err:
        accounts.change_credentials(actor, PASSWORD, None, 'abcdefgh', 'abcdefgh')
    assert err.value.field == '新密码'
    assert f.get_user(user_id).password_hash == old_hash                 # nothing changed so far
    assert security.resolve_session(tab_two) is not None

    assert accounts.change_credentials(actor, PASSWORD, None, NEW_PASSWORD, NEW_PASSWORD) is True
    assert security.resolve_session(tab_one) is None
    assert security.resolve_session(tab_two) is None
    assert {row.revoked_reason for row in f.sessions_of(user_id)} == {'credentials_changed'}
    assert attempt('center_one', PASSWORD) == LOGIN_FAILED
    assert attempt('center_one', NEW_PASSWORD) == 'ok'


def test_first_login_with_a_must_change_password_is_cleared_by_the_change():
    user_id = f.staff('center_one', must_change=True)
    actor = security.resolve_session(f.login('center_one'))
    assert actor.must_change_password is True
    accounts.change_credentials(actor, PASSWORD, None, NEW_PASSWORD, NEW_PASSWORD)
    assert f.get_user(user_id).must_change_password is False
    assert security.resolve_session(f.login('center_one', NEW_PASSWORD)).must_change_password is False


def test_account_rename_also_ends_sessions_and_refuses_taken_names():
    f.staff('center_two')
    user_id = f.staff('center_one')
    token = f.login('center_one')
    actor = security.resolve_session(token)
    with pytest.raises(ValidationError) as err:
        accounts.change_credentials(actor, PASSWORD, 'center_two', None, None)
    assert err.value.field == '登录账号'
    accounts.change_credentials(actor, PASSWORD, 'center_new', None, None)
    assert security.resolve_session(token) is None
    assert f.get_user(user_id).account == 'center_new'
    assert attempt('center_new', PASSWORD) == 'ok'
