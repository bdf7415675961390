"""Persons (个人): the person machine, self-registration with an SMS code, 个人信息维护, the unit's
review of its persons and the persons a unit creates itself (SPEC §2.2, §3.1, §3.3, §3.5)."""
import secrets
import string
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import Person, Unit, User, person_phone, saved_id
from glrc_ui import clock, person_fields, search, security, validators, workflow
from glrc_ui.actor import Actor
from glrc_ui.errors import FormErrors, PermissionDenied, ValidationError
from glrc_ui.schema import FieldSpec, Schema
from glrc_ui.services import audit, sms
from glrc_ui.workflow import Entity, Machine, Stage, State


def _email_error(value: str) -> str | None:
    import re
    if not re.fullmatch(r'[^@\s]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', value):
        return '电子邮箱格式不正确'
    return None


def _date_error(value) -> str | None:
    return None if as_date(value) is not None else '日期格式不正确'


SCHEMA = Schema(
    FieldSpec('name', '姓名', required=True, max_len=50),
    FieldSpec('gender', '性别', 'select', required=True, choices=person_fields.GENDERS),
    FieldSpec('id_number', '身份证号', required=True, upper=True, check=validators.id_number_error),
    FieldSpec('birth_date', '出生日期', 'date', required=True, check=_date_error),
    FieldSpec('ethnicity', '民族', 'select', required=True, choices=person_fields.ETHNIC_GROUPS),
    FieldSpec('political_status', '政治面貌', 'select', choices=person_fields.POLITICAL_STATUS),
    FieldSpec('email', '电子邮箱', max_len=100, check=_email_error),
    FieldSpec('education', '最高学历', 'select', required=True, choices=person_fields.EDUCATION_LEVELS),
    FieldSpec('degree', '最高学位', 'select', choices=person_fields.DEGREES),
    FieldSpec('school', '毕业院校', required=True, max_len=100),
    FieldSpec('major', '所学专业', required=True, max_len=100),
    FieldSpec('title', '专业技术职称', max_len=50),
    FieldSpec('position', '职务', max_len=50),
    FieldSpec('work_start', '参加工作时间', 'date', check=_date_error),
    FieldSpec('address', '通讯地址', max_len=200, wide=True),
)
LABELS = SCHEMA.labels
DATE_FIELDS = ('birth_date', 'work_start')
# once active, the basic identity is fixed: applications copy it (SPEC §3.3)
LOCKED_WHEN_ACTIVE = ('name', 'id_number', 'gender', 'birth_date')
UNIT_LABEL = '所在单位'


def as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


# ---- the person machine (SPEC §2.2) ----------------------------------------------------------------
MACHINE = Machine.staged(
    'person',
    {'registered': State('未提交', 'grey-8', owner_editable=True, queued=False,
                         next_step='请先完善个人信息，然后提交所在单位审核'),
     'returned': State('退回修改', 'deep-orange-10', owner_editable=True,
                       next_step='个人信息被所在单位退回修改，请根据审核意见修改后重新提交审核',
                       notice='请根据审核意见修改个人信息后重新提交'),
     'active': State('审核通过', 'green-9', next_step='个人信息已审核通过，可以办理高层次人才认定申报等业务',
                     notice='个人账号已开通')},
    [Stage('pending_unit', '待单位审核', 'unit', 'own_unit', next_step='个人信息已提交，正在等待所在单位审核')],
    approved='active', returned='returned', sms_owner=True,
    extra=[workflow.submit_transition(source, 'pending_unit', 'person', lambda s, p: missing_for_submit(s, p),
                                      notify_next=True) for source in ('registered', 'returned')])
EDITABLE_STATES = tuple(name for name, state in MACHINE.states.items() if state.owner_editable)


def unit_of_actor(s: Session, actor: Actor) -> int | None:
    if actor.role != 'unit':
        return None
    user = s.get(User, actor.user_id)
    return user.unit_id if user is not None else None


def can_view(s: Session, actor: Actor, person: Person) -> bool:
    """The person itself; its own unit (an active one). Staff see persons through applications later."""
    if actor.role == 'person':
        return person.user_id == actor.user_id
    if actor.role == 'unit':
        return actor.status == 'active' and unit_of_actor(s, actor) == person.unit_id
    return False


def _owners(s: Session, person: Person) -> list[User]:
    user = s.get(User, person.user_id)
    return [user] if user is not None else []


