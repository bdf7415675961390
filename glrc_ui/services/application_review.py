"""The review side of recognition applications (SPEC §3.7, §3.8): 高层次人才认定审核 queues for the unit,
the reviewer and the center; the review view (with what changed since the returned submission and
consistency hints on the same 身份证号); decisions and 批量通过; 审核结果; 人才认定情况查询 for every
role and its Excel export."""
import json
import re
import secrets
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import MATERIAL_TYPES, Application, ApplicationSubmission, Org, Unit
from glrc_ui import clock, config, paging, person_fields, search, validators, workflow
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied, ValidationError, WorkflowError
from glrc_ui.services import audit, catalogue
from glrc_ui.services.applications import FINAL_STATES, LABELS, MACHINE, SCHEMA, can_view, detail, unit_of_actor

REVIEW_ROLES = ('unit', 'reviewer', 'center')
QUERY_ROLES = ('person', 'unit', 'reviewer', 'center')
EXPORT_ROLES = ('unit', 'reviewer', 'center')
STATUS = {'pending': '待审核', 'done': '已审核', 'all': '全部'}
QUERY_STATUS = {'all': '全部', 'in_progress': '审核中', 'returned': '退回修改', 'approved': '认定通过',
                'rejected': '不予认定'}
SORTS = {'submitted_at': Application.submitted_at, 'name': Application.applicant_name,
         'level': Application.level, 'state': Application.state, 'number': Application.number,
         'decided_at': Application.decided_at}
NUMBER = re.compile(r'^SB\d{11,}$')
NOT_FOUND = '该申报不存在或不在您的权限范围内'
EXPORT_MAX = 50_000
EXPORT_TTL = 600     # seconds an export waits to be downloaded


# ---- who sees what -------------------------------------------------------------------------------
def _scope_filter(s: Session, actor: Actor, query):
    """The rows this actor may list (the same rule as can_view, as SQL)."""
    if actor.role == 'person':
        return query.where(Application.applicant_user_id == (actor.user_id or -1), Application.state != 'deleted')
    queued = [name for name, state in MACHINE.states.items() if state.queued]
    # queued states are entered by a submission: submitted_at is set (the indexes in submission order
    # then start past the drafts' NULLs)
    query = query.where(col(Application.state).in_(queued), col(Application.submitted_at).is_not(None))
    if actor.role == 'unit':
        unit_id = unit_of_actor(s, actor) if actor.status == 'active' else None
        return query.where(Application.unit_id == (unit_id or -1))
    if actor.role == 'reviewer':
        return query.where(Application.org_id == (actor.org_id or -1), col(Application.reached_org).is_(True))
    if actor.role == 'center':
        return query
    return query.where(Application.id == -1)


def _visible(s: Session, actor: Actor, app_id: int) -> Application:
    app = s.get(Application, app_id)
    if app is None or not can_view(s, actor, app):
        audit.deny(s, actor=actor, obj=f'application:{app_id}')
        raise PermissionDenied(NOT_FOUND)
    return app


def _filters(s: Session, actor: Actor, query, keyword: str, date_from: date | None, date_to: date | None,
             level: str | None):
    keyword = (keyword or '').strip()[:50]
    if keyword and NUMBER.match(keyword.upper()):
        query = query.where(Application.number == keyword.upper())            # the unique index
    elif keyword and validators.id_number_error(keyword.upper()) is None:
        query = query.where(Application.id_number == keyword.upper())         # ix_application_id_number
    elif keyword:
        query = query.where(search.contains(Application, 'applicant_name', keyword))
    if level in catalogue.LEVEL_LABELS:
        query = query.where(Application.level == level)
    if date_from:
        query = query.where(col(Application.submitted_at) >= datetime.combine(date_from, dtime.min, clock.SHANGHAI))
    if date_to:
        query = query.where(col(Application.submitted_at)
                            < datetime.combine(date_to + timedelta(days=1), dtime.min, clock.SHANGHAI))
    return query


