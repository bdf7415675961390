"""Object-level access to persons (SECURITY C2, L1; SPEC §2.2, §3.5): the scope matrix.

Rules (the issue): a unit cannot list, open, review or download anything of another unit's persons; a
person cannot open another person's data; reviewers and center staff get persons nowhere today (persons
are reviewed by their own unit only; staff will see persons' data through applications, later). A unit
that is not active (pending, or disabled by a center admin) has no persons' functions at all.

Every service entry point of glrc_ui/services/persons.py that takes an actor is called by each kind of
actor. Refusals raise PermissionDenied (list functions return empty), are audited where the service
audits ('permission_denied', object 'person:<id>'), and change nothing in the database."""
import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import Person
from glrc_ui import workflow
from glrc_ui.errors import ConflictError, PermissionDenied, UserError, WorkflowError
from glrc_ui.services import files, persons, unit_review
from tests import factories as f

PERSONS = ('self', 'same_unit_person', 'other_unit_person')
UNITS = ('own_unit', 'other_unit', 'pending_unit')
STAFF = ('reviewer', 'center', 'admin')
ACTORS = PERSONS + UNITS + STAFF
NOT_PERSONS = UNITS + STAFF
NOT_OWN_UNIT = tuple(a for a in ACTORS if a != 'own_unit')
# every table a person's data or a refused call could touch (audit_log is checked on its own)
TABLES = ('person', 'app_user', 'unit', 'review_record', 'notification', 'sms_message', 'sms_code',
          'stored_file', 'auth_session')
NOT_OURS = '该人员不存在或不属于本单位'
OUT_OF_SCOPE = '该事项不在您的审核范围内'
WRONG_ROLE = '您无权执行此操作'


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def snapshot() -> dict:
    """Everything stored outside the audit log, and the SMS gateway's outbox."""
    return {table: f.table_text(table) for table in TABLES} | {'outbox': f.outbox_lines()}


def denials(obj: str) -> list:
    return [r for r in f.audit_rows('permission_denied') if r.object == obj]


def assert_one_denial(actor, obj: str) -> None:
    rows = denials(obj)
    assert len(rows) == 1, f'{len(rows)} permission_denied rows for {obj}: {[(r.user_id, r.role) for r in rows]}'
    [row] = rows
    assert (row.user_id, row.role, row.result) == (actor.user_id, actor.role, 'denied')


def events_on(obj: str, event: str) -> list:
    return [r for r in f.audit_rows(event) if r.object == obj]


def ids(page) -> set[int]:
    return {row['id'] for row in page.items}


@pytest.fixture
def world():
    """Unit A (秀峰区, active) with the subject P (registered, 个人信息 complete, not submitted) and P2
    (submitted); unit B (七星区, active) with Q (submitted); unit C (submitted, not yet active); the
    秀峰区 reviewer (A's own org), a center user and a center admin; each kind of actor."""
    a, acc_a = f.unit_active(1, '秀峰区')
    b, acc_b = f.unit_active(2, '七星区')
    c, acc_c = f.unit_submitted(3, '秀峰区')
    f.staff('center_admin', role='center', admin=True, name='管理员')
    p = f.person_registered(1, a)
    me = f.person_actor(1)
    persons.save_info(me, f.person_info(1), persons.my_person(me)['version'])
    p2 = f.person_submitted(2, a)
    q = f.person_submitted(3, b)
    actors = {'self': f.person_actor(1), 'same_unit_person': f.person_actor(2), 'other_unit_person': f.person_actor(3),
              'own_unit': f.actor_of_account(acc_a), 'other_unit': f.actor_of_account(acc_b),
              'pending_unit': f.actor_of_account(acc_c), 'reviewer': f.actor_of_account('rev_u001'),
              'center': f.actor_of_account('ctr_u001'), 'admin': f.actor_of_account('center_admin')}
    assert (actors['own_unit'].status, actors['other_unit'].status, actors['pending_unit'].status) == \
        ('active', 'active', 'pending_org')
    assert (actors['reviewer'].role, actors['center'].is_admin, actors['admin'].is_admin) == ('reviewer', False, True)
    return {'a': a, 'b': b, 'c': c, 'p': p, 'p2': p2, 'q': q, 'actors': actors}