def _acting_org(s: Session, actor: Actor, person: Person) -> tuple[int | None, str | None]:
    if actor.role == 'unit':
        unit = s.get(Unit, person.unit_id)
        return None, unit.name if unit else None
    return None, person.name


def _stage_users(s: Session, person: Person, state: str) -> list[int]:
    if state != 'pending_unit':
        return []
    return [user_id for user_id in s.exec(select(User.id).where(User.role == 'unit', User.unit_id == person.unit_id,
                                                               User.status == 'active')).all() if user_id]


ENTITY = Entity(
    machine=MACHINE, model=Person, owners=_owners, acting_org=_acting_org, stage_users=_stage_users,
    describe=lambda person: f'个人信息审核（{person.name}）', link='/person/info',
    review_link=lambda person: f'/unit/persons/{person.id}',
    scopes={'owner': lambda s, actor, person: actor.role == 'person' and person.user_id == actor.user_id,
            'own_unit': lambda s, actor, person: actor.role == 'unit' and can_view(s, actor, person)})


def register_entity() -> None:
    workflow.register(ENTITY)


# ---- registration ----------------------------------------------------------------------------------
def request_register_code(phone: str, ip: str | None) -> None:
    """获取验证码 on 个人注册: proves the phone (60 s between requests, 10 a day, 5 minutes, single use)."""
    phone = (phone or '').strip()
    if error := validators.phone_error(phone):
        raise ValidationError('手机号', error)
    if security.sms_ip_limit.hit(ip):
        raise ValidationError('验证码', security.BUSY)
    try:
        sms.issue_code(phone, 'register')
    except sms.SmsError as exc:
        raise ValidationError('验证码', str(exc)) from None


def search_units(keyword: str, limit: int = 20) -> list[dict]:
    """「所在单位」: active units whose name contains the keyword (at least 2 characters)."""
    keyword = (keyword or '').strip().replace('%', '').replace('_', '')[:50]
    if len(keyword) < 2:
        return []
    with read_scope() as s:
        rows = s.exec(select(Unit.id, Unit.name).where(Unit.state == 'active', search.contains(Unit, 'name', keyword))
                      .order_by(Unit.name).limit(limit)).all()
    return [{'id': unit_id, 'name': name} for unit_id, name in rows]


def register(phone: str, code: str, name: str, id_number: str, unit_id: int | None, password: str, confirm: str,
             ip: str | None = None) -> int:
    """个人注册. Raises FormErrors with a message per bad field; the code is consumed only when every
    other field is valid (a typo elsewhere does not cost the user the code)."""
    if security.register_ip_limit.hit(ip):
        raise FormErrors({'手机号': security.BUSY})
    phone, name = (phone or '').strip(), (name or '').strip()
    id_number = (id_number or '').strip().upper()
    errors: dict[str, str] = {}
    if e := validators.phone_error(phone):
        errors['手机号'] = e
    if not (code or '').strip():
        errors['验证码'] = '请输入验证码'
    if not name or len(name) > 50:
        errors['姓名'] = '请输入姓名（最多 50 字）'
    if e := validators.id_number_error(id_number):
        errors['身份证号'] = e
    if not unit_id:
        errors[UNIT_LABEL] = '请输入单位名称并从列表中选择所在单位'
    if e := validators.password_error(password, account=phone, phone=phone):
        errors['密码'] = e
    elif password != confirm:
        errors['确认密码'] = '两次输入的密码不一致'
    if errors:
        raise FormErrors(errors)
    with read_scope() as s:
        if taken := _taken(s, phone, id_number, unit_id):
            raise FormErrors(taken)
    password_hash = security.hash_password(password)  # slow: outside any transaction
    try:
        with session_scope() as s:
            if not sms.check_code(s, phone, 'register', code):
                problem = {'验证码': sms.CODE_INVALID}
            elif taken := _taken(s, phone, id_number, unit_id):
                problem = taken
            else:
                person = create(s, phone, name, id_number, int(unit_id or 0), password_hash)
                audit.record(s, 'person_registered', ip=ip, account=phone, account_known=True,
                             obj=f'person:{person.id}')
                return saved_id(person)
        raise FormErrors(problem)   # after the scope: the wrong try of the code is kept
    except IntegrityError:  # a parallel registration won the race: the unique constraints refused it
        with read_scope() as s:
            raise FormErrors(_taken(s, phone, id_number, unit_id) or {'手机号': '注册未完成，请重试'}) from None


