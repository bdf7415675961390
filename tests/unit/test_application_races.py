"""Recognition applications under concurrency (SPEC §2: one transition per expected version; issue 10
「Races」): two reviewers at once, double clicks, and 证书编号 under concurrent center approvals.

Threads release together on a barrier. On SQLite writers take the database lock at BEGIN (they queue);
on PostgreSQL (GLRC_TEST_DATABASE_URL) they really run at once and meet at the application's row
(UPDATE … WHERE version = expected) and at the certificate counter's row."""
import re
import threading

import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import CertificateSequence, ReviewRecord
from glrc_ui import clock
from glrc_ui.errors import ConflictError, UserError
from glrc_ui.services import application_review, applications
from tests import factories as f

CONFLICT = '已被他人处理'
OPINION = {'approve': None, 'return_': '请补充材料', 'reject': '不符合认定条件'}
TARGET = {('pending_unit', 'approve'): 'pending_org', ('pending_org', 'approve'): 'pending_center',
          ('pending_center', 'approve'): 'approved'}


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


def in_parallel(calls: list) -> list:
    """Run each call in its own thread, all released at once; their results or exceptions, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), 'a thread is still waiting (deadlock?)'
    return results


def records(app_id: int) -> list[ReviewRecord]:
    with session_scope() as s:
        return list(s.exec(select(ReviewRecord).where(ReviewRecord.entity == 'application',
                                                      ReviewRecord.entity_id == app_id)
                           .order_by(ReviewRecord.id)).all())


def transitions(app_id: int) -> list[tuple[str, str, str]]:
    """(action, from, to) of every review record after 提交."""
    return [(r.action, r.from_state, r.to_state) for r in records(app_id) if r.action != 'submit']


def winners_and_losers(results: list) -> tuple[list, list]:
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if not isinstance(r, dict)]
    for r in lost:
        assert isinstance(r, ConflictError), repr(r)
        assert CONFLICT in r.message
    return won, lost


def year() -> int:
    return clock.now().astimezone(clock.SHANGHAI).year


@pytest.fixture
def world():
    """Unit A (秀峰区) with its person, its unit login, the 秀峰区 reviewer rev_u001 and a second one,
    the center user ctr_u001 and a second one."""
    w = f.application_world(1, '秀峰区')
    f.staff('rev_second', role='reviewer', org='秀峰区', name='第二审核人')
    f.staff('ctr_second', role='center', name='第二中心人员')
    return w | {'reviewer2': f.actor_of_account('rev_second'), 'center2': f.actor_of_account('ctr_second')}


# ================================================================ two reviewers at once
@pytest.mark.parametrize('stage, first, second', [
    ('pending_org', 'reviewer', 'reviewer2'),
    ('pending_center', 'center', 'center2'),
])
@pytest.mark.parametrize('actions', [('approve', 'approve'), ('approve', 'return_'), ('reject', 'approve')])
def test_two_reviewers_at_once_make_exactly_one_transition(world, stage, first, second, actions):
    """Two reviewers of the same stage press a decision on the same page version at the same moment:
    exactly one decision is taken (one state change, one review record, one audit entry, one message
    to the applicant, at most one 证书编号), the other reviewer is told 已被他人处理."""
    app_id = f.application_in(world, stage)
    version = f.application_get(app_id).version
    before = transitions(app_id)
    owner = world['person'].user_id
    notes_before = len(_notifications(owner))
    data = {'granted_level': 'C'} if stage == 'pending_center' else None
    calls = [lambda who=who, action=action: application_review.review(world[who], app_id, action, version,
                                                                     OPINION[action], data)
             for who, action in zip((first, second), actions, strict=True)]
    won, lost = winners_and_losers(in_parallel(calls))
    assert (len(won), len(lost)) == (1, 1)
    [result] = won
    app = f.application_get(app_id)
    assert app.state == result['state'] and app.version == version + 1
    taken = transitions(app_id)[len(before):]
    assert len(taken) == 1 and taken[0][1:] == (stage, result['state'])
    winner = next(r for r in records(app_id) if r.action == taken[0][0] and r.from_state == stage)
    assert winner.actor_id in {world[first].user_id, world[second].user_id}
    assert len([r for r in f.audit_rows() if r.object == f'application:{app_id}'
                and r.detail == f'{stage}->{result["state"]}']) == 1
    assert len(_notifications(owner)) == notes_before + 1
    if result['state'] == 'approved':
        assert re.fullmatch(rf'GLRC-{year()}-C-000001', app.certificate_no)
        assert _sequence('C') == 1
    else:
        assert app.certificate_no is None and _sequence('C') in (None, 0)


def _notifications(user_id: int) -> list:
    from db.models import Notification
    with session_scope() as s:
        return list(s.exec(select(Notification).where(Notification.user_id == user_id)).all())


def _sequence(level: str) -> int | None:
    with session_scope() as s:
        row = s.get(CertificateSequence, (year(), level))
        return row.last if row else None


def test_eight_reviewers_at_once_one_success_seven_clear_conflicts(world):
    """SECURITY R3: 8 threads (two reviewers of the org, four clicks each) approve the same item at
    once: 1 success, 7 「已被他人处理」, 1 record."""
    app_id = f.application_in(world, 'pending_org')
    version, before = f.application_get(app_id).version, transitions(app_id)
    won, lost = winners_and_losers(in_parallel(
        [lambda who=who: application_review.review(world[who], app_id, 'approve', version, None)
         for who in ('reviewer', 'reviewer2') * 4]))
    assert (len(won), len(lost)) == (1, 7)
    assert transitions(app_id) == [*before, ('approve', 'pending_org', 'pending_center')]
    assert f.application_get(app_id).version == version + 1


def test_the_person_withdrawing_while_the_unit_approves_makes_one_transition(world):
    """撤回 and the unit's 通过 on the same version at once: one of them happens, never both. (Which
    message the loser gets is test_a_unit_approving_a_withdrawn_application_is_told_it_was_handled's.)"""
    app_id = f.application_in(world, 'pending_unit')
    version = f.application_get(app_id).version
    results = in_parallel([lambda: applications.withdraw(world['person'], app_id, version),
                           lambda: application_review.review(world['unit'], app_id, 'approve', version, None)])
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if not isinstance(r, dict)]
    assert (len(won), len(lost)) == (1, 1), results
    assert isinstance(lost[0], UserError), repr(lost[0])
    assert f.application_get(app_id).state == won[0]['state'] in ('draft', 'pending_org')
    assert f.application_get(app_id).version == version + 1
    assert len(transitions(app_id)) == 1


