"""The workflow engine (SPEC §2): state machines as data and the one place where a state changes.

A machine declares its states (label, colour, final, editable by the owner, the owner's next step)
and its transitions (action, source, target, role, scope rule, guards, effects, flags). Review chains
are declared as stages: each stage generates its 通过 / 退回修改 / 不予通过 transitions, so a new stage
(e.g. 公示) is one more entry. An Entity binds a machine to its table and to the rules only the owning
service knows (who is in scope, who owns the item, which organisation acts); services register their
entity at start-up (glrc_ui.services.register_entities).

fire() = state change + review record (with the data the actor entered) + audit entry + effects +
notifications, in the caller's transaction, guarded by an expected version so that concurrent clicks
yield exactly one transition."""
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import ReviewRecord
from glrc_ui import clock
from glrc_ui.actor import Actor
from glrc_ui.errors import ConflictError, FormErrors, NotFound, PermissionDenied, WorkflowError
from glrc_ui.services import audit, notifications, sms

__all__ = ['Actor', 'ConflictError', 'DataField', 'Entity', 'Machine', 'Stage', 'State', 'Transition',
           'WorkflowError', 'apply', 'available', 'fire', 'history', 'record_creation', 'register', 'entity']

CONFLICT = ConflictError.default
OPINION_MAX = 1000
Guard = Callable[[Session, Any], 'str | None']          # (session, item) -> message when blocked
Effect = Callable[[Session, Any, Actor, dict], None]     # (session, item, actor, data)


@dataclass(frozen=True)
class State:
    label: str
    color: str = 'grey-8'      # Quasar colour with white text at ≥ 4.5:1
    final: bool = False
    owner_editable: bool = False      # the owner may change the item's fields in this state
    next_step: str = ''               # what the owner is told to do next (首页)
    queued: bool = True               # listed in review queues (False: not yet submitted)
    notice: str = ''                  # told to the owner when the item arrives here (消息: 「…，单位账号已开通」)


@dataclass(frozen=True)
class DataField:
    """A value the actor enters with a transition (e.g. the center's 认定层次); kept on the record."""
    name: str
    label: str
    choices: tuple[str, ...] = ()
    required: bool = True
    choice_labels: tuple[str, ...] = ()     # what each choice is shown as (A → A类); default the value

    def check(self, value: Any) -> str | None:
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ''):
            return f'请选择{self.label}' if self.choices else f'请填写{self.label}' if self.required else None
        if self.choices and value not in self.choices:
            return f'{self.label}不正确'
        return None


@dataclass(frozen=True)
class Transition:
    action: str                         # verb: submit, approve, return_, reject, withdraw, disable, enable
    source: str
    target: str
    role: str                           # the role that may fire it
    label: str                          # the button
    scope: str                          # name of the entity's scope rule the actor must pass
    needs_opinion: bool = False
    admin_only: bool = False
    self_approval: bool = False         # the item's owner may fire it (submit, withdraw)
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    fields: tuple[DataField, ...] = ()  # data the actor enters, validated here, kept on the record
    notify_owner: bool = True           # in-app message to the owner
    sms_owner: bool = False             # and an SMS
    notify_next: bool = False           # in-app message to whoever acts at the target state
    batch: bool = False                 # may be fired for many items at once (批量通过)
    opinion_label: str = '审核意见'       # what the opinion is called here (停用: 停用原因)
    notice: str = ''                    # the owner's message after the acting org, e.g. 「已停用本单位账号」


@dataclass(frozen=True)
class Stage:
    """One review step: items in `state` wait for `role` within `scope`."""
    state: str
    label: str                          # state label, e.g. 待城区/主管部门审核
    role: str
    scope: str
    next_step: str = ''
    approve_fields: tuple[DataField, ...] = ()
    approve_effects: tuple[Effect, ...] = ()
    color: str = 'blue-9'