def create(s: Session, phone: str, name: str, id_number: str, unit_id: int, password_hash: str, *,
           created_by_unit: bool = False) -> Person:
    """The login and the person row, in the caller's transaction (the checks are the caller's). A
    person created by its unit is active at once and must change the initial password first."""
    user = User(role='person', account=phone, phone=phone, display_name=name, password_hash=password_hash,
                status='active', must_change_password=created_by_unit)
    s.add(user)
    s.flush()
    person = Person(user_id=saved_id(user), unit_id=unit_id, name=name, id_number=id_number,
                    gender=validators.id_gender(id_number), birth_date=validators.id_birth_date(id_number),
                    state='active' if created_by_unit else 'registered', created_by_unit=created_by_unit)
    s.add(person)
    s.flush()
    return person


def _taken(s: Session, phone: str, id_number: str, unit_id: int | None) -> dict[str, str]:
    """Field messages for a phone or ID already registered (without saying whose) and a unit that is
    not active (any more)."""
    errors = {}
    if s.exec(select(User.id).where(person_phone(phone))).first() \
            or s.exec(select(User.id).where(User.account == phone)).first():
        errors['手机号'] = '该手机号已注册，请直接登录；如忘记密码可使用验证码登录'
    if s.exec(select(Person.id).where(Person.id_number == id_number)).first():
        errors['身份证号'] = '该身份证号已注册，如有疑问请联系所在单位或市人才服务中心'
    unit = s.get(Unit, unit_id) if unit_id else None
    if unit_id and (unit is None or unit.state != 'active'):
        errors[UNIT_LABEL] = '所选单位当前不能接受个人注册（未通过审核或已停用），请重新选择'
    return errors


# ---- the person's own information -------------------------------------------------------------------
def own_person(s: Session, actor: Actor, *, lock: bool = False) -> Person:
    query = select(Person).where(Person.user_id == actor.user_id)
    if lock:
        query = query.with_for_update()
    person = s.exec(query).first()
    if person is None or actor.role != 'person':
        raise PermissionDenied()
    return person


def my_person(actor: Actor) -> dict:
    with read_scope() as s:
        person = own_person(s, actor)
        return detail(s, person, actor)


def editable_fields(state: str) -> tuple[str, ...]:
    if state in EDITABLE_STATES:
        return tuple(LABELS)
    if state == 'active':
        return tuple(name for name in LABELS if name not in LOCKED_WHEN_ACTIVE)
    return ()


def field_errors(values: dict, *, complete: bool) -> dict[str, str]:
    errors = SCHEMA.errors(values, complete=complete, always=('name', 'id_number'))
    if not errors.get('身份证号'):
        for label, message in person_fields.id_mismatch(values.get('id_number'), values.get('birth_date'),
                                                        values.get('gender')).items():
            errors.setdefault(label, message)
    return errors


def save_info(actor: Actor, data: dict, expected_version: int) -> dict:
    """保存: what is filled must be right (formats, choices, agreement with the 身份证号); completeness
    is checked at 提交审核. Fields locked in this state keep their stored values."""
    with session_scope() as s:
        person = own_person(s, actor, lock=True)
        if person.version != expected_version:
            raise ValidationError('', '个人信息已在其他页面修改或状态已变化，请刷新页面后再保存')
        allowed = editable_fields(person.state)
        if not allowed:
            raise ValidationError('', '个人信息正在审核中，暂不能修改')
        stored = _values(person)
        values = SCHEMA.clean({**stored, **{k: v for k, v in data.items() if k in allowed}})
        if errors := field_errors(values, complete=False):
            raise FormErrors(errors)
        if values['id_number'] != person.id_number and \
                s.exec(select(Person.id).where(Person.id_number == values['id_number'], Person.id != person.id)).first():
            raise FormErrors({'身份证号': '该身份证号已注册，如有疑问请联系所在单位或市人才服务中心'})
        changed = []
        for key in allowed:
            value = as_date(values.get(key)) if key in DATE_FIELDS else values.get(key)
            if getattr(person, key) != value:
                setattr(person, key, value)
                changed.append(key)
        if 'name' in changed:
            user = s.get(User, person.user_id)
            if user is not None:
                user.display_name = person.name
                s.add(user)
        person.version += 1
        person.updated_at = clock.now()
        s.add(person)
        audit.record(s, 'person_info_saved', actor=actor, obj=f'person:{person.id}', detail=','.join(changed)[:500])
        return detail(s, person, actor)


def missing_for_submit(s: Session, person: Person) -> dict[str, str]:
    return field_errors(_values(person), complete=True)


