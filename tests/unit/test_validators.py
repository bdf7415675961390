"""V1 (server-side validation) and A1-A2 (password policy), table-driven.

身份证号 and 统一社会信用代码 samples are generated here with the check-digit formulas written out from
GB 11643 and GB 32100, so the validators are compared with an independent implementation."""
import random
from datetime import date

import pytest

from glrc_ui import validators as v
from glrc_ui.validators import password_error


@pytest.fixture(autouse=True)
def _fresh_app():
    """Pure functions: no data dir or database needed (overrides the unit conftest's fixture)."""
    yield

# ---------------------------------------------------------------- independent check-digit oracles

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'   # GB 32100: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check(first17: str) -> str:
    return '10X98765432'[sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS, strict=True)) % 11]


def make_id(area: str = '450305', born: date = date(1990, 1, 1), seq: str = '123') -> str:
    first17 = f'{area}{born:%Y%m%d}{seq}'
    return first17 + id_check(first17)


def uscc_check(first17: str) -> str:
    return USCC_ALPHABET[(31 - sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True)) % 31) % 31]


def make_uscc(body: str = '91450300MA5K') -> str:
    first17 = (body + 'ABCDEFGHJK')[:17]
    return first17 + uscc_check(first17)


def wrong_last(value: str, alphabet: str) -> str:
    return value[:-1] + next(c for c in alphabet if c != value[-1])


# ---------------------------------------------------------------- phone

@pytest.mark.parametrize('phone', ['13800138000', '19912345678', '15000000000', ' 13800138000 '])
def test_valid_mainland_mobiles(phone):
    assert v.phone_error(phone) is None


@pytest.mark.parametrize('phone', [
    '', None, '1380013800', '138001380001', '12800138000', '10800138000', '23800138000', '+8613800138000',
    '138-0013-8000', '1380013800a', '138 0013 8000', '13800138000\n1', '１３８００１３８０００',
    '13８００１３８０００',      # full-width digits after a valid prefix
    '13٨٠٠١٣٨٠٠٠',             # Arabic-Indic digits
])
def test_invalid_phones_get_a_chinese_message(phone):
    error = v.phone_error(phone)
    assert error and '手机号' in error


# ---------------------------------------------------------------- 身份证号 (GB 11643)

def test_generated_id_numbers_agree_with_gb11643():
    rng = random.Random(11643)
    for _ in range(300):
        born = date(1950, 1, 1).fromordinal(date(1950, 1, 1).toordinal() + rng.randrange(365 * 55))
        number = make_id(rng.choice(['450305', '450302', '450321', '110101']), born, f'{rng.randrange(1000):03d}')
        assert v.id_number_error(number) is None, number
        assert v.id_number_error(number.lower()) is None  # a lower-case x is the same number
        alphabet = '0123456789X'
        assert v.id_number_error(wrong_last(number, alphabet)) == '身份证号校验位不正确，请核对'
        assert v.id_birth_date(number) == born


@pytest.mark.parametrize('area, born', [
    ('450305', date(1975, 5, 1)),    # 七星区, a code stdnum lists only from 1983
    ('450323', date(1985, 3, 9)),    # 灵川县, listed from 1998
    ('450312', date(1990, 7, 20)),   # 临桂区, listed from 2013
    ('450381', date(1992, 2, 29)),   # 荔浦市, listed from 2018
])
def test_id_area_code_newer_than_the_birth_year_is_valid(area, born):
    """The area code is the household's code when the card was issued, often years after birth:
    people born before their county got today's code hold valid numbers (GB 11643 checks the digit)."""
    assert v.id_number_error(make_id(area, born)) is None


def test_known_id_with_x_check_digit():
    first17 = next(f'45030519900101{n:03d}' for n in range(1000) if id_check(f'45030519900101{n:03d}') == 'X')
    assert v.id_number_error(first17 + 'X') is None
    assert v.id_number_error(first17 + '0') is not None


@pytest.mark.parametrize('value, message', [
    ('', '请输入身份证号'),
    (None, '请输入身份证号'),
    ('45030519900101123', '身份证号应为 18 位'),
    ('4503051990010112345', '身份证号应为 18 位'),
    ('450305900101123', '身份证号应为 18 位'),          # the old 15-digit form is not accepted
])
def test_id_number_length_and_empty(value, message):
    assert v.id_number_error(value) == message


def test_id_number_with_impossible_birth_date_or_letters_is_rejected():
    for first17 in ('45030519901301123',               # month 13
                    '45030519900230123',               # 30 February
                    '99000019900101123'):              # no such area code
        assert v.id_number_error(first17 + id_check(first17)) == '身份证号格式不正确，请核对', first17
    assert v.id_number_error('4503051990010112A' + '3') is not None
    assert v.id_number_error('45030519900101123' + 'Y') is not None


