"""High-level talent recognition applications (高层次人才认定申报, SPEC §2.3, §3.6): the application
machine, the person's drafts, evidence (附件) and 提交 / 撤回 / 删除. The review side (queues,
decisions, results, 查询, Excel) is glrc_ui/services/application_review.py.

Who sees an application (can_view): its applicant; its unit once submitted; the reviewers of the
unit's 审核归属 once it has reached their stage; the center once submitted."""
import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import (
    LEVELS,
    MATERIAL_TYPES,
    Application,
    ApplicationSubmission,
    CatalogueClause,
    CatalogueVersion,
    Org,
    Person,
    StoredFile,
    Unit,
    User,
    saved_id,
)
from glrc_ui import clock, paging, person_fields, workflow
from glrc_ui.actor import Actor
from glrc_ui.errors import FormErrors, PermissionDenied, ValidationError, WorkflowError
from glrc_ui.schema import FieldSpec, Schema
from glrc_ui.services import audit, catalogue, files, persons
from glrc_ui.workflow import DataField, Entity, Machine, Stage, State, Transition

CENTER_NAME = '桂林市人才服务中心'
ACHIEVEMENTS_MAX = 5000
PLEDGE = '本人承诺所填信息及所提交材料真实有效'
SCHEMA = Schema(
    FieldSpec('level', '申报层次', 'select', required=True, choices=catalogue.LEVEL_LABELS),
    FieldSpec('clause_id', '认定依据', 'select', required=True),
    FieldSpec('specialty', '现从事专业及岗位', required=True, max_len=200),
    FieldSpec('achievements', '主要业绩及成果', 'textarea', required=True, max_len=ACHIEVEMENTS_MAX, wide=True),
    FieldSpec('honors', '获奖及荣誉情况', 'textarea', max_len=2000, wide=True),
    FieldSpec('other_notes', '其他需要说明的情况', 'textarea', max_len=2000, wide=True),
    FieldSpec('pledge', PLEDGE, 'checkbox', required=True, wide=True),
)
LABELS = SCHEMA.labels
FIELDS = tuple(LABELS)
OFFLINE_MAX = 200
# the person's information copied into the application (read-only on the form; a snapshot at 提交)
PERSON_INFO = (('name', '姓名'), ('gender', '性别'), ('birth_date', '出生日期'), ('id_number', '身份证号'),
               ('education', '学历'), ('degree', '学位'), ('school', '毕业院校'), ('major', '专业'),
               ('title', '职称'), ('position', '职务'), ('unit_name', '所在单位'))


# ---- the application machine (SPEC §2.3) -----------------------------------------------------------
def unit_of_actor(s: Session, actor: Actor) -> int | None:
    return persons.unit_of_actor(s, actor)


def missing_for_submit(s: Session, app: Application) -> dict[str, str]:
    """Every field and material type 提交 still lacks: {label: message}."""
    missing = SCHEMA.errors(_values(app), complete=True)
    clause = s.get(CatalogueClause, app.clause_id) if app.clause_id else None
    if app.clause_id and (clause is None or clause.level != app.level):
        missing[LABELS['clause_id']] = '认定依据与申报层次不一致，请重新选择'
    offline = _offline(app)
    have = set(s.exec(select(StoredFile.kind).where(StoredFile.entity == 'application',
                                                     StoredFile.entity_id == app.id,
                                                     col(StoredFile.deleted_at).is_(None))).all())
    for material in catalogue.materials_of(clause):
        if material not in have and material not in offline:
            missing[MATERIAL_TYPES[material]] = f'请上传{MATERIAL_TYPES[material]}，或勾选「线下提交纸质材料」并说明'
    return missing


def _applicant_ready(s: Session, app: Application) -> str | None:
    person = s.get(Person, app.person_id)
    unit = s.get(Unit, person.unit_id) if person else None
    if person is None or person.state != 'active':
        return '个人信息审核通过后才能提交申报'
    if unit is None or unit.state != 'active':
        return '所在单位当前不能审核（未通过审核或已停用），请联系所在单位或市人才服务中心'
    return None


