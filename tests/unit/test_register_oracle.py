"""单位注册 is no oracle for which accounts exist (issue 7 item 5): the taken-account and taken-credit-code
answers come only for an otherwise valid form, staff and unit names answer alike, and every attempt
counts against the address's registration limit."""
import pytest

from db.models import Unit, User
from glrc_ui import security
from glrc_ui.errors import FormErrors
from glrc_ui.services import units
from tests import factories as f
from tests.factories import PASSWORD

TAKEN = '该登录账号已被使用'
FORM = dict(name='桂林漓江科技有限公司', credit_code=f.unit_credit_code(1), operator_name='王操作',
            operator_phone='13907730001', account='lijiang_tech', password=PASSWORD, confirm=PASSWORD)
OTHER_FIELDS = {'单位名称', '统一社会信用代码', '操作人姓名', '操作人手机号', '密码'}


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


@pytest.fixture
def names() -> dict[str, str]:
    """An account name of every kind: center and reviewer staff, a unit, a person (login = phone), none."""
    f.staff('center_boss', role='center')
    f.staff('rev_xiufeng', role='reviewer')
    _, unit_account = f.unit_registered(5)
    f.person('13800138000')
    return {'center': 'center_boss', 'reviewer': 'rev_xiufeng', 'unit': unit_account, 'free': 'nobody_yet'}


def refusal(**fields) -> dict[str, str]:
    with pytest.raises(FormErrors) as err:
        units.register(**fields)
    return err.value.errors


def only_account(account: str, ip: str | None = None) -> dict[str, str]:
    return refusal(name='', credit_code='', operator_name='', operator_phone='', account=account, password='',
                   confirm='', ip=ip)


def test_only_the_account_filled_reveals_nothing(names):
    answers = {kind: only_account(name) for kind, name in names.items()}
    for errors in answers.values():
        assert set(errors) == OTHER_FIELDS, errors      # the other missing fields, no taken-account message
        assert TAKEN not in errors.values()
    assert len({tuple(sorted(errors.items())) for errors in answers.values()}) == 1   # identical for all


def test_an_almost_valid_form_reveals_nothing(names):
    """One bad field anywhere: no answer about the account or the credit code."""
    for name in names.values():
        errors = refusal(**{**FORM, 'account': name, 'credit_code': f.unit_credit_code(5), 'confirm': 'nope'})
        assert errors == {'确认密码': '两次输入的密码不一致'}
        errors = refusal(**{**FORM, 'account': name, 'operator_phone': '123'})
        assert set(errors) == {'操作人手机号'}


@pytest.mark.parametrize('kind', ['center', 'reviewer', 'unit'])
def test_a_valid_form_with_a_taken_name_reads_the_same_for_every_role(names, kind, monkeypatch):
    hashed = []
    monkeypatch.setattr(security, 'hash_password', lambda password: hashed.append(1) or f.cached_hash(password))
    units_before = f.count_rows(Unit)
    with f.sql_log() as statements:
        errors = refusal(**{**FORM, 'account': names[kind]})
    assert errors == {'登录账号': TAKEN}
    assert hashed == []                                 # the same work whoever holds the name: no hash
    assert len(statements) == len(_statements_for_a_taken_unit_name(names['unit']))
    assert f.count_rows(Unit) == units_before           # nothing registered


def _statements_for_a_taken_unit_name(account: str) -> list[str]:
    with f.sql_log() as statements:
        refusal(**{**FORM, 'account': account})
    return statements


def test_a_real_registrant_still_gets_the_field_messages(names):
    errors = refusal(**{**FORM, 'account': names['unit'], 'credit_code': f.unit_credit_code(5)})
    assert errors == {'登录账号': TAKEN, '统一社会信用代码': '该统一社会信用代码已注册，如需找回账号请联系市人才服务中心'}
    assert refusal(**{**FORM, 'account': '1abc'}) == {'登录账号': '登录账号须以字母开头，4-32 位，只能包含字母、数字和下划线'}
    assert units.register(**{**FORM, 'account': names['free']}) > 0
    assert f.count_rows(User) == 4 + 1   # two staff, a unit, a person; then the new operator


def test_the_address_limit_counts_refused_attempts(names, fake_clock):
    ip = '198.51.100.77'
    for _ in range(20):
        only_account(names['center'], ip)              # refused probes count
    assert refusal(**{**FORM, 'account': names['center'], 'ip': ip}) == {'登录账号': security.BUSY}
    assert refusal(**{**FORM, 'account': names['free'], 'ip': ip}) == {'登录账号': security.BUSY}
    assert refusal(**{**FORM, 'account': names['center'], 'ip': '198.51.100.78'}) == {'登录账号': TAKEN}
    fake_clock.advance(minutes=11)
    assert units.register(**{**FORM, 'account': names['free'], 'ip': ip}) > 0
