"""Object-level access to units (SECURITY C2, L1, F4) and the 单位注册审核 queue (SPEC §3.7)."""
from datetime import date, timedelta

import pytest

from glrc_ui import workflow
from glrc_ui.services import files, unit_review, units
from glrc_ui.services.units import PermissionDenied
from tests import factories as f


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def version(unit_id: int) -> int:
    return f.unit_get(unit_id).version


def ids(rows: list[dict]) -> set[int]:
    return {r['id'] for r in rows}


def denials(actor, obj: str) -> list:
    return [r for r in f.audit_rows('permission_denied') if r.user_id == actor.user_id and r.object == obj]


@pytest.fixture
def world():
    """Two orgs (秀峰区 = A, 七星区 = B), each with a unit waiting for its reviewer (a1, b1), one already
    passed to the center (a2, b2) and one never submitted (a0); two reviewers, the center, the operators."""
    f.staff('xf_review', role='reviewer', org='秀峰区', name='张审核')
    f.staff('qx_review', role='reviewer', org='七星区', name='陈审核')
    f.staff('center_staff', role='center', name='王中心')
    w = {'ra': f.actor_of_account('xf_review'), 'rb': f.actor_of_account('qx_review'),
         'center': f.actor_of_account('center_staff')}
    w['a1'], acc_a1 = f.unit_submitted(1, '秀峰区')
    w['b1'], acc_b1 = f.unit_submitted(2, '七星区')
    w['a2'], _ = f.unit_submitted(3, '秀峰区')
    w['b2'], _ = f.unit_submitted(4, '七星区')
    w['a0'], acc_a0 = f.unit_filled(5, '秀峰区')
    unit_review.review(w['ra'], w['a2'], 'approve', version(w['a2']), None)
    unit_review.review(w['rb'], w['b2'], 'approve', version(w['b2']), None)
    w['op_a'], w['op_b'], w['op_a0'] = (f.actor_of_account(a) for a in (acc_a1, acc_b1, acc_a0))
    for key in ('a1', 'b1', 'a2', 'b2', 'a0'):
        w[f'lic_{key}'] = f.unit_get(w[key]).licence_file_id
    return w


# ---------------------------------------------------------------- queue scope per role

def test_reviewer_queue_lists_only_its_own_org(world):
    w = world
    for reviewer, own_pending, own_done in ((w['ra'], w['a1'], w['a2']), (w['rb'], w['b1'], w['b2'])):
        rows, total = unit_review.queue(reviewer, 'pending')
        assert ids(rows) == {own_pending} and total == 1
        assert rows[0]['can_review'] is True
        rows, total = unit_review.queue(reviewer, 'done')
        assert ids(rows) == {own_done} and total == 1
        assert rows[0]['can_review'] is False
        rows, total = unit_review.queue(reviewer, 'all')
        assert ids(rows) == {own_pending, own_done} and total == 2


def test_center_queue_lists_both_orgs_at_its_stage(world):
    w = world
    rows, total = unit_review.queue(w['center'], 'pending')
    assert ids(rows) == {w['a2'], w['b2']} and total == 2
    assert {r['org_name'] for r in rows} == {'秀峰区', '七星区'}
    assert unit_review.queue(w['center'], 'done') == ([], 0)
    rows, total = unit_review.queue(w['center'], 'all')
    assert ids(rows) == {w['a1'], w['b1'], w['a2'], w['b2']} and total == 4
    assert w['a0'] not in ids(rows)                                      # never submitted: nobody's queue


def test_queue_follows_the_workflow(world):
    w = world
    unit_review.review(w['center'], w['a2'], 'approve', version(w['a2']), None)
    unit_review.review(w['center'], w['b2'], 'return_', version(w['b2']), '请补充材料')
    assert ids(unit_review.queue(w['center'], 'pending')[0]) == set()
    assert ids(unit_review.queue(w['center'], 'done')[0]) == {w['a2'], w['b2']}
    assert ids(unit_review.queue(w['ra'], 'done')[0]) == {w['a2']}
    assert ids(unit_review.queue(w['rb'], 'done')[0]) == {w['b2']}