def test_a_unit_approving_a_withdrawn_application_is_told_it_was_handled(world):
    """The unit's review page is stale: the applicant withdrew meanwhile (the race above, in the order
    where 撤回 comes first). The unit's 通过 is refused as on any stale page, 「已被他人处理」, not as an
    intrusion (「该申报不存在或不在您的权限范围内」 plus a permission_denied entry against the unit)."""
    app_id = f.application_in(world, 'pending_unit')
    version = f.application_get(app_id).version
    applications.withdraw(world['person'], app_id, version)
    with pytest.raises(UserError) as refused:
        application_review.review(world['unit'], app_id, 'approve', version, None)
    assert f.application_get(app_id).state == 'draft'
    assert isinstance(refused.value, ConflictError) and CONFLICT in refused.value.message, repr(refused.value)
    assert [(r.user_id, r.object) for r in f.audit_rows('permission_denied')] == []


# ================================================================ double clicks
@pytest.mark.parametrize('stage, who', [('pending_unit', 'unit'), ('pending_org', 'reviewer'),
                                        ('pending_center', 'center')])
def test_a_double_click_on_approve_makes_one_transition(world, stage, who):
    """The same 通过 sent twice (one after the other, as a second click on a stale page): the second is
    refused with 已被他人处理 and changes nothing."""
    app_id = f.application_in(world, stage)
    version, before = f.application_get(app_id).version, transitions(app_id)
    data = {'granted_level': 'D'} if who == 'center' else None
    first = application_review.review(world[who], app_id, 'approve', version, None, data)
    assert first['state'] == TARGET[(stage, 'approve')]
    with pytest.raises(ConflictError) as second:
        application_review.review(world[who], app_id, 'approve', version, None, data)
    assert CONFLICT in second.value.message
    app = f.application_get(app_id)
    assert (app.state, app.version) == (first['state'], version + 1)
    assert transitions(app_id) == [*before, ('approve', stage, first['state'])]
    if who == 'center':
        assert app.certificate_no == f'GLRC-{year()}-D-000001' and _sequence('D') == 1


@pytest.mark.parametrize('stage, who', [('pending_unit', 'unit'), ('pending_org', 'reviewer'),
                                        ('pending_center', 'center')])