@dataclass
class Machine:
    name: str
    states: dict[str, State]
    transitions: list[Transition]
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        for t in self.transitions:
            if t.source not in self.states or t.target not in self.states:
                raise ValueError(f'{self.name}: transition {t.action} {t.source}->{t.target} names an unknown state')

    @classmethod
    def staged(cls, name: str, states: dict[str, State], stages: Sequence[Stage], *, approved: str,
               returned: str | None = None, rejected: str | None = None, notify_next: bool = False,
               sms_owner: bool = False, sms_intermediate: bool = True, extra: Sequence[Transition] = ()) -> 'Machine':
        """A machine whose review chain is `stages`: each stage approves to the next (the last to
        `approved`), returns to `returned` and rejects to `rejected` (when given). sms_owner: the
        owner also gets an SMS for each decision; without sms_intermediate only for the last 通过
        (and every 退回修改 / 不予通过), not when one stage passes the item to the next."""
        states = dict(states)
        transitions = list(extra)
        for i, stage in enumerate(stages):
            states.setdefault(stage.state, State(stage.label, stage.color, next_step=stage.next_step))
            target = stages[i + 1].state if i + 1 < len(stages) else approved
            last = i + 1 == len(stages)
            transitions.append(Transition('approve', stage.state, target, stage.role, '通过', stage.scope,
                                          fields=stage.approve_fields, effects=stage.approve_effects,
                                          notify_next=notify_next and not last,
                                          sms_owner=sms_owner and (last or sms_intermediate),
                                          batch=not stage.approve_fields))
            if returned:
                transitions.append(Transition('return_', stage.state, returned, stage.role, '退回修改', stage.scope,
                                              needs_opinion=True, sms_owner=sms_owner))
            if rejected:
                transitions.append(Transition('reject', stage.state, rejected, stage.role, '不予通过', stage.scope,
                                              needs_opinion=True, sms_owner=sms_owner))
        return cls(name, states, transitions, tuple(stages))

    @property
    def actions(self) -> set[str]:
        return {t.action for t in self.transitions}

    def label(self, state: str) -> str:
        return self.states[state].label if state in self.states else state

    def state(self, state: str) -> State:
        return self.states.get(state, State(state))

    def candidates(self, state: str, action: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == state and t.action == action]

    def queue_states(self, role: str) -> tuple[list[str], list[str], list[str]]:
        """(待审核, 已审核, 全部) for a reviewing role: its stages are pending, earlier stages are
        neither done nor its business except in 全部, everything queued later is done."""
        staged = [st.state for st in self.stages]
        mine = [st.state for st in self.stages if st.role == role]
        if not mine:
            return [], [], []
        first = staged.index(mine[0])
        earlier = set(staged[:first])
        everything = [s for s, meta in self.states.items() if meta.queued]
        done = [s for s in everything if s not in mine and s not in earlier]
        return mine, done, everything


@dataclass
class Entity:
    """How the engine reaches one kind of item; the owning service fills in the rules."""
    machine: Machine
    model: type
    scopes: dict[str, Callable[[Session, Actor, Any], bool]]   # scope name -> rule
    owners: Callable[[Session, Any], list]                     # users who own the item (User rows)
    describe: Callable[[Any], str]                             # e.g. 单位注册审核（某某公司）
    acting_org: Callable[[Session, Actor, Any], tuple[int | None, str | None]]  # org on the review record
    stage_users: Callable[[Session, Any, str], list[int]] = lambda s, item, state: []  # who acts at a state
    on_enter: dict[str, Callable[[Session, Any], None]] = field(default_factory=dict)
    link: str | Callable[[Any], str] = '/'                     # 查看 in the owner's message
    review_link: Callable[[Any], str] | None = None            # 查看 in the next reviewer's message
    outcome: Callable[[Any, str], str] | None = None           # (item, new state) -> what the owner is told
                                                               # besides the opinion (认定层次, 证书编号)

    def owner_link(self, item) -> str:
        return self.link(item) if callable(self.link) else self.link

    @property
    def name(self) -> str:
        return self.machine.name


ENTITIES: dict[str, Entity] = {}


