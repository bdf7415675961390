"""The state machines as data (SPEC §2) and the one entry point that applies a transition.

A transition = state change + review record + audit entry + notifications, in one transaction,
guarded by an expected version so that concurrent clicks yield exactly one transition."""
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session

from db.engine import session_scope
from db.models import Org, ReviewRecord, User
from glrc_ui import clock
from glrc_ui.services import audit
from glrc_ui.services.audit import Actor

CONFLICT = '已被他人处理，请刷新后查看最新状态'


class WorkflowError(Exception):
    """A transition that may not happen; the message is for the user."""


class ConflictError(WorkflowError):
    pass


@dataclass(frozen=True)
class Transition:
    action: str                 # verb: submit, approve, return_, reject, withdraw, disable, enable
    source: str
    target: str
    role: str                   # the role that may fire it
    label: str                  # the button
    stage: str | None = None    # scope rule the actor must pass (see Entity.in_scope)
    needs_opinion: bool = False
    admin_only: bool = False
    guard: str | None = None    # name in GUARDS: fn(session, item) -> message when blocked
    notify: bool = True         # tell the owner (in-app and SMS)


@dataclass
class Machine:
    name: str
    states: dict[str, str]
    transitions: list[Transition]

    def __post_init__(self) -> None:
        for t in self.transitions:
            assert t.source in self.states and t.target in self.states, t

    def label(self, state: str) -> str:
        return self.states.get(state, state)

    def find(self, state: str, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == state and t.action == action), None)


@dataclass
class Entity:
    """How the engine reaches one kind of item: its table, scope and owner rules, and messages."""
    machine: Machine
    model: type
    in_scope: Callable[[Session, Actor, object, Transition], bool]
    owners: Callable[[Session, object], list[User]]
    describe: Callable[[object], str]
    on_enter: dict[str, Callable[[Session, object], None]] = field(default_factory=dict)
    link: str = '/'


ENTITIES: dict[str, Entity] = {}
GUARDS: dict[str, Callable[[Session, object], str | None]] = {}


def register(entity: Entity) -> None:
    ENTITIES[entity.machine.name] = entity


def _entity(name: str) -> Entity:
    if name not in ENTITIES:
        import glrc_ui.services.units  # noqa: F401  (each service registers its entity on import)
    return ENTITIES[name]


def available(entity_name: str, session: Session, actor: Actor, item) -> list[Transition]:
    """Transitions this actor may fire on this item now (the buttons to show)."""
    entity = _entity(entity_name)
    return [t for t in entity.machine.transitions
            if t.source == item.state and _permitted(session, entity, actor, item, t) is None]


def _permitted(session: Session, entity: Entity, actor: Actor, item, t: Transition) -> str | None:
    if actor.role != t.role or (t.admin_only and not actor.is_admin):
        return '您无权执行此操作'
    if not entity.in_scope(session, actor, item, t):
        return '该事项不在您的审核范围内'
    if t.role != 'person' and t.action != 'submit' and actor.user_id in {u.id for u in entity.owners(session, item)}:
        return '不能审核本人的事项'
    return None


