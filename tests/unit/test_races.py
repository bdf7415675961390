"""Counters that parallel requests must not lose (matters on PostgreSQL; SQLite serialises writers)."""
import threading

import pytest

from db.engine import session_scope
from glrc_ui import security
from glrc_ui.errors import FormErrors
from glrc_ui.security import LoginError
from glrc_ui.services import sms, units
from tests import factories as f


def in_parallel(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_five_parallel_wrong_passwords_lock_the_account(monkeypatch):
    f.cheap_hashing(monkeypatch)
    user_id = f.staff('race_staff')
    results = in_parallel(5, lambda: security.login_password(('center',), 'race_staff', 'Wrong#Pass2026', None))
    assert all(isinstance(r, LoginError) for r in results)
    assert f.get_user(user_id).locked_until is not None  # no failure was lost


def test_parallel_wrong_codes_use_up_the_five_tries():
    phone = '13800138123'
    sms.issue_code(phone, 'login')
    code = f.last_code(phone, 'login')
    wrong = f'{(int(code) + 1) % 10**6:06d}'

    def guess():
        with session_scope() as s:
            return sms.check_code(s, phone, 'login', wrong)
    assert in_parallel(8, guess) == [False] * 8
    with session_scope() as s:  # the right code is dead after 5 wrong tries, however they interleaved
        assert sms.check_code(s, phone, 'login', code) is False


def test_parallel_code_requests_send_one_message():
    results = in_parallel(6, lambda: sms.issue_code('13800138124', 'login'))
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, sms.SmsError) for r in results if r is not None)
    assert len([line for line in f.outbox_lines() if line['phone'] == '13800138124']) == 1


def test_a_registration_that_loses_the_race_gets_a_field_message(monkeypatch):
    f.unit_registered(61)
    real_taken = units._taken
    calls = []

    def blind_once(s, account, code):  # the pre-check misses the rival registration, as in a race
        calls.append(1)
        return {} if len(calls) == 1 else real_taken(s, account, code)
    monkeypatch.setattr(units, '_taken', blind_once)
    with pytest.raises(FormErrors) as err:
        units.register('另一家公司', f.unit_credit_code(62), '张三', '13907730062', 'unit_t061', f.PASSWORD, f.PASSWORD)
    assert err.value.errors == {'登录账号': '该登录账号已被使用'}


def test_code_requests_and_registrations_are_limited_per_address(fake_clock):
    from glrc_ui.errors import ValidationError
    from glrc_ui.services import accounts
    for n in range(30):
        accounts.request_login_code(f'1380013{n:04d}', '198.51.100.9')
    with pytest.raises(ValidationError) as err:
        accounts.request_login_code('13800139999', '198.51.100.9')
    assert err.value.message == security.BUSY
    accounts.request_login_code('13800139999', '198.51.100.10')  # another address is not affected
    for _ in range(20):
        with pytest.raises(FormErrors):
            units.register('', '', '', '', '', '', '', '198.51.100.9')  # even refused attempts count
    with pytest.raises(FormErrors) as err:
        units.register('桂林限流测试公司', f.unit_credit_code(63), '张三', '13907730063', 'unit_t063', f.PASSWORD,
                       f.PASSWORD, '198.51.100.9')
    assert err.value.errors == {'登录账号': security.BUSY}
    fake_clock.advance(minutes=11)
    assert units.register('桂林限流测试公司', f.unit_credit_code(63), '张三', '13907730063', 'unit_t063', f.PASSWORD,
                          f.PASSWORD, '198.51.100.9') > 0
