"""单位注册 (SPEC §3.1), 单位信息维护 (§3.2), 提交审核 (§2.1) and the licence upload (§4, SECURITY F1-F2, C3)."""
import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import Org, StoredFile, Unit, User
from glrc_ui import config, security
from glrc_ui.errors import FormErrors, ValidationError
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import files, unit_review, units
from glrc_ui.workflow import WorkflowError
from tests import factories as f
from tests.factories import PASSWORD

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def op(account: str):
    return f.actor_of_account(account)


def my(account: str) -> dict:
    return units.my_unit(op(account))


def save(account: str, data: dict) -> dict:
    return units.save_info(op(account), data, my(account)['version'])


def upload(account: str, data: bytes, name: str = '营业执照.pdf') -> dict:
    return units.upload_licence(op(account), data, name, my(account)['version'])


def stored_files_on_disk() -> set[str]:
    root = config.current().upload_dir
    return {p.name for p in root.rglob('*') if p.is_file()} if root.exists() else set()


def counts() -> tuple[int, int]:
    return f.count_rows(Unit), f.count_rows(User)


def pdf_of_size(size: int) -> bytes:
    head, tail = b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', b'\n%%EOF\n'
    return head + b'0' * (size - len(head) - len(tail)) + tail


# ---------------------------------------------------------------- 单位注册

REGISTRATION = dict(name='桂林漓江科技有限公司', credit_code=f.unit_credit_code(1), operator_name='王操作',
                    operator_phone='13907730001', account='lijiang_tech', password=PASSWORD, confirm=PASSWORD)


def test_valid_registration_creates_unit_and_operator():
    unit_id = units.register(**{**REGISTRATION, 'credit_code': REGISTRATION['credit_code'].lower()}, ip=f.IP)
    unit = f.unit_get(unit_id)
    assert unit.state == 'registered' and unit.version == 1
    assert unit.name == '桂林漓江科技有限公司' and unit.credit_code == f.unit_credit_code(1)   # upper-cased
    with session_scope() as s:
        user = s.exec(select(User).where(User.account == 'lijiang_tech')).one()
    assert (user.role, user.unit_id, user.phone, user.display_name) == ('unit', unit_id, '13907730001', '王操作')
    assert user.password_hash.startswith('$argon2id$') and PASSWORD not in user.password_hash
    token = f.login('lijiang_tech', roles=('unit',))
    actor = security.resolve_session(token)
    assert actor.role == 'unit' and actor.status == 'registered'
    [entry] = f.audit_rows('unit_registered')
    assert (entry.account, entry.object, entry.ip) == ('lijiang_tech', f'unit:{unit_id}', f.IP)
    assert my('lijiang_tech')['next_step'] == '请先完善单位信息和单位账户信息，然后提交审核'


def _wrong_check_digit(code: str) -> str:
    alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY'
    return code[:-1] + next(c for c in alphabet if c != code[-1])


@pytest.mark.parametrize('change, field', [
    ({'credit_code': _wrong_check_digit(f.unit_credit_code(1))}, '统一社会信用代码'),
    ({'credit_code': f.unit_credit_code(1)[:-1]}, '统一社会信用代码'),
    ({'operator_phone': '12907730001'}, '操作人手机号'),
    ({'operator_phone': '1390773000'}, '操作人手机号'),
    ({'password': 'abcdefgh', 'confirm': 'abcdefgh'}, '密码'),
    ({'password': 'Aa1#', 'confirm': 'Aa1#'}, '密码'),
    ({'password': 'Lijiang_tech#2026', 'confirm': 'Lijiang_tech#2026'}, '密码'),     # contains the account
    ({'confirm': PASSWORD + 'x'}, '确认密码'),
    ({'name': '   '}, '单位名称'),
    ({'operator_name': ''}, '操作人姓名'),
    ({'account': '1abc'}, '登录账号'),
])
def test_bad_registration_field_is_named_and_nothing_is_created(change, field):
    before = counts()
    with pytest.raises(FormErrors) as err:
        units.register(**{**REGISTRATION, **change})
    assert set(err.value.errors) == {field}
    assert err.value.errors[field].strip()
    assert counts() == before
    assert f.audit_rows('unit_registered') == []


