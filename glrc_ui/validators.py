"""Input checks shared by services and forms. Each returns a Chinese message or None when valid."""
import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from stdnum.cn import ric, uscc

PHONE_RE = re.compile(r'^1[3-9]\d{9}$', re.ASCII)  # ASCII: no full-width or other Unicode digits
ACCOUNT_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_]{3,31}$')
PASSWORD_MIN, PASSWORD_MAX = 8, 128


def phone_error(value: str | None) -> str | None:
    value = (value or '').strip()
    if not value:
        return '请输入手机号'
    if not PHONE_RE.match(value):
        return '手机号格式不正确，应为 11 位大陆手机号'
    return None


def account_error(value: str | None) -> str | None:
    value = (value or '').strip()
    if not value:
        return '请输入登录账号'
    if not ACCOUNT_RE.match(value):
        return '登录账号须以字母开头，4-32 位，只能包含字母、数字和下划线'
    return None


def id_number_error(value: str | None) -> str | None:
    value = (value or '').strip().upper()
    if not value:
        return '请输入身份证号'
    if len(value) != 18:
        return '身份证号应为 18 位'
    if not ID_RE.match(value) or not _id_date_and_area_exist(value):
        return '身份证号格式不正确，请核对'
    if value[-1] != ric.calc_check_digit(value):
        return '身份证号校验位不正确，请核对'
    return None


ID_RE = re.compile(r'^\d{17}[\dX]$', re.ASCII)


def _id_date_and_area_exist(value: str) -> bool:
    """A real birth date and a known area code. Not stdnum's ric.is_valid: it also demands that the
    area code existed in the birth year, which refuses valid cards issued after a county was renamed
    (e.g. 七星区 holders born before 1983, 灵川县 before 1998)."""
    from stdnum import numdb
    from stdnum.exceptions import ValidationError as StdnumError
    try:
        ric.get_birth_date(value)
    except StdnumError:
        return False
    return any('county' in props for _, props in numdb.get('cn/loc').info(value[:6]))


def id_birth_date(value: str) -> date:
    return ric.get_birth_date(value.strip().upper())


def id_gender(value: str) -> str:
    """'男' or '女' from the 17th digit (odd = male)."""
    return '男' if int(value.strip()[16]) % 2 else '女'


def credit_code_error(value: str | None) -> str | None:
    value = (value or '').strip().upper()
    if not value:
        return '请输入统一社会信用代码'
    if len(value) != 18:
        return '统一社会信用代码应为 18 位'
    if not uscc.is_valid(value):
        return '统一社会信用代码校验位不正确，请核对'
    return None


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """About 20,000 real common passwords, lowercase (sources in data/common_passwords.SOURCE.md)."""
    path = Path(__file__).parent / 'data' / 'common_passwords.txt'
    return frozenset(line.strip().lower() for line in path.read_text(encoding='utf-8').splitlines() if line.strip())


_SYMBOLS_RE = re.compile(r'[\W_]+')  # anything but letters and digits (of any script)
_EDGE_SYMBOLS_RE = re.compile(r'^[\W_]+|[\W_]+$')
_LEET = str.maketrans({'@': 'a', '4': 'a', '$': 's', '5': 's', '0': 'o', '3': 'e', '1': 'i', '!': 'i',
                       '7': 't', '+': 't'})
_MIN_VARIANT = 4  # shorter leftovers (of a password that is mostly symbols) are not compared


def _password_variants(password: str) -> set[str]:
    """The forms of a password compared with the common list, all lowercase:
    - the password itself                                'Qwer@1234'    -> 'qwer@1234'
    - leading and trailing symbols stripped              'Password123!' -> 'password123'
    - every symbol removed                               'abc@123456'   -> 'abc123456'
    - the stem before the final digits, look-alikes mapped back to letters ('@' 'a', '0' 'o', '$' 's' …),
      then the digits; a symbol just before the digits is tried both as a separator and as a letter
                                                         'P@ssw0rd!123' -> 'password123'"""
    lowered = password.lower()
    stripped = _EDGE_SYMBOLS_RE.sub('', lowered)
    stem = stripped.rstrip('0123456789')
    digits = stripped[len(stem):]
    variants = {stripped, _SYMBOLS_RE.sub('', lowered)}
    for candidate in (stem, _EDGE_SYMBOLS_RE.sub('', stem)):
        variants.add(_SYMBOLS_RE.sub('', candidate.translate(_LEET)) + digits)
    return {lowered} | {variant for variant in variants if len(variant) >= _MIN_VARIANT}


def _is_common_password(password: str) -> bool:
    return not _common_passwords().isdisjoint(_password_variants(password))


def password_error(password: str | None, *, account: str | None = None, phone: str | None = None,
                   id_number: str | None = None) -> str | None:
    """SPEC §4 / SECURITY A1-A2. The full password is checked: nothing is truncated."""
    password = password or ''
    if len(password) < PASSWORD_MIN:
        return f'密码至少 {PASSWORD_MIN} 位'
    if len(password) > PASSWORD_MAX:
        return f'密码最多 {PASSWORD_MAX} 位'
    classes = sum((
        any(c.isupper() and c.isascii() for c in password),
        any(c.islower() and c.isascii() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))
    if classes < 3:
        return '密码须包含大写字母、小写字母、数字、符号中的至少 3 类'
    lowered = password.lower()
    if _is_common_password(password):
        return '该密码过于常见，请换一个'
    for label, value in (('登录账号', account), ('手机号', phone)):
        if value and len(value) >= 4 and value.lower() in lowered:
            return f'密码不能包含{label}'
    if id_number and len(id_number) >= 8:
        digits = id_number[-8:].lower()
        if digits in lowered or id_number[-6:].lower() in lowered:
            return '密码不能包含身份证号码'
    return None


def mask_phone(phone: str | None) -> str:
    """'138****8000': the first 3 and last 4 digits. A shorter value is all stars (never shown)."""
    phone = (phone or '').strip()
    if len(phone) < 11:
        return '*' * len(phone)
    return f'{phone[:3]}****{phone[-4:]}'


def mask_id(id_number: str | None) -> str:
    """'450305********1234': the first 6 and last 4 characters. A shorter value is all stars."""
    id_number = (id_number or '').strip().upper()
    if len(id_number) < 18:
        return '*' * len(id_number)
    return f'{id_number[:6]}********{id_number[-4:]}'


LANDLINE_OR_MOBILE_RE = re.compile(r'^(0\d{2,3}-?\d{7,8}(-\d{1,6})?|1[3-9]\d{9})$', re.ASCII)


def contact_phone_error(value: str | None) -> str | None:
    value = (value or '').strip()
    if not value:
        return '请输入联系电话'
    if not LANDLINE_OR_MOBILE_RE.match(value):
        return '联系电话格式不正确，如 0773-2825566 或 13807730000'
    return None
