"""Password hashes made with older argon2 parameters are replaced at the next good login (A3)."""
from datetime import timedelta

import pytest

from glrc_ui import security
from glrc_ui.security import LOGIN_DISABLED, LOGIN_FAILED, LOGIN_LOCKED, LoginError
from tests import factories as f
from tests.factories import PASSWORD

# The parameters the app used "before": production moved on to REAL_PWD's (what PWD is in these tests).
OLD_PWD = f.CHEAP_PWD


def params(password_hash: str) -> str:
    """'m=…,t=…,p=…' of an argon2 hash."""
    return password_hash.split('$')[3]


@pytest.fixture
def old_user() -> int:
    """A center account whose stored hash was made with the old, weaker parameters."""
    user_id = f.staff('center_one')
    f.set_user(user_id, password_hash=OLD_PWD.hash(PASSWORD))
    return user_id


def attempt(password: str, account: str = 'center_one') -> str:
    try:
        f.login(account, password)
    except LoginError as exc:
        return str(exc)
    return 'ok'


def test_a_good_login_stores_the_hash_with_the_current_parameters(old_user):
    old_hash = f.get_user(old_user).password_hash
    assert security.PWD.needs_update(old_hash)
    assert attempt(PASSWORD) == 'ok'
    new_hash = f.get_user(old_user).password_hash
    assert new_hash != old_hash and new_hash.startswith('$argon2id$')
    assert params(new_hash) == params(security.hash_password('Other#Pass1')) != params(old_hash)
    assert not security.PWD.needs_update(new_hash)
    assert security.verify_password(PASSWORD, new_hash)
    assert attempt(PASSWORD) == 'ok'                                     # and it keeps working, unchanged
    assert f.get_user(old_user).password_hash == new_hash
    assert [r.detail for r in f.audit_rows('login')] == ['password', 'password']


def test_a_wrong_password_does_not_rehash(old_user):
    old_hash = f.get_user(old_user).password_hash
    assert attempt('Wrong#Pass1') == LOGIN_FAILED
    assert f.get_user(old_user).password_hash == old_hash
    assert f.get_user(old_user).failed_logins == 1


def test_a_refused_login_with_the_right_password_does_not_rehash(old_user, fake_clock):
    old_hash = f.get_user(old_user).password_hash
    f.set_user(old_user, status='disabled')
    assert attempt(PASSWORD) == LOGIN_DISABLED
    assert f.get_user(old_user).password_hash == old_hash
    f.set_user(old_user, status='active', locked_until=fake_clock.now + timedelta(minutes=5))
    assert attempt(PASSWORD) == LOGIN_LOCKED
    assert f.get_user(old_user).password_hash == old_hash


def test_a_hash_changed_during_the_check_is_not_overwritten(old_user, monkeypatch):
    """The check runs outside the transaction: if the row got a new hash meanwhile (a password change,
    a parallel login's rehash), the login must not put the old password back."""
    newer = security.hash_password('Changed#Pass2')
    real_check = security.verify_and_update

    def check_then_change(password, password_hash):
        result = real_check(password, password_hash)
        f.set_user(old_user, password_hash=newer)
        return result
    monkeypatch.setattr(security, 'verify_and_update', check_then_change)
    attempt(PASSWORD)
    assert f.get_user(old_user).password_hash == newer

