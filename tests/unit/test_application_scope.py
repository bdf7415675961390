"""Who sees a recognition application (SPEC §2.3, §3.6-3.8, §4; issue 10 「The visibility matrix」).

Seven kinds of actor against an application of the person P (unit A, 秀峰区) in each state, over
every way to reach it: the lists (人才认定情况查询 query_page, also by its exact 申报编号; the review
queue queue_page), the detail (the person's my_application, the review view detail_for_review), an
evidence file (files.open_for, the authorised download), 审核结果 (result) and 导出Excel (the row's
申报编号 in the .xlsx). Every cell is allowed or refused; a refusal by id is audited
('permission_denied', result 'denied', object 'application:ID' / 'file:ID') and changes nothing.

The rule (applications.can_view): the applicant always (also its draft); its unit once submitted;
the reviewers of the unit's 审核归属 once the application has reached their stage (reached_org, and
from then on); the center once submitted; nobody else, ever. A 已删除 application nobody."""
import pytest

from glrc_ui.errors import PermissionDenied, UserError, WorkflowError
from glrc_ui.services import application_review, applications, files
from tests import factories as f

ACTORS = ('owner', 'other_person', 'own_unit', 'other_unit', 'right_org', 'other_org', 'center')
STATES = ('draft', 'pending_unit', 'pending_org', 'pending_center', 'returned', 'approved', 'rejected')
PERSONS = ('owner', 'other_person')

# Y = sees the application (lists, detail, files, 审核结果, export); . = refused.
# 'returned' was returned by the 城区 (it had reached the org); 'rejected' was rejected by the unit.
MATRIX = """
               draft  pending_unit  pending_org  pending_center  returned  approved  rejected
owner            Y         Y             Y              Y            Y         Y         Y
other_person     .         .             .              .            .         .         .
own_unit         .         Y             Y              Y            Y         Y         Y
other_unit       .         .             .              .            .         .         .
right_org        .         .             Y              Y            Y         Y         .
other_org        .         .             .              .            .         .         .
center           .         Y             Y              Y            Y         Y         Y
"""


def _table(text: str) -> dict[tuple[str, str], bool]:
    header, *lines = [line.split() for line in text.strip().splitlines()]
    assert header == list(STATES)
    cells = {}
    for kind, *marks in lines:
        assert len(marks) == len(STATES), kind
        cells.update({(kind, state): mark == 'Y' for state, mark in zip(STATES, marks, strict=True)})
    assert {k for k, _ in cells} == set(ACTORS)
    return cells


SEES = _table(MATRIX)
# the state each kind of reviewing actor has 「审核」 for (its queue's 待审核)
STAGE_OF = {'own_unit': 'pending_unit', 'other_unit': 'pending_unit', 'right_org': 'pending_org',
            'other_org': 'pending_org', 'center': 'pending_center'}
# 人才认定情况查询's status filter that holds each state (a draft is under 全部 only)
QUERY_STATUS = {'pending_unit': 'in_progress', 'pending_org': 'in_progress', 'pending_center': 'in_progress',
                'returned': 'returned', 'approved': 'approved', 'rejected': 'rejected'}
NOT_FOUND = application_review.NOT_FOUND
NOT_YOURS = '该申报不存在或不属于您'
# what a read may never change (audit_log is checked on its own)
TABLES = ('application', 'application_submission', 'review_record', 'stored_file', 'notification', 'sms_message')


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


@pytest.fixture
def world():
    """Unit A (秀峰区) with its person P and reviewers (rev_u001 of 秀峰区, ctr_u001); unit B (七星区)
    with its person Q and rev_u002 of 七星区."""
    a = f.application_world(1, '秀峰区')
    b = f.application_world(2, '七星区')
    actors = {'owner': a['person'], 'other_person': b['person'], 'own_unit': a['unit'], 'other_unit': b['unit'],
              'right_org': a['reviewer'], 'other_org': b['reviewer'], 'center': a['center']}
    assert (actors['right_org'].org_id, actors['other_org'].org_id) == (f.org_id('秀峰区'), f.org_id('七星区'))
    return {'a': a, 'b': b, 'actors': actors}


def denials(obj: str) -> list:
    return [r for r in f.audit_rows('permission_denied') if r.object == obj]


def snapshot() -> dict:
    return {table: f.table_text(table) for table in TABLES}


def ids(page) -> set[int]:
    return {row['id'] for row in page.items}


