"""The person machine and services (SPEC §2.2, §3.1, §3.3, §3.5): registration with an SMS code,
个人信息维护, submit to the unit, the unit's review and scope, persons created by the unit."""
import threading

import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import Notification, Person, SmsMessage, User
from glrc_ui import security
from glrc_ui.errors import ConflictError, FormErrors, PermissionDenied, ValidationError, WorkflowError
from glrc_ui.services import persons, unit_review
from tests import factories as f
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


@pytest.fixture
def unit():
    """An active unit of 秀峰区: (unit id, operator account)."""
    return f.unit_active(70)


def notes_of(user_id: int) -> list[Notification]:
    with session_scope() as s:
        return list(s.exec(select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)).all())


def user_of_phone(phone: str) -> User:
    with session_scope() as s:
        return s.exec(select(User).where(User.phone == phone, User.role == 'person')).one()


# ---------------------------------------------------------------- registration
def test_registration_creates_a_registered_person_from_the_id(unit):
    unit_id, _ = unit
    person_id = f.person_registered(1, unit_id, gender='女')
    person = f.person_get(person_id)
    assert (person.state, person.unit_id, person.gender, person.birth_date.isoformat()) == \
        ('registered', unit_id, '女', '1985-03-12')
    user = user_of_phone(f.person_phone(1))
    assert (user.account, user.role, user.display_name) == (f.person_phone(1), 'person', '测试人员001')
    assert security.actor_of(user, None, None).role == 'person'
    assert f.actor_of_account(user.account).status == 'registered'     # the person's state, not the user's


def test_registration_refuses_a_wrong_code_and_keeps_the_count(unit):
    unit_id, _ = unit
    phone = f.person_phone(2)
    persons.request_register_code(phone, None)
    code = f.last_code(phone, 'register')
    wrong = '000000' if code != '000000' else '111111'
    with pytest.raises(FormErrors) as refused:
        persons.register(phone, wrong, '张三', f.id_number(2), unit_id, PASSWORD, PASSWORD)
    assert refused.value.errors == {'验证码': '验证码错误或已失效，请重新获取'}
    assert persons.register(phone, code, '张三', f.id_number(2), unit_id, PASSWORD, PASSWORD)   # still valid
    with pytest.raises(FormErrors) as reused:   # single use
        persons.register(phone, code, '张三', f.id_number(3), unit_id, PASSWORD, PASSWORD)
    assert '手机号' in reused.value.errors


def test_registration_field_messages(unit):
    unit_id, _ = unit
    bad_id = f.id_number(4)[:-1] + ('0' if f.id_number(4)[-1] != '0' else '1')
    with pytest.raises(FormErrors) as refused:
        persons.register('1380000', '', '', bad_id, None, 'abc', 'abd')
    assert set(refused.value.errors) == {'手机号', '验证码', '姓名', '身份证号', '所在单位', '密码'}
    assert refused.value.errors['身份证号'] == '身份证号校验位不正确，请核对'
    with pytest.raises(FormErrors) as mismatch:
        persons.register(f.person_phone(4), '123456', '张三', f.id_number(4), unit_id, PASSWORD, PASSWORD + 'x')
    assert mismatch.value.errors == {'确认密码': '两次输入的密码不一致'}


def test_one_account_per_phone_and_per_id_number(unit):
    unit_id, _ = unit
    f.person_registered(5, unit_id)
    phone = f.person_phone(6)
    persons.request_register_code(phone, None)
    with pytest.raises(FormErrors) as refused:
        persons.register(phone, f.last_code(phone, 'register'), '李四', f.id_number(5), unit_id, PASSWORD, PASSWORD)
    assert refused.value.errors == {'身份证号': '该身份证号已注册，如有疑问请联系所在单位或市人才服务中心'}
    with pytest.raises(FormErrors) as again:
        persons.register(f.person_phone(5), '123456', '李四', f.id_number(6), unit_id, PASSWORD, PASSWORD)
    assert again.value.errors == {'手机号': '该手机号已注册，请直接登录；如忘记密码可使用验证码登录'}


def test_only_active_units_take_registrations():
    pending_id, _ = f.unit_submitted(71)
    active_id, _ = f.unit_active(72)
    assert [u['id'] for u in persons.search_units('测试07')] == [active_id]     # searched, active only
    assert persons.search_units('桂') == []                                     # at least two characters
    phone = f.person_phone(7)
    persons.request_register_code(phone, None)
    with pytest.raises(FormErrors) as refused:
        persons.register(phone, f.last_code(phone, 'register'), '王五', f.id_number(7), pending_id, PASSWORD, PASSWORD)
    assert refused.value.errors == {'所在单位': '所选单位当前不能接受个人注册（未通过审核或已停用），请重新选择'}
    assert pending_id != active_id


