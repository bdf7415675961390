"""The workflow engine carries any machine: a toy one registered here, on its own table, uses every
feature the next machines need (stages as data, a stage added as one entry, transition data and
effects, the actor's transition among several, guards, flags, creation records, queues, batches).
docs/ARCHITECTURE.md shows the first part of this file as the example of a new machine."""
from datetime import datetime

import pytest
from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import select

from db.engine import get_engine, session_scope
from db.models import AuditLog, Notification, SmsMessage, User
from glrc_ui import clock, security, workflow
from glrc_ui.errors import ConflictError, FormErrors, WorkflowError
from glrc_ui.workflow import DataField, Entity, Machine, Stage, State, Transition
from tests import factories as f


class ToyBase(DeclarativeBase):  # its own metadata: the app's schema (and its migrations) stay as they are
    pass


class Leave(ToyBase):
    __tablename__ = 'toy_leave'
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    days: Mapped[int] = mapped_column(Integer, default=1)
    grade: Mapped[str | None] = mapped_column(String(10), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default='draft')
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


def set_grade(s, leave, actor, data):          # an effect: (session, item, actor, data)
    leave.grade = data['grade']


def short_enough(s, leave):                    # a guard: a message when blocked
    return '请假超过 30 天，请走其他流程' if leave.days > 30 else None


def toy_machine(*, with_publicity: bool = False) -> Machine:
    stages = [Stage('pending_lead', '待组长审核', 'reviewer', 'team'),
              Stage('pending_center', '待中心审核', 'center', 'all',
                    approve_fields=(DataField('grade', '等级', ('A', 'B')),), approve_effects=(set_grade,))]
    if with_publicity:                         # a new stage is one more entry
        stages.append(Stage('publicity', '公示中', 'center', 'all'))
    return Machine.staged(
        'leave', {'draft': State('草稿', owner_editable=True, queued=False), 'returned': State('退回修改', 'orange'),
                  'approved': State('已批准', 'positive', final=True), 'rejected': State('不予批准', final=True)},
        stages, approved='approved', returned='returned', rejected='rejected', notify_next=True,
        extra=[Transition('submit', 'draft', 'pending_lead', 'person', '提交', 'own', self_approval=True,
                          guards=(short_enough,), notify_owner=False, notify_next=True),
               Transition('submit', 'returned', 'pending_lead', 'person', '提交', 'own', self_approval=True,
                          guards=(short_enough,), notify_owner=False, notify_next=True)])


def register_toy(machine: Machine, lead_id: int) -> Entity:
    return workflow.register(Entity(
        machine=machine, model=Leave, describe=lambda leave: f'请假（{leave.id}）',
        owners=lambda s, leave: [s.get(User, leave.owner_id)],
        scopes={'own': lambda s, actor, leave: actor.user_id == leave.owner_id,
                'team': lambda s, actor, leave: actor.user_id == lead_id,
                'all': lambda s, actor, leave: actor.role == 'center'},
        acting_org=lambda s, actor, leave: (None, '测试中心' if actor.role == 'center' else '测试组'),
        stage_users=lambda s, leave, state: [lead_id] if state == 'pending_lead' else []))
# ---- end of the example in docs/ARCHITECTURE.md --------------------------------------------------


@pytest.fixture
def toy():
    ToyBase.metadata.create_all(get_engine())
    owner, lead = f.person('13800138001'), f.staff('toy_lead', role='reviewer')
    center = f.staff('toy_center')
    register_toy(toy_machine(), lead)
    actors = {name: security.actor_of(f.get_user(uid)) for name, uid in
              (('owner', owner), ('lead', lead), ('center', center))}
    yield actors
    workflow.ENTITIES.pop('leave', None)
    ToyBase.metadata.drop_all(get_engine())


def new_leave(owner_id: int, days: int = 3) -> int:
    with session_scope() as s:
        leave = Leave(owner_id=owner_id, days=days)
        s.add(leave)
        s.flush()
        return leave.id


def get(leave_id: int) -> Leave:
    with session_scope() as s:
        return s.get(Leave, leave_id)


def fire(leave_id: int, action: str, actor, opinion=None, data=None) -> dict:
    return workflow.apply('leave', leave_id, action, actor, get(leave_id).version, opinion, data)


def test_stages_generate_approve_return_and_reject():
    machine = toy_machine()
    pairs = {(t.source, t.action): (t.target, t.role) for t in machine.transitions}
    assert pairs[('pending_lead', 'approve')] == ('pending_center', 'reviewer')
    assert pairs[('pending_center', 'approve')] == ('approved', 'center')
    for stage in ('pending_lead', 'pending_center'):
        assert pairs[(stage, 'return_')][0] == 'returned' and pairs[(stage, 'reject')][0] == 'rejected'
    assert all(t.needs_opinion for t in machine.transitions if t.action in ('return_', 'reject'))
    longer = toy_machine(with_publicity=True)
    assert {(t.source, t.action): t.target for t in longer.transitions}[('pending_center', 'approve')] == 'publicity'
    assert {(t.source, t.action): t.target for t in longer.transitions}[('publicity', 'approve')] == 'approved'
    assert longer.label('publicity') == '公示中'