def submit(actor: Actor, expected_version: int) -> dict:
    """提交审核 to the unit. Whatever is missing is named per field, besides the summary."""
    with session_scope() as s:
        person = own_person(s, actor)
        if person.state in EDITABLE_STATES and person.version == expected_version:
            workflow.require_complete(s, person, missing_for_submit)
        unit = s.get(Unit, person.unit_id)
        if unit is None or unit.state != 'active':
            raise ValidationError(UNIT_LABEL, '所在单位当前不能审核（未通过审核或已停用），请联系所在单位或市人才服务中心')
        return workflow.fire(s, 'person', saved_id(person), 'submit', actor, expected_version)


def _values(person: Person) -> dict:
    return {key: (getattr(person, key).isoformat() if key in DATE_FIELDS and getattr(person, key) else
                  getattr(person, key)) for key in LABELS}


def detail(s: Session, person: Person, actor: Actor, *, unmasked: bool = True) -> dict:
    """Everything shown about a person: fields, sheet, history, unit, the actions this actor may take."""
    user = s.get(User, person.user_id)
    unit = s.get(Unit, person.unit_id)
    history = workflow.history('person', saved_id(person), s)
    values = _values(person)
    state = MACHINE.state(person.state)
    phone = (user.phone or '') if user else ''
    shown = dict(values)
    if not unmasked:
        shown['id_number'] = person_fields.mask_id(person.id_number)
    return {
        'id': person.id, 'version': person.version, 'state': person.state, 'state_label': state.label,
        'state_color': state.color, **values, 'phone': phone, 'unit_id': person.unit_id,
        'unit_name': unit.name if unit else '',
        'sheet': SCHEMA.sheet(shown) + [('手机号', phone if unmasked else person_fields.mask_phone(phone)),
                                        (UNIT_LABEL, unit.name if unit else ''), ('状态', state.label),
                                        ('提交时间', clock.local(person.submitted_at)),
                                        ('注册时间', clock.local(person.created_at))],
        'history': history, 'last_opinion': next((h['opinion'] for h in reversed(history) if h['opinion']), ''),
        'next_step': state.next_step, 'created_by_unit': person.created_by_unit,
        'editable': list(editable_fields(person.state)) if actor.role == 'person' else [],
        'actions': workflow.action_choices('person', s, actor, person),
    }


# ---- the unit's side (SPEC §3.5) ---------------------------------------------------------------------
UNIT_ROLES = ('unit',)
INITIAL_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def _unit_person(s: Session, actor: Actor, person_id: int) -> Person:
    """A person of the actor's own (active) unit; anything else is refused and audited alike."""
    person = s.get(Person, person_id)
    if person is None or not can_view(s, actor, person) or actor.role != 'unit':
        audit.deny(s, actor=actor, obj=f'person:{person_id}')
        raise PermissionDenied('该人员不存在或不属于本单位')
    return person


def detail_for_unit(actor: Actor, person_id: int) -> dict:
    """审核: the person's full information (unmasked only here, for its own unit) and the history."""
    with session_scope() as s:  # writes the audit entry
        person = _unit_person(s, actor, person_id)
        audit.record(s, 'person_viewed', actor=actor, obj=f'person:{person_id}')
        return detail(s, person, actor)


def review(actor: Actor, person_id: int, action: str, expected_version: int, opinion: str | None) -> dict:
    """通过 / 退回修改 by the person's unit."""
    if action not in ('approve', 'return_'):
        from glrc_ui.errors import WorkflowError
        raise WorkflowError('不支持的审核操作')
    with session_scope() as s:
        _unit_person(s, actor, person_id)
        return workflow.fire(s, 'person', person_id, action, actor, expected_version, opinion)