def attempt(call, obj: str):
    """(allowed, value): the call's value, or whether it was refused (PermissionDenied / None) and how
    many denials it wrote for `obj`."""
    before = len(denials(obj))
    try:
        value = call()
    except PermissionDenied as exc:
        value = exc
    refused = isinstance(value, PermissionDenied) or value is None
    written = len(denials(obj)) - before
    return (not refused), value, written


# ================================================================ the matrix
@pytest.mark.parametrize('state', STATES)
@pytest.mark.parametrize('kind', ACTORS)
def test_visibility_matrix(world, kind, state):
    app_id = f.application_in(world['a'], state)
    number = f.application_get(app_id).number
    [file_id, *_] = f.application_file_ids(app_id)
    actor = world['actors'][kind]
    sees = SEES[(kind, state)]
    is_person = kind in PERSONS
    obj, file_obj = f'application:{app_id}', f'file:{file_id}'
    before = snapshot()
    wrong: list[str] = []

    def check(surface: str, expected: bool, got: bool) -> None:
        if expected != got:
            wrong.append(f'{surface}: expected {"allowed" if expected else "refused"}, got {"allowed" if got else "refused"}')

    # ---- lists: 人才认定情况查询 (all, and the exact 申报编号) and the review queue
    check('query_page', sees, app_id in ids(application_review.query_page(actor)))
    check('query_page(申报编号)', sees, app_id in ids(application_review.query_page(actor, keyword=number)))
    check('query_page(status)', sees, app_id in ids(application_review.query_page(
        actor, status=QUERY_STATUS.get(state, 'all'))))
    check('queue_page(全部)', sees and not is_person, app_id in ids(application_review.queue_page(actor, 'all')))
    check('queue_page(待审核)', sees and STAGE_OF.get(kind) == state,
          app_id in ids(application_review.queue_page(actor, 'pending')))

    # ---- details by id: the applicant's own view and the review view (a person never gets the latter)
    for surface, call, expected, message in (
            ('my_application', lambda: applications.my_application(actor, app_id), sees and kind == 'owner', NOT_YOURS),
            ('detail_for_review', lambda: application_review.detail_for_review(actor, app_id), sees and not is_person,
             NOT_FOUND),
            ('审核结果', lambda: application_review.result(actor, app_id), sees, NOT_FOUND)):
        allowed, value, written = attempt(call, obj)
        check(surface, expected, allowed)
        if allowed:
            assert value['id'] == app_id and written == 0, surface
        else:
            assert value.message == message, (surface, value.message)
            assert written == 1, f'{surface}: {written} permission_denied rows for {obj}'

    # ---- the evidence file through the authorised download
    allowed, value, written = attempt(lambda: files.open_for(actor, file_id), file_obj)
    check('file', sees, allowed)
    if allowed:
        info, path = value
        assert info['id'] == file_id and path.read_bytes() == f.TINY_PDF and written == 0
        # a download of someone else's file is itself audited (SPEC §5)
        downloads = [r.user_id for r in f.audit_rows('file_download') if r.object == file_obj]
        assert downloads == ([] if kind == 'owner' else [actor.user_id])
    else:
        assert written == 1, f'file: {written} permission_denied rows for {file_obj}'

    # ---- 导出Excel: a person cannot export; the others get the row exactly when they see it
    if is_person:
        with pytest.raises(PermissionDenied):
            application_review.export(actor)
    else:
        sheet = f.export_sheet(actor)
        check('export', sees, number in [row[0] for row in sheet['rows'][1:]])
        check('export(申报编号)', sees, number in [row[0] for row in f.export_sheet(actor, keyword=number)['rows'][1:]])

    # every refusal by id was audited with the actor's identity, and nothing else changed
    for row in denials(obj) + denials(file_obj):
        assert (row.user_id, row.role, row.result, row.event) == (actor.user_id, actor.role, 'denied',
                                                                  'permission_denied')
    assert snapshot() == before
    assert not wrong, f'{kind} × {state}: ' + '; '.join(wrong)


