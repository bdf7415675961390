"""The unit machine (SPEC §2, §2.1, §5; SECURITY C4, R3, S4, L1): path, opinions, stages, scope,
optimistic locking under concurrency, and what every transition leaves behind."""
import dataclasses
import threading

import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import AuditLog, AuthSession, Notification, ReviewRecord, SmsMessage, Unit
from glrc_ui import security, workflow
from glrc_ui.security import LOGIN_DISABLED, LoginError
from glrc_ui.services import sms, unit_review, units
from glrc_ui.services.units import PermissionDenied
from glrc_ui.workflow import ConflictError, WorkflowError
from tests import factories as f


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


@pytest.fixture
def people():
    """Reviewer of 秀峰区, reviewer of 七星区, center staff, center admin."""
    f.staff('xf_review', role='reviewer', org='秀峰区', name='张审核')
    f.staff('qx_review', role='reviewer', org='七星区', name='陈审核')
    f.staff('center_staff', role='center', name='王中心')
    f.staff('center_admin', role='center', name='李主任', admin=True)
    return {key: f.actor_of_account(key) for key in ('xf_review', 'qx_review', 'center_staff', 'center_admin')}


def version(unit_id: int) -> int:
    return f.unit_get(unit_id).version


def state(unit_id: int) -> str:
    return f.unit_get(unit_id).state


def submit(account: str) -> dict:
    op = f.actor_of_account(account)
    return units.submit(op, units.my_unit(op)['version'])


def review(actor, unit_id: int, action: str, opinion: str | None = None) -> dict:
    return unit_review.review(actor, unit_id, action, version(unit_id), opinion)


def notifications_of(user_id: int) -> list[Notification]:
    with session_scope() as s:
        return list(s.exec(select(Notification).where(Notification.user_id == user_id)
                           .order_by(Notification.id)).all())


def sms_to(phone: str) -> list[SmsMessage]:
    with session_scope() as s:
        return list(s.exec(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id)).all())


def operator_id(account: str) -> int:
    return f.actor_of_account(account).user_id


# ---------------------------------------------------------------- the machine as data

def test_unit_machine_declares_spec_transitions():
    t = {(x.source, x.action): (x.target, x.role) for x in units.MACHINE.transitions}
    assert t == {
        ('registered', 'submit'): ('pending_org', 'unit'),
        ('returned', 'submit'): ('pending_org', 'unit'),
        ('pending_org', 'approve'): ('pending_center', 'reviewer'),
        ('pending_org', 'return_'): ('returned', 'reviewer'),
        ('pending_center', 'approve'): ('active', 'center'),
        ('pending_center', 'return_'): ('returned', 'center'),
        ('active', 'disable'): ('disabled', 'center'),
        ('disabled', 'enable'): ('active', 'center'),
    }
    needs_opinion = {(x.source, x.action) for x in units.MACHINE.transitions if x.needs_opinion}
    assert {('pending_org', 'return_'), ('pending_center', 'return_')} <= needs_opinion
    assert not any(x.needs_opinion for x in units.MACHINE.transitions if x.action == 'approve')


# ---------------------------------------------------------------- full path

def test_full_path_registered_to_active(people, fake_clock):
    unit_id, account = f.unit_filled(1, '秀峰区')
    assert state(unit_id) == 'registered'
    result = submit(account)
    assert result['state'] == 'pending_org' and result['state_label'] == '待城区/主管部门审核'
    assert f.unit_get(unit_id).submitted_at == fake_clock.now
    fake_clock.advance(hours=1)
    result = review(people['xf_review'], unit_id, 'approve')          # an approval may have no opinion
    assert result['state'] == 'pending_center' and state(unit_id) == 'pending_center'
    fake_clock.advance(hours=1)
    result = review(people['center_staff'], unit_id, 'approve', '材料齐全，同意')
    assert result == {'id': unit_id, 'state': 'active', 'state_label': '审核通过', 'version': version(unit_id),
                      'data': {}}
    assert [(r.action, r.from_state, r.to_state) for r in f.unit_reviews(unit_id)] == [
        ('submit', 'registered', 'pending_org'),
        ('approve', 'pending_org', 'pending_center'),
        ('approve', 'pending_center', 'active'),
    ]
    # the operator's effective status follows the unit (menus open once active)
    assert f.actor_of_account(account).status == 'active'
    history = units.my_unit(f.actor_of_account(account))['history']
    assert [h['action_label'] for h in history] == ['提交审核', '通过', '通过']
    assert [h['org'] for h in history] == ['桂林测试001有限公司', '秀峰区', '桂林市人才服务中心']  # the submitting unit names itself


