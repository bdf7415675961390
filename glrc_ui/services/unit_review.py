"""单位注册审核 (SPEC §3.7): the queue, the review detail and the decisions, for reviewers (their org)
and the center (its stage). The states of each tab come from the unit machine's stages."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import Org, Unit
from glrc_ui import clock, paging, search, validators, workflow
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied, WorkflowError
from glrc_ui.services import audit
from glrc_ui.services.units import MACHINE, can_view, detail

STATUS = {'pending': '待审核', 'done': '已审核', 'all': '全部'}
SORTS = {'submitted_at': Unit.submitted_at, 'name': Unit.name, 'created_at': Unit.created_at, 'state': Unit.state}
REVIEW_ROLES = ('reviewer', 'center')


def detail_for_review(actor: Actor, unit_id: int) -> dict:
    """Everything a reviewer needs; refused (and audited) outside the actor's scope."""
    with session_scope() as s:  # writes the audit entry
        unit = _visible(s, actor, unit_id)
        audit.record(s, 'unit_viewed', actor=actor, obj=f'unit:{unit_id}')
        return detail(s, unit, actor)


def _visible(s: Session, actor: Actor, unit_id: int) -> Unit:
    """The unit if this reviewer may see it; otherwise the denial is audited and PermissionDenied raised."""
    unit = s.get(Unit, unit_id)
    if unit is None or actor.role not in REVIEW_ROLES or not can_view(s, actor, unit):
        audit.deny(s, actor=actor, obj=f'unit:{unit_id}')
        raise PermissionDenied('该单位不存在或不在您的审核范围内')
    return unit


def review(actor: Actor, unit_id: int, action: str, expected_version: int, opinion: str | None,
           data: dict | None = None) -> dict:
    """通过 / 退回修改 (and 停用 / 启用 for center admins) on one unit."""
    if action == 'submit' or action not in MACHINE.actions:
        raise WorkflowError('不支持的审核操作')
    with session_scope() as s:
        _visible(s, actor, unit_id)
        return workflow.fire(s, 'unit', unit_id, action, actor, expected_version, opinion, data)


def review_many(actor: Actor, items: list[tuple[int, int]]) -> dict:
    """批量通过: approve each (unit id, expected version); one transaction per unit, failures reported."""
    with read_scope() as s:
        visible = {unit.id for unit in s.exec(select(Unit).where(col(Unit.id).in_([i for i, _ in items[:100]]))).all()
                   if can_view(s, actor, unit)}
    result = workflow.fire_many('unit', [(i, v) for i, v in items if i in visible], 'approve', actor)
    result['failed'] += [(i, '该单位不存在或不在您的审核范围内') for i, _ in items[:100] if i not in visible]
    return result


def queue(actor: Actor, *args, **kwargs) -> tuple[list[dict], int]:
    """(rows, total) of one queue page; see queue_page."""
    result = queue_page(actor, *args, **kwargs)
    return result.items, result.total


def queue_page(actor: Actor, status: str = 'pending', keyword: str = '', date_from: date | None = None,
               date_to: date | None = None, sort_by: str = 'submitted_at', descending: bool = False,
               page: int = 1, per_page: int = 20, after: paging.Cursor | None = None) -> paging.Page:
    """单位注册审核 queue, paged on the server. status: pending | done | all. Rows are plain dicts."""
    pending, done, everything = MACHINE.queue_states(actor.role or '')
    states = {'pending': pending, 'done': done}.get(status, everything)
    if actor.role not in REVIEW_ROLES or not states:
        return paging.Page([], 0, None)
    # queued states are entered by a submission (submitted_at is set); saying so lets the index in
    # submission order start past the drafts' NULLs instead of reading through them (44 → 0.2 ms at 1M)
    query = select(Unit).where(col(Unit.state).in_(states), col(Unit.submitted_at).is_not(None))
    if actor.role == 'reviewer':
        query = query.where(Unit.org_id == (actor.org_id or -1))
    keyword = (keyword or '').strip()[:50]
    if keyword and validators.credit_code_error(keyword) is None:
        query = query.where(Unit.credit_code == keyword.upper())  # a full code: the unique index answers
    elif keyword and (bounds := code_prefix_range(keyword)):
        low, high = bounds  # part of a code: a range on the unique index, LIKE keeps it exact
        query = query.where(col(Unit.credit_code) >= low, col(Unit.credit_code) < high,
                            col(Unit.credit_code).like(f'{low}%'))
    elif keyword:
        query = query.where(search.contains(Unit, 'name', keyword))
    if date_from:
        query = query.where(col(Unit.submitted_at) >= datetime.combine(date_from, time.min, clock.SHANGHAI))
    if date_to:
        query = query.where(col(Unit.submitted_at) < datetime.combine(date_to + timedelta(days=1), time.min, clock.SHANGHAI))
    with read_scope() as s:
        # queued states are entered by a submission, which stamps submitted_at: no NULLs to skip
        result = paging.fetch(s, query, sorts=SORTS, id_column=Unit.id, sort_by=sort_by, default_sort='submitted_at',
                              descending=descending, page=page, per_page=per_page, after=after,
                              not_null=('submitted_at',))
        org_names = dict(s.exec(select(Org.id, Org.name).where(col(Org.id).in_({u.org_id for u in result.items}))).all())
        result.items = [{'id': u.id, 'name': u.name, 'credit_code': u.credit_code, 'unit_type': u.unit_type or '',
                         'org_name': org_names.get(u.org_id, ''), 'state': u.state,
                         'state_label': MACHINE.label(u.state), 'submitted_at': clock.local(u.submitted_at),
                         'version': u.version, 'can_review': u.state in pending} for u in result.items]
    return result


CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY'   # GB 32100 alphabet (no I, O, S, V, Z)
_CODE_ORDER = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'


def code_prefix_range(keyword: str) -> tuple[str, str] | None:
    """A keyword that looks like the start of a 统一社会信用代码 (4–17 code characters with a digit):
    the [low, high) range of codes that begin with it, for an index range scan. Digits sort before
    letters in byte order and in the databases' linguistic collations alike, so the range is the same."""
    code = keyword.strip().upper()
    if not 4 <= len(code) < 18 or any(ch not in CODE_CHARS for ch in code) or not any(ch.isdigit() for ch in code):
        return None
    head = code
    while head and head[-1] == _CODE_ORDER[-1]:
        head = head[:-1]
    if not head:
        return None
    high = head[:-1] + _CODE_ORDER[_CODE_ORDER.index(head[-1]) + 1]
    return code, high


def pending_summary(actor: Actor) -> dict:
    """For a reviewer's or the center's 首页: how many units wait at its stage, and since when."""
    pending, _, _ = MACHINE.queue_states(actor.role or '')
    query = select(func.count(), func.min(Unit.submitted_at)).where(col(Unit.state).in_(pending))
    if actor.role == 'reviewer':
        query = query.where(Unit.org_id == (actor.org_id or -1))
    with read_scope() as s:
        count, oldest = s.exec(query).one()
    return {'count': count, 'oldest': clock.local(oldest)}
