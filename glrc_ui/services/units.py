"""Employers (单位): the unit machine, registration, unit info with its licence (SPEC §2.1, §3.1, §3.2).
The review side (queue, detail, decisions) is glrc_ui/services/unit_review.py."""
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.engine import read_scope, session_scope
from db.models import ALLOCATIONS, UNIT_TYPES, Org, StoredFile, Unit, User, saved_id
from glrc_ui import clock, security, validators, workflow
from glrc_ui.actor import Actor
from glrc_ui.errors import FormErrors, PermissionDenied, ValidationError
from glrc_ui.schema import FieldSpec, Schema
from glrc_ui.services import audit, files, orgs
from glrc_ui.workflow import Entity, Machine, Stage, State, Transition

__all__ = ['PermissionDenied']  # re-raised to pages as the one permission error

CENTER_NAME = '桂林市人才服务中心'
SCHEMA = Schema(
    FieldSpec('name', '单位名称', required=True, max_len=100),
    FieldSpec('credit_code', '统一社会信用代码', required=True, upper=True, check=validators.credit_code_error),
    FieldSpec('unit_type', '单位类型', 'select', required=True, choices=UNIT_TYPES),
    FieldSpec('allocation', '单位分配管理', 'select', required=True, choices=ALLOCATIONS,
              hint='企业、中区直事业单位选择“城区”；市直机关事业单位选择“主管部门”'),
    FieldSpec('org_id', '单位审核归属', 'select', required=True, hint='城区：单位纳税所属县区；主管部门：本单位所属主管部门'),
    FieldSpec('industry', '所属行业', max_len=50),
    FieldSpec('address', '单位地址', required=True, max_len=200),
    FieldSpec('legal_rep', '法定代表人', required=True, max_len=50),
    FieldSpec('contact_phone', '单位联系电话', required=True, check=validators.contact_phone_error),
    FieldSpec('intro', '单位简介', 'textarea', max_len=2000, wide=True),
)
LABELS = SCHEMA.labels
# once active, only contact details may change without a new review
ACTIVE_EDITABLE = ('industry', 'address', 'contact_phone', 'intro')
PAIRING = {'企业': 'district', '中区直事业单位': 'district', '市直机关事业单位': 'department'}


# ---- the unit machine (SPEC §2.1) ----------------------------------------------------------------
LICENCE = '营业执照'


def missing_for_submit(s: Session, unit: Unit) -> dict[str, str]:
    """What 提交审核 still lacks: {label: message} for every field, and the licence."""
    missing = field_errors(s, {key: getattr(unit, key) for key in LABELS}, unit.id, complete=True)
    if not unit.licence_file_id:
        missing[LICENCE] = '请上传营业执照（或法人证书）'
    return missing


def _end_sessions(s: Session, unit: Unit, actor: Actor, data: dict) -> None:
    for user in _owners(s, unit):
        security.end_all_sessions(s, saved_id(user), 'disabled')


MACHINE = Machine.staged(
    'unit',
    {'registered': State('未提交', 'grey-8', owner_editable=True, queued=False,
                         next_step='请先完善单位信息和单位账户信息，然后提交审核'),
     'returned': State('退回修改', 'deep-orange-10', owner_editable=True,
                       next_step='单位信息被退回修改，请根据审核意见修改后重新提交审核',
                       notice='请根据审核意见修改单位信息后重新提交'),
     'active': State('审核通过', 'green-9', next_step='单位账号已审核通过，可以使用人才服务相关功能',
                     notice='单位账号已开通'),
     'disabled': State('已停用', 'red-9', next_step='单位账号已停用，请联系市人才服务中心')},
    [Stage('pending_org', '待城区/主管部门审核', 'reviewer', 'org', next_step='单位信息已提交，正在等待城区/主管部门审核，请耐心等待'),
     Stage('pending_center', '待市人才服务中心审核', 'center', 'center',
           next_step='城区/主管部门已审核通过，正在等待市人才服务中心审核')],
    approved='active', returned='returned', sms_owner=True,
    extra=[workflow.submit_transition('registered', 'pending_org', 'unit', missing_for_submit),
           workflow.submit_transition('returned', 'pending_org', 'unit', missing_for_submit),
           Transition('disable', 'active', 'disabled', 'center', '停用', 'center', admin_only=True,
                      needs_opinion=True, sms_owner=True, effects=(_end_sessions,), opinion_label='停用原因',
                      notice='已停用本单位账号'),
           Transition('enable', 'disabled', 'active', 'center', '启用', 'center', admin_only=True, sms_owner=True,
                      opinion_label='备注', notice='已启用本单位账号')])