def _snapshot(s: Session, app: Application, actor: Actor, data: dict) -> None:
    """提交: the person's information as it is now, the unit and its 审核归属, and what was submitted."""
    person = s.get(Person, app.person_id)
    assert person is not None  # _applicant_ready guarded it
    unit = s.get(Unit, person.unit_id)
    user = s.get(User, person.user_id)
    info = person_info(person, unit, user)
    app.snapshot = json.dumps(info, ensure_ascii=False)
    app.applicant_name, app.id_number = person.name, person.id_number
    app.unit_id = person.unit_id
    app.org_id = unit.org_id if unit else None
    s.add(app)
    s.add(ApplicationSubmission(application_id=saved_id(app), at=clock.now(),
                                content=json.dumps(_submitted_content(s, app), ensure_ascii=False)))


def _grant(s: Session, app: Application, actor: Actor, data: dict) -> None:
    """The center's 通过: 认定层次 and a 证书编号 GLRC-YYYY-L-NNNNNN from a counter per year and 层次,
    taken in this transaction (a row lock on PostgreSQL, the write lock on SQLite): concurrent
    approvals wait for each other and never share or reuse a number."""
    level = data['granted_level']
    now = clock.now()
    year = now.astimezone(clock.SHANGHAI).year
    s.execute(text('INSERT INTO certificate_sequence (year, level, last) VALUES (:y, :l, 0) '
                   'ON CONFLICT DO NOTHING'), {'y': year, 'l': level})
    number = s.execute(text('UPDATE certificate_sequence SET last = last + 1 WHERE year = :y AND level = :l '
                            'RETURNING last'), {'y': year, 'l': level}).scalar_one()
    app.granted_level = level
    app.certificate_no = f'GLRC-{year}-{level}-{number:06d}'
    app.decided_at = now
    s.add(app)


def _decided(s: Session, app: Application) -> None:
    app.decided_at = clock.now()
    s.add(app)


def _reached_org(s: Session, app: Application) -> None:
    app.reached_org = True
    s.add(app)


def _reached_center(s: Session, app: Application) -> None:
    app.reached_center = True
    s.add(app)


def _nobody_acted(s: Session, app: Application) -> str | None:
    from db.models import ReviewRecord
    last = s.exec(select(ReviewRecord.action).where(ReviewRecord.entity == 'application',
                                                    ReviewRecord.entity_id == app.id)
                  .order_by(col(ReviewRecord.at).desc(), col(ReviewRecord.id).desc()).limit(1)).first()
    return None if last == 'submit' else '所在单位已开始审核，不能撤回'


def _submit_guard(s: Session, app: Application) -> str | None:
    return _applicant_ready(s, app)


LEVEL_FIELD = DataField('granted_level', '认定层次', choices=LEVELS,
                        choice_labels=tuple(catalogue.LEVEL_LABELS[level] for level in LEVELS))
STAGES = (
    Stage('pending_unit', '待单位审核', 'unit', 'own_unit', next_step='申报已提交，正在等待所在单位审核'),
    Stage('pending_org', '待主管部门/城区审核', 'reviewer', 'org',
          next_step='所在单位已审核通过，正在等待主管部门/城区审核'),
    Stage('pending_center', '待市人才服务中心审核', 'center', 'center',
          next_step='主管部门/城区已审核通过，正在等待市人才服务中心审核',
          approve_fields=(LEVEL_FIELD,), approve_effects=(_grant,)),
)


def _submit(source: str) -> Transition:
    base = workflow.submit_transition(source, 'pending_unit', 'person', lambda s, a: missing_for_submit(s, a),
                                      notify_next=True)
    return Transition(base.action, base.source, base.target, base.role, '提交', base.scope,
                      self_approval=True, guards=(_submit_guard, *base.guards),
                      effects=(*base.effects, _snapshot), notify_owner=False, notify_next=True)


MACHINE = Machine.staged(
    'application',
    {'draft': State('已保存', 'grey-8', owner_editable=True, queued=False,
                    next_step='请完善申报信息、上传附件后提交'),
     'returned': State('退回修改', 'deep-orange-10', owner_editable=True,
                       next_step='申报被退回修改，请根据审核意见修改后重新提交',
                       notice='请根据审核意见修改后重新提交'),
     'approved': State('认定通过', 'green-9', final=True, next_step='认定通过'),
     'rejected': State('不予认定', 'red-9', final=True, next_step='不予认定'),
     'deleted': State('已删除', 'grey-8', final=True, queued=False)},
    STAGES, approved='approved', returned='returned', rejected='rejected', notify_next=True,
    sms_owner=True, sms_intermediate=False,
    extra=[_submit('draft'), _submit('returned'),
           Transition('withdraw', 'pending_unit', 'draft', 'person', '撤回', 'owner', self_approval=True,
                      guards=(_nobody_acted,), notify_owner=False),
           Transition('delete', 'draft', 'deleted', 'person', '删除', 'owner', self_approval=True,
                      effects=(lambda s, app, actor, data: _discard_files(s, app, actor, data),), notify_owner=False)])
