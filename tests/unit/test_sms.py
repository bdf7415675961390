"""SMS one-time codes and the outbox gateway (SECURITY O1-O3, SPEC §4)."""
import hashlib
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import SmsCode
from glrc_ui import security
from glrc_ui.errors import ValidationError
from glrc_ui.security import LoginError
from glrc_ui.services import accounts, sms
from tests import factories as f
from tests.factories import IP

PHONE, OTHER = '13800138000', '13900139000'


@pytest.fixture(autouse=True)
def _clock(fake_clock):
    """Every test here runs on the fake clock (codes expire, resends wait)."""
    return fake_clock


def issue(phone: str = PHONE, purpose: str = 'login') -> str:
    sms.issue_code(phone, purpose)
    return f.last_code(phone, purpose)


def check(code: str, phone: str = PHONE, purpose: str = 'login') -> bool:
    with session_scope() as s:
        return sms.check_code(s, phone, purpose, code)


def wrong(code: str) -> str:
    return f'{(int(code) + 1) % 10**6:06d}'


# ---------------------------------------------------------------- O1 generation and storage

def test_code_is_six_digits_from_secrets(monkeypatch):
    calls = []

    def fake_randbelow(n):
        calls.append(n)
        return 42
    monkeypatch.setattr(sms.secrets, 'randbelow', fake_randbelow)
    assert issue() == '000042'                       # zero-padded to 6 digits
    assert calls == [10**6]


def test_codes_vary(_clock):
    codes = set()
    for _ in range(8):
        code = issue()
        assert len(code) == 6 and code.isdigit()
        codes.add(code)
        _clock.advance(seconds=61)
    assert len(codes) >= 7                           # one repeat in 8 draws from 10^6 is already unlikely


def test_code_is_not_stored_in_clear(monkeypatch):
    monkeypatch.setattr(sms.secrets, 'randbelow', lambda n: 246813)
    assert issue() == '246813'
    code_table = f.table_text('sms_code')
    message_table = f.table_text('sms_message')
    assert PHONE in code_table and PHONE in message_table          # the scan reads the stored rows
    assert '246813' not in code_table
    assert '246813' not in message_table
    assert '******' in message_table                               # the 短信记录 shows the code masked
    with session_scope() as s:
        [row] = s.exec(select(SmsCode)).all()
    assert len(row.code_hash) == 64 and row.code_hash != '246813'
    assert row.code_hash != hashlib.sha256(b'246813').hexdigest()  # keyed, not a bare hash of 10^6 values


# ---------------------------------------------------------------- O2 validity

def test_code_valid_for_five_minutes(_clock):
    code = issue()
    _clock.advance(minutes=4, seconds=59)
    assert check(code) is True
    code = issue()
    _clock.advance(minutes=5, seconds=1)
    assert check(code) is False


def test_code_is_single_use():
    code = issue()
    assert check(code) is True
    assert check(code) is False


def test_code_is_bound_to_purpose_and_phone():
    code = issue(PHONE, 'login')
    assert check(code, PHONE, 'register') is False
    assert check(code, OTHER, 'login') is False
    assert check(code, PHONE, 'login') is True


def test_a_new_code_replaces_the_old_one(_clock, monkeypatch):
    draws = iter([111111, 222222])
    monkeypatch.setattr(sms.secrets, 'randbelow', lambda n: next(draws))
    first = issue()
    _clock.advance(seconds=61)
    second = issue()
    assert (first, second) == ('111111', '222222')
    assert check(first) is False
    assert check(second) is True


def test_unknown_purpose_is_refused():
    with pytest.raises(sms.SmsError):
        sms.issue_code(PHONE, 'reset_everything')


# ---------------------------------------------------------------- O3 limits

def test_five_wrong_tries_kill_the_code():
    code = issue()
    for _ in range(5):
        assert check(wrong(code)) is False
    assert check(code) is False


def test_four_wrong_tries_leave_the_code_alive():
    code = issue()
    for _ in range(4):
        assert check(wrong(code)) is False
    assert check(code) is True


def test_resend_waits_sixty_seconds_per_purpose(_clock):
    issue(PHONE, 'login')
    _clock.advance(seconds=59)
    with pytest.raises(sms.SmsError) as err:
        sms.issue_code(PHONE, 'login')
    assert '秒后再试' in str(err.value)
    issue(PHONE, 'register')                       # another purpose is not blocked
    issue(OTHER, 'login')                          # nor another phone
    _clock.advance(seconds=1)
    issue(PHONE, 'login')


def test_at_most_ten_codes_per_phone_per_day(_clock):
    start = _clock.now
    for n in range(10):
        issue(PHONE, 'login' if n % 2 else 'register')
        _clock.advance(seconds=61)
    with pytest.raises(sms.SmsError) as err:
        sms.issue_code(PHONE, 'login')
    assert '今日' in str(err.value)
    with pytest.raises(sms.SmsError):
        sms.issue_code(PHONE, 'register')
    issue(OTHER, 'login')                          # other phones are not affected
    sent_to_phone = [line for line in f.outbox_lines() if line['phone'] == PHONE]
    assert len(sent_to_phone) == 10
    _clock.now = start + timedelta(days=1, seconds=1)
    issue(PHONE, 'login')


# ---------------------------------------------------------------- outbox gateway

def test_outbox_lines_have_the_contract_keys(_clock):
    code = issue(PHONE, 'register')
    with session_scope() as s:
        sms.send_message(s, PHONE, '【桂林市人才服务】您的单位注册已审核通过。', 'notice')
    lines = f.outbox_lines()
    assert [set(line) for line in lines] == [{'phone', 'text', 'code', 'purpose', 'at'}] * 2
    first, second = lines
    assert (first['phone'], first['code'], first['purpose']) == (PHONE, code, 'register')
    assert code in first['text'] and '验证码' in first['text']
    assert (second['code'], second['purpose']) == (None, 'notice')
    assert datetime.fromisoformat(first['at']) == _clock.now


# ---------------------------------------------------------------- person login with a code

def test_login_with_code_end_to_end():
    user_id = f.person(PHONE)
    accounts.request_login_code(PHONE, IP)
    code = f.last_code(PHONE, 'login')
    token, actor = accounts.login_code(PHONE, code, IP)
    assert actor.user_id == user_id
    assert security.resolve_session(token).user_id == user_id
    with pytest.raises(LoginError) as err:
        accounts.login_code(PHONE, code, IP)              # used once already
    assert str(err.value) == sms.CODE_INVALID


def test_register_code_does_not_log_in():
    f.person(PHONE)
    code = issue(PHONE, 'register')
    with pytest.raises(LoginError):
        accounts.login_code(PHONE, code, IP)


def test_unknown_phone_gets_the_same_answer_and_no_message(_clock):
    f.person(PHONE)
    accounts.request_login_code(OTHER, IP)             # nobody has this phone
    accounts.request_login_code(PHONE, IP)
    assert [line['phone'] for line in f.outbox_lines()] == [PHONE]
    assert OTHER not in f.table_text('sms_message')
    answers = []
    for phone in (PHONE, OTHER):
        with pytest.raises(ValidationError) as err:
            accounts.request_login_code(phone, IP)
        answers.append(err.value.message)
    assert answers[0] == answers[1] and '秒后再试' in answers[0]
    with pytest.raises(LoginError):
        accounts.login_code(OTHER, '123456', IP)


def test_bad_phone_is_refused_before_any_code():
    with pytest.raises(ValidationError) as err:
        accounts.request_login_code('12345', IP)
    assert err.value.field == '手机号'
    assert f.outbox_lines() == [] and f.table_text('sms_code') == ''