def unit_queue(actor: Actor, status: str = 'pending', keyword: str = '', date_from: date | None = None,
               date_to: date | None = None, sort_by: str = 'submitted_at', descending: bool = False,
               page: int = 1, per_page: int = 20, after=None):
    """单位人员账号设置: the unit's persons, paged on the server. status: pending | all (| done)."""
    from datetime import datetime, time, timedelta

    from glrc_ui import paging
    with read_scope() as s:
        unit_id = unit_of_actor(s, actor)
        if unit_id is None or actor.status != 'active':
            return paging.Page([], 0, None)
        query = select(Person).where(Person.unit_id == unit_id)
        if status == 'pending':
            query = query.where(Person.state == 'pending_unit')
        elif status == 'done':
            query = query.where(col(Person.state).in_(('active', 'returned')))
        keyword = (keyword or '').strip()[:50]
        if keyword and validators.id_number_error(keyword.upper()) is None:
            query = query.where(Person.id_number == keyword.upper())
        elif keyword and validators.phone_error(keyword) is None:
            # one person login per phone (ux_app_user_person_phone): read the person by its user_id,
            # not every person of the unit checked against the phone
            query = query.where(Person.user_id == select(User.id).where(person_phone(keyword)).scalar_subquery())
        elif keyword:
            query = query.where(search.contains(Person, 'name', keyword))
        stamp = col(Person.created_at) if status == 'all' else col(Person.submitted_at)
        if date_from:
            query = query.where(stamp >= datetime.combine(date_from, time.min, clock.SHANGHAI))
        if date_to:
            query = query.where(stamp < datetime.combine(date_to + timedelta(days=1), time.min, clock.SHANGHAI))
        sorts = {'submitted_at': Person.submitted_at, 'created_at': Person.created_at, 'name': Person.name,
                 'state': Person.state}
        result = paging.fetch(s, query, sorts=sorts, id_column=Person.id, sort_by=sort_by,
                              default_sort='created_at' if status == 'all' else 'submitted_at',
                              descending=descending, page=page, per_page=per_page, after=after,
                              not_null=('created_at',) if status == 'all' else ('submitted_at',))
        phones = dict(s.exec(select(User.id, User.phone).where(
            col(User.id).in_({p.user_id for p in result.items}))).all())
        result.items = [{'id': p.id, 'name': p.name, 'phone': person_fields.mask_phone(phones.get(p.user_id)),
                         'id_number': person_fields.mask_id(p.id_number), 'state': p.state,
                         'state_label': MACHINE.label(p.state), 'created_at': clock.local(p.created_at),
                         'submitted_at': clock.local(p.submitted_at), 'version': p.version,
                         'can_review': p.state == 'pending_unit'} for p in result.items]
        return result


def pending_summary(actor: Actor) -> dict:
    """For the unit's 首页: how many of its persons wait for its review, and since when."""
    from sqlalchemy import func
    with read_scope() as s:
        unit_id = unit_of_actor(s, actor)
        if unit_id is None or actor.status != 'active':
            return {'count': 0, 'oldest': ''}
        count, oldest = s.exec(select(func.count(), func.min(Person.submitted_at))
                               .where(Person.unit_id == unit_id, Person.state == 'pending_unit')).one()
    return {'count': count, 'oldest': clock.local(oldest)}


def create_by_unit(actor: Actor, name: str, phone: str, id_number: str) -> int:
    """新增单位人员: an active person of the actor's unit, the phone as account, a random initial password
    sent only by SMS (masked in the stored SMS record); the first login forces a password change."""
    name, phone, id_number = (name or '').strip(), (phone or '').strip(), (id_number or '').strip().upper()
    errors: dict[str, str] = {}
    if not name or len(name) > 50:
        errors['姓名'] = '请输入姓名（最多 50 字）'
    if e := validators.phone_error(phone):
        errors['手机号'] = e
    if e := validators.id_number_error(id_number):
        errors['身份证号'] = e
    if errors:
        raise FormErrors(errors)
    password = ''.join(secrets.choice(INITIAL_PASSWORD_ALPHABET) for _ in range(10)) + secrets.choice('#@!%')
    password_hash = security.hash_password(password)
    try:
        with session_scope() as s:
            unit_id = unit_of_actor(s, actor)
            if unit_id is None or actor.status != 'active':
                raise PermissionDenied('单位审核通过后才能新增单位人员')
            if taken := {k: v for k, v in _taken(s, phone, id_number, unit_id).items() if k != UNIT_LABEL}:
                raise FormErrors(taken)
            person = create(s, phone, name, id_number, unit_id, password_hash, created_by_unit=True)
            workflow.record_creation(s, 'person', person, actor, '单位新增人员')
            audit.record(s, 'person_created_by_unit', actor=actor, obj=f'person:{person.id}')
            unit = s.get(Unit, unit_id)
            sms.send_message(s, phone, f'【桂林市人才服务】{unit.name if unit else "您的单位"}已为您开通个人账号，'
                             f'登录账号为本手机号，初始密码 {password}，首次登录后请立即修改密码。', 'account',
                             secret=password)
            return saved_id(person)
    except IntegrityError:
        with read_scope() as s:
            raise FormErrors(_taken(s, phone, id_number, None) or {'手机号': '保存未完成，请重试'}) from None