EDITABLE_STATES = tuple(name for name, state in MACHINE.states.items() if state.owner_editable)


def can_view(s: Session, actor: Actor, unit: Unit) -> bool:
    if actor.role == 'center':
        return True
    if actor.role == 'reviewer':
        return actor.org_id is not None and unit.org_id == actor.org_id and MACHINE.state(unit.state).queued
    if actor.role == 'unit':
        user = s.get(User, actor.user_id)
        return user is not None and user.unit_id == unit.id
    return False


def _owners(s: Session, unit: Unit) -> list[User]:
    return list(s.exec(select(User).where(User.unit_id == unit.id, User.role == 'unit')).all())


def _acting_org(s: Session, actor: Actor, unit: Unit) -> tuple[int | None, str | None]:
    if actor.role == 'center':
        return None, CENTER_NAME
    if actor.role == 'unit':
        return None, unit.name
    org = s.get(Org, actor.org_id) if actor.org_id else None
    return actor.org_id, org.name if org else None


def _stage_users(s: Session, unit: Unit, state: str) -> list[int]:
    query = select(User.id).where(User.status == 'active')
    if state == 'pending_org':
        query = query.where(User.role == 'reviewer', User.org_id == unit.org_id)
    elif state == 'pending_center':
        query = query.where(User.role == 'center')
    else:
        return []
    return [user_id for user_id in s.exec(query).all() if user_id is not None]   # primary keys: never NULL


ENTITY = Entity(
    machine=MACHINE, model=Unit, owners=_owners, acting_org=_acting_org, stage_users=_stage_users,
    describe=lambda unit: f'单位注册审核（{unit.name}）', link='/unit/info',
    review_link=lambda unit: f'/review/units/{unit.id}?mode=review',
    scopes={'owner': lambda s, actor, unit: actor.role == 'unit' and can_view(s, actor, unit),
            'org': lambda s, actor, unit: actor.org_id is not None and unit.org_id == actor.org_id,
            'center': lambda s, actor, unit: actor.role == 'center'})


def _licence_rule(s: Session, actor: Actor, row: StoredFile) -> bool:
    unit = s.get(Unit, row.entity_id)
    return unit is not None and can_view(s, actor, unit)


def register_entity() -> None:
    workflow.register(ENTITY)
    files.register_access_rule('unit', _licence_rule)


# ---- registration ---------------------------------------------------------------------------------
def register(name: str, credit_code: str, operator_name: str, operator_phone: str, account: str,
             password: str, confirm: str, ip: str | None = None) -> int:
    """单位注册. Raises FormErrors with a message per bad field.

    The form is no oracle for which accounts exist: whether the account or the credit code is already
    registered is answered only when every field is valid (a bare 登录账号 gets only the messages for
    the missing fields), every attempt counts against the address's limit, and a name held by staff
    or a person reads exactly like one held by a unit (the same query over every account)."""
    if security.register_ip_limit.hit(ip):
        raise FormErrors({'登录账号': security.BUSY})
    name, credit_code = (name or '').strip(), (credit_code or '').strip().upper()
    operator_name, operator_phone, account = (operator_name or '').strip(), (operator_phone or '').strip(), \
        (account or '').strip()
    errors = {'单位名称': '请输入单位全称'} if not name else SCHEMA.errors({'name': name}, complete=False)
    if e := validators.credit_code_error(credit_code):
        errors['统一社会信用代码'] = e
    if not operator_name or len(operator_name) > 50:
        errors['操作人姓名'] = '请输入操作人姓名（最多 50 字）'
    if e := validators.phone_error(operator_phone):
        errors['操作人手机号'] = e
    if e := validators.account_error(account):
        errors['登录账号'] = e
    if e := validators.password_error(password, account=account, phone=operator_phone):
        errors['密码'] = e
    elif password != confirm:
        errors['确认密码'] = '两次输入的密码不一致'
    if errors:
        raise FormErrors(errors)
    with read_scope() as s:
        if taken := _taken(s, account, credit_code):
            raise FormErrors(taken)
    password_hash = security.hash_password(password)  # slow: outside any transaction
    try:
        with session_scope() as s:
            unit = Unit(name=name, credit_code=credit_code)
            s.add(unit)
            s.flush()
            s.add(User(role='unit', account=account, phone=operator_phone, display_name=operator_name,
                       password_hash=password_hash, unit_id=unit.id))
            audit.record(s, 'unit_registered', ip=ip, account=account, account_known=True,
                         obj=f'unit:{unit.id}')
            return saved_id(unit)
    except IntegrityError:  # a parallel registration won the race: the unique constraints refused it
        with read_scope() as s:
            raise FormErrors(_taken(s, account, credit_code) or {'登录账号': '注册未完成，请重试'}) from None