def test_queue_tabs_come_from_the_stages():
    pending, done, everything = toy_machine().queue_states('center')
    assert pending == ['pending_center']
    assert set(done) == {'returned', 'approved', 'rejected'}              # the lead's stage is earlier
    assert set(everything) == {'pending_lead', 'pending_center', 'returned', 'approved', 'rejected'}
    assert toy_machine().queue_states('reviewer')[0] == ['pending_lead']
    assert toy_machine().queue_states('person') == ([], [], [])


def test_a_leave_goes_through_both_stages_with_data_effects_records_and_notices(toy):
    leave_id = new_leave(toy['owner'].user_id)
    fire(leave_id, 'submit', toy['owner'])
    with session_scope() as s:   # notify_next: the lead is told in-app that something waits
        assert s.exec(select(Notification.title).where(Notification.user_id == toy['lead'].user_id)).all() == \
            [f'待审核：请假（{leave_id}）']
    fire(leave_id, 'approve', toy['lead'], '同意')
    with pytest.raises(FormErrors) as missing:                              # the center must give 等级
        fire(leave_id, 'approve', toy['center'])
    assert missing.value.errors == {'等级': '请选择等级'}
    with pytest.raises(FormErrors):
        fire(leave_id, 'approve', toy['center'], data={'grade': 'Z'})
    result = fire(leave_id, 'approve', toy['center'], data={'grade': 'B'})
    assert result['state'] == 'approved' and result['data'] == {'grade': 'B'}
    assert get(leave_id).grade == 'B'                                      # the effect ran in the transaction
    history = workflow.history('leave', leave_id)
    assert [(h['action'], h['to'], h['org']) for h in history] == [
        ('submit', '待组长审核', '测试组'), ('approve', '待中心审核', '测试组'), ('approve', '已批准', '测试中心')]
    assert history[-1]['data'] == {'grade': 'B'} and history[1]['opinion'] == '同意'
    assert f.count_rows(SmsMessage) == 0                                   # sms_owner is off for this machine


def test_guards_are_callables_on_the_transition(toy):
    leave_id = new_leave(toy['owner'].user_id, days=40)
    with pytest.raises(WorkflowError, match='超过 30 天'):
        fire(leave_id, 'submit', toy['owner'])
    assert get(leave_id).state == 'draft'


def test_the_transition_is_chosen_among_those_the_actor_may_fire(toy):
    machine = toy_machine()
    machine.transitions += [Transition('close', 'approved', 'rejected', 'center', '关闭', 'all'),
                            Transition('close', 'approved', 'returned', 'reviewer', '关闭', 'team')]
    register_toy(machine, toy['lead'].user_id)
    leave_id = new_leave(toy['owner'].user_id)
    fire(leave_id, 'submit', toy['owner'])
    fire(leave_id, 'approve', toy['lead'])
    fire(leave_id, 'approve', toy['center'], data={'grade': 'A'})
    assert fire(leave_id, 'close', toy['lead'])['state'] == 'returned'     # not the first match (center's)


def test_owners_may_not_review_their_own_item_unless_the_transition_allows_it(toy):
    lead_leave = new_leave(toy['lead'].user_id)
    with session_scope() as s:
        s.get(Leave, lead_leave).state = 'pending_lead'
    with pytest.raises(WorkflowError, match='不能审核本人的事项'):
        fire(lead_leave, 'approve', toy['lead'])
    with session_scope() as s:
        assert workflow.available('leave', s, toy['lead'], s.get(Leave, lead_leave)) == []


def test_a_stale_version_is_a_conflict_and_nothing_is_recorded(toy):
    leave_id = new_leave(toy['owner'].user_id)
    with pytest.raises(ConflictError):
        workflow.apply('leave', leave_id, 'submit', toy['owner'], get(leave_id).version + 1)
    assert workflow.history('leave', leave_id) == []


def test_an_item_created_directly_in_a_state_gets_a_first_record(toy):
    with session_scope() as s:
        leave = Leave(owner_id=toy['owner'].user_id, state='approved')
        s.add(leave)
        s.flush()
        workflow.record_creation(s, 'leave', leave, toy['center'], '直接登记')
        leave_id = leave.id
    assert [(h['action'], h['from'], h['to'], h['org'], h['opinion']) for h in workflow.history('leave', leave_id)] == \
        [('create', '', '已批准', '测试中心', '直接登记')]
    with session_scope() as s:
        assert s.exec(select(AuditLog.event).where(AuditLog.object == f'leave:{leave_id}')).all() == ['leave_create']


def test_batches_fire_only_transitions_marked_batch(toy):
    ids = [new_leave(toy['owner'].user_id) for _ in range(3)]
    for leave_id in ids:
        fire(leave_id, 'submit', toy['owner'])
    result = workflow.fire_many('leave', [(i, get(i).version) for i in ids[:2]] + [(ids[2], 99)], 'approve',
                                toy['lead'])
    assert result['done'] == 2 and [i for i, _ in result['failed']] == [ids[2]]
    assert [get(i).state for i in ids] == ['pending_center', 'pending_center', 'pending_lead']
    # the center's approval asks for 等级: not a batch transition
    result = workflow.fire_many('leave', [(ids[0], get(ids[0]).version)], 'approve', toy['center'])
    assert result['done'] == 0 and get(ids[0]).state == 'pending_center'
    with pytest.raises(WorkflowError):
        workflow.fire_many('leave', [(ids[0], get(ids[0]).version)], 'return_', toy['center'])