# ---------------------------------------------------------------- 个人信息维护 and the machine
def test_save_keeps_a_draft_and_checks_agreement_with_the_id(unit):
    unit_id, _ = unit
    person_id = f.person_registered(8, unit_id)
    actor = f.person_actor(8)
    version = persons.my_person(actor)['version']
    detail = persons.save_info(actor, {'school': '桂林理工大学'}, version)       # a draft: incomplete is fine
    assert detail['school'] == '桂林理工大学' and f.person_get(person_id).state == 'registered'
    with pytest.raises(FormErrors) as refused:
        persons.save_info(actor, {'birth_date': '1986-01-01', 'gender': '女', 'email': 'not-mail',
                                  'ethnicity': '火星族'}, detail['version'])
    assert refused.value.errors == {
        '出生日期': '出生日期与身份证号不一致（身份证号中为 1985-03-12）',
        '性别': '性别与身份证号不一致（身份证号中为 男）',
        '电子邮箱': '电子邮箱格式不正确', '民族': '民族不正确，请从列表中选择'}
    assert f.person_get(person_id).school == '桂林理工大学'                     # nothing half-saved


def test_submit_lists_every_missing_field(unit):
    unit_id, _ = unit
    f.person_registered(9, unit_id)
    actor = f.person_actor(9)
    with pytest.raises(FormErrors) as refused:
        persons.submit(actor, persons.my_person(actor)['version'])
    assert list(refused.value.errors) == ['民族', '最高学历', '毕业院校', '所学专业']
    assert refused.value.summary == '以下信息未填写或不正确，请补充后再提交审核：民族、最高学历、毕业院校、所学专业'


def test_the_whole_path_with_a_return(unit):
    unit_id, operator = unit
    person_id = f.person_submitted(10, unit_id)
    op = f.actor_of_account(operator)
    assert f.person_get(person_id).state == 'pending_unit'
    [note] = notes_of(op.user_id)[-1:]       # the unit hears of the submission, with a link to the review
    assert note.title == '待审核：个人信息审核（测试人员010）' and note.link == f'/unit/persons/{person_id}'
    assert persons.unit_queue(op, 'pending').total == 1
    with pytest.raises(WorkflowError) as no_opinion:
        persons.review(op, person_id, 'return_', f.person_get(person_id).version, '')
    assert no_opinion.value.field == '审核意见'
    persons.review(op, person_id, 'return_', f.person_get(person_id).version, '请补充职称证书信息')
    person_user = user_of_phone(f.person_phone(10))
    title, body = notes_of(person_user.id)[-1].title, notes_of(person_user.id)[-1].body
    assert title == '桂林测试070有限公司退回修改，请根据审核意见修改个人信息后重新提交'
    assert body == '事项：个人信息审核（测试人员010）\n审核意见：请补充职称证书信息'
    actor = f.person_actor(10)
    assert f.actor_of_account(actor.account).status == 'returned'
    detail = persons.save_info(actor, {'title': '高级工程师'}, persons.my_person(actor)['version'])
    persons.submit(actor, detail['version'])
    persons.review(op, person_id, 'approve', f.person_get(person_id).version, None)
    assert f.person_get(person_id).state == 'active'
    assert notes_of(person_user.id)[-1].title == '桂林测试070有限公司审核通过，个人账号已开通'
    with session_scope() as s:
        texts = [m.text for m in s.exec(select(SmsMessage).where(SmsMessage.phone == f.person_phone(10))).all()]
    assert any('退回修改' in t and '请补充职称证书信息' in t for t in texts)
    assert any('个人账号已开通' in t for t in texts)
    history = persons.my_person(actor)['history']
    assert [h['action'] for h in history] == ['submit', 'return_', 'submit', 'approve']
    assert history[1]['org'] == '桂林测试070有限公司'


