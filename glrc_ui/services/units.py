"""Employers (单位): registration, unit info, licence, review queue (SPEC §2.1, §3.1, §3.2, §3.7)."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import ALLOCATIONS, UNIT_TYPES, Org, StoredFile, Unit, User
from glrc_ui import clock, security, validators, workflow
from glrc_ui.services import audit, files
from glrc_ui.services.audit import Actor
from glrc_ui.validators import FormErrors, ValidationError
from glrc_ui.workflow import UNIT_MACHINE, Entity

LABELS = {'name': '单位名称', 'credit_code': '统一社会信用代码', 'unit_type': '单位类型', 'allocation': '单位分配管理',
          'org_id': '单位审核归属', 'industry': '所属行业', 'address': '单位地址', 'legal_rep': '法定代表人',
          'contact_phone': '单位联系电话', 'intro': '单位简介'}
REQUIRED = ('name', 'credit_code', 'unit_type', 'allocation', 'org_id', 'address', 'legal_rep', 'contact_phone')
MAX_LEN = {'name': 100, 'industry': 50, 'address': 200, 'legal_rep': 50, 'intro': 2000}
EDITABLE_STATES = ('registered', 'returned')
# once active, only contact details may change without a new review
ACTIVE_EDITABLE = ('industry', 'address', 'contact_phone', 'intro')
PAIRING = {'企业': 'district', '中区直事业单位': 'district', '市直机关事业单位': 'department'}
NEXT_STEP = {
    'registered': '请先完善单位信息和单位账户信息，然后提交审核',
    'returned': '单位信息被退回修改，请根据审核意见修改后重新提交审核',
    'pending_org': '单位信息已提交，正在等待城区/主管部门审核，请耐心等待',
    'pending_center': '城区/主管部门已审核通过，正在等待市人才服务中心审核',
    'active': '单位账号已审核通过，可以使用人才服务相关功能',
    'disabled': '单位账号已停用，请联系市人才服务中心',
}
# what the review page offers: the two review steps, and for center admins 停用 / 启用 of an active unit
REVIEW_ACTIONS = ('approve', 'return_', 'disable', 'enable')
SORTS = {'submitted_at': Unit.submitted_at, 'name': Unit.name, 'created_at': Unit.created_at, 'state': Unit.state}


class PermissionDenied(Exception):
    pass


# ---- registration ---------------------------------------------------------------------------------
def register(name: str, credit_code: str, operator_name: str, operator_phone: str, account: str,
             password: str, confirm: str, ip: str | None = None) -> int:
    """单位注册. Raises FormErrors with a message per bad field."""
    if security.register_ip_limit.hit(ip):
        raise FormErrors({'登录账号': security.BUSY})
    name, credit_code = (name or '').strip(), (credit_code or '').strip().upper()
    operator_name, operator_phone, account = (operator_name or '').strip(), (operator_phone or '').strip(), \
        (account or '').strip()
    errors: dict[str, str] = {}
    if not name:
        errors['单位名称'] = '请输入单位全称'
    elif len(name) > 100:
        errors['单位名称'] = '单位名称最多 100 字'
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
    errors = _taken(account, credit_code) | errors
    if errors:
        raise FormErrors(errors)
    password_hash = security.hash_password(password)
    try:
        return _create_unit(name, credit_code, operator_name, operator_phone, account, password_hash, ip)
    except IntegrityError:  # a parallel registration won the race: the unique constraints refused it
        raise FormErrors(_taken(account, credit_code) or {'登录账号': '注册未完成，请重试'}) from None


def _taken(account: str, credit_code: str) -> dict[str, str]:
    """Messages for an account or credit code that is already registered."""
    errors = {}
    with session_scope() as s:
        if account and s.exec(select(User.id).where(User.account == account)).first():
            errors['登录账号'] = '该登录账号已被使用'
        if credit_code and s.exec(select(Unit.id).where(Unit.credit_code == credit_code)).first():
            errors['统一社会信用代码'] = '该统一社会信用代码已注册，如需找回账号请联系市人才服务中心'
    return errors


def _create_unit(name: str, credit_code: str, operator_name: str, operator_phone: str, account: str,
                 password_hash: str, ip: str | None) -> int:
    with session_scope() as s:
        unit = Unit(name=name, credit_code=credit_code)
        s.add(unit)
        s.flush()
        user = User(role='unit', account=account, phone=operator_phone, display_name=operator_name,
                    password_hash=password_hash, unit_id=unit.id)
        s.add(user)
        s.flush()
        audit.record(s, 'unit_registered', ip=ip, account=account, obj=f'unit:{unit.id}')
        return unit.id


# ---- the operator's own unit ----------------------------------------------------------------------
def _own_unit(s: Session, actor: Actor, *, lock: bool = False) -> Unit:
    """The operator's unit; with lock=True the row stays locked until the transaction ends, so a
    save cannot interleave with a submit or review on PostgreSQL (SQLite writers are serialised)."""
    user = s.get(User, actor.user_id)
    if user is None or user.role != 'unit' or user.unit_id is None:
        raise PermissionDenied()
    query = select(Unit).where(Unit.id == user.unit_id)
    return s.exec(query.with_for_update() if lock else query).one()


def my_unit(actor: Actor) -> dict:
    with session_scope() as s:
        return _detail(s, _own_unit(s, actor), actor)


def editable_fields(state: str) -> tuple[str, ...]:
    if state in EDITABLE_STATES:
        return tuple(LABELS)
    if state in ('active', 'disabled'):
        return ACTIVE_EDITABLE
    return ()


def save_info(actor: Actor, data: dict, expected_version: int) -> dict:
    """保存: checks what is filled (formats, pairing); completeness is checked at 提交审核."""
    with session_scope() as s:
        unit = _own_unit(s, actor, lock=True)
        if unit.version != expected_version:
            raise ValidationError('', '单位信息已在其他页面修改或状态已变化，请刷新页面后再保存')
        allowed = editable_fields(unit.state)
        if not allowed:
            raise ValidationError('', '单位信息正在审核中，暂不能修改')
        values = _clean(data)
        errors = _field_errors(s, values, unit.id, partial=True)
        if errors:
            raise FormErrors(errors)
        changed = [k for k in allowed if getattr(unit, k) != values.get(k)]
        for key in changed:
            setattr(unit, key, values.get(key))
        unit.version += 1
        unit.updated_at = clock.now()
        s.add(unit)
        audit.record(s, 'unit_info_saved', actor=actor, obj=f'unit:{unit.id}', detail=','.join(changed)[:500])
        return _detail(s, unit, actor)


def submit(actor: Actor, expected_version: int) -> dict:
    with session_scope() as s:
        unit_id = _own_unit(s, actor).id
    return workflow.apply('unit', unit_id, 'submit', actor, expected_version)


def _stamp_submitted(s: Session, unit: Unit) -> None:
    """Entering pending_org = (re)submitted: the queue's date, in the transition's transaction."""
    unit.submitted_at = clock.now()
    s.add(unit)


def upload_licence(actor: Actor, data: bytes, filename: str, expected_version: int) -> dict:
    with session_scope() as s:
        unit = _own_unit(s, actor)
        if unit.state not in EDITABLE_STATES:
            raise ValidationError('营业执照', '单位信息正在审核中或已审核通过，不能更换营业执照')
        unit_id = unit.id
    stored = files.store(data, filename, kind='licence', entity='unit', entity_id=unit_id, actor=actor,
                         field='营业执照')
    with session_scope() as s:  # re-check and swap in one transaction, on the locked row
        unit = _own_unit(s, actor, lock=True)
        stale = unit.version != expected_version or unit.state not in EDITABLE_STATES
        if stale:
            s.get(StoredFile, stored['id']).deleted_at = clock.now()
        else:
            if unit.licence_file_id and (old := s.get(StoredFile, unit.licence_file_id)) is not None:
                old.deleted_at = clock.now()
                s.add(old)
            unit.licence_file_id = stored['id']
            unit.version += 1
            s.add(unit)
            result = _detail(s, unit, actor)
    if stale:
        raise ValidationError('营业执照', '单位信息状态已变化，请刷新页面后重新上传')
    return result


# ---- validation -----------------------------------------------------------------------------------
def _clean(data: dict) -> dict:
    values = {}
    for key in LABELS:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip() or None
        values[key] = value
    if values.get('credit_code'):
        values['credit_code'] = values['credit_code'].upper()
    return values


def _field_errors(s: Session, v: dict, unit_id: int | None, partial: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    # 保存 may leave fields empty, except those set at registration (NOT NULL columns)
    for key in (REQUIRED if not partial else ('name', 'credit_code')):
        if v.get(key) in (None, ''):
            errors[LABELS[key]] = f'请填写{LABELS[key]}' if key not in ('unit_type', 'allocation', 'org_id') \
                else f'请选择{LABELS[key]}'
    for key, limit in MAX_LEN.items():
        if v.get(key) and len(v[key]) > limit:
            errors[LABELS[key]] = f'{LABELS[key]}最多 {limit} 字'
    if v.get('credit_code'):
        if e := validators.credit_code_error(v['credit_code']):
            errors['统一社会信用代码'] = e
        elif s.exec(select(Unit.id).where(Unit.credit_code == v['credit_code'], Unit.id != unit_id)).first():
            errors['统一社会信用代码'] = '该统一社会信用代码已被其他单位注册'
    if v.get('contact_phone') and (e := validators.contact_phone_error(v['contact_phone'])):
        errors['单位联系电话'] = e
    if v.get('unit_type') and v['unit_type'] not in UNIT_TYPES:
        errors['单位类型'] = '单位类型不正确'
    if v.get('allocation') and v['allocation'] not in ALLOCATIONS:
        errors['单位分配管理'] = '单位分配管理只能是 城区 或 主管部门'
    expected = PAIRING.get(v.get('unit_type') or '')
    if expected and v.get('allocation') and v['allocation'] != expected:
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


def _complete_guard(s: Session, unit: Unit) -> str | None:
    values = {key: getattr(unit, key) for key in LABELS}
    errors = _field_errors(s, values, unit.id, partial=False)
    missing = list(errors)
    if not unit.licence_file_id:
        missing.append('营业执照')
    if missing:
        return '以下信息未填写或不正确，请补充后再提交审核：' + '、'.join(missing)
    return None


workflow.GUARDS['unit_complete'] = _complete_guard


# ---- scope, detail, queue -------------------------------------------------------------------------
def can_view(s: Session, actor: Actor, unit: Unit) -> bool:
    if actor.role == 'center':
        return True
    if actor.role == 'reviewer':
        return actor.org_id is not None and unit.org_id == actor.org_id and unit.state != 'registered'
    if actor.role == 'unit':
        user = s.get(User, actor.user_id)
        return user is not None and user.unit_id == unit.id
    return False


def _in_scope(s: Session, actor: Actor, unit: Unit, t: workflow.Transition) -> bool:
    if t.stage == 'owner':
        return actor.role == 'unit' and can_view(s, actor, unit)
    if t.stage == 'org':
        return actor.role == 'reviewer' and actor.org_id is not None and unit.org_id == actor.org_id
    if t.stage == 'center':
        return actor.role == 'center'
    return False


def _owners(s: Session, unit: Unit) -> list[User]:
    return list(s.exec(select(User).where(User.unit_id == unit.id, User.role == 'unit')).all())


def _end_sessions_of_unit(s: Session, unit: Unit) -> None:
    for user in _owners(s, unit):
        security.end_all_sessions(s, user.id, 'disabled')


workflow.register(Entity(machine=UNIT_MACHINE, model=Unit, in_scope=_in_scope, owners=_owners,
                         describe=lambda unit: f'单位注册审核（{unit.name}）', link='/',
                         on_enter={'disabled': _end_sessions_of_unit, 'pending_org': _stamp_submitted}))


def _licence_rule(s: Session, actor: Actor, row: StoredFile) -> bool:
    unit = s.get(Unit, row.entity_id)
    return unit is not None and can_view(s, actor, unit)


files.register_access_rule('unit', _licence_rule)


def detail_for_review(actor: Actor, unit_id: int) -> dict:
    """Everything a reviewer needs; refused (and audited) outside the actor's scope."""
    with session_scope() as s:
        unit = s.get(Unit, unit_id)
        if unit is None or not can_view(s, actor, unit) or actor.role not in ('reviewer', 'center'):
            audit.record(s, 'permission_denied', actor=actor, obj=f'unit:{unit_id}', result='denied')
            denied = True
        else:
            denied = False
            result = _detail(s, unit, actor)
            audit.record(s, 'unit_viewed', actor=actor, obj=f'unit:{unit_id}')
    if denied:
        raise PermissionDenied()
    return result