EDITABLE_STATES = tuple(name for name, state in MACHINE.states.items() if state.owner_editable)
FINAL_STATES = tuple(name for name, state in MACHINE.states.items() if state.final)   # incl. 已删除


def can_view(s: Session, actor: Actor, app: Application) -> bool:
    if app.state == 'deleted':
        return False
    if actor.role == 'person':
        return app.applicant_user_id == actor.user_id
    if app.state == 'draft':
        return False
    if actor.role == 'unit':
        return actor.status == 'active' and unit_of_actor(s, actor) == app.unit_id
    if actor.role == 'reviewer':
        return actor.org_id is not None and app.org_id == actor.org_id and app.reached_org
    return actor.role == 'center'


def _owners(s: Session, app: Application) -> list[User]:
    user = s.get(User, app.applicant_user_id)
    return [user] if user is not None else []


def _acting_org(s: Session, actor: Actor, app: Application) -> tuple[int | None, str | None]:
    if actor.role == 'center':
        return None, CENTER_NAME
    if actor.role == 'unit':
        unit = s.get(Unit, app.unit_id)
        return None, unit.name if unit else None
    if actor.role == 'reviewer':
        org = s.get(Org, actor.org_id) if actor.org_id else None
        return actor.org_id, org.name if org else None
    return None, None


def _stage_users(s: Session, app: Application, state: str) -> list[int]:
    query = select(User.id).where(User.status == 'active')
    if state == 'pending_unit':
        unit = s.get(Unit, app.unit_id)
        if unit is None or unit.state != 'active':
            return []
        query = query.where(User.role == 'unit', User.unit_id == app.unit_id)
    elif state == 'pending_org':
        query = query.where(User.role == 'reviewer', User.org_id == app.org_id)
    elif state == 'pending_center':
        query = query.where(User.role == 'center')
    else:
        return []
    return [user_id for user_id in s.exec(query).all() if user_id is not None]


def describe(app: Application) -> str:
    return f'高层次人才认定申报（{app.number}，{app.applicant_name}）'


def _outcome(app: Application, state: str) -> str:
    if state == 'approved' and app.certificate_no:
        return f'认定层次：{catalogue.LEVEL_LABELS.get(app.granted_level or "", "")}；证书编号：{app.certificate_no}'
    return ''


ENTITY = Entity(
    machine=MACHINE, model=Application, owners=_owners, acting_org=_acting_org, stage_users=_stage_users,
    describe=describe, link=lambda app: f'/applications/{app.id}/result',
    review_link=lambda app: f'/review/applications/{app.id}', outcome=_outcome,
    on_enter={'pending_org': _reached_org, 'pending_center': _reached_center, 'rejected': _decided},
    scopes={'owner': lambda s, actor, app: actor.role == 'person' and app.applicant_user_id == actor.user_id,
            'own_unit': lambda s, actor, app: actor.role == 'unit' and can_view(s, actor, app),
            'org': lambda s, actor, app: actor.role == 'reviewer' and actor.org_id is not None
            and app.org_id == actor.org_id,
            'center': lambda s, actor, app: actor.role == 'center'})


def _file_rule(s: Session, actor: Actor, row: StoredFile) -> bool:
    app = s.get(Application, row.entity_id)
    return app is not None and can_view(s, actor, app)


def register_entity() -> None:
    workflow.register(ENTITY)
    files.register_access_rule('application', _file_rule)


# ---- reading ---------------------------------------------------------------------------------------
def _values(app: Application) -> dict:
    return {key: getattr(app, key) for key in FIELDS}


def _offline(app: Application) -> dict[str, str]:
    try:
        value = json.loads(app.offline) if app.offline else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def person_info(person: Person, unit: Unit | None, user: User | None) -> dict:
    info = {key: getattr(person, key, None) for key, _ in PERSON_INFO if key != 'unit_name'}
    info['birth_date'] = person.birth_date.isoformat() if person.birth_date else None
    info['unit_name'] = unit.name if unit else ''
    info['phone'] = user.phone if user else ''
    return info