def register(item: Entity) -> Entity:
    """Make an entity known by its machine's name (services call this from register_entities())."""
    ENTITIES[item.name] = item
    return item


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise LookupError(f'workflow entity {name!r} is not registered (glrc_ui.services.register_entities)') from None


# ---- the owner's 提交审核 (shared by every machine whose owner fills in a record) ------------------
Missing = Callable[[Session, Any], dict[str, str]]   # (session, item) -> {label: message} still lacking


def missing_summary(missing: dict[str, str]) -> str:
    return '以下信息未填写或不正确，请补充后再提交审核：' + '、'.join(missing)


def require_complete(s: Session, item, missing: Missing) -> None:
    """Before firing submit: every missing field named next to itself (FormErrors), with the summary."""
    if found := missing(s, item):
        raise FormErrors(found, missing_summary(found))


def stamp_submitted(s: Session, item, actor: Actor, data: dict) -> None:
    """(Re)submitted: the queue's date, in the transition's transaction."""
    item.submitted_at = clock.now()
    s.add(item)


def submit_transition(source: str, target: str, role: str, missing: Missing, *, notify_next: bool = False) -> Transition:
    """提交审核 by the owner from a state it edits in: guarded by completeness (the engine checks it
    again whatever the page did), stamping submitted_at."""
    def complete(s: Session, item) -> str | None:
        found = missing(s, item)
        return missing_summary(found) if found else None
    return Transition('submit', source, target, role, '提交审核', 'owner', self_approval=True, guards=(complete,),
                      effects=(stamp_submitted,), notify_owner=False, notify_next=notify_next)


# ---- asking -------------------------------------------------------------------------------------
def available(entity_name: str, s: Session, actor: Actor, item) -> list[Transition]:
    """Transitions this actor may fire on this item now (the buttons to show)."""
    ent = entity(entity_name)
    seen: set[str] = set()
    result = []
    for t in ent.machine.transitions:
        if t.source == item.state and t.action not in seen and _refusal(s, ent, actor, item, t) is None:
            seen.add(t.action)
            result.append(t)
    return result


def _refusal(s: Session, ent: Entity, actor: Actor, item, t: Transition) -> str | None:
    if actor.role != t.role or (t.admin_only and not actor.is_admin):
        return '您无权执行此操作'
    rule = ent.scopes.get(t.scope)
    if rule is None or not rule(s, actor, item):
        return '该事项不在您的审核范围内'
    if not t.self_approval and actor.user_id in {u.id for u in ent.owners(s, item)}:
        return '不能审核本人的事项'
    return None


# ---- acting -------------------------------------------------------------------------------------
def apply(entity_name: str, item_id: int, action: str, actor: Actor, expected_version: int,
          opinion: str | None = None, data: dict | None = None) -> dict:
    """Fire one transition in its own transaction (or the caller's, when one is open)."""
    with session_scope() as s:
        return fire(s, entity_name, item_id, action, actor, expected_version, opinion, data)