def review(actor: Actor, unit_id: int, action: str, expected_version: int, opinion: str | None) -> dict:
    if action not in REVIEW_ACTIONS:
        raise workflow.WorkflowError('不支持的审核操作')
    with session_scope() as s:
        unit = s.get(Unit, unit_id)
        visible = unit is not None and can_view(s, actor, unit)
        if not visible:
            audit.record(s, 'permission_denied', actor=actor, obj=f'unit:{unit_id}', result='denied')
    if not visible:
        raise PermissionDenied()
    return workflow.apply('unit', unit_id, action, actor, expected_version, opinion)


def _detail(s: Session, unit: Unit, actor: Actor) -> dict:
    org = s.get(Org, unit.org_id) if unit.org_id else None
    licence = s.get(StoredFile, unit.licence_file_id) if unit.licence_file_id else None
    operator = s.exec(select(User).where(User.unit_id == unit.id, User.role == 'unit')).first()
    history = workflow.history('unit', unit.id, s)
    last_opinion = next((h['opinion'] for h in reversed(history) if h['opinion']), '')
    return {
        'id': unit.id, 'version': unit.version, 'state': unit.state, 'state_label': UNIT_MACHINE.label(unit.state),
        **{key: getattr(unit, key) for key in LABELS},
        'org_name': org.name if org else '', 'allocation_label': ALLOCATIONS.get(unit.allocation or '', ''),
        'licence': files.public(licence) if licence and licence.deleted_at is None else None,
        'operator_name': operator.display_name if operator else '', 'operator_phone': operator.phone if operator else '',
        'submitted_at': clock.local(unit.submitted_at), 'created_at': clock.local(unit.created_at),
        'history': history, 'last_opinion': last_opinion, 'next_step': NEXT_STEP.get(unit.state, ''),
        'editable': list(editable_fields(unit.state)) if actor.role == 'unit' else [],
        'actions': [{'action': t.action, 'label': t.label, 'needs_opinion': t.needs_opinion}
                    for t in workflow.available('unit', s, actor, unit) if t.action in REVIEW_ACTIONS],
    }