def test_duplicate_account_is_refused_and_nothing_is_created():
    units.register(**REGISTRATION)
    before = counts()
    with pytest.raises(FormErrors) as err:
        units.register(**{**REGISTRATION, 'name': '另一家公司', 'credit_code': f.unit_credit_code(2)})
    assert set(err.value.errors) == {'登录账号'} and '已被使用' in err.value.errors['登录账号']
    assert counts() == before


def test_account_taken_by_staff_is_refused():
    f.staff('lijiang_tech', role='center')
    with pytest.raises(FormErrors) as err:
        units.register(**REGISTRATION)
    assert set(err.value.errors) == {'登录账号'}
    assert f.count_rows(Unit) == 0


def test_duplicate_credit_code_is_refused_and_nothing_is_created():
    units.register(**REGISTRATION)
    before = counts()
    with pytest.raises(FormErrors) as err:
        units.register(**{**REGISTRATION, 'account': 'other_account',
                          'credit_code': REGISTRATION['credit_code'].lower()})
    assert set(err.value.errors) == {'统一社会信用代码'} and '已注册' in err.value.errors['统一社会信用代码']
    assert counts() == before


def test_several_bad_fields_are_reported_together():
    with pytest.raises(FormErrors) as err:
        units.register(**{**REGISTRATION, 'operator_phone': 'abc', 'confirm': 'nope',
                          'credit_code': '123'})
    assert set(err.value.errors) == {'操作人手机号', '确认密码', '统一社会信用代码'}
    assert counts() == (0, 0)


# ---------------------------------------------------------------- 单位信息维护: 保存

def test_save_complete_info_bumps_version_and_audits():
    unit_id, account = f.unit_registered(1)
    version = my(account)['version']
    detail = save(account, f.unit_info(1, '七星区'))
    assert detail['version'] == version + 1
    assert (detail['org_name'], detail['allocation_label'], detail['unit_type']) == ('七星区', '城区', '企业')
    assert detail['address'] == '桂林市七星区测试路1号' and detail['state'] == 'registered'
    assert [r.object for r in f.audit_rows('unit_info_saved')] == [f'unit:{unit_id}']


def test_save_keeps_partial_data():
    _, account = f.unit_registered(2)
    partial = {'name': '桂林测试002有限公司', 'credit_code': f.unit_credit_code(2), 'unit_type': '企业',
               'allocation': 'district', 'org_id': None, 'industry': '软件', 'address': '', 'legal_rep': None,
               'contact_phone': '', 'intro': '半成品'}
    detail = save(account, partial)
    assert (detail['industry'], detail['intro'], detail['unit_type'], detail['allocation']) == \
        ('软件', '半成品', '企业', 'district')
    assert detail['address'] is None and detail['org_id'] is None
    again = my(account)                                                 # reload: still there
    assert (again['industry'], again['intro']) == ('软件', '半成品')
    # a later save with one bad field loses nothing that was saved
    with pytest.raises(FormErrors) as err:
        save(account, {**partial, 'industry': '硬件', 'contact_phone': 'abc'})
    assert set(err.value.errors) == {'单位联系电话'}
    again = my(account)
    assert (again['industry'], again['version']) == ('软件', detail['version'])


@pytest.mark.parametrize('cleared, field', [('name', '单位名称'), ('credit_code', '统一社会信用代码')])
def test_clearing_a_registration_field_is_refused_with_a_message(cleared, field):
    _, account = f.unit_registered(3)
    save(account, f.unit_info(3))
    before = my(account)
    with pytest.raises(FormErrors) as err:
        save(account, {**f.unit_info(3), cleared: '  '})
    assert field in err.value.errors
    after = my(account)
    assert (after['name'], after['credit_code'], after['version']) == \
        (before['name'], before['credit_code'], before['version'])


def test_enterprise_with_department_is_refused_naming_district():
    _, account = f.unit_registered(4)
    before = my(account)
    with pytest.raises(FormErrors) as err:
        save(account, f.unit_info(4, '市教育局', unit_type='企业'))
    assert '城区' in err.value.errors['单位分配管理']
    after = my(account)
    assert after['unit_type'] is None and after['version'] == before['version']


def test_central_institution_with_department_is_refused():
    _, account = f.unit_registered(5)
    with pytest.raises(FormErrors) as err:
        save(account, f.unit_info(5, '市教育局', unit_type='中区直事业单位'))
    assert '城区' in err.value.errors['单位分配管理']