def test_identity_fields_lock_once_active(unit):
    unit_id, operator = unit
    person_id = f.person_submitted(11, unit_id)
    actor = f.person_actor(11)
    with pytest.raises(ValidationError):     # pending: everything locked
        persons.save_info(actor, {'school': 'x'}, persons.my_person(actor)['version'])
    persons.review(f.actor_of_account(operator), person_id, 'approve', f.person_get(person_id).version, None)
    detail = persons.my_person(actor)
    assert set(detail['editable']) == set(persons.LABELS) - {'name', 'id_number', 'gender', 'birth_date'}
    persons.save_info(actor, {'name': '改名', 'school': '桂林电子科技大学'}, detail['version'])
    person = f.person_get(person_id)
    assert (person.name, person.school) == ('测试人员011', '桂林电子科技大学')   # the name stayed


# ---------------------------------------------------------------- scope
def test_another_unit_and_the_person_itself_cannot_review(unit):
    unit_id, _ = unit
    person_id = f.person_submitted(12, unit_id)
    _, other = f.unit_active(73)
    stranger = f.actor_of_account(other)
    for call in (lambda: persons.detail_for_unit(stranger, person_id),
                 lambda: persons.review(stranger, person_id, 'approve', f.person_get(person_id).version, None)):
        with pytest.raises(PermissionDenied):
            call()
    assert persons.unit_queue(stranger, 'all').total == 0
    assert any(r.object == f'person:{person_id}' for r in f.audit_rows('permission_denied'))
    with pytest.raises(PermissionDenied):
        persons.review(f.person_actor(12), person_id, 'approve', f.person_get(person_id).version, None)
    reviewer = f.actor_of_account('rev_u070')       # district reviewers do not review persons
    with pytest.raises(PermissionDenied):
        persons.detail_for_unit(reviewer, person_id)
    assert f.person_get(person_id).state == 'pending_unit'


def test_two_clicks_make_one_transition(unit):
    unit_id, operator = unit
    person_id = f.person_submitted(13, unit_id)
    op = f.actor_of_account(operator)
    version = f.person_get(person_id).version
    barrier, results = threading.Barrier(4), []

    def click() -> None:
        barrier.wait()
        try:
            persons.review(op, person_id, 'approve', version, None)
            results.append('ok')
        except ConflictError:
            results.append('conflict')
    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ['conflict', 'conflict', 'conflict', 'ok']
    assert [h['action'] for h in persons.detail_for_unit(op, person_id)['history']] == ['submit', 'approve']


# ---------------------------------------------------------------- persons created by the unit
def test_a_unit_creates_an_active_person_with_an_initial_password_by_sms(unit):
    unit_id, operator = unit
    op = f.actor_of_account(operator)
    phone = f.person_phone(14)
    person_id = persons.create_by_unit(op, '赵六', phone, f.id_number(14, gender='女'))
    person = f.person_get(person_id)
    assert (person.state, person.created_by_unit, person.gender) == ('active', True, '女')
    user = user_of_phone(phone)
    assert user.must_change_password and user.account == phone
    [line] = [x for x in f.outbox_lines() if x['phone'] == phone]
    password = line['code']
    assert password and password in line['text']                       # only the phone gets it …
    with session_scope() as s:
        [stored] = s.exec(select(SmsMessage).where(SmsMessage.phone == phone)).all()
    assert password not in stored.text and '******' in stored.text      # … the database record is masked
    token, actor = security.login_password(('person',), phone, password, None)
    assert actor.must_change_password and token
    history = persons.detail_for_unit(op, person_id)['history']
    assert [(h['action'], h['to']) for h in history] == [('create', '审核通过')]


def test_a_unit_cannot_create_a_duplicate_or_create_before_it_is_active(unit):
    unit_id, operator = unit
    op = f.actor_of_account(operator)
    persons.create_by_unit(op, '钱七', f.person_phone(15), f.id_number(15))
    with pytest.raises(FormErrors) as refused:
        persons.create_by_unit(op, '孙八', f.person_phone(15), f.id_number(15))
    assert set(refused.value.errors) == {'手机号', '身份证号'}
    _, pending_account = f.unit_submitted(74)
    with pytest.raises(PermissionDenied):
        persons.create_by_unit(f.actor_of_account(pending_account), '周九', f.person_phone(16), f.id_number(16))
    assert f.count_rows(Person) == 1


def test_the_unit_queue_masks_phone_and_id(unit):
    unit_id, operator = unit
    f.person_submitted(17, unit_id)
    [row] = persons.unit_queue(f.actor_of_account(operator), 'pending').items
    assert row['phone'] == f.person_phone(17)[:3] + '****' + f.person_phone(17)[-4:]
    assert row['id_number'] == f.id_number(17)[:6] + '********' + f.id_number(17)[-4:]
    assert unit_review.queue(f.actor_of_account('ctr_u070'), 'all')[1] >= 1   # units unaffected