def test_unit_operator_and_orgless_reviewer_get_an_empty_queue(world):
    import dataclasses
    w = world
    for status in ('pending', 'done', 'all'):
        assert unit_review.queue(w['op_a'], status) == ([], 0)
        assert unit_review.queue(dataclasses.replace(w['ra'], org_id=None), status) == ([], 0)


# ---------------------------------------------------------------- detail_for_review (C2, L1)

def test_reviewer_cannot_open_another_orgs_unit_and_it_is_audited(world):
    w = world
    for reviewer, foreign in ((w['ra'], w['b1']), (w['ra'], w['b2']), (w['rb'], w['a1'])):
        with pytest.raises(PermissionDenied):
            unit_review.detail_for_review(reviewer, foreign)
        [entry] = denials(reviewer, f'unit:{foreign}')
        assert (entry.event, entry.role, entry.result, entry.account) == \
            ('permission_denied', 'reviewer', 'denied', reviewer.account)


def test_reviewer_opens_own_orgs_unit_with_actions(world):
    w = world
    detail = unit_review.detail_for_review(w['ra'], w['a1'])
    assert detail['id'] == w['a1'] and detail['org_name'] == '秀峰区'
    assert detail['operator_phone'] == f.unit_phone(1) and detail['licence']['id'] == w['lic_a1']
    assert [a['action'] for a in detail['actions']] == ['approve', 'return_']
    assert [a['action'] for a in unit_review.detail_for_review(w['ra'], w['a2'])['actions']] == []   # not its stage
    assert [r.object for r in f.audit_rows('unit_viewed') if r.user_id == w['ra'].user_id] == \
        [f'unit:{w["a1"]}', f'unit:{w["a2"]}']


def test_reviewer_cannot_open_a_never_submitted_unit_of_its_org(world):
    w = world
    with pytest.raises(PermissionDenied):
        unit_review.detail_for_review(w['ra'], w['a0'])
    assert len(denials(w['ra'], f'unit:{w["a0"]}')) == 1


def test_center_opens_units_of_both_orgs(world):
    w = world
    for unit_id in (w['a1'], w['b1'], w['a2'], w['b2']):
        assert unit_review.detail_for_review(w['center'], unit_id)['id'] == unit_id
    assert [a['action'] for a in unit_review.detail_for_review(w['center'], w['b2'])['actions']] == ['approve', 'return_']
    assert unit_review.detail_for_review(w['center'], w['b1'])['actions'] == []
    assert denials(w['center'], f'unit:{w["a1"]}') == []


def test_unit_operator_cannot_use_the_review_view(world):
    w = world
    for unit_id in (w['a1'], w['b1']):
        with pytest.raises(PermissionDenied):
            unit_review.detail_for_review(w['op_a'], unit_id)
        assert len(denials(w['op_a'], f'unit:{unit_id}')) == 1


def test_unknown_unit_is_denied_and_audited(world):
    with pytest.raises(PermissionDenied):
        unit_review.detail_for_review(world['ra'], 987654)
    assert len(denials(world['ra'], 'unit:987654')) == 1


def test_review_of_another_orgs_unit_is_denied_audited_and_changes_nothing(world):
    w = world
    before = version(w['b1'])
    with pytest.raises(PermissionDenied):
        unit_review.review(w['ra'], w['b1'], 'approve', before, None)
    with pytest.raises(PermissionDenied):
        unit_review.review(w['ra'], w['b1'], 'return_', before, '越权退回')
    assert f.unit_get(w['b1']).state == 'pending_org' and version(w['b1']) == before
    assert len(denials(w['ra'], f'unit:{w["b1"]}')) == 2
    assert [r.action for r in f.unit_reviews(w['b1'])] == ['submit']