def test_a_deleted_application_is_seen_by_nobody(world):
    """删除 (draft only) takes it out of every list, detail, file and 审核结果, also for its applicant."""
    app_id = f.application_in(world['a'], 'draft')
    [file_id, *_] = f.application_file_ids(app_id)
    owner = world['actors']['owner']
    applications.delete(owner, app_id, f.application_get(app_id).version)
    assert f.application_get(app_id).state == 'deleted'
    for kind, actor in world['actors'].items():
        assert app_id not in ids(application_review.query_page(actor)), kind
        assert app_id not in ids(application_review.queue_page(actor, 'all')), kind
        for service in (applications.my_application, application_review.detail_for_review,
                        application_review.result):
            allowed, _, written = attempt(lambda a=actor, fn=service: fn(a, app_id), f'application:{app_id}')
            assert not allowed and written == 1, (kind, service.__name__)
        assert files.open_for(actor, file_id) is None, kind
    assert app_id not in [r['id'] for r in applications.my_applications(owner).items]


# ================================================================ forged ids
def test_a_forged_row_id_of_another_persons_application_is_refused_everywhere(world):
    """Q (another unit's person) sends P's application id to every entry point of the person's side
    (as a forged event or URL would): each is refused and audited, and nothing of P's changes. An id
    that does not exist gets the same answer (no oracle)."""
    app_id = f.application_in(world['a'], 'draft')
    [file_id, *_] = f.application_file_ids(app_id)
    q = world['actors']['other_person']
    version = f.application_get(app_id).version
    before = snapshot()
    calls = {
        'my_application': lambda i: applications.my_application(q, i),
        'save': lambda i: applications.save(q, i, f.application_values('D', specialty='越权修改'), version),
        'submit': lambda i: applications.submit(q, i, version),
        'withdraw': lambda i: applications.withdraw(q, i, version),
        'delete': lambda i: applications.delete(q, i, version),
        'missing': lambda i: applications.missing(q, i),
        'evidence': lambda i: applications.evidence(q, i),
        'upload_evidence': lambda i: applications.upload_evidence(q, i, 'id_card', f.TINY_PDF, '伪造.pdf'),
        'delete_evidence': lambda i: applications.delete_evidence(q, i, file_id),
        'set_offline': lambda i: applications.set_offline(q, i, 'id_card', True, '伪造的线下提交'),
        'result': lambda i: application_review.result(q, i),
        'detail_for_review': lambda i: application_review.detail_for_review(q, i),
        'review': lambda i: application_review.review(q, i, 'approve', version, None),
    }
    for name, call in calls.items():
        messages = []
        for target in (app_id, 987654):
            allowed, value, written = attempt(lambda c=call, t=target: c(t), f'application:{target}')
            assert not allowed, (name, target)
            assert written == 1, f'{name} on {target}: {written} denials'
            messages.append(value.message)
        assert messages[0] == messages[1], (name, messages)
    assert files.open_for(q, file_id) is None
    assert len(denials(f'file:{file_id}')) == 1
    assert snapshot() == before
    assert f.application_get(app_id).specialty == f.application_values('D')['specialty']


@pytest.mark.parametrize('kind', ('other_unit', 'other_org', 'center', 'right_org'))
def test_a_review_outside_ones_stage_or_scope_changes_nothing(world, kind):
    """通过 / 退回修改 / 不予通过 and 批量通过 on P's application while it waits for its own unit: another
    unit and another org cannot see it (refused, audited); the right org and the center see it only
    later or may not act at this stage (refused by the workflow). The application stays put."""
    app_id = f.application_in(world['a'], 'pending_unit')
    actor = world['actors'][kind]
    version = f.application_get(app_id).version
    before = snapshot()
    for action, opinion in (('approve', None), ('return_', '越权退回'), ('reject', '越权不予通过')):
        with pytest.raises(UserError) as refused:
            application_review.review(actor, app_id, action, version, opinion)
        if kind == 'center':           # it sees the application, but the unit's stage is not its own
            assert isinstance(refused.value, WorkflowError)
        else:
            assert isinstance(refused.value, PermissionDenied)
    result = application_review.review_many(actor, [(app_id, version)])
    assert result['done'] == 0 and [i for i, _ in result['failed']] == [app_id]
    assert snapshot() == before
    assert f.application_get(app_id).state == 'pending_unit'