def _rows(s: Session, items: list[Application], pending: list[str], *, unmasked: bool = False) -> list[dict]:
    unit_names = dict(s.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_({a.unit_id for a in items}))).all()) \
        if items else {}
    org_ids = {a.org_id for a in items if a.org_id}
    org_names = dict(s.exec(select(Org.id, Org.name).where(col(Org.id).in_(org_ids))).all()) if org_ids else {}
    return [{'id': a.id, 'number': a.number or '', 'name': a.applicant_name,
             'id_number': a.id_number if unmasked else person_fields.mask_id(a.id_number),
             'unit_name': unit_names.get(a.unit_id, ''), 'org_name': org_names.get(a.org_id, ''),
             'level': a.level or '', 'level_label': catalogue.LEVEL_LABELS.get(a.level or '', ''),
             'state': a.state, 'state_label': MACHINE.label(a.state),
             'submitted_at': clock.local(a.submitted_at), 'decided_at': clock.local(a.decided_at),
             'granted_level': catalogue.LEVEL_LABELS.get(a.granted_level or '', ''),
             'certificate_no': a.certificate_no or '', 'version': a.version,
             'can_review': a.state in pending, 'can_result': True} for a in items]


# ---- 高层次人才认定审核 ----------------------------------------------------------------------------------
def queue_page(actor: Actor, status: str = 'pending', keyword: str = '', date_from: date | None = None,
               date_to: date | None = None, *, level: str | None = None, sort_by: str = 'submitted_at',
               descending: bool = False, page: int = 1, per_page: int = 20,
               after: paging.Cursor | None = None) -> paging.Page:
    """The actor's review queue, paged on the server, oldest first. status: pending | done | all."""
    pending, done, everything = MACHINE.queue_states(actor.role or '')
    states = {'pending': pending, 'done': done}.get(status, everything)
    if actor.role not in REVIEW_ROLES or not states:
        return paging.Page([], 0, None)
    with read_scope() as s:
        query = _scope_filter(s, actor, select(Application)).where(col(Application.state).in_(states))
        if actor.role == 'center' and status == 'done':   # what the center itself has had in hand
            query = query.where(col(Application.reached_center).is_(True))
        query = _filters(s, actor, query, keyword, date_from, date_to, level)
        result = paging.fetch(s, query, sorts=SORTS, id_column=Application.id, sort_by=sort_by,
                              default_sort='submitted_at', descending=descending, page=page, per_page=per_page,
                              after=after, not_null=('submitted_at', 'name', 'state'))
        result.items = _rows(s, result.items, pending)
        return result


def pending_summary(actor: Actor) -> dict:
    """For the 首页: how many applications wait at this actor's stage, and since when."""
    pending, _, _ = MACHINE.queue_states(actor.role or '')
    if not pending:
        return {'count': 0, 'oldest': ''}
    with read_scope() as s:
        query = _scope_filter(s, actor, select(func.count(), func.min(Application.submitted_at)))
        count, oldest = s.exec(query.where(col(Application.state).in_(pending))).one()
    return {'count': count, 'oldest': clock.local(oldest)}


def detail_for_review(actor: Actor, app_id: int) -> dict:
    """The review view: everything entered, every file, the history, what changed since the returned
    submission, hints on the same 身份证号, and the decisions this actor may take now."""
    with session_scope() as s:   # writes the audit entry
        app = _visible(s, actor, app_id)
        if actor.role == 'person':
            audit.deny(s, actor=actor, obj=f'application:{app_id}')
            raise PermissionDenied(NOT_FOUND)
        audit.record(s, 'application_viewed', actor=actor, obj=f'application:{app_id}')
        d = detail(s, app, actor, unmasked=True)
        d['hints'] = hints(s, app)
        d['changes'] = changes(s, app_id)
        return d


def review(actor: Actor, app_id: int, action: str, expected_version: int, opinion: str | None,
           data: dict | None = None) -> dict:
    """通过 / 退回修改 / 不予通过 at the actor's stage (the center's 通过 with 认定层次)."""
    if action not in ('approve', 'return_', 'reject'):
        raise WorkflowError('不支持的审核操作')
    with session_scope() as s:
        app = s.get(Application, app_id)
        if app is not None and app.version != expected_version and not can_view(s, actor, app) and _related(s, actor, app):
            raise workflow.ConflictError()   # e.g. withdrawn by the applicant since the page was opened
        _visible(s, actor, app_id)
        return workflow.fire(s, 'application', app_id, action, actor, expected_version, opinion, data)