def info_sheet(info: dict, *, unmasked: bool) -> list[tuple[str, str]]:
    rows = []
    for key, label in PERSON_INFO:
        value = info.get(key) or ''
        if key == 'id_number' and not unmasked:
            value = person_fields.mask_id(value)
        rows.append((label, str(value)))
    phone = info.get('phone') or ''
    rows.append(('手机号', phone if unmasked else person_fields.mask_phone(phone)))
    return rows


def _evidence(s: Session, app: Application) -> dict[str, list[dict]]:
    rows = s.exec(select(StoredFile).where(StoredFile.entity == 'application', StoredFile.entity_id == app.id,
                                           col(StoredFile.deleted_at).is_(None))
                  .order_by(col(StoredFile.created_at), col(StoredFile.id))).all()
    result: dict[str, list[dict]] = {key: [] for key in MATERIAL_TYPES}
    for row in rows:
        result.setdefault(row.kind, []).append(files.public(row) | {'created_at': clock.local(row.created_at)})
    return result


def _submitted_content(s: Session, app: Application) -> dict:
    evidence = _evidence(s, app)
    return {'fields': _values(app),
            'clause': f'{app.clause_code or ""} {app.clause_text or ""}'.strip(),
            'files': {kind: [{'id': f['id'], 'name': f['name'], 'sha256': _sha(s, f['id'])} for f in rows]
                      for kind, rows in evidence.items() if rows},
            'offline': _offline(app)}


def _sha(s: Session, file_id: int) -> str:
    row = s.get(StoredFile, file_id)
    return row.sha256 if row else ''


def materials(s: Session, app: Application) -> list[dict]:
    """The 附件 list: every material type with its files, whether the chosen clause requires it and
    whether it is marked 线下提交 (with the explanation)."""
    clause = s.get(CatalogueClause, app.clause_id) if app.clause_id else None
    required = set(catalogue.materials_of(clause))
    offline = _offline(app)
    evidence = _evidence(s, app)
    return [{'key': key, 'label': label, 'required': key in required, 'files': evidence.get(key, []),
             'offline': key in offline, 'offline_note': offline.get(key, '')}
            for key, label in MATERIAL_TYPES.items()]


def detail(s: Session, app: Application, actor: Actor, *, unmasked: bool = False) -> dict:
    """Everything shown about an application to someone who may see it."""
    state = MACHINE.state(app.state)
    if app.snapshot:
        info = json.loads(app.snapshot)
    else:
        person = s.get(Person, app.person_id)
        assert person is not None
        info = person_info(person, s.get(Unit, person.unit_id), s.get(User, person.user_id))
    version = s.get(CatalogueVersion, app.catalogue_version_id) if app.catalogue_version_id else None
    history = workflow.history('application', saved_id(app), s)
    owner = actor.role == 'person' and app.applicant_user_id == actor.user_id
    return {
        'id': app.id, 'number': app.number or '', 'version': app.version, 'state': app.state,
        'state_label': state.label, 'state_color': state.color, 'final': state.final,
        'next_step': state.next_step, 'values': _values(app), 'name': app.applicant_name,
        'level_label': catalogue.LEVEL_LABELS.get(app.level or '', ''),
        'clause': f'{app.clause_code or ""} {app.clause_text or ""}'.strip(),
        'catalogue': (f'{version.title}（第 {version.number} 版）' if version else ''),
        'catalogue_example': bool(version and version.is_example),
        'info': info, 'info_sheet': info_sheet(info, unmasked=unmasked),
        'materials': materials(s, app), 'history': history,
        'last_opinion': next((h['opinion'] for h in reversed(history) if h['opinion']), ''),
        'granted_level': catalogue.LEVEL_LABELS.get(app.granted_level or '', ''),
        'certificate_no': app.certificate_no or '', 'submitted_at': clock.local(app.submitted_at),
        'created_at': clock.local(app.created_at), 'updated_at': clock.local(app.updated_at),
        'decided_at': clock.local(app.decided_at), 'editable': owner and app.state in EDITABLE_STATES,
        'actions': workflow.action_choices('application', s, actor, app),
    }


def row_flags(app: Application, *, nobody_acted: bool) -> dict:
    """Which row actions the person's list shows (the server checks each again)."""
    editable = app.state in EDITABLE_STATES
    return {'can_edit': editable, 'can_files': True, 'can_submit': editable,
            'can_withdraw': app.state == 'pending_unit' and nobody_acted,
            'can_delete': app.state == 'draft', 'can_result': app.state != 'draft' or app.submitted_at is not None}