def test_city_institution_with_district_is_refused_naming_department():
    _, account = f.unit_registered(6)
    with pytest.raises(FormErrors) as err:
        save(account, f.unit_info(6, '秀峰区', unit_type='市直机关事业单位'))
    assert '主管部门' in err.value.errors['单位分配管理']
    assert my(account)['allocation'] is None


def test_city_institution_with_department_is_accepted():
    _, account = f.unit_registered(7)
    detail = save(account, f.unit_info(7, '市教育局'))
    assert (detail['unit_type'], detail['allocation_label'], detail['org_name']) == \
        ('市直机关事业单位', '主管部门', '市教育局')


def test_org_kind_must_match_allocation():
    _, account = f.unit_registered(8)
    with pytest.raises(FormErrors) as err:       # 城区 chosen, but a department picked as 审核归属
        save(account, f.unit_info(8, '秀峰区', org_id=f.org_id('市教育局')))
    assert set(err.value.errors) == {'单位审核归属'}
    with pytest.raises(FormErrors) as err:       # 其他 may use 主管部门, but then a department must be picked
        save(account, f.unit_info(8, '市教育局', unit_type='其他', org_id=f.org_id('七星区')))
    assert set(err.value.errors) == {'单位审核归属'}
    assert my(account)['org_id'] is None


def test_other_type_may_use_either_allocation():
    _, account = f.unit_registered(9)
    assert save(account, f.unit_info(9, '市教育局', unit_type='其他'))['org_name'] == '市教育局'
    assert save(account, f.unit_info(9, '七星区', unit_type='其他'))['org_name'] == '七星区'


def test_disabled_or_unknown_org_is_refused():
    _, account = f.unit_registered(10)
    with session_scope() as s:
        org = s.exec(select(Org).where(Org.name == '雁山区')).one()
        org.enabled = False
        s.add(org)
    with pytest.raises(FormErrors) as err:
        save(account, f.unit_info(10, '雁山区'))
    assert set(err.value.errors) == {'单位审核归属'}
    with pytest.raises(FormErrors):
        save(account, f.unit_info(10, '秀峰区', org_id=999999))


@pytest.mark.parametrize('change, field', [
    ({'unit_type': '个体户'}, '单位类型'),
    ({'allocation': 'province'}, '单位分配管理'),
    ({'contact_phone': '12345'}, '单位联系电话'),
    ({'address': '路' * 201}, '单位地址'),
    ({'intro': '介' * 2001}, '单位简介'),
    ({'credit_code': 'ABC'}, '统一社会信用代码'),
])
def test_bad_info_fields_are_named(change, field):
    _, account = f.unit_registered(11)
    with pytest.raises(FormErrors) as err:
        save(account, f.unit_info(11, **change))
    assert field in err.value.errors


def test_credit_code_of_another_unit_is_refused():
    f.unit_registered(12)
    _, account = f.unit_registered(13)
    with pytest.raises(FormErrors) as err:
        save(account, f.unit_info(13, credit_code=f.unit_credit_code(12)))
    assert set(err.value.errors) == {'统一社会信用代码'}
    assert my(account)['credit_code'] == f.unit_credit_code(13)


def test_stale_version_is_refused():
    _, account = f.unit_registered(14)
    old = my(account)['version']
    save(account, f.unit_info(14, industry='第一次'))
    with pytest.raises(ValidationError) as err:
        units.save_info(op(account), f.unit_info(14, industry='第二次'), old)
    assert '刷新' in err.value.message
    assert my(account)['industry'] == '第一次'


def test_applicant_cannot_set_state_or_reviewer_fields():
    unit_id, account = f.unit_registered(15)
    save(account, {**f.unit_info(15), 'state': 'active', 'version': 99, 'licence_file_id': 1,
                   'submitted_at': '2026-01-01', 'id': 999})
    unit = f.unit_get(unit_id)
    assert (unit.id, unit.state, unit.licence_file_id, unit.submitted_at) == (unit_id, 'registered', None, None)
    assert unit.version == 2


# ---------------------------------------------------------------- 提交审核

def test_submit_without_licence_lists_the_licence():
    unit_id, account = f.unit_filled(16, licence=False)
    with pytest.raises(FormErrors) as err:
        units.submit(op(account), my(account)['version'])
    assert err.value.errors == {'营业执照': '请上传营业执照（或法人证书）'}     # marked next to the upload
    assert err.value.summary == '以下信息未填写或不正确，请补充后再提交审核：营业执照'
    assert f.unit_get(unit_id).state == 'registered' and f.unit_reviews(unit_id) == []