@pytest.fixture
def pending(world):
    """The same world with P submitted to its unit (state pending_unit)."""
    me = world['actors']['self']
    persons.submit(me, f.person_get(world['p']).version)
    assert f.person_get(world['p']).state == 'pending_unit'
    return world


# ================================================================ the person's own side
@pytest.mark.parametrize('kind', ACTORS)
def test_my_person(world, kind):
    """Only a person has 个人信息; each person gets its own, whatever it is, never another's."""
    actor, before = world['actors'][kind], snapshot()
    own = {'self': world['p'], 'same_unit_person': world['p2'], 'other_unit_person': world['q']}
    if kind in PERSONS:
        detail = persons.my_person(actor)
        assert detail['id'] == own[kind]
        if kind != 'self':
            assert f.id_number(1) not in str(detail)
    else:
        with pytest.raises(PermissionDenied):
            persons.my_person(actor)
    assert snapshot() == before


@pytest.mark.parametrize('kind', ACTORS)
def test_save_info(world, kind):
    """保存 always writes the actor's own row: P's data changes only when P saves it."""
    actor, p = world['actors'][kind], world['p']
    version, before = f.person_get(p).version, snapshot()
    if kind == 'self':
        detail = persons.save_info(actor, {'school': '桂林电子科技大学'}, version)
        assert detail['id'] == p and f.person_get(p).school == '桂林电子科技大学'
        assert len(events_on(f'person:{p}', 'person_info_saved')) == 2      # the fixture's save and this one
        return
    if kind in PERSONS:     # another person: its own row (under review here), refused for that; P untouched
        with pytest.raises(UserError):
            persons.save_info(actor, {'school': '越权修改大学'}, version)
        with pytest.raises(UserError) as locked:
            persons.save_info(actor, {'school': '越权修改大学'}, persons.my_person(actor)['version'])
        assert locked.value.message == '个人信息正在审核中，暂不能修改'
    else:
        with pytest.raises(PermissionDenied):
            persons.save_info(actor, {'school': '越权修改大学'}, version)
    assert snapshot() == before
    assert f.person_get(p).school == '广西师范大学'


@pytest.mark.parametrize('kind', ACTORS)
def test_submit(world, kind):
    """提交审核 always submits the actor's own row: only P can submit P."""
    actor, p = world['actors'][kind], world['p']
    version, before = f.person_get(p).version, snapshot()
    if kind == 'self':
        result = persons.submit(actor, version)
        assert result['id'] == p and f.person_get(p).state == 'pending_unit'
        return
    if kind in PERSONS:     # its own row is already submitted: refused for that, P untouched
        with pytest.raises(WorkflowError):
            persons.submit(actor, version)
    else:
        with pytest.raises(PermissionDenied):
            persons.submit(actor, version)
    assert snapshot() == before
    assert f.person_get(p).state == 'registered'


# ================================================================ the unit's side
@pytest.mark.parametrize('kind', ACTORS)
def test_detail_for_unit(pending, kind):
    """审核 / 详情 (full, unmasked data): the person's own active unit only; everyone else is refused,
    audited, and sees nothing."""
    w = pending
    actor, p = w['actors'][kind], w['p']
    if kind == 'own_unit':
        detail = persons.detail_for_unit(actor, p)
        assert detail['id'] == p and detail['id_number'] == f.id_number(1)
        assert [a['action'] for a in detail['actions']] == ['approve', 'return_']
        assert [r.user_id for r in events_on(f'person:{p}', 'person_viewed')] == [actor.user_id]
        assert denials(f'person:{p}') == []
        return
    before = snapshot()
    with pytest.raises(PermissionDenied) as refused:
        persons.detail_for_unit(actor, p)
    assert refused.value.message == NOT_OURS
    assert_one_denial(actor, f'person:{p}')
    assert events_on(f'person:{p}', 'person_viewed') == []
    assert snapshot() == before


@pytest.mark.parametrize('kind', ACTORS)
@pytest.mark.parametrize('action, opinion', [('approve', None), ('return_', '请补充材料')])
def test_review(pending, kind, action, opinion):
    """通过 / 退回修改: the person's own active unit only; a refusal is audited and changes nothing."""
    w = pending
    actor, p = w['actors'][kind], w['p']
    version = f.person_get(p).version
    if kind == 'own_unit':
        result = persons.review(actor, p, action, version, opinion)
        assert result['state'] == {'approve': 'active', 'return_': 'returned'}[action]
        assert f.person_get(p).state == result['state'] and f.person_get(w['p2']).state == 'pending_unit'
        return
    before = snapshot()
    with pytest.raises(PermissionDenied):
        persons.review(actor, p, action, version, opinion)
    assert_one_denial(actor, f'person:{p}')
    assert snapshot() == before