def test_operator_cannot_submit_or_edit_another_unit(world):
    w = world
    with pytest.raises(workflow.WorkflowError):
        workflow.apply('unit', w['a0'], 'submit', w['op_b'], version(w['a0']))
    assert f.unit_get(w['a0']).state == 'registered'
    # the operator's own-unit calls never take a unit id: they always act on the operator's unit
    assert units.my_unit(w['op_b'])['id'] == w['b1']


# ---------------------------------------------------------------- licence download (C2, F4)

def test_reviewer_cannot_download_another_orgs_licence_and_it_is_audited(world):
    w = world
    assert files.open_for(w['ra'], w['lic_b1']) is None
    assert files.open_for(w['rb'], w['lic_a1']) is None
    assert files.open_for(w['ra'], w['lic_a0']) is None                 # own org, but never submitted
    for actor, file_id in ((w['ra'], w['lic_b1']), (w['rb'], w['lic_a1']), (w['ra'], w['lic_a0'])):
        [entry] = denials(actor, f'file:{file_id}')
        assert entry.result == 'denied' and entry.role == 'reviewer'


def test_reviewer_downloads_own_orgs_licence_and_it_is_audited(world):
    w = world
    meta, path = files.open_for(w['ra'], w['lic_a1'])
    assert meta['id'] == w['lic_a1'] and meta['mime'] == 'application/pdf' and meta['entity_id'] == w['a1']
    assert path.read_bytes().startswith(b'%PDF-')
    downloads = [r for r in f.audit_rows('file_download') if r.user_id == w['ra'].user_id]
    assert [r.object for r in downloads] == [f'file:{w["lic_a1"]}']


def test_operator_cannot_open_another_units_licence(world):
    w = world
    assert files.open_for(w['op_a'], w['lic_b1']) is None
    assert files.open_for(w['op_b'], w['lic_a1']) is None
    assert len(denials(w['op_a'], f'file:{w["lic_b1"]}')) == 1
    assert len(denials(w['op_b'], f'file:{w["lic_a1"]}')) == 1
    meta, path = files.open_for(w['op_a'], w['lic_a1'])                  # its own: yes, and no download audit
    assert meta['id'] == w['lic_a1'] and path.exists()
    assert [r for r in f.audit_rows('file_download') if r.user_id == w['op_a'].user_id] == []


def test_center_downloads_licences_of_both_orgs(world):
    w = world
    for file_id in (w['lic_a1'], w['lic_b1'], w['lic_a2'], w['lic_b2']):
        assert files.open_for(w['center'], file_id) is not None
    assert denials(w['center'], f'file:{w["lic_b1"]}') == []


def test_person_cannot_open_a_licence(world):
    f.person('13800138000')
    person = f.actor_of_account('13800138000')
    assert files.open_for(person, world['lic_a1']) is None
    assert len(denials(person, f'file:{world["lic_a1"]}')) == 1


# ---------------------------------------------------------------- queue filters, sorting, paging

@pytest.fixture
def spread(fake_clock):
    """12 units of 秀峰区 submitted one a day from 2026-11-28 10:00 (Asia/Shanghai), one 七星区 unit,
    and a reviewer and the center. Units 1-4 are approved by the reviewer (at the center's stage)."""
    f.staff('xf_review', role='reviewer', org='秀峰区')
    f.staff('center_staff', role='center')
    made = []
    for n in range(1, 13):
        unit_id, _ = f.unit_submitted(n, '秀峰区')
        made.append(unit_id)
        fake_clock.advance(days=1)
    other, _ = f.unit_submitted(40, '七星区')
    reviewer = f.actor_of_account('xf_review')
    for unit_id in made[:4]:
        unit_review.review(reviewer, unit_id, 'approve', version(unit_id), None)
    return {'units': made, 'other': other, 'reviewer': reviewer, 'center': f.actor_of_account('center_staff')}