# ---- the person's applications ---------------------------------------------------------------------
def _own(s: Session, actor: Actor, app_id: int, *, lock: bool = False) -> Application:
    query = select(Application).where(Application.id == app_id)
    if lock:
        query = query.with_for_update()
    app = s.exec(query).first()
    if app is None or actor.role != 'person' or app.applicant_user_id != actor.user_id or app.state == 'deleted':
        audit.deny(s, actor=actor, obj=f'application:{app_id}')
        raise PermissionDenied('该申报不存在或不属于您')
    return app


def _active_person(s: Session, actor: Actor) -> Person:
    person = persons.own_person(s, actor)
    if person.state != 'active':
        raise PermissionDenied('个人信息审核通过后才能办理高层次人才认定申报')
    return person


def my_applications(actor: Actor, status: str = 'all', keyword: str = '', date_from=None, date_to=None, *,
                    sort_by: str = 'created_at', descending: bool = True, page: int = 1, per_page: int = 20,
                    after=None, level: str | None = None) -> paging.Page:
    """高层次人才认定申报: the person's own applications, newest first."""
    from db.models import ReviewRecord
    with read_scope() as s:
        if actor.role != 'person':
            return paging.Page([], 0, None)
        query = select(Application).where(Application.applicant_user_id == actor.user_id,
                                          Application.state != 'deleted')
        result = paging.fetch(s, query, sorts={'created_at': Application.created_at,
                                               'submitted_at': Application.submitted_at,
                                               'state': Application.state, 'level': Application.level},
                              id_column=Application.id, sort_by=sort_by, default_sort='created_at',
                              descending=descending, page=page, per_page=per_page, after=after,
                              not_null=('created_at',))
        pending = [a.id for a in result.items if a.state == 'pending_unit']
        last_actions = {}
        for app_id in pending:
            last_actions[app_id] = s.exec(select(ReviewRecord.action).where(
                ReviewRecord.entity == 'application', ReviewRecord.entity_id == app_id)
                .order_by(col(ReviewRecord.at).desc(), col(ReviewRecord.id).desc()).limit(1)).first()
        result.items = [{'id': a.id, 'number': a.number, 'name': a.number,
                         'level_label': catalogue.LEVEL_LABELS.get(a.level or '', '未选择'),
                         'state': a.state, 'state_label': MACHINE.label(a.state), 'version': a.version,
                         'saved_at': clock.local(a.updated_at), 'submitted_at': clock.local(a.submitted_at),
                         'times': (f'保存：{clock.local(a.updated_at)}'
                                   + (f'\n提交：{clock.local(a.submitted_at)}' if a.submitted_at else '')),
                         **row_flags(a, nobody_acted=last_actions.get(a.id) == 'submit')}
                        for a in result.items]
        return result


def my_summary(actor: Actor) -> dict:
    """For the person's 首页: how many applications in each state (labels), newest result."""
    from sqlalchemy import func
    with read_scope() as s:
        rows = s.exec(select(Application.state, func.count()).where(Application.applicant_user_id == actor.user_id,
                                                                   Application.state != 'deleted')
                      .group_by(col(Application.state))).all()
    counts = dict(rows)
    return {'total': sum(counts.values()),
            'states': [(MACHINE.label(state), counts[state]) for state in MACHINE.states if counts.get(state)]}


def new_form(actor: Actor) -> dict:
    """What the 新增 form shows before the first 保存: the person's information (ID masked)."""
    with read_scope() as s:
        person = _active_person(s, actor)
        info = person_info(person, s.get(Unit, person.unit_id), s.get(User, person.user_id))
        return {'id': None, 'number': '', 'version': 0, 'state': 'draft', 'state_label': '未保存',
                'state_color': 'grey-8', 'next_step': '请填写申报信息并保存', 'values': {},
                'info': info, 'info_sheet': info_sheet(info, unmasked=False), 'editable': True, 'history': [],
                'last_opinion': '', 'materials': [], 'catalogue_example': False}


def my_application(actor: Actor, app_id: int) -> dict:
    with session_scope() as s:   # a refusal is audited
        app = _own(s, actor, app_id)
        return detail(s, app, actor)