def test_each_transition_increments_the_version(people):
    unit_id, account = f.unit_filled(2, '秀峰区')
    before = version(unit_id)
    assert submit(account)['version'] == before + 1 == version(unit_id)
    assert review(people['xf_review'], unit_id, 'approve')['version'] == before + 2 == version(unit_id)


# ---------------------------------------------------------------- returns need an opinion

@pytest.mark.parametrize('opinion', [None, '', '   \n '])
def test_reviewer_return_without_opinion_is_refused(people, opinion):
    unit_id, _ = f.unit_submitted(3, '秀峰区')
    before = f.unit_reviews(unit_id)
    with pytest.raises(WorkflowError) as err:
        review(people['xf_review'], unit_id, 'return_', opinion)
    assert '审核意见' in str(err.value)
    assert state(unit_id) == 'pending_org'
    assert len(f.unit_reviews(unit_id)) == len(before)


def test_center_return_without_opinion_is_refused(people):
    unit_id, _ = f.unit_submitted(4, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    with pytest.raises(WorkflowError) as err:
        review(people['center_staff'], unit_id, 'return_', None)
    assert '审核意见' in str(err.value)
    assert state(unit_id) == 'pending_center'


def test_overlong_opinion_is_refused(people):
    unit_id, _ = f.unit_submitted(5, '秀峰区')
    with pytest.raises(WorkflowError):
        review(people['xf_review'], unit_id, 'return_', '意' * 1001)
    assert state(unit_id) == 'pending_org'


def test_return_by_reviewer_then_resubmit_goes_to_pending_org(people):
    unit_id, account = f.unit_submitted(6, '秀峰区')
    result = review(people['xf_review'], unit_id, 'return_', '营业执照不清晰，请重新上传')
    assert result['state'] == 'returned'
    detail = units.my_unit(f.actor_of_account(account))
    assert detail['last_opinion'] == '营业执照不清晰，请重新上传'
    assert '退回' in detail['next_step']
    assert set(detail['editable']) == set(units.LABELS)              # editable again after a return
    assert submit(account)['state'] == 'pending_org'
    assert [r.action for r in f.unit_reviews(unit_id)] == ['submit', 'return_', 'submit']


def test_return_by_center_then_resubmit_goes_to_pending_org_again(people):
    unit_id, account = f.unit_submitted(7, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    assert review(people['center_staff'], unit_id, 'return_', '法定代表人与执照不符')['state'] == 'returned'
    assert submit(account)['state'] == 'pending_org'                   # back to the first stage, not the center
    assert review(people['xf_review'], unit_id, 'approve')['state'] == 'pending_center'
    records = f.unit_reviews(unit_id)
    assert [(r.action, r.actor_role, r.to_state) for r in records] == [
        ('submit', 'unit', 'pending_org'), ('approve', 'reviewer', 'pending_center'),
        ('return_', 'center', 'returned'), ('submit', 'unit', 'pending_org'),
        ('approve', 'reviewer', 'pending_center')]
    assert records[2].opinion == '法定代表人与执照不符'


# ---------------------------------------------------------------- C4: stages in order, roles, scope

def test_center_cannot_approve_a_unit_still_at_the_org_stage(people):
    unit_id, _ = f.unit_submitted(8, '秀峰区')
    for action in ('approve', 'return_'):
        with pytest.raises(WorkflowError) as err:
            review(people['center_staff'], unit_id, action, '跳过城区审核')
        assert not isinstance(err.value, ConflictError)
        assert '无权' in str(err.value)
    assert state(unit_id) == 'pending_org'
    assert [r.action for r in f.unit_reviews(unit_id)] == ['submit']


def test_reviewer_cannot_approve_at_the_center_stage(people):
    unit_id, _ = f.unit_submitted(9, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    with pytest.raises(WorkflowError) as err:
        review(people['xf_review'], unit_id, 'approve')
    assert '无权' in str(err.value)
    assert state(unit_id) == 'pending_center'


def test_unit_cannot_approve_or_return_its_own_unit(people):
    unit_id, account = f.unit_submitted(10, '秀峰区')
    op = f.actor_of_account(account)
    for action in ('approve', 'return_'):
        with pytest.raises(PermissionDenied):   # the review service admits reviewers and the center only
            unit_review.review(op, unit_id, action, version(unit_id), '自己通过')
        with pytest.raises(WorkflowError):
            workflow.apply('unit', unit_id, action, op, version(unit_id), '自己通过')
    assert state(unit_id) == 'pending_org'
    with session_scope() as s:
        assert workflow.available('unit', s, op, s.get(Unit, unit_id)) == []


def test_center_cannot_activate_a_registered_unit_nor_disable_an_unapproved_one(people):
    unit_id, _ = f.unit_filled(11, '秀峰区')
    with pytest.raises(WorkflowError):
        workflow.apply('unit', unit_id, 'approve', people['center_staff'], version(unit_id))
    with pytest.raises(WorkflowError):
        workflow.apply('unit', unit_id, 'disable', people['center_admin'], version(unit_id), '停用')
    assert state(unit_id) == 'registered'


def test_unknown_review_action_is_refused(people):
    unit_id, _ = f.unit_submitted(12, '秀峰区')
    for action in ('submit', 'disable', 'enable', 'reject', 'activate'):
        with pytest.raises(WorkflowError):
            unit_review.review(people['xf_review'], unit_id, action, version(unit_id), '意见')
    assert state(unit_id) == 'pending_org'


def test_reviewer_of_another_org_is_refused(people):
    unit_id, _ = f.unit_submitted(13, '秀峰区')
    other = people['qx_review']
    with pytest.raises(PermissionDenied):
        review(other, unit_id, 'approve')
    # the engine refuses too when called directly, without the service's visibility check
    with pytest.raises(WorkflowError) as err:
        workflow.apply('unit', unit_id, 'approve', other, version(unit_id))
    assert '审核范围' in str(err.value)
    assert state(unit_id) == 'pending_org'
    denied = [r for r in f.audit_rows('permission_denied') if r.user_id == other.user_id]
    assert [r.object for r in denied] == [f'unit:{unit_id}'] and denied[0].result == 'denied'


def test_reviewer_without_org_is_refused(people):
    unit_id, _ = f.unit_submitted(14, '秀峰区')
    orphan = dataclasses.replace(people['xf_review'], org_id=None)
    with pytest.raises((WorkflowError, PermissionDenied)):
        review(orphan, unit_id, 'approve')
    assert state(unit_id) == 'pending_org'


def test_another_units_operator_cannot_submit_this_unit(people):
    unit_a, _ = f.unit_filled(15, '秀峰区')
    _, account_b = f.unit_filled(16, '七星区')
    with pytest.raises(WorkflowError):
        workflow.apply('unit', unit_a, 'submit', f.actor_of_account(account_b), version(unit_a))
    assert state(unit_a) == 'registered'


# ---------------------------------------------------------------- optimistic lock (R3)

def test_stale_expected_version_is_a_conflict(people):
    unit_id, _ = f.unit_submitted(17, '秀峰区')
    seen = version(unit_id)
    review(people['xf_review'], unit_id, 'approve')                    # someone else acted first
    with pytest.raises(ConflictError) as err:
        unit_review.review(people['xf_review'], unit_id, 'approve', seen, None)
    assert '已被他人处理' in str(err.value)
    with pytest.raises(ConflictError) as err:
        unit_review.review(people['center_staff'], unit_id, 'approve', seen, None)
    assert '已被他人处理' in str(err.value)
    assert state(unit_id) == 'pending_center'
    assert [r.action for r in f.unit_reviews(unit_id)] == ['submit', 'approve']


def test_version_from_the_future_is_a_conflict(people):
    unit_id, _ = f.unit_submitted(18, '秀峰区')
    with pytest.raises(ConflictError):
        unit_review.review(people['xf_review'], unit_id, 'approve', version(unit_id) + 1, None)
    assert state(unit_id) == 'pending_org'


def test_eight_concurrent_approvals_make_exactly_one_transition(people):
    unit_id, account = f.unit_submitted(19, '秀峰区')
    for i in range(8):
        f.staff(f'xf_review{i}', role='reviewer', org='秀峰区', name=f'审核员{i}')
    reviewers = [f.actor_of_account(f'xf_review{i}') for i in range(8)]
    expected = version(unit_id)
    records_before = f.count_rows(ReviewRecord)
    barrier = threading.Barrier(8)
    outcomes: list = [None] * 8

    def click(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = unit_review.review(reviewers[i], unit_id, 'approve', expected, f'同意（{i}）')
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = exc

    threads = [threading.Thread(target=click, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    wins = [o for o in outcomes if isinstance(o, dict)]
    losses = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(wins) == 1, outcomes
    assert len(losses) == 7, outcomes                                  # nothing else (no DB errors, no lock failures)
    assert all('已被他人处理' in str(o) for o in losses)
    assert wins[0]['state'] == 'pending_center' and wins[0]['version'] == expected + 1
    unit = f.unit_get(unit_id)
    assert unit.state == 'pending_center' and unit.version == expected + 1
    approvals = [r for r in f.unit_reviews(unit_id) if r.action == 'approve']
    assert len(approvals) == 1
    assert f.count_rows(ReviewRecord) == records_before + 1
    winner = reviewers[outcomes.index(wins[0])]
    assert approvals[0].actor_id == winner.user_id
    assert len([r for r in f.audit_rows('unit_approve') if r.object == f'unit:{unit_id}']) == 1
    assert len(notifications_of(operator_id(account))) == 1
    assert len(sms_to(f.unit_phone(19))) == 1


# ---------------------------------------------------------------- what a transition leaves behind (§2, §5, L1)

def test_submit_writes_review_record_and_audit_but_notifies_nobody(people, fake_clock):
    unit_id, account = f.unit_filled(20, '秀峰区')
    op = f.actor_of_account(account)
    submit(account)
    [record] = f.unit_reviews(unit_id)
    assert (record.action, record.from_state, record.to_state) == ('submit', 'registered', 'pending_org')
    assert (record.actor_id, record.actor_role, record.actor_name) == (op.user_id, 'unit', '操作员020')
    assert record.opinion is None and record.at == fake_clock.now
    [entry] = [r for r in f.audit_rows('unit_submit') if r.object == f'unit:{unit_id}']
    assert (entry.user_id, entry.role, entry.result) == (op.user_id, 'unit', 'ok')
    assert notifications_of(op.user_id) == [] and sms_to(f.unit_phone(20)) == []


def test_reviewer_approval_writes_record_audit_notification_and_sms(people, fake_clock):
    unit_id, account = f.unit_submitted(21, '秀峰区')
    fake_clock.advance(minutes=30)
    reviewer = people['xf_review']
    review(reviewer, unit_id, 'approve', '同意，报市人才服务中心')
    record = f.unit_reviews(unit_id)[-1]
    assert (record.action, record.from_state, record.to_state) == ('approve', 'pending_org', 'pending_center')
    assert (record.actor_id, record.actor_role, record.actor_name) == (reviewer.user_id, 'reviewer', '张审核')
    assert (record.org_id, record.org_name) == (f.org_id('秀峰区'), '秀峰区')
    assert record.opinion == '同意，报市人才服务中心' and record.at == fake_clock.now
    [entry] = [r for r in f.audit_rows('unit_approve') if r.object == f'unit:{unit_id}']
    assert (entry.user_id, entry.account, entry.role) == (reviewer.user_id, 'xf_review', 'reviewer')
    assert entry.detail == 'pending_org->pending_center' and entry.at == fake_clock.now
    [note] = notifications_of(operator_id(account))
    # the title says who did what and what comes next; the body names the item and the opinion
    assert note.title == '秀峰区审核通过，待市人才服务中心审核'
    assert note.body == '事项：单位注册审核（桂林测试021有限公司）\n审核意见：同意，报市人才服务中心'
    assert note.link == '/unit/info'
    [message] = sms_to(f.unit_phone(21))
    assert message.purpose == 'notice' and '待市人才服务中心审核' in message.text
    lines = [x for x in f.outbox_lines() if x['phone'] == f.unit_phone(21)]
    assert len(lines) == 1 and lines[0]['code'] is None and lines[0]['purpose'] == 'notice'
    assert '同意，报市人才服务中心' in lines[0]['text']


def test_center_return_writes_record_audit_notification_and_sms(people, fake_clock):
    unit_id, account = f.unit_submitted(22, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    center = people['center_staff']
    review(center, unit_id, 'return_', '请补充法人证书')
    record = f.unit_reviews(unit_id)[-1]
    assert (record.action, record.from_state, record.to_state) == ('return_', 'pending_center', 'returned')
    assert (record.actor_id, record.actor_role, record.actor_name) == (center.user_id, 'center', '王中心')
    assert record.org_name == '桂林市人才服务中心' and record.opinion == '请补充法人证书'
    [entry] = [r for r in f.audit_rows('unit_return') if r.object == f'unit:{unit_id}']
    assert (entry.user_id, entry.role, entry.detail) == (center.user_id, 'center', 'pending_center->returned')
    notes = notifications_of(operator_id(account))
    assert len(notes) == 2 and '退回修改' in notes[-1].title and '请补充法人证书' in notes[-1].body
    texts = [m.text for m in sms_to(f.unit_phone(22))]
    assert len(texts) == 2 and '退回修改' in texts[-1] and '请补充法人证书' in texts[-1]
    assert len([x for x in f.outbox_lines() if x['phone'] == f.unit_phone(22)]) == 2


def test_center_approval_notifies_the_operator(people):
    unit_id, account = f.unit_submitted(23, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    review(people['center_staff'], unit_id, 'approve')
    assert '审核通过' in notifications_of(operator_id(account))[-1].title
    assert '审核通过' in sms_to(f.unit_phone(23))[-1].text


def test_message_titles_for_every_decision(people):
    unit_id, account = f.unit_submitted(25, '秀峰区')
    review(people['xf_review'], unit_id, 'return_', '请补充营业执照')
    submit(account)
    review(people['xf_review'], unit_id, 'approve')
    review(people['center_staff'], unit_id, 'approve')
    review(people['center_admin'], unit_id, 'disable', '单位已注销')
    review(people['center_admin'], unit_id, 'enable')
    notes = [(n.title, n.body) for n in notifications_of(operator_id(account))]
    subject = '事项：单位注册审核（桂林测试025有限公司）'
    assert notes == [
        ('秀峰区退回修改，请根据审核意见修改单位信息后重新提交', f'{subject}\n审核意见：请补充营业执照'),
        ('秀峰区审核通过，待市人才服务中心审核', subject),
        ('桂林市人才服务中心审核通过，单位账号已开通', subject),
        ('桂林市人才服务中心已停用本单位账号', f'{subject}\n停用原因：单位已注销'),
        ('桂林市人才服务中心已启用本单位账号', subject),   # 启用 is not 审核通过
    ]
    texts = [m.text for m in sms_to(f.unit_phone(25))]
    assert texts[-2] == '【桂林市人才服务】单位注册审核（桂林测试025有限公司）：桂林市人才服务中心已停用本单位账号。停用原因：单位已注销'


def test_disabling_asks_for_a_reason_in_its_own_words(people):
    unit_id, _ = f.unit_submitted(26, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    review(people['center_staff'], unit_id, 'approve')
    with pytest.raises(WorkflowError) as refused:
        review(people['center_admin'], unit_id, 'disable', '  ')
    assert (refused.value.field, refused.value.message) == ('停用原因', '请填写停用原因')
    with pytest.raises(WorkflowError) as refused:
        review(people['center_admin'], unit_id, 'disable', '因' * 1001)
    assert (refused.value.field, refused.value.message) == ('停用原因', '停用原因最多 1000 字')


def test_transition_is_atomic_when_a_side_effect_fails(people, monkeypatch):
    unit_id, account = f.unit_submitted(24, '秀峰区')
    before = (version(unit_id), f.count_rows(ReviewRecord), f.count_rows(AuditLog), f.count_rows(Notification))

    def broken(*_args, **_kwargs):
        raise RuntimeError('gateway down')
    monkeypatch.setattr(sms, 'send_message', broken)
    with pytest.raises(RuntimeError):
        review(people['xf_review'], unit_id, 'approve')
    assert state(unit_id) == 'pending_org'
    after = (version(unit_id), f.count_rows(ReviewRecord), f.count_rows(AuditLog), f.count_rows(Notification))
    assert after == before


# ---------------------------------------------------------------- disable / enable (center admin, S4)

def _active_unit(people, n: int) -> tuple[int, str]:
    unit_id, account = f.unit_submitted(n, '秀峰区')
    review(people['xf_review'], unit_id, 'approve')
    review(people['center_staff'], unit_id, 'approve')
    return unit_id, account


def test_disable_ends_operator_sessions_and_blocks_login(people):
    unit_id, account = _active_unit(people, 25)
    token = f.login(account, roles=('unit',))
    other_tab = f.login(account, roles=('unit',))
    assert security.resolve_session(token) is not None
    review_count = len(f.unit_reviews(unit_id))
    workflow.apply('unit', unit_id, 'disable', people['center_admin'], version(unit_id), '单位已注销')
    assert state(unit_id) == 'disabled'
    # the sessions were revoked by the transition itself, not only on the next look-up
    with session_scope() as s:
        rows = s.exec(select(AuthSession).where(AuthSession.user_id == operator_id(account))).all()
    assert rows and all(r.revoked_at is not None and r.revoked_reason == 'disabled' for r in rows)
    assert security.resolve_session(token) is None
    assert security.resolve_session(other_tab) is None
    with pytest.raises(LoginError) as err:
        f.login(account, roles=('unit',))
    assert str(err.value) == LOGIN_DISABLED
    record = f.unit_reviews(unit_id)[-1]
    assert len(f.unit_reviews(unit_id)) == review_count + 1
    assert (record.action, record.actor_role, record.opinion) == ('disable', 'center', '单位已注销')
    assert [r.object for r in f.audit_rows('unit_disable')] == [f'unit:{unit_id}']


def test_enable_restores_login(people):
    unit_id, account = _active_unit(people, 26)
    workflow.apply('unit', unit_id, 'disable', people['center_admin'], version(unit_id), '暂停')
    workflow.apply('unit', unit_id, 'enable', people['center_admin'], version(unit_id))
    assert state(unit_id) == 'active'
    token = f.login(account, roles=('unit',))
    assert security.resolve_session(token).status == 'active'


def test_disable_needs_admin_and_an_opinion(people):
    unit_id, account = _active_unit(people, 27)
    token = f.login(account, roles=('unit',))
    with pytest.raises(WorkflowError) as err:
        workflow.apply('unit', unit_id, 'disable', people['center_staff'], version(unit_id), '停用')
    assert '无权' in str(err.value)
    with pytest.raises(WorkflowError):
        workflow.apply('unit', unit_id, 'disable', people['xf_review'], version(unit_id), '停用')
    with pytest.raises(WorkflowError) as err:
        workflow.apply('unit', unit_id, 'disable', people['center_admin'], version(unit_id), '')
    assert str(err.value) == '请填写停用原因' and err.value.field == '停用原因'
    assert state(unit_id) == 'active'
    assert security.resolve_session(token) is not None