def test_submit_with_missing_fields_lists_them():
    unit_id, account = f.unit_registered(17)
    save(account, {'name': '桂林测试017有限公司', 'credit_code': f.unit_credit_code(17), 'industry': '软件'})
    with pytest.raises(FormErrors) as err:
        units.submit(op(account), my(account)['version'])
    missing = ['单位类型', '单位分配管理', '单位审核归属', '单位地址', '法定代表人', '单位联系电话', '营业执照']
    assert list(err.value.errors) == missing           # each marked next to its field; optional ones not
    assert err.value.summary == '以下信息未填写或不正确，请补充后再提交审核：' + '、'.join(missing)
    assert f.unit_get(unit_id).state == 'registered'


def test_submit_complete_unit_goes_to_pending_org(fake_clock):
    unit_id, account = f.unit_filled(18)
    result = units.submit(op(account), my(account)['version'])
    assert result['state'] == 'pending_org'
    unit = f.unit_get(unit_id)
    assert unit.state == 'pending_org' and unit.submitted_at == fake_clock.now
    assert my(account)['next_step'].startswith('单位信息已提交')


def test_submit_with_stale_version_is_a_conflict():
    unit_id, account = f.unit_filled(19)
    stale = my(account)['version'] - 1
    with pytest.raises(WorkflowError) as err:
        units.submit(op(account), stale)
    assert '已被他人处理' in str(err.value)
    assert f.unit_get(unit_id).state == 'registered'


def test_fields_and_licence_are_locked_while_pending():
    unit_id, account = f.unit_submitted(20)
    f.staff('xf_review', role='reviewer', org='秀峰区')
    before = my(account)
    assert before['editable'] == []
    with pytest.raises(ValidationError) as err:
        save(account, f.unit_info(20, address='新地址', name='改名有限公司'))
    assert '审核中' in err.value.message
    with pytest.raises(ValidationError) as err:
        upload(account, simple_pdf(['new licence']))
    assert err.value.field == '营业执照'
    unit = f.unit_get(unit_id)
    assert (unit.name, unit.address, unit.licence_file_id, unit.version) == \
        (before['name'], before['address'], before['licence']['id'], before['version'])
    # still locked at the center stage
    unit_review.review(f.actor_of_account('xf_review'), unit_id, 'approve', unit.version, None)
    with pytest.raises(ValidationError):
        save(account, f.unit_info(20, address='新地址'))
    assert f.unit_get(unit_id).address == before['address']