def field_errors(s: Session, values: dict, *, complete: bool) -> dict[str, str]:
    errors = SCHEMA.errors(values, complete=complete)
    level, clause_id = values.get('level'), values.get('clause_id')
    if clause_id not in (None, '') and not errors.get(LABELS['clause_id']):
        number = _int(clause_id)
        clause = s.get(CatalogueClause, number) if number is not None else None
        if clause is None or (level and clause.level != level):
            errors[LABELS['clause_id']] = '请选择所选申报层次下的认定依据'
    return errors


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _clean(data: dict) -> dict:
    values = SCHEMA.clean({k: data.get(k) for k in FIELDS})
    values['pledge'] = data.get('pledge') is True
    if values.get('clause_id') is not None:
        values['clause_id'] = _int(values['clause_id']) if _int(values['clause_id']) is not None else values['clause_id']
    return values


def save(actor: Actor, app_id: int | None, data: dict, expected_version: int) -> dict:
    """保存: a draft even when incomplete (what is filled must be right); 新增 when app_id is None.
    Refused after 提交 (until returned), on a stale page, and for a second open application of a 层次."""
    try:
        with session_scope() as s:
            person = _active_person(s, actor)
            values = _clean(data)
            if errors := field_errors(s, values, complete=False):
                raise FormErrors(errors)
            if app_id is None:
                app = Application(person_id=saved_id(person), applicant_user_id=person.user_id, unit_id=person.unit_id,
                                  applicant_name=person.name, id_number=person.id_number)
            else:
                app = _own(s, actor, app_id, lock=True)
                if app.version != expected_version:
                    raise ValidationError('', '申报已在其他页面修改或状态已变化，请刷新页面后再保存')
                if app.state not in EDITABLE_STATES:
                    raise ValidationError('', '申报已提交，审核期间不能修改')
            _check_open_level(s, person, values.get('level'), app_id)
            for key in FIELDS:
                setattr(app, key, values.get(key))
            if app.clause_id:
                clause = s.get(CatalogueClause, app.clause_id)
                if clause is not None:
                    app.clause_code, app.clause_text = clause.code, clause.text
                    app.catalogue_version_id = clause.version_id
            else:
                app.clause_code = app.clause_text = None
                app.catalogue_version_id = None
            app.version = (app.version or 0) + (1 if app_id is not None else 0)
            app.updated_at = clock.now()
            s.add(app)
            s.flush()
            if app.number is None:
                app.number = f'SB{app.created_at.astimezone(clock.SHANGHAI):%Y}{saved_id(app):07d}'
                s.add(app)
            audit.record(s, 'application_saved', actor=actor, obj=f'application:{app.id}')
            return detail(s, app, actor)
    except IntegrityError:   # a parallel save won the race for the same 层次
        raise FormErrors({LABELS['level']: OPEN_LEVEL_TAKEN}) from None


OPEN_LEVEL_TAKEN = '您已有该层次尚未办结的申报，请在原申报上修改或等待其办结'


def _check_open_level(s: Session, person: Person, level: str | None, app_id: int | None) -> None:
    if not level:
        return
    query = select(Application.id).where(Application.person_id == person.id, Application.level == level,
                                         col(Application.state).not_in(FINAL_STATES))
    if app_id is not None:
        query = query.where(Application.id != app_id)
    if s.exec(query).first() is not None:
        raise FormErrors({LABELS['level']: OPEN_LEVEL_TAKEN})


def delete(actor: Actor, app_id: int, expected_version: int) -> dict:
    """删除: a draft only (the 删除 transition); its files go with it (their bytes after the grace period).
    The row stays as 已删除 (ids and history are never reused), out of every list."""
    with session_scope() as s:
        _own(s, actor, app_id, lock=True)
        return workflow.fire(s, 'application', app_id, 'delete', actor, expected_version)


def _discard_files(s: Session, app: Application, actor: Actor, data: dict) -> None:
    for row in s.exec(select(StoredFile).where(StoredFile.entity == 'application', StoredFile.entity_id == app.id,
                                               col(StoredFile.deleted_at).is_(None))).all():
        files.discard(s, row.id)


def missing(actor: Actor, app_id: int) -> dict[str, str]:
    with session_scope() as s:
        return missing_for_submit(s, _own(s, actor, app_id))