def queue(actor: Actor, status: str = 'pending', keyword: str = '', date_from: date | None = None,
          date_to: date | None = None, sort_by: str = 'submitted_at', descending: bool = True,
          page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """单位注册审核 queue, paged on the server. status: pending | done | all."""
    pending, done, everything = _queue_states(actor)
    states = {'pending': pending, 'done': done}.get(status, everything)
    query = select(Unit).where(Unit.state.in_(states))
    if actor.role == 'reviewer':
        query = query.where(Unit.org_id == (actor.org_id or -1))
    elif actor.role != 'center':
        return [], 0
    keyword = (keyword or '').strip()[:50]
    if keyword and validators.credit_code_error(keyword) is None:
        query = query.where(Unit.credit_code == keyword.upper())  # a full code: the unique index answers
    elif keyword:
        like = f'%{keyword.replace("%", "").replace("_", "")}%'
        query = query.where(Unit.name.like(like))
    if date_from:
        query = query.where(Unit.submitted_at >= datetime.combine(date_from, time.min, clock.SHANGHAI))
    if date_to:
        query = query.where(Unit.submitted_at < datetime.combine(date_to + timedelta(days=1), time.min, clock.SHANGHAI))
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 100)
    column = SORTS.get(sort_by, Unit.submitted_at)
    order = (column.desc(), Unit.id.desc()) if descending else (column.asc(), Unit.id.asc())
    with session_scope() as s:
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        units = s.exec(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
        org_names = {o.id: o.name for o in s.exec(select(Org).where(Org.id.in_({u.org_id for u in units}))).all()}
        rows = [{'id': u.id, 'name': u.name, 'credit_code': u.credit_code, 'unit_type': u.unit_type or '',
                 'org_name': org_names.get(u.org_id, ''), 'state': u.state, 'state_label': UNIT_MACHINE.label(u.state),
                 'submitted_at': clock.local(u.submitted_at), 'version': u.version,
                 'can_review': u.state in pending} for u in units]
    return rows, total


def _queue_states(actor: Actor) -> tuple[list[str], list[str], list[str]]:
    """(待审核, 已审核, 全部) states for this reviewer's stage; units never submitted are not listed."""
    if actor.role == 'reviewer':
        pending, done = ['pending_org'], ['pending_center', 'active', 'returned', 'disabled']
        return pending, done, pending + done
    pending, done = ['pending_center'], ['active', 'returned', 'disabled']
    return pending, done, pending + done + ['pending_org']


def pending_summary(actor: Actor) -> dict:
    """For a reviewer's or the center's 首页: how many units wait at its stage, and since when."""
    pending, _, _ = _queue_states(actor)
    query = select(func.count(), func.min(Unit.submitted_at)).where(Unit.state.in_(pending))
    if actor.role == 'reviewer':
        query = query.where(Unit.org_id == (actor.org_id or -1))
    with session_scope() as s:
        count, oldest = s.exec(query).one()
    return {'count': count, 'oldest': clock.local(oldest)}


def review_many(actor: Actor, items: list[tuple[int, int]]) -> dict:
    """批量通过: approve each (unit id, expected version); one transaction per unit, conflicts reported."""
    done, failed = 0, []
    for unit_id, version in items[:100]:
        try:
            review(actor, unit_id, 'approve', version, None)
            done += 1
        except (PermissionDenied, workflow.WorkflowError) as exc:
            failed.append((unit_id, str(exc) or '无权审核'))
    return {'done': done, 'failed': failed}