def apply(entity_name: str, item_id: int, action: str, actor: Actor, expected_version: int,
          opinion: str | None = None) -> dict:
    """Fire one transition atomically. Raises WorkflowError / ConflictError with a user message."""
    entity = _entity(entity_name)
    machine = entity.machine
    opinion = (opinion or '').strip() or None
    if opinion and len(opinion) > 1000:
        raise WorkflowError('审核意见最多 1000 字')
    with session_scope() as s:
        item = s.get(entity.model, item_id)
        if item is None:
            raise WorkflowError('事项不存在')
        if item.version != expected_version:
            raise ConflictError(CONFLICT)
        t = machine.find(item.state, action)
        if t is None:  # the version matched, so nobody else moved it: the action is simply not allowed now
            raise WorkflowError('当前状态不允许此操作')
        if problem := _permitted(s, entity, actor, item, t):
            raise WorkflowError(problem)
        if t.needs_opinion and not opinion:
            raise WorkflowError('请填写审核意见（退回或不予通过时必填）')
        if t.guard and (problem := GUARDS[t.guard](s, item)):
            raise WorkflowError(problem)
        now = clock.now()
        result = s.execute(update(entity.model)
                           .where(entity.model.id == item_id, entity.model.version == expected_version,
                                  entity.model.state == t.source)
                           .values(state=t.target, version=expected_version + 1, updated_at=now)
                           .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise ConflictError(CONFLICT)
        s.expire(item)
        org = s.get(Org, actor.org_id) if actor.org_id else None
        org_name = org.name if org else ('桂林市人才服务中心' if actor.role == 'center' else None)
        s.add(ReviewRecord(entity=machine.name, entity_id=item_id, action=t.action, from_state=t.source,
                           to_state=t.target, actor_id=actor.user_id, actor_role=actor.role,
                           actor_name=actor.display_name or actor.account or '', org_id=actor.org_id,
                           org_name=org_name, opinion=opinion, at=now))
        audit.record(s, f'{machine.name}_{t.action.rstrip("_")}', actor=actor, obj=f'{machine.name}:{item_id}',
                     detail=f'{t.source}->{t.target}')
        if hook := entity.on_enter.get(t.target):
            hook(s, item)
        if t.notify:
            _notify(s, entity, item, t, opinion)
        return {'id': item_id, 'state': t.target, 'state_label': machine.label(t.target),
                'version': expected_version + 1}


def _notify(s: Session, entity: Entity, item, t: Transition, opinion: str | None) -> None:
    from glrc_ui.services import notifications, sms
    title = f'{entity.describe(item)}：{entity.machine.label(t.target)}'
    body = title + (f'。审核意见：{opinion}' if opinion else '')
    for user in entity.owners(s, item):
        if user.id is None:
            continue
        notifications.notify(s, user.id, title, body, entity.link)
        if user.phone and t.role != user.role:
            sms.send_message(s, user.phone, f'【桂林市人才服务】{body}', 'notice')


def history(entity_name: str, item_id: int, session: Session | None = None) -> list[dict]:
    """Every transition of an item, oldest first (the 审核记录 timeline)."""
    from sqlmodel import select
    machine = _entity(entity_name).machine

    def load(s: Session) -> list[dict]:
        rows = s.exec(select(ReviewRecord).where(ReviewRecord.entity == entity_name, ReviewRecord.entity_id == item_id)
                      .order_by(ReviewRecord.at, ReviewRecord.id)).all()
        return [{'action': r.action, 'action_label': ACTION_LABELS.get(r.action, r.action),
                 'from': machine.label(r.from_state), 'to': machine.label(r.to_state), 'actor': r.actor_name,
                 'role': r.actor_role, 'org': r.org_name or '', 'opinion': r.opinion or '',
                 'at': clock.local(r.at)} for r in rows]
    if session is not None:
        return load(session)
    with session_scope() as s:
        return load(s)


ACTION_LABELS = {'submit': '提交审核', 'approve': '通过', 'return_': '退回修改', 'reject': '不予通过',
                 'withdraw': '撤回', 'disable': '停用', 'enable': '启用'}


# ---- the unit machine (SPEC §2.1) -----------------------------------------------------------------
UNIT_STATES = {
    'registered': '未提交', 'pending_org': '待城区/主管部门审核', 'pending_center': '待市人才服务中心审核',
    'returned': '退回修改', 'active': '审核通过', 'disabled': '已停用',
}
UNIT_MACHINE = Machine('unit', UNIT_STATES, [
    Transition('submit', 'registered', 'pending_org', 'unit', '提交审核', stage='owner', guard='unit_complete',
               notify=False),
    Transition('submit', 'returned', 'pending_org', 'unit', '提交审核', stage='owner', guard='unit_complete',
               notify=False),
    Transition('approve', 'pending_org', 'pending_center', 'reviewer', '通过', stage='org'),
    Transition('return_', 'pending_org', 'returned', 'reviewer', '退回修改', stage='org', needs_opinion=True),
    Transition('approve', 'pending_center', 'active', 'center', '通过', stage='center'),
    Transition('return_', 'pending_center', 'returned', 'center', '退回修改', stage='center', needs_opinion=True),
    Transition('disable', 'active', 'disabled', 'center', '停用', stage='center', admin_only=True, needs_opinion=True),
    Transition('enable', 'disabled', 'active', 'center', '启用', stage='center', admin_only=True),
])