def submit(actor: Actor, app_id: int, expected_version: int) -> dict:
    """提交: every missing field and material named; then the snapshot, and the unit reviews first."""
    with session_scope() as s:
        app = _own(s, actor, app_id, lock=True)
        if app.state in EDITABLE_STATES and app.version == expected_version:
            if problem := _applicant_ready(s, app):
                raise WorkflowError(problem)
            workflow.require_complete(s, app, missing_for_submit)
        return workflow.fire(s, 'application', app_id, 'submit', actor, expected_version)


def withdraw(actor: Actor, app_id: int, expected_version: int) -> dict:
    with session_scope() as s:
        _own(s, actor, app_id)
        return workflow.fire(s, 'application', app_id, 'withdraw', actor, expected_version)


# ---- 附件 ------------------------------------------------------------------------------------------
def _editable_for_files(s: Session, actor: Actor, app_id: int, field: str) -> Application:
    app = _own(s, actor, app_id, lock=True)
    if app.state not in EDITABLE_STATES:
        raise ValidationError(field, '申报已提交，审核期间不能修改附件')
    return app


def upload_evidence(actor: Actor, app_id: int, material: str, data: 'bytes | Path', filename: str) -> dict:
    """One evidence file of a material type (PDF/JPG/PNG by content, 20 MB), while editable."""
    if material not in MATERIAL_TYPES:
        raise ValidationError('附件', '材料类型不正确')
    label = MATERIAL_TYPES[material]
    with read_scope() as s:   # refuse early (before checking 20 MB of content) when frozen
        _editable_for_files(s, actor, app_id, label)
    accepted = files.accept(data, filename, field=label, actor=actor)
    try:
        with session_scope() as s:
            _editable_for_files(s, actor, app_id, label)   # again: it may have been submitted meanwhile
            row = files.record(s, accepted, kind=material, entity='application', entity_id=app_id, actor=actor)
            return row | {'created_at': clock.local(row['created_at'])}
    except Exception:
        files.unlink_accepted(accepted)
        raise


def delete_evidence(actor: Actor, app_id: int, file_id: int) -> None:
    with session_scope() as s:
        _editable_for_files(s, actor, app_id, '附件')
        row = s.get(StoredFile, file_id)
        if row is None or row.entity != 'application' or row.entity_id != app_id or row.deleted_at is not None:
            raise ValidationError('附件', '文件不存在或已删除')
        files.discard(s, file_id)
        audit.record(s, 'file_deleted', actor=actor, obj=f'file:{file_id}', detail=f'application:{app_id}')


def set_offline(actor: Actor, app_id: int, material: str, offline: bool, note: str | None) -> dict:
    """「线下提交纸质材料」 for a material type (涉密或不适宜网络传输), with a short explanation."""
    if material not in MATERIAL_TYPES:
        raise ValidationError('附件', '材料类型不正确')
    field = f'{MATERIAL_TYPES[material]}线下提交说明'
    note = (note or '').strip()
    if offline and not note:
        raise ValidationError(field, '请简要说明线下提交的原因（如涉密或不适宜网络传输）')
    if len(note) > OFFLINE_MAX:
        raise ValidationError(field, f'说明最多 {OFFLINE_MAX} 字')
    with session_scope() as s:
        app = _editable_for_files(s, actor, app_id, field)
        marks = _offline(app)
        if offline:
            marks[material] = note
        else:
            marks.pop(material, None)
        app.offline = json.dumps(marks, ensure_ascii=False) if marks else None
        app.updated_at = clock.now()
        s.add(app)
        audit.record(s, 'application_offline', actor=actor, obj=f'application:{app_id}',
                     detail=f'{material}:{"on" if offline else "off"}')
        return {'offline': offline, 'note': marks.get(material, '')}


def evidence(actor: Actor, app_id: int) -> dict:
    """附件 page data: the materials, whether they can still change, and the application's head."""
    with session_scope() as s:
        app = _own(s, actor, app_id)
        return {'id': app.id, 'number': app.number, 'state': app.state, 'state_label': MACHINE.label(app.state),
                'state_color': MACHINE.state(app.state).color, 'version': app.version,
                'editable': app.state in EDITABLE_STATES, 'level_label': catalogue.LEVEL_LABELS.get(app.level or '', ''),
                'clause': f'{app.clause_code or ""} {app.clause_text or ""}'.strip(),
                'materials': materials(s, app)}


def stamp(when: datetime | None) -> str:
    return clock.local(when)