def _related(s: Session, actor: Actor, app: Application) -> bool:
    """The actor reviews this application's unit or org (whatever its state now): a stale page of its
    own, not someone probing ids."""
    if actor.role == 'unit':
        return actor.status == 'active' and unit_of_actor(s, actor) == app.unit_id
    if actor.role == 'reviewer':
        return actor.org_id is not None and actor.org_id == app.org_id
    return actor.role == 'center'


def review_many(actor: Actor, items: list[tuple[int, int]]) -> dict:
    """批量通过 of selected rows where the stage allows it (not at the center: 认定层次 per item)."""
    with read_scope() as s:
        rows = s.exec(select(Application).where(col(Application.id).in_([i for i, _ in items[:100]]))).all()
        visible = {a.id for a in rows if can_view(s, actor, a)}
    result = workflow.fire_many('application', [(i, v) for i, v in items if i in visible], 'approve', actor)
    result['failed'] += [(i, NOT_FOUND) for i, _ in items[:100] if i not in visible]
    return result


def hints(s: Session, app: Application) -> list[str]:
    """The same 身份证号 already recognised, or with another application in progress."""
    others = s.exec(select(Application).where(Application.id_number == app.id_number, Application.id != app.id,
                                              col(Application.state).not_in(('draft', 'deleted')))
                    .order_by(col(Application.id))).all()
    result = []
    for other in others:
        if other.state == 'approved':
            result.append(f'该身份证号已于 {clock.local(other.decided_at)[:10]} 获认定：'
                          f'{catalogue.LEVEL_LABELS.get(other.granted_level or "", "")}，证书编号 {other.certificate_no}'
                          f'（申报编号 {other.number}）')
        elif other.state not in FINAL_STATES:
            result.append(f'该身份证号另有申报正在办理：申报编号 {other.number}，'
                          f'{catalogue.LEVEL_LABELS.get(other.level or "", "")}，{MACHINE.label(other.state)}')
    return result


def changes(s: Session, app_id: int) -> dict | None:
    """What changed since the submission that was last returned (退回修改): fields (old → new) and
    files added / removed. None until a returned application has been submitted again."""
    from db.models import ReviewRecord
    actions = list(s.exec(select(ReviewRecord.action).where(ReviewRecord.entity == 'application',
                                                            ReviewRecord.entity_id == app_id)
                          .order_by(col(ReviewRecord.id))).all())
    if 'return_' not in actions:
        return None
    last_return = len(actions) - 1 - actions[::-1].index('return_')
    returned_no = actions[:last_return].count('submit')      # the n-th submission is the one returned
    submitted = list(s.exec(select(ApplicationSubmission).where(ApplicationSubmission.application_id == app_id)
                            .order_by(col(ApplicationSubmission.id))).all())
    if returned_no < 1 or len(submitted) <= returned_no:     # not submitted again since the return
        return None
    baseline, latest = submitted[returned_no - 1], submitted[-1]
    subs = [latest, baseline]
    new, old = json.loads(subs[0].content), json.loads(subs[1].content)
    fields = []
    for key, label in LABELS.items():
        before, after = old['fields'].get(key), new['fields'].get(key)
        if key == 'clause_id':
            before, after = old.get('clause'), new.get('clause')
        elif key == 'level':
            before, after = catalogue.LEVEL_LABELS.get(before or '', before), catalogue.LEVEL_LABELS.get(after or '', after)
        elif SCHEMA[key].kind == 'checkbox':
            before, after = SCHEMA[key].display(before), SCHEMA[key].display(after)
        if (before or '') != (after or ''):
            fields.append({'label': label, 'old': _short(before), 'new': _short(after)})
    added, removed = [], []
    for kind, label in MATERIAL_TYPES.items():
        was = {f['sha256'] or f['id']: f['name'] for f in old['files'].get(kind, [])}
        now = {f['sha256'] or f['id']: f['name'] for f in new['files'].get(kind, [])}
        added += [f'{label}：{name}' for key, name in now.items() if key not in was]
        removed += [f'{label}：{name}' for key, name in was.items() if key not in now]
        before_off, after_off = old['offline'].get(kind), new['offline'].get(kind)
        if before_off != after_off:
            fields.append({'label': f'{label}（线下提交纸质材料）', 'old': before_off or '否', 'new': after_off or '否'})
    return {'since': clock.local(subs[1].at), 'fields': fields, 'added': added, 'removed': removed}