# ---------------------------------------------------------------- 更换手机号 (the person's login)
def test_changing_the_phone_needs_a_code_sent_to_the_new_phone_and_ends_every_session(unit):
    from glrc_ui.services import accounts
    unit_id, _ = unit
    f.person_registered(30, unit_id)
    actor = f.person_actor(30)
    token = f.login(f.person_phone(30), roles=('person',))
    new_phone = f.person_phone(31)
    accounts.request_phone_change_code(actor, new_phone)
    code = f.last_code(new_phone, 'change_phone')                  # sent to the NEW phone
    assert not [x for x in f.outbox_lines() if x['phone'] == f.person_phone(30) and x['purpose'] == 'change_phone']
    with pytest.raises(ValidationError) as wrong_password:
        accounts.change_phone(actor, 'Wr0ng#Guess', new_phone, code)
    assert wrong_password.value.field == '原密码'
    with pytest.raises(ValidationError) as wrong_code:
        accounts.change_phone(actor, PASSWORD, new_phone, '000000' if code != '000000' else '111111')
    assert (wrong_code.value.field, wrong_code.value.message) == ('验证码', '验证码错误或已失效，请重新获取')
    assert security.resolve_session(token) is not None             # nothing changed yet
    accounts.change_phone(actor, PASSWORD, new_phone, code)
    user = user_of_phone(new_phone)
    assert user.account == new_phone
    assert security.resolve_session(token) is None                  # every session ended
    assert security.session_end_reason(token) == 'credentials_changed'
    assert security.login_password(('person',), new_phone, PASSWORD, None)[1].user_id == user.id
    with pytest.raises(security.LoginError):
        security.login_password(('person',), f.person_phone(30), PASSWORD, None)


def test_a_phone_in_use_cannot_be_taken(unit):
    from glrc_ui.services import accounts
    unit_id, _ = unit
    f.person_registered(32, unit_id)
    f.person_registered(33, unit_id)
    for phone, message in ((f.person_phone(33), '该手机号已被其他账号使用'), (f.person_phone(32), '新手机号与当前手机号相同'),
                           ('1234', '手机号格式不正确，应为 11 位大陆手机号')):
        with pytest.raises(ValidationError) as refused:
            accounts.request_phone_change_code(f.person_actor(32), phone)
        assert (refused.value.field, refused.value.message) == ('新手机号', message)
    with pytest.raises(PermissionDenied):
        accounts.request_phone_change_code(f.actor_of_account('rev_u070'), f.person_phone(34))


def test_a_registration_that_loses_the_race_gets_the_same_field_message(unit, monkeypatch, fake_clock):
    """Both checks passed before the other registration committed: the unique index refuses the row
    and the user reads the same message as when the phone was taken before."""
    unit_id, _ = unit
    f.person_registered(35, unit_id)
    real, calls = persons._taken, []

    def blind_then_real(*args):
        calls.append(1)
        return {} if len(calls) <= 2 else real(*args)   # the pre-check and the in-transaction check miss it
    monkeypatch.setattr(persons, '_taken', blind_then_real)
    phone = f.person_phone(35)
    fake_clock.advance(seconds=61)        # a new code for the same phone may be asked for after 60 s
    persons.request_register_code(phone, None)
    with pytest.raises(FormErrors) as refused:
        persons.register(phone, f.last_code(phone, 'register'), '抢注', f.id_number(36), unit_id, PASSWORD, PASSWORD)
    assert refused.value.errors == {'手机号': '该手机号已注册，请直接登录；如忘记密码可使用验证码登录'}
    assert len(calls) == 3 and f.count_rows(Person) == 1


def test_a_person_cannot_rename_itself_in_the_account_settings(unit):
    from glrc_ui.services import accounts
    unit_id, _ = unit
    person_id = f.person_registered(37, unit_id)
    actor = f.person_actor(37)
    with pytest.raises(ValidationError) as refused:
        accounts.update_profile(actor, '别名')
    assert (refused.value.field, refused.value.message) == ('姓名', accounts.PERSON_NAME_ELSEWHERE)
    accounts.update_profile(actor, '测试人员037')                  # unchanged: fine
    assert user_of_phone(f.person_phone(37)).display_name == f.person_get(person_id).name == '测试人员037'