def _taken(s: Session, account: str, credit_code: str) -> dict[str, str]:
    """Messages for an account or credit code that is already registered. One query over the accounts
    of every role: a unit, a person and a staff name answer alike."""
    errors = {}
    if account and s.exec(select(User.id).where(User.account == account)).first():
        errors['登录账号'] = '该登录账号已被使用'
    if credit_code and s.exec(select(Unit.id).where(Unit.credit_code == credit_code)).first():
        errors['统一社会信用代码'] = '该统一社会信用代码已注册，如需找回账号请联系市人才服务中心'
    return errors


# ---- the operator's own unit ----------------------------------------------------------------------
def own_unit(s: Session, actor: Actor, *, lock: bool = False) -> Unit:
    """The operator's unit; with lock=True the row stays locked until the transaction ends, so a
    save cannot interleave with a submit or review on PostgreSQL (SQLite writers are serialised)."""
    user = s.get(User, actor.user_id)
    if user is None or user.role != 'unit' or user.unit_id is None:
        raise PermissionDenied()
    query = select(Unit).where(Unit.id == user.unit_id)
    return s.exec(query.with_for_update() if lock else query).one()


def my_unit(actor: Actor) -> dict:
    with read_scope() as s:
        return detail(s, own_unit(s, actor), actor)


def editable_fields(state: str) -> tuple[str, ...]:
    if MACHINE.state(state).owner_editable:
        return tuple(LABELS)
    if state in ('active', 'disabled'):
        return ACTIVE_EDITABLE
    return ()


def save_info(actor: Actor, data: dict, expected_version: int) -> dict:
    """保存: checks what is filled (formats, pairing); completeness is checked at 提交审核."""
    with session_scope() as s:
        unit = own_unit(s, actor, lock=True)
        if unit.version != expected_version:
            raise ValidationError('', '单位信息已在其他页面修改或状态已变化，请刷新页面后再保存')
        allowed = editable_fields(unit.state)
        if not allowed:
            raise ValidationError('', '单位信息正在审核中，暂不能修改')
        values = SCHEMA.clean(data)
        if errors := field_errors(s, values, unit.id, complete=False):
            raise FormErrors(errors)
        changed = [k for k in allowed if getattr(unit, k) != values.get(k)]
        for key in changed:
            setattr(unit, key, values.get(key))
        unit.version += 1
        unit.updated_at = clock.now()
        s.add(unit)
        audit.record(s, 'unit_info_saved', actor=actor, obj=f'unit:{unit.id}', detail=','.join(changed)[:500])
        return detail(s, unit, actor)


def submit(actor: Actor, expected_version: int) -> dict:
    """提交审核. Whatever is missing is named per field (FormErrors), besides the summary."""
    with session_scope() as s:
        unit = own_unit(s, actor)
        if unit.state in EDITABLE_STATES and unit.version == expected_version:
            workflow.require_complete(s, unit, missing_for_submit)
        return workflow.fire(s, 'unit', saved_id(unit), 'submit', actor, expected_version)


def upload_licence(actor: Actor, data, filename: str, expected_version: int) -> dict:
    """Check and keep a new licence, then swap it in one transaction on the locked unit row. A stale
    upload (the unit changed meanwhile) leaves no bytes behind; the old licence is soft-deleted."""
    with read_scope() as s:
        if own_unit(s, actor).state not in EDITABLE_STATES:
            raise ValidationError('营业执照', '单位信息正在审核中或已审核通过，不能更换营业执照')
    accepted = files.accept(data, filename, field='营业执照', actor=actor)
    try:
        with session_scope() as s:
            unit = own_unit(s, actor, lock=True)
            if unit.version != expected_version or unit.state not in EDITABLE_STATES:
                raise ValidationError('营业执照', '单位信息状态已变化，请刷新页面后重新上传')
            stored = files.record(s, accepted, kind='licence', entity='unit', entity_id=saved_id(unit), actor=actor)
            files.discard(s, unit.licence_file_id)
            unit.licence_file_id = stored['id']
            unit.version += 1
            s.add(unit)
            return detail(s, unit, actor)
    except BaseException:
        files.unlink_accepted(accepted)
        raise