def test_after_active_only_contact_fields_change():
    unit_id, account = f.unit_submitted(21, '七星区')
    f.staff('qx_review', role='reviewer', org='七星区')
    f.staff('center_staff', role='center')
    unit_review.review(f.actor_of_account('qx_review'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    unit_review.review(f.actor_of_account('center_staff'), unit_id, 'approve', f.unit_get(unit_id).version, None)
    before = my(account)
    assert before['state'] == 'active'
    assert set(before['editable']) == {'industry', 'address', 'contact_phone', 'intro'}
    changed = f.unit_info(21, '叠彩区', name='改名后有限公司', credit_code=f.unit_credit_code(99),
                          legal_rep='新法人', address='桂林市七星区新地址1号', contact_phone='13807730000',
                          industry='新能源', intro='新简介')
    after = save(account, changed)
    assert (after['address'], after['contact_phone'], after['industry'], after['intro']) == \
        ('桂林市七星区新地址1号', '13807730000', '新能源', '新简介')
    assert (after['name'], after['credit_code'], after['legal_rep'], after['org_name'], after['state']) == \
        (before['name'], before['credit_code'], before['legal_rep'], '七星区', 'active')
    with pytest.raises(ValidationError):
        upload(account, simple_pdf(['another licence']))
    assert my(account)['licence']['id'] == before['licence']['id']


# ---------------------------------------------------------------- 营业执照 upload (F1, F2)

def test_licence_upload_stores_a_pdf_and_replaces_the_previous_one():
    unit_id, account = f.unit_filled(22, licence=False)
    first = upload(account, simple_pdf(['first']))['licence']
    assert first['mime'] == 'application/pdf' and first['name'] == '营业执照.pdf'
    second = upload(account, f.TINY_PNG, '执照扫描件.png')['licence']
    assert second['mime'] == 'image/png' and second['id'] != first['id']
    assert f.unit_get(unit_id).licence_file_id == second['id']
    assert files.open_for(op(account), first['id']) is None                 # the replaced one is gone
    opened = files.open_for(op(account), second['id'])
    assert opened is not None and opened[1].read_bytes() == f.TINY_PNG


REFUSED_UPLOADS = {
    'html_renamed_pdf': (b'<!DOCTYPE html><html><body><script>alert(1)</script></body></html>', '营业执照.pdf'),
    'html_polyglot_pdf': (b'%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n', '执照.pdf'),
    'windows_exe': (b'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff' + b'\x00' * 4096 + b'This program cannot '
                    b'be run in DOS mode.', '营业执照.pdf'),
    'exe_named_exe': (b'MZ\x90\x00' + b'\x00' * 1024, 'setup.exe'),
    'truncated_pdf': (b'%PDF-1.4\n1 0 obj << >> endobj\n', '营业执照.pdf'),
    'empty': (b'', '营业执照.pdf'),
}


@pytest.mark.parametrize('kind', list(REFUSED_UPLOADS))
def test_bad_licence_is_refused_and_the_previous_one_stays(kind):
    unit_id, account = f.unit_filled(23)
    before = my(account)
    on_disk, rows = stored_files_on_disk(), f.count_rows(StoredFile)
    data, name = REFUSED_UPLOADS[kind]
    with pytest.raises(ValidationError) as err:
        upload(account, data, name)
    assert err.value.field == '营业执照'
    assert any('\u4e00' <= ch <= '\u9fff' for ch in err.value.message)   # a Chinese message for the user
    if kind != 'empty':
        assert 'PDF' in err.value.message and 'JPG' in err.value.message and 'PNG' in err.value.message
    after = my(account)
    assert after['licence'] == before['licence'] and after['version'] == before['version']
    assert f.count_rows(StoredFile) == rows and stored_files_on_disk() == on_disk
    assert files.open_for(op(account), before['licence']['id']) is not None


def test_licence_over_20_mb_is_refused_and_the_previous_one_stays():
    unit_id, account = f.unit_filled(24)
    before = my(account)
    with pytest.raises(ValidationError) as err:
        upload(account, pdf_of_size(20 * MB + 1))
    assert err.value.field == '营业执照' and '20 MB' in err.value.message
    assert my(account)['licence'] == before['licence']
    assert f.unit_get(unit_id).licence_file_id == before['licence']['id']


def test_licence_of_exactly_20_mb_is_accepted():
    _, account = f.unit_filled(25, licence=False)
    licence = upload(account, pdf_of_size(20 * MB))['licence']
    assert licence['size'] == 20 * MB


def test_path_in_original_name_is_data_only():
    _, account = f.unit_filled(26, licence=False)
    licence = upload(account, simple_pdf(['x']), '../../etc/营业执照.pdf')['licence']
    assert licence['name'] == '营业执照.pdf'
    root = config.current().upload_dir.resolve()
    _, path = files.open_for(op(account), licence['id'])
    assert path.resolve().parent == root and '营业执照' not in path.name


def test_upload_with_stale_version_keeps_the_previous_licence():
    unit_id, account = f.unit_filled(27)
    before = my(account)
    save(account, f.unit_info(27, industry='变了'))          # another tab saved meanwhile
    with pytest.raises(ValidationError):
        units.upload_licence(op(account), simple_pdf(['late']), 'late.pdf', before['version'])
    assert f.unit_get(unit_id).licence_file_id == before['licence']['id']
    assert files.open_for(op(account), before['licence']['id']) is not None
    with session_scope() as s:
        live = s.exec(select(StoredFile).where(StoredFile.entity == 'unit', StoredFile.entity_id == unit_id,
                                               StoredFile.deleted_at.is_(None))).all()
    assert [r.id for r in live] == [before['licence']['id']]


def test_upload_is_audited():
    unit_id, account = f.unit_filled(28, licence=False)
    licence = upload(account, simple_pdf(['audited']))['licence']
    entries = [r for r in f.audit_rows('file_uploaded') if r.object == f'file:{licence["id"]}']
    assert len(entries) == 1 and entries[0].user_id == op(account).user_id
    assert entries[0].detail == f'unit:{unit_id}:licence'