def test_a_double_click_arriving_at_once_makes_one_transition(world, stage, who):
    """Two identical requests of one reviewer arriving together (two tabs, a double click)."""
    app_id = f.application_in(world, stage)
    version, before = f.application_get(app_id).version, transitions(app_id)
    data = {'granted_level': 'D'} if who == 'center' else None
    won, lost = winners_and_losers(in_parallel(
        [lambda: application_review.review(world[who], app_id, 'approve', version, None, data)] * 2))
    assert (len(won), len(lost)) == (1, 1)
    assert transitions(app_id) == [*before, ('approve', stage, TARGET[(stage, 'approve')])]
    assert f.application_get(app_id).version == version + 1
    if who == 'center':
        assert f.application_get(app_id).certificate_no == f'GLRC-{year()}-D-000001' and _sequence('D') == 1


def test_a_double_click_on_submit_submits_once(world):
    """提交 twice at once: one submission (one snapshot, one record), the other is told 已被他人处理."""
    d = f.application_complete(world['person'], 'D')
    won, lost = winners_and_losers(in_parallel(
        [lambda: applications.submit(world['person'], d['id'], d['version'])] * 2))
    assert (len(won), len(lost)) == (1, 1)
    assert [r.action for r in records(d['id'])] == ['submit']
    from db.models import ApplicationSubmission
    with session_scope() as s:
        assert len(s.exec(select(ApplicationSubmission).where(ApplicationSubmission.application_id == d['id'])).all()) == 1


def test_a_double_click_on_batch_approve_approves_each_once(world):
    """批量通过 of the same rows sent twice at once: every application passes once; what the second
    request could not do is reported per row as 已被他人处理."""
    apps = [f.application_in(world, 'pending_unit', level) for level in 'ABC']
    items = [(app_id, f.application_get(app_id).version) for app_id in apps]
    results = in_parallel([lambda: application_review.review_many(world['unit'], items)] * 2)
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r['done'] for r in results) == len(apps)
    for _, message in [x for r in results for x in r['failed']]:
        assert CONFLICT in message
    for app_id in apps:
        assert f.application_get(app_id).state == 'pending_org'
        assert transitions(app_id) == [('approve', 'pending_unit', 'pending_org')]


# ================================================================ 证书编号 under concurrent approvals
N = 6


@pytest.fixture
def at_center(world):
    """N applications of N persons of unit A, each waiting at the center (申报层次 D)."""
    app_ids = []
    for n in range(2, N + 2):
        f.person_active(n, world['unit_id'], world['unit_account'])
        app_ids.append(f.application_in(world | {'person': f.person_actor(n)}, 'pending_center', 'D'))
    return app_ids


def test_concurrent_center_approvals_get_distinct_consecutive_certificate_numbers(world, at_center):
    """N center approvals of N different applications, all 认定层次 D, at the same moment (two center
    users): N distinct 证书编号 GLRC-YYYY-D-000001 … 00000N, none lost, none shared."""
    calls = [lambda app_id=app_id, i=i: application_review.review(
        world['center' if i % 2 else 'center2'], app_id, 'approve', f.application_get(app_id).version, None,
        {'granted_level': 'D'}) for i, app_id in enumerate(at_center)]
    results = in_parallel(calls)
    assert all(isinstance(r, dict) and r['state'] == 'approved' for r in results), results
    numbers = [f.application_get(app_id).certificate_no for app_id in at_center]
    assert sorted(numbers) == [f'GLRC-{year()}-D-{k:06d}' for k in range(1, N + 1)]
    assert _sequence('D') == N
    # the next one continues the sequence; another 层次 has its own
    more = f.application_in(world, 'approved', 'D', granted='D')
    other = f.application_in(world, 'approved', 'E', granted='E')
    assert f.application_get(more).certificate_no == f'GLRC-{year()}-D-{N + 1:06d}'
    assert f.application_get(other).certificate_no == f'GLRC-{year()}-E-000001'


def test_concurrent_center_approvals_of_two_levels_number_each_level_on_its_own(world, at_center):
    """Half granted D, half granted E, all at once: each 层次 gets 000001 … in its own sequence."""
    levels = ['D' if i % 2 else 'E' for i in range(N)]
    results = in_parallel([lambda app_id=app_id, level=level: application_review.review(
        world['center'], app_id, 'approve', f.application_get(app_id).version, None, {'granted_level': level})
        for app_id, level in zip(at_center, levels, strict=True)])
    assert all(isinstance(r, dict) for r in results), results
    for level in 'DE':
        numbers = sorted(f.application_get(app_id).certificate_no
                         for app_id, lv in zip(at_center, levels, strict=True) if lv == level)
        assert numbers == [f'GLRC-{year()}-{level}-{k:06d}' for k in range(1, levels.count(level) + 1)]
        assert _sequence(level) == levels.count(level)