def fire(s: Session, entity_name: str, item_id: int, action: str, actor: Actor, expected_version: int,
         opinion: str | None = None, data: dict | None = None) -> dict:
    """Fire one transition in the caller's transaction. Raises WorkflowError (ConflictError when
    someone else moved the item first) or FormErrors for bad transition data."""
    ent = entity(entity_name)
    opinion = (opinion or '').strip() or None
    item = s.get(ent.model, item_id)
    if item is None:
        raise NotFound()
    if item.version != expected_version:
        raise ConflictError()
    candidates = ent.machine.candidates(item.state, action)
    if not candidates:  # the version matched, so nobody else moved it: the action is simply not allowed now
        raise WorkflowError('当前状态不允许此操作')
    refusals = [(t, _refusal(s, ent, actor, item, t)) for t in candidates]
    t = next((t for t, problem in refusals if problem is None), None)
    if t is None:
        raise WorkflowError(refusals[0][1])
    if opinion and len(opinion) > OPINION_MAX:
        raise WorkflowError(f'{t.opinion_label}最多 {OPINION_MAX} 字', t.opinion_label)
    if t.needs_opinion and not opinion:
        raise WorkflowError(opinion_missing(t), t.opinion_label)
    values = _checked_data(t, data or {})
    for guard in t.guards:
        if problem := guard(s, item):
            raise WorkflowError(problem)
    now = clock.now()
    model = ent.model
    result = s.execute(update(model)
                       .where(model.id == item_id, model.version == expected_version, model.state == t.source)
                       .values(state=t.target, version=expected_version + 1, updated_at=now)
                       .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ConflictError()
    s.refresh(item)
    org_id, org_name = ent.acting_org(s, actor, item)
    _record(s, ent, item, t.action, t.source, t.target, actor, org_id, org_name, opinion, values, now)
    audit.record(s, f'{ent.name}_{t.action.rstrip("_")}', actor=actor, obj=f'{ent.name}:{item_id}',
                 detail=f'{t.source}->{t.target}')
    for effect in t.effects:
        effect(s, item, actor, values)
    if hook := ent.on_enter.get(t.target):
        hook(s, item)
    _notify(s, ent, item, t, opinion, org_name or actor.display_name or '')
    return {'id': item_id, 'state': t.target, 'state_label': ent.machine.label(t.target),
            'version': expected_version + 1, 'data': values}


def _checked_data(t: Transition, data: dict) -> dict:
    errors = {f.label: problem for f in t.fields if (problem := f.check(data.get(f.name)))}
    if errors:
        raise FormErrors(errors)
    return {f.name: (data[f.name].strip() if isinstance(data.get(f.name), str) else data.get(f.name))
            for f in t.fields if data.get(f.name) not in (None, '')}


def record_creation(s: Session, entity_name: str, item, actor: Actor, opinion: str | None = None) -> None:
    """An item created directly in a state (e.g. a person created by its unit as active) gets its
    first review record, as if it had come through a transition."""
    ent = entity(entity_name)
    if item.state not in ent.machine.states:
        raise ValueError(f'{item.state} is not a state of {ent.name}')
    org_id, org_name = ent.acting_org(s, actor, item)
    now = clock.now()
    _record(s, ent, item, 'create', '', item.state, actor, org_id, org_name, opinion, {}, now)
    audit.record(s, f'{ent.name}_create', actor=actor, obj=f'{ent.name}:{item.id}', detail=f'->{item.state}')


def _record(s: Session, ent: Entity, item, action: str, source: str, target: str, actor: Actor,
            org_id: int | None, org_name: str | None, opinion: str | None, values: dict, now) -> None:
    s.add(ReviewRecord(entity=ent.name, entity_id=item.id, action=action, from_state=source, to_state=target,
                       actor_id=actor.user_id, actor_role=actor.role or '',
                       actor_name=actor.display_name or actor.account or '', org_id=org_id, org_name=org_name,
                       opinion=opinion, data=json.dumps(values, ensure_ascii=False) if values else None, at=now))


def opinion_missing(t: Transition) -> str:
    if t.opinion_label == '审核意见':
        return f'请填写审核意见（{t.label}时必填）'
    return f'请填写{t.opinion_label}'


# what the owner is told, after the acting organisation's name
NOTICE_VERBS = {'approve': '审核通过', 'return_': '退回修改', 'reject': '审核不予通过', 'submit': '已提交审核',
                'withdraw': '已撤回', 'delete': '已删除', 'disable': '已停用', 'enable': '已启用'}


def notice_title(ent: Entity, t: Transition, who: str) -> str:
    """「秀峰区审核通过，待市人才服务中心审核」: who acted, what happened, what comes next."""
    if t.notice:
        return f'{who}{t.notice}'
    target = ent.machine.state(t.target)
    next_part = target.notice or (target.label if any(st.state == t.target for st in ent.machine.stages) else '')
    return f'{who}{NOTICE_VERBS.get(t.action, t.label)}' + (f'，{next_part}' if next_part else '')


def _notify(s: Session, ent: Entity, item, t: Transition, opinion: str | None, who: str) -> None:
    title = notice_title(ent, t, who)
    subject = ent.describe(item)
    outcome = ent.outcome(item, t.target) if ent.outcome else ''
    body = f'事项：{subject}' + (f'\n{outcome}' if outcome else '') + (f'\n{t.opinion_label}：{opinion}' if opinion else '')
    if t.notify_owner:
        for user in ent.owners(s, item):
            notifications.notify(s, user.id, title, body, ent.owner_link(item))
            if t.sms_owner and user.phone:
                text = (f'【桂林市人才服务】{subject}：{title}。' + (f'{outcome}。' if outcome else '')
                        + (f'{t.opinion_label}：{opinion}' if opinion else ''))
                sms.send_message(s, user.phone, text, 'notice')
    if t.notify_next:
        link = ent.review_link(item) if ent.review_link else ent.owner_link(item)
        for user_id in ent.stage_users(s, item, t.target):
            notifications.notify(s, user_id, f'待审核：{subject}', f'{title}，请及时审核。', link)


def action_choices(entity_name: str, s: Session, actor: Actor, item, *, exclude: tuple[str, ...] = ('submit',)
                   ) -> list[dict]:
    """The actions a review box offers this actor now, as plain data for the page."""
    return [{'action': t.action, 'label': t.label, 'needs_opinion': t.needs_opinion, 'opinion_label': t.opinion_label,
             'fields': [{'name': f.name, 'label': f.label,
                         'choices': dict(zip(f.choices, f.choice_labels or f.choices, strict=True))} for f in t.fields]}
            for t in available(entity_name, s, actor, item) if t.action not in exclude]


def fire_many(entity_name: str, items: list[tuple[int, int]], action: str, actor: Actor,
              limit: int = 100) -> dict:
    """批量: fire `action` on each (item id, expected version), one transaction per item, so one
    conflict does not undo the others. Only transitions marked batch may be fired this way."""
    ent = entity(entity_name)
    if not any(t.batch and t.action == action for t in ent.machine.transitions):
        raise WorkflowError('该操作不能批量执行')
    done, failed = 0, []
    for item_id, version in items[:limit]:
        try:
            with session_scope() as s:
                item = s.get(ent.model, item_id)
                if item is not None and not any(t.batch for t in ent.machine.candidates(item.state, action)):
                    raise WorkflowError('该事项不能批量处理，请逐条审核')
                fire(s, entity_name, item_id, action, actor, version)
            done += 1
        except (WorkflowError, NotFound, PermissionDenied) as exc:
            failed.append((item_id, exc.message))
    return {'done': done, 'failed': failed}


# ---- history ------------------------------------------------------------------------------------
ACTION_LABELS = {'submit': '提交审核', 'approve': '通过', 'return_': '退回修改', 'reject': '不予通过',
                 'withdraw': '撤回', 'delete': '删除', 'disable': '停用', 'enable': '启用', 'create': '创建'}


def history(entity_name: str, item_id: int, s: Session | None = None) -> list[dict]:
    """Every transition of an item, oldest first (the 审核记录 timeline)."""
    machine = entity(entity_name).machine
    if s is None:
        with read_scope() as s:
            return history(entity_name, item_id, s)
    rows = s.exec(select(ReviewRecord).where(ReviewRecord.entity == entity_name, ReviewRecord.entity_id == item_id)
                  .order_by(col(ReviewRecord.at), col(ReviewRecord.id))).all()
    opinion_labels = {(t.action, t.source): t.opinion_label for t in reversed(machine.transitions)}
    return [{'action': r.action, 'action_label': ACTION_LABELS.get(r.action, r.action),
             'opinion_label': opinion_labels.get((r.action, r.from_state), '审核意见'),
             'from': machine.label(r.from_state) if r.from_state else '', 'to': machine.label(r.to_state),
             'actor': r.actor_name, 'role': r.actor_role, 'org': r.org_name or '', 'opinion': r.opinion or '',
             'data': json.loads(r.data) if r.data else {}, 'at': clock.local(r.at)} for r in rows]