def test_default_sort_is_oldest_submission_first(spread):
    """First come, first served: the clerk starts with the unit that has waited longest."""
    rows, total = unit_review.queue(spread['reviewer'], 'all')
    assert total == 12
    assert [r['id'] for r in rows] == spread['units']
    assert rows[0]['submitted_at'] == '2026-11-28 10:00'                # shown in Asia/Shanghai


def test_status_filter(spread):
    u = spread['units']
    assert ids(unit_review.queue(spread['reviewer'], 'pending')[0]) == set(u[4:])
    assert ids(unit_review.queue(spread['reviewer'], 'done')[0]) == set(u[:4])
    assert ids(unit_review.queue(spread['center'], 'pending')[0]) == set(u[:4])
    assert unit_review.queue(spread['center'], 'all')[1] == 13


def test_keyword_matches_name_and_exact_credit_code(spread):
    u = spread['units']
    rows, total = unit_review.queue(spread['reviewer'], 'all', keyword='测试007')
    assert ids(rows) == {u[6]} and total == 1
    rows, _ = unit_review.queue(spread['reviewer'], 'all', keyword='  桂林测试01 ')   # 010, 011, 012
    assert ids(rows) == {u[9], u[10], u[11]}
    rows, _ = unit_review.queue(spread['reviewer'], 'all', keyword=f.unit_credit_code(3).lower())
    assert ids(rows) == {u[2]}
    # part of a code: its beginning (a range on the unique index), not any part of it
    code = f.unit_credit_code(12)                                       # 91450300MA5K00012?
    assert ids(unit_review.queue(spread['reviewer'], 'all', keyword=code[:16].lower())[0]) == set(u[9:12])
    assert ids(unit_review.queue(spread['reviewer'], 'all', keyword=code[:10])[0]) == set(u)
    assert unit_review.queue(spread['reviewer'], 'all', keyword=code[4:14])[1] == 0     # the middle: no match
    assert unit_review.queue(spread['reviewer'], 'all', keyword=f.unit_credit_code(40)) == ([], 0)   # other org
    assert ids(unit_review.queue(spread['center'], 'all', keyword=f.unit_credit_code(40))[0]) == {spread['other']}


def test_code_prefix_range():
    assert unit_review.code_prefix_range('9145') == ('9145', '9146')
    assert unit_review.code_prefix_range('91450300ma5k') == ('91450300MA5K', '91450300MA5L')
    assert unit_review.code_prefix_range('914Y') == ('914Y', '914Z')
    assert unit_review.code_prefix_range('桂林') is None and unit_review.code_prefix_range('914') is None
    assert unit_review.code_prefix_range('ABCD') is None                 # no digit: a name, not a code


def test_a_code_prefix_is_answered_by_the_index():
    """The plan for a prefix uses the unique index on credit_code (no full scan of unit)."""
    from sqlalchemy import text

    from db.engine import get_engine
    from db.models import Unit
    low, high = unit_review.code_prefix_range('91450300')
    query = (f'SELECT id FROM {Unit.__tablename__} WHERE credit_code >= :low AND credit_code < :high '
             'AND credit_code LIKE :like')
    params = {'low': low, 'high': high, 'like': low + '%'}
    with get_engine().connect() as conn:
        if conn.dialect.name == 'sqlite':
            plan = ' '.join(str(r) for r in conn.execute(text('EXPLAIN QUERY PLAN ' + query), params))
            assert 'USING INDEX' in plan or 'USING COVERING INDEX' in plan, plan
        else:   # an empty table is cheapest to scan: forbid that, and an index must still serve the range
            conn.execute(text('SET LOCAL enable_seqscan = off'))
            plan = ' '.join(str(r) for r in conn.execute(text('EXPLAIN ' + query), params))
            assert 'Index' in plan and 'credit_code' in plan, plan


def test_keyword_wildcards_are_literal(spread):
    assert unit_review.queue(spread['reviewer'], 'all', keyword='%')[1] == 12        # stripped: no filter left
    assert unit_review.queue(spread['reviewer'], 'all', keyword='不存在的单位%')[1] == 0
    assert unit_review.queue(spread['reviewer'], 'all', keyword="' OR 1=1 --")[1] == 0