# ================================================================ reached_org
def test_the_orgs_reviewer_sees_an_application_once_it_reached_the_org(world):
    """While P's application waits for its unit, the 秀峰区 reviewer finds it nowhere; from the unit's
    通过 on (pending_org) it is in the reviewer's queue, 查询, detail, files and 审核结果, and it stays
    visible after the reviewer returns it (returned) and after the resubmission (pending_unit again:
    the org has seen it). The 七星区 reviewer never sees it."""
    w = world['a']
    right, other = world['actors']['right_org'], world['actors']['other_org']
    app_id = f.application_in(w, 'pending_unit')
    [file_id, *_] = f.application_file_ids(app_id)

    def sees(actor) -> dict:
        def ok(call) -> bool:
            try:
                return call() is not None
            except PermissionDenied:
                return False
        return {'queue': app_id in ids(application_review.queue_page(actor, 'all')),
                'pending': app_id in ids(application_review.queue_page(actor, 'pending')),
                'query': app_id in ids(application_review.query_page(actor)),
                'detail': ok(lambda: application_review.detail_for_review(actor, app_id)),
                'file': ok(lambda: files.open_for(actor, file_id)),
                'result': ok(lambda: application_review.result(actor, app_id))}
    nothing = dict.fromkeys(('queue', 'pending', 'query', 'detail', 'file', 'result'), False)
    everything = dict.fromkeys(nothing, True)

    assert f.application_get(app_id).reached_org is False
    assert sees(right) == nothing and sees(other) == nothing
    assert len(denials(f'application:{app_id}')) == 4 and len(denials(f'file:{file_id}')) == 2

    application_review.review(w['unit'], app_id, 'approve', f.application_get(app_id).version, None)
    assert (f.application_get(app_id).state, f.application_get(app_id).reached_org) == ('pending_org', True)
    assert sees(right) == everything
    assert sees(other) == nothing

    application_review.review(right, app_id, 'return_', f.application_get(app_id).version, '请补充业绩证明')
    assert f.application_get(app_id).state == 'returned'
    assert sees(right) == everything | {'pending': False}

    d = applications.my_application(w['person'], app_id)
    applications.submit(w['person'], app_id, d['version'])
    assert f.application_get(app_id).state == 'pending_unit'
    assert sees(right) == everything | {'pending': False}
    assert sees(other) == nothing
    # the unit's 通过 again: it is the reviewer's to review once more
    application_review.review(w['unit'], app_id, 'approve', f.application_get(app_id).version, None)
    assert sees(right) == everything


def test_a_withdrawn_application_leaves_the_units_and_the_centers_sight(world):
    """撤回 (before anyone acted) makes it a draft again: only its applicant sees it."""
    w = world['a']
    app_id = f.application_in(w, 'pending_unit')
    for kind in ('own_unit', 'center'):
        assert app_id in ids(application_review.query_page(world['actors'][kind])), kind
    applications.withdraw(w['person'], app_id, f.application_get(app_id).version)
    assert f.application_get(app_id).state == 'draft'
    for kind in ('own_unit', 'center', 'right_org'):
        actor = world['actors'][kind]
        assert app_id not in ids(application_review.query_page(actor)), kind
        with pytest.raises(PermissionDenied):
            application_review.result(actor, app_id)
    assert app_id in ids(application_review.query_page(w['person']))


# ================================================================ forged fields
def test_forged_fields_in_a_save_do_not_move_the_application_out_of_its_scope(world):
    """保存 with fields the form does not have (state, unit, org, reached_org, applicant, 证书编号 …), as a
    forged event would send them: none is stored, so the application stays where its applicant and
    its unit are, and nobody else starts to see it (SECURITY C3)."""
    w = world['a']
    app_id = f.application_in(w, 'draft')
    before = f.application_get(app_id)
    forged = {'state': 'pending_center', 'unit_id': world['b']['unit_id'], 'org_id': f.org_id('七星区'),
              'reached_org': True, 'applicant_user_id': world['actors']['other_person'].user_id,
              'person_id': world['b']['person_id'], 'granted_level': 'A', 'certificate_no': 'GLRC-2026-A-999999',
              'number': 'SB20269999999', 'version': 99, 'id_number': f.id_number(2), 'applicant_name': '冒名'}
    applications.save(w['person'], app_id, f.application_values('D') | forged, before.version)
    after = f.application_get(app_id)
    for key in ('state', 'unit_id', 'org_id', 'reached_org', 'applicant_user_id', 'person_id', 'granted_level',
                'certificate_no', 'number', 'id_number', 'applicant_name'):
        assert getattr(after, key) == getattr(before, key), key
    assert after.version == before.version + 1
    for kind in ('other_person', 'other_unit', 'other_org', 'center', 'own_unit', 'right_org'):
        assert app_id not in ids(application_review.query_page(world['actors'][kind])), kind