@pytest.mark.parametrize('kind', ACTORS)
def test_unit_queue(pending, kind):
    """单位人员账号设置's list: a unit lists its own persons only; nobody else lists anything."""
    w = pending
    actor = w['actors'][kind]
    expected = {'own_unit': {'pending': {w['p'], w['p2']}, 'all': {w['p'], w['p2']}, 'done': set()},
                'other_unit': {'pending': {w['q']}, 'all': {w['q']}, 'done': set()}}.get(kind)
    for status in ('pending', 'all', 'done'):
        page = persons.unit_queue(actor, status)
        want = expected[status] if expected else set()
        assert ids(page) == want and page.total == len(want), (kind, status, ids(page))
    # a unit cannot find another unit's person by its full ID number, phone or name either
    if kind != 'own_unit':
        for keyword in (f.id_number(1), f.person_phone(1), '测试人员001', f.id_number(2), f.person_phone(2)):
            page = persons.unit_queue(actor, 'all', keyword=keyword)
            assert (page.items, page.total) == ([], 0), (kind, keyword)


@pytest.mark.parametrize('kind', ACTORS)
def test_pending_summary(pending, kind):
    """The 首页 count of persons waiting: a unit's own persons only; nobody else counts any."""
    actor = pending['actors'][kind]
    expected = {'own_unit': 2, 'other_unit': 1}.get(kind, 0)
    assert persons.pending_summary(actor)['count'] == expected


@pytest.mark.parametrize('kind', ACTORS)
def test_create_by_unit(world, kind):
    """新增单位人员: an active unit creates persons in its own unit only (the call names no unit);
    persons, staff and a unit that is not active are refused and nothing is created or sent."""
    w = world
    actor, before = w['actors'][kind], snapshot()
    args = ('越权新增', f.person_phone(50), f.id_number(50))
    if kind in ('own_unit', 'other_unit'):
        person_id = persons.create_by_unit(actor, *args)
        assert f.person_get(person_id).unit_id == {'own_unit': w['a'], 'other_unit': w['b']}[kind]
        return
    with pytest.raises(PermissionDenied):
        persons.create_by_unit(actor, *args)
    assert snapshot() == before
    with session_scope() as s:
        assert s.exec(select(Person).where(Person.id_number == f.id_number(50))).first() is None


def test_an_unknown_person_is_refused_like_another_units(pending):
    """No oracle: a missing id and another unit's person get the same refusal, both audited."""
    op = pending['actors']['other_unit']
    messages = []
    for person_id in (pending['p'], 987654):
        with pytest.raises(PermissionDenied) as refused:
            persons.detail_for_unit(op, person_id)
        messages.append(refused.value.message)
        assert_one_denial(op, f'person:{person_id}')
    assert messages == [NOT_OURS, NOT_OURS]


# ================================================================ the workflow engine itself
@pytest.mark.parametrize('kind', NOT_OWN_UNIT)
def test_workflow_refuses_a_review_outside_the_units_scope(pending, kind):
    """fire() checks role and scope itself: a service that forgot its check could not review another
    unit's person. Nobody but the own unit is offered an action, either."""
    w = pending
    actor, p = w['actors'][kind], w['p']
    version, before = f.person_get(p).version, snapshot()
    for action, opinion in (('approve', None), ('return_', '越权退回')):
        with pytest.raises(WorkflowError) as refused, session_scope() as s:
            workflow.fire(s, 'person', p, action, actor, version, opinion)
        assert not isinstance(refused.value, ConflictError)
        assert refused.value.message == (OUT_OF_SCOPE if actor.role == 'unit' else WRONG_ROLE)
        with pytest.raises(WorkflowError):
            workflow.apply('person', p, action, actor, version, opinion)
    assert workflow.fire_many('person', [(p, version)], 'approve', actor) == \
        {'done': 0, 'failed': [(p, OUT_OF_SCOPE if actor.role == 'unit' else WRONG_ROLE)]}
    with session_scope() as s:
        assert workflow.available('person', s, actor, s.get(Person, p)) == []
    assert snapshot() == before