def _short(value, limit: int = 300) -> str:
    text = '' if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + '…'


# ---- 审核结果 and 人才认定情况查询 -------------------------------------------------------------------------
def result(actor: Actor, app_id: int) -> dict:
    """审核结果: final state, 认定层次, 证书编号 and the timeline of every stage."""
    with session_scope() as s:   # a refusal is audited
        app = _visible(s, actor, app_id)
        d = detail(s, app, actor, unmasked=False)
        return {k: d[k] for k in ('id', 'number', 'name', 'state', 'state_label', 'state_color', 'final',
                                  'next_step', 'level_label', 'clause', 'granted_level', 'certificate_no',
                                  'submitted_at', 'decided_at', 'history', 'last_opinion', 'catalogue',
                                  'catalogue_example', 'editable')} | {'unit_name': d['info'].get('unit_name', '')}


def _query(s: Session, actor: Actor, status: str, keyword: str, date_from, date_to, level):
    query = _scope_filter(s, actor, select(Application))
    states = {'in_progress': [st.state for st in MACHINE.stages], 'returned': ['returned'],
              'approved': ['approved'], 'rejected': ['rejected']}.get(status)
    if states:
        query = query.where(col(Application.state).in_(states))
    return _filters(s, actor, query, keyword, date_from, date_to, level)


def _submitted_not_null(actor: Actor) -> tuple[str, ...]:
    """Staff see submitted applications only (submitted_at is set): 下一页 goes by keyset on it. A person's
    own list holds drafts too (no submitted_at): counted out, as it is short."""
    return () if actor.role == 'person' else ('submitted_at',)


def query_page(actor: Actor, status: str = 'all', keyword: str = '', date_from: date | None = None,
               date_to: date | None = None, *, level: str | None = None, sort_by: str = 'submitted_at',
               descending: bool = True, page: int = 1, per_page: int = 20,
               after: paging.Cursor | None = None) -> paging.Page:
    """人才认定情况查询: the applications this actor may see, newest first."""
    if actor.role not in QUERY_ROLES:
        return paging.Page([], 0, None)
    with read_scope() as s:
        query = _query(s, actor, status, keyword, date_from, date_to, level)
        result = paging.fetch(s, query, sorts=SORTS, id_column=Application.id, sort_by=sort_by,
                              default_sort='submitted_at', descending=descending, page=page, per_page=per_page,
                              after=after, not_null=('name', 'state') + _submitted_not_null(actor))
        result.items = _rows(s, result.items, [])
        return result


# ---- 导出Excel ------------------------------------------------------------------------------------
EXPORT_COLUMNS = ('申报编号', '姓名', '身份证号', '手机号', '所在单位', '单位审核归属', '申报层次', '认定依据', '状态',
                  '提交时间', '认定层次', '证书编号', '办结时间')
_exports: dict[str, tuple[int, Path, str, float]] = {}


def entitled_to_full(actor: Actor) -> bool:
    """Who gets full 身份证号 and phones in an export: the center (it issues the certificates).
    Units and reviewers get them masked, as in every list (SPEC §4)."""
    return actor.role == 'center'