def test_date_range_is_inclusive_in_shanghai_time(spread, fake_clock):
    u = spread['units']
    # unit n was submitted on 2026-11-(27+n) 10:00 Shanghai
    rows, total = unit_review.queue(spread['reviewer'], 'all', date_from=date(2026, 11, 30), date_to=date(2026, 12, 2))
    assert ids(rows) == {u[2], u[3], u[4]} and total == 3
    assert ids(unit_review.queue(spread['reviewer'], 'all', date_from=date(2026, 12, 8))[0]) == {u[10], u[11]}
    assert ids(unit_review.queue(spread['reviewer'], 'all', date_to=date(2026, 11, 29))[0]) == {u[0], u[1]}
    assert unit_review.queue(spread['reviewer'], 'all', date_from=date(2026, 12, 2), date_to=date(2026, 12, 1))[1] == 0


def test_date_range_boundary_is_local_midnight(fake_clock):
    f.staff('xf_review', role='reviewer', org='秀峰区')
    reviewer = f.actor_of_account('xf_review')
    fake_clock.now = fake_clock.now.replace(hour=15, minute=59)       # 2026-11-28 23:59 in Shanghai
    late, _ = f.unit_submitted(1, '秀峰区')
    fake_clock.advance(minutes=1)                                     # 2026-11-29 00:00 in Shanghai
    early, _ = f.unit_submitted(2, '秀峰区')
    day = date(2026, 11, 28)
    assert ids(unit_review.queue(reviewer, 'all', date_from=day, date_to=day)[0]) == {late}
    assert ids(unit_review.queue(reviewer, 'all', date_from=day + timedelta(days=1))[0]) == {early}


def test_sort_by_name(spread):
    u = spread['units']
    rows, _ = unit_review.queue(spread['reviewer'], 'all', sort_by='name', descending=False, per_page=100)
    assert [r['id'] for r in rows] == u
    assert [r['name'] for r in rows][:2] == ['桂林测试001有限公司', '桂林测试002有限公司']
    rows, _ = unit_review.queue(spread['reviewer'], 'all', sort_by='name', descending=True, per_page=100)
    assert [r['id'] for r in rows] == list(reversed(u))


def test_unknown_sort_column_falls_back_safely(spread):
    rows, total = unit_review.queue(spread['reviewer'], 'all', sort_by='password_hash; DROP TABLE unit')
    assert total == 12 and [r['id'] for r in rows] == spread['units']   # the default: oldest first


def test_paging(spread):
    u = spread['units']
    page1, total = unit_review.queue(spread['reviewer'], 'all', sort_by='name', descending=False, page=1, per_page=5)
    page2, total2 = unit_review.queue(spread['reviewer'], 'all', sort_by='name', descending=False, page=2, per_page=5)
    page3, total3 = unit_review.queue(spread['reviewer'], 'all', sort_by='name', descending=False, page=3, per_page=5)
    assert total == total2 == total3 == 12
    assert [r['id'] for r in page1] == u[:5]
    assert [r['id'] for r in page2] == u[5:10]
    assert [r['id'] for r in page3] == u[10:]
    assert unit_review.queue(spread['reviewer'], 'all', page=4, per_page=5) == ([], 12)
    # filters and paging combine: the total counts the filtered rows, not the page
    rows, total = unit_review.queue(spread['reviewer'], 'pending', sort_by='name', descending=False, page=2, per_page=3)
    assert total == 8 and [r['id'] for r in rows] == u[7:10]


def test_paging_arguments_are_clamped(spread):
    rows, total = unit_review.queue(spread['reviewer'], 'all', page=0, per_page=0)
    assert total == 12 and len(rows) == 1
    rows, _ = unit_review.queue(spread['reviewer'], 'all', page=-3, per_page=10_000)
    assert len(rows) == 12