# ---- validation -----------------------------------------------------------------------------------
def field_errors(s: Session, v: dict, unit_id: int | None, complete: bool) -> dict[str, str]:
    """The schema's rules plus what needs the database or several fields: the credit code is free,
    the 单位类型 / 单位分配管理 / 单位审核归属 pairing (SPEC §3.2)."""
    # 保存 may leave fields empty, except those set at registration (NOT NULL columns)
    errors = SCHEMA.errors(v, complete=complete, always=('name', 'credit_code'))
    if v.get('credit_code') and '统一社会信用代码' not in errors and s.exec(
            select(Unit.id).where(Unit.credit_code == v['credit_code'], Unit.id != unit_id)).first():
        errors['统一社会信用代码'] = '该统一社会信用代码已被其他单位注册'
    expected = PAIRING.get(v.get('unit_type') or '')
    if expected and v.get('allocation') in ALLOCATIONS and v['allocation'] != expected:
        errors['单位分配管理'] = (f'{v["unit_type"]}的单位分配管理应选择“{ALLOCATIONS[expected]}”'
                              + ('（选择单位纳税所属县区）' if expected == 'district' else '（选择本单位所属主管部门）'))
    if v.get('org_id') is not None:
        org = s.get(Org, v['org_id']) if isinstance(v['org_id'], int) else None
        if org is None or not org.enabled:
            errors['单位审核归属'] = '请选择有效的审核机构'
        elif v.get('allocation') in ALLOCATIONS and org.kind != v['allocation']:
            errors['单位审核归属'] = (f'单位分配管理为“{ALLOCATIONS[v["allocation"]]}”时，单位审核归属应选择'
                                + ('县区' if v['allocation'] == 'district' else '主管部门'))
    return errors


def detail(s: Session, unit: Unit, actor: Actor) -> dict:
    """Everything shown about a unit: its fields, the detail sheet, licence, history and the actions
    this actor may take now."""
    org = s.get(Org, unit.org_id) if unit.org_id else None
    licence = s.get(StoredFile, unit.licence_file_id) if unit.licence_file_id else None
    operator = s.exec(select(User).where(User.unit_id == unit.id, User.role == 'unit')).first()
    history = workflow.history('unit', saved_id(unit), s)
    values = {key: getattr(unit, key) for key in LABELS}
    state = MACHINE.state(unit.state)
    return {
        'id': unit.id, 'version': unit.version, 'state': unit.state, 'state_label': state.label,
        'state_color': state.color, **values,
        'org_name': org.name if org else '', 'allocation_label': ALLOCATIONS.get(unit.allocation or '', ''),
        'sheet': SCHEMA.sheet(values, {'org_id': org.name if org else ''}, only=SHEET_FIELDS) + [
            ('操作人姓名', operator.display_name if operator else ''),
            ('操作人手机号', (operator.phone or '') if operator else ''),
            ('状态', state.label), ('提交时间', clock.local(unit.submitted_at)),
            ('注册时间', clock.local(unit.created_at))],
        'licence': files.public(licence) if licence and licence.deleted_at is None else None,
        'operator_name': operator.display_name if operator else '', 'operator_phone': operator.phone if operator else '',
        'submitted_at': clock.local(unit.submitted_at), 'created_at': clock.local(unit.created_at),
        'history': history, 'last_opinion': next((h['opinion'] for h in reversed(history) if h['opinion']), ''),
        'next_step': state.next_step,
        'editable': list(editable_fields(unit.state)) if actor.role == 'unit' else [],
        'actions': actions(s, actor, unit),
    }


SHEET_FIELDS = tuple(name for name in LABELS if name != 'intro')   # the intro is shown below the sheet


def actions(s: Session, actor: Actor, unit: Unit) -> list[dict]:
    """What the review page offers this actor: the review steps, and 停用 / 启用 for center admins."""
    return workflow.action_choices('unit', s, actor, unit)


def org_choices() -> dict[str, dict[int, str]]:
    """单位审核归属 choices per 单位分配管理."""
    return {kind: {o['id']: o['name'] for o in orgs.list_orgs(kind)} for kind in ALLOCATIONS}