def export(actor: Actor, status: str = 'all', keyword: str = '', date_from: date | None = None,
           date_to: date | None = None, *, level: str | None = None) -> dict:
    """导出Excel of the filtered rows: a real .xlsx written in streaming mode (constant memory), every
    cell as text (no formula), audited with its filter and row count. Returns a one-time token for
    the download route."""
    if actor.role not in EXPORT_ROLES:
        raise PermissionDenied('无权导出')
    import xlsxwriter
    full = entitled_to_full(actor)
    filters = {'status': status, 'keyword': _masked_keyword(keyword), 'date_from': str(date_from or ''),
               'date_to': str(date_to or ''), 'level': level or ''}
    with read_scope() as s:
        query = _query(s, actor, status, keyword, date_from, date_to, level)
        count = s.exec(select(func.count()).select_from(
            query.with_only_columns(Application.id).limit(EXPORT_MAX + 1).subquery())).one()
        if count > EXPORT_MAX:
            raise ValidationError('导出', f'符合条件的记录超过 {EXPORT_MAX:,} 条，请缩小筛选范围（如申报层次、日期）后再导出')
        path = _export_dir() / (secrets.token_hex(16) + '.xlsx')
        workbook = xlsxwriter.Workbook(str(path), {'constant_memory': True, 'strings_to_formulas': False,
                                                   'strings_to_urls': False, 'strings_to_numbers': False})
        try:
            sheet = workbook.add_worksheet('人才认定情况')
            bold = workbook.add_format({'bold': True, 'bg_color': '#F2F2F2', 'border': 1})
            for c, (title, width) in enumerate(zip(EXPORT_COLUMNS, (16, 10, 22, 14, 30, 18, 10, 40, 16, 18, 10, 22, 18),
                                                   strict=True)):
                sheet.set_column(c, c, width)
                sheet.write_string(0, c, title, bold)
            units: dict[int, str] = {}
            orgs: dict[int | None, str] = dict(s.exec(select(Org.id, Org.name)).all())
            row_no, last_id = 0, 0
            while True:   # in id order, 1,000 rows at a time (keyset): memory stays flat
                batch: list[Application] = list(s.exec(query.where(col(Application.id) > last_id)
                                                       .order_by(col(Application.id)).limit(1000)).all())
                if not batch:
                    break
                missing = {a.unit_id for a in batch if a.unit_id not in units}
                if missing:
                    units.update({unit_id or 0: name for unit_id, name in
                                  s.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(missing))).all()})
                for a in batch:
                    row_no += 1
                    phone = ''
                    if a.snapshot:
                        try:
                            phone = json.loads(a.snapshot).get('phone') or ''
                        except ValueError:
                            phone = ''
                    values = (a.number or '', a.applicant_name,
                              a.id_number if full else person_fields.mask_id(a.id_number),
                              phone if full else person_fields.mask_phone(phone),
                              units.get(a.unit_id, ''), orgs.get(a.org_id, ''),
                              catalogue.LEVEL_LABELS.get(a.level or '', ''),
                              f'{a.clause_code or ""} {a.clause_text or ""}'.strip(), MACHINE.label(a.state),
                              clock.local(a.submitted_at), catalogue.LEVEL_LABELS.get(a.granted_level or '', ''),
                              a.certificate_no or '', clock.local(a.decided_at))
                    for c, value in enumerate(values):
                        sheet.write_string(row_no, c, value)   # text, never a formula (= + - @ stay text)
                last_id = batch[-1].id or last_id
            sheet.freeze_panes(1, 0)
        finally:
            workbook.close()
    token = secrets.token_urlsafe(24)
    name = f'人才认定情况_{clock.now().astimezone(clock.SHANGHAI):%Y%m%d%H%M%S}.xlsx'
    _sweep_exports()
    _exports[token] = (actor.user_id or 0, path, name, time.monotonic() + EXPORT_TTL)
    audit.record_now('export', actor=actor, obj='applications',
                     detail=json.dumps(filters | {'rows': row_no, 'masked': not full}, ensure_ascii=False))
    return {'token': token, 'rows': row_no, 'name': name}


def _masked_keyword(keyword: str | None) -> str:
    """The keyword as the audit log may keep it: a 身份证号 or phone masked (SECURITY L2)."""
    keyword = (keyword or '').strip()[:50]
    if validators.id_number_error(keyword.upper()) is None:
        return person_fields.mask_id(keyword)
    if validators.phone_error(keyword) is None:
        return person_fields.mask_phone(keyword)
    return keyword


def _export_dir() -> Path:
    path = config.current().data_dir / 'exports'
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def take_export(actor: Actor, token: str) -> tuple[Path, str] | None:
    """The export file for its own creator, once; None when unknown, expired or someone else's."""
    entry = _exports.get(token)
    if entry is None or entry[0] != actor.user_id or entry[3] < time.monotonic() or not entry[1].exists():
        return None
    del _exports[token]
    return entry[1], entry[2]


def _sweep_exports() -> None:
    now = time.monotonic()
    for token, (_, path, _, expires) in list(_exports.items()):
        if expires < now:
            _exports.pop(token, None)
            path.unlink(missing_ok=True)
    cutoff = time.time() - 2 * EXPORT_TTL
    for path in _export_dir().glob('*.xlsx'):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
