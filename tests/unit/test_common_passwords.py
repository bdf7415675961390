"""A2: the common-password check uses a real list (glrc_ui/data/common_passwords.txt, sources in
common_passwords.SOURCE.md) and sees through the usual decorations (case, symbols, look-alikes)."""
import pytest

from glrc_ui import demo
from glrc_ui.validators import _common_passwords, password_error
from tests.factories import NEW_PASSWORD, PASSWORD

COMMON = '该密码过于常见，请换一个'


def test_the_list_is_real_and_large():
    common = _common_passwords()
    assert isinstance(common, frozenset)
    assert len(common) >= 10_000
    assert all(entry == entry.strip().lower() and entry for entry in common)
    # well-known entries of the international and the Chinese lists, and the earlier hand-written ones
    assert {'123456', 'password', 'qwerty', 'iloveyou', 'woaini1314', '5201314', 'qq123456', 'gl@123456'} <= common
    assert _common_passwords() is common  # loaded once


@pytest.mark.parametrize('password', ['Password123!', 'Admin123!', 'qwer1234!', 'abc@123456'])
def test_issue_examples_are_refused(password):
    assert password_error(password) == COMMON


@pytest.mark.parametrize('password', [
    'Sunshine1!',        # capitalised, a symbol appended            -> sunshine1
    '!!Dragon123',       # leading symbols                           -> dragon123
    'Woaini1314!',       # Chinese favourite with a symbol           -> woaini1314
    'QQ@123456',         # a symbol between letters and digits       -> qq123456
    '~Iloveyou~',        # wrapped in symbols                        -> iloveyou
    'Zxcvbnm#123',       #                                           -> zxcvbnm123
    '1Qaz-2Wsx',         # symbols in the middle                     -> 1qaz2wsx
    'P@ssw0rd!123',      # look-alikes and a separator               -> password123
    'M0nkey123!',        # '0' for 'o'                               -> monkey123
    'Pa$$word1',         # '$' for 's'                               -> password1
])
def test_decorated_list_entries_are_refused(password):
    assert password_error(password) == COMMON


@pytest.mark.parametrize('password', ['PASSWORD123!', 'pAsSwOrD123!', 'WOAINI1314!', 'Qwer1234!', 'QWER1234!'])
def test_the_check_is_case_insensitive(password):
    assert password_error(password) == COMMON


@pytest.mark.parametrize('password', [
    PASSWORD,                # 'Gl#rc2026Pw', the test suite's password
    demo.DEMO_PASSWORD,      # 'Glrc@2026demo'
    'Gl!nRc#2026x',          # ADMIN_PASSWORD of tests/e2e/helpers.py (not imported: it needs Playwright)
    NEW_PASSWORD,
    'Xq9#mellow-Pine42',
    'Kqvmtz1!',
])
def test_strong_passwords_stay_accepted(password):
    assert password_error(password) is None


def test_the_strong_examples_are_the_ones_the_issue_names():
    assert (PASSWORD, demo.DEMO_PASSWORD) == ('Gl#rc2026Pw', 'Glrc@2026demo')