@pytest.mark.parametrize('kind', tuple(a for a in ACTORS if a != 'self'))
def test_workflow_refuses_a_submit_by_anyone_but_the_person(world, kind):
    w = world
    actor, p = w['actors'][kind], w['p']
    version, before = f.person_get(p).version, snapshot()
    with pytest.raises(WorkflowError) as refused, session_scope() as s:
        workflow.fire(s, 'person', p, 'submit', actor, version)
    assert refused.value.message == (OUT_OF_SCOPE if actor.role == 'person' else WRONG_ROLE)
    with session_scope() as s:
        assert workflow.available('person', s, actor, s.get(Person, p)) == []
    assert snapshot() == before
    assert f.person_get(p).state == 'registered'


# ================================================================ a unit that gets disabled
def _disable_unit_a(w) -> None:
    admin = w['actors']['admin']
    unit_review.review(admin, w['a'], 'disable', f.unit_get(w['a']).version, '单位已注销')
    assert f.unit_get(w['a']).state == 'disabled'


def test_a_disabled_unit_can_no_longer_list_open_review_or_create(pending):
    w = pending
    p = w['p']
    _disable_unit_a(w)
    op = f.actor_of_account(f'unit_t{1:03d}')          # the actor as the app resolves it at the next event
    assert op.status == 'disabled'
    before = snapshot()
    for status in ('pending', 'all', 'done'):
        page = persons.unit_queue(op, status)
        assert (page.items, page.total) == ([], 0)
    with pytest.raises(PermissionDenied):
        persons.detail_for_unit(op, p)
    with pytest.raises(PermissionDenied):
        persons.review(op, p, 'approve', f.person_get(p).version, None)
    with pytest.raises(PermissionDenied):
        persons.create_by_unit(op, '停用后新增', f.person_phone(51), f.id_number(51))
    with pytest.raises(WorkflowError) as refused, session_scope() as s:
        workflow.fire(s, 'person', p, 'approve', op, f.person_get(p).version)
    assert refused.value.message == OUT_OF_SCOPE
    assert len(denials(f'person:{p}')) == 2 and {r.user_id for r in denials(f'person:{p}')} == {op.user_id}
    assert snapshot() == before
    # enabled again, it reviews its persons again (the refusal followed the unit's state)
    unit_review.review(w['actors']['admin'], w['a'], 'enable', f.unit_get(w['a']).version, None)
    op = f.actor_of_account('unit_t001')
    assert persons.unit_queue(op, 'pending').total == 2
    persons.review(op, p, 'approve', f.person_get(p).version, None)
    assert f.person_get(p).state == 'active'


def test_a_disabled_unit_no_longer_counts_its_persons(pending):
    """pending_summary (the 首页 panel's count and oldest date) follows unit_queue: nothing for a unit
    that is not active."""
    _disable_unit_a(pending)
    op = f.actor_of_account('unit_t001')
    assert op.status == 'disabled'
    assert persons.pending_summary(op) == {'count': 0, 'oldest': ''}


# ================================================================ downloads: the person's photo (头像)
@pytest.fixture
def photo(world):
    """P's avatar, the only file of a person today."""
    from glrc_ui.services import accounts
    stored = accounts.set_avatar(world['actors']['self'], f.TINY_PNG, '证件照.png')
    return stored['id']


@pytest.mark.parametrize('kind', PERSONS + UNITS)
def test_a_persons_photo_is_its_own(world, photo, kind):
    """No unit and no other person downloads a person's photo; refusals are audited."""
    actor = world['actors'][kind]
    found = files.open_for(actor, photo)
    if kind == 'self':
        assert found is not None and found[0]['id'] == photo
        assert denials(f'file:{photo}') == []
    else:
        assert found is None
        assert_one_denial(actor, f'file:{photo}')


@pytest.mark.parametrize('kind', STAFF)
def test_staff_do_not_download_a_persons_photo(world, photo, kind):
    """Staff get persons' data nowhere today (the issue's rule): not a person's photo either."""
    actor = world['actors'][kind]
    assert files.open_for(actor, photo) is None
    assert_one_denial(actor, f'file:{photo}')