def test_gender_from_17th_digit():
    assert v.id_gender(make_id(seq='131')) == '男'
    assert v.id_gender(make_id(seq='132')) == '女'


# ---------------------------------------------------------------- 统一社会信用代码 (GB 32100)

def test_generated_credit_codes_agree_with_gb32100():
    rng = random.Random(32100)
    for _ in range(300):
        body = '91' + f'{rng.randrange(10**6):06d}' + ''.join(rng.choice(USCC_ALPHABET) for _ in range(9))
        code = make_uscc(body)
        assert v.credit_code_error(code) is None, code
        assert v.credit_code_error(code.lower()) is None
        assert v.credit_code_error(wrong_last(code, USCC_ALPHABET)) == '统一社会信用代码校验位不正确，请核对'


@pytest.mark.parametrize('value', ['', None, '91450300MA5K12345', '91450300MA5K1234567'])
def test_credit_code_empty_or_wrong_length(value):
    assert v.credit_code_error(value) in ('请输入统一社会信用代码', '统一社会信用代码应为 18 位')


def test_credit_code_with_letters_outside_the_alphabet_is_rejected():
    for bad in 'IOSVZ':
        body = '91450300' + bad + 'A5KABCDE'
        # whatever check character follows, a letter GB 32100 does not use makes the code invalid
        assert all(v.credit_code_error(body + check) for check in USCC_ALPHABET), bad


# ---------------------------------------------------------------- 登录账号

@pytest.mark.parametrize('account, ok', [
    ('unit_demo', True), ('abcd', True), ('A' + 'b' * 31, True),
    ('abc', False), ('A' + 'b' * 32, False), ('1abc', False), ('_abc', False), ('ab-cd', False),
    ('ab cd', False), ('张三账号', False), ('', False), (None, False), ('abcd\n', True),  # stripped
])
def test_account_names(account, ok):
    assert (v.account_error(account) is None) is ok


# ---------------------------------------------------------------- passwords (A1, A2)

@pytest.mark.parametrize('password', [
    'Kqvmtz1!',            # 8 chars, 4 classes ('Abcdef1!' and the like are on the common list)
    'kqvmtz1!',            # lower + digit + symbol
    'KQVMTZ1!',            # upper + digit + symbol
    'Kqvmtzx1',            # upper + lower + digit
    'Kqvmtzx!',            # upper + lower + symbol
    'Xy7#' * 16,           # 64 chars
    'Xy7#' * 32,           # 128 chars: the maximum
])
def test_passwords_meeting_the_policy(password):
    assert password_error(password) is None


@pytest.mark.parametrize('password, reason', [
    ('Abcde1!', '至少 8 位'),                        # 7 chars with 4 classes
    ('abcdefgh', '至少 3 类'),                       # 1 class
    ('abcdefg1', '至少 3 类'),                       # 2 classes
    ('ABCDEFG!', '至少 3 类'),
    ('12345678!', '至少 3 类'),
    ('Xy7#' * 32 + 'Z', '最多 128 位'),             # 129 chars
    ('', '至少 8 位'),
    (None, '至少 8 位'),
])
def test_passwords_breaking_the_policy(password, reason):
    error = password_error(password)
    assert error is not None and reason in error


@pytest.mark.parametrize('password', ['P@ssw0rd', 'Admin@123', 'Abc@1234', 'Guilin@123', 'Qwer@1234',
                                      '1qaz@2WSX', 'GLRC@123'])
def test_common_passwords_rejected_case_insensitively(password):
    assert password_error(password) == '该密码过于常见，请换一个'


def test_password_containing_account_phone_or_id_digits():
    assert password_error('Xunit_demo#1', account='unit_demo') == '密码不能包含登录账号'
    assert password_error('xUNIT_DEMO#1', account='unit_demo') == '密码不能包含登录账号'
    assert password_error('Ab#13800138000', phone='13800138000') == '密码不能包含手机号'
    id_number = make_id()
    assert password_error(f'Ab#{id_number[-8:]}', id_number=id_number) == '密码不能包含身份证号码'
    assert password_error(f'Ab#x{id_number[-6:]}', id_number=id_number) == '密码不能包含身份证号码'
    # the same passwords are fine for someone else
    assert password_error('Xunit_demo#1', account='other_user') is None
    assert password_error('Ab#13800138000', phone='13900139000') is None


def test_long_password_is_checked_in_full():
    """No truncation: a bad character class beyond position 72 still counts, a 129th character fails."""
    assert password_error('a' * 100 + 'B1') is None          # classes only complete after byte 72
    assert password_error('a' * 127 + 'B1') is not None


# ---------------------------------------------------------------- masking (D1 helpers)

def test_masking_keeps_only_the_ends():
    assert v.mask_phone('13800138000') == '138****8000'
    id_number = make_id()
    masked = v.mask_id(id_number)
    assert masked == id_number[:6] + '********' + id_number[-4:]
    assert id_number[6:14] not in masked
