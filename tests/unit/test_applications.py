"""High-level talent recognition (高层次人才认定, SPEC §2.3, §3.6–3.8, §5; issue 10): the versioned
catalogue, the person's drafts, evidence and 提交, the three-stage application machine, notifications,
the reviewers' extras (what changed, consistency hints), queues, 查询 and the Excel export."""
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from db.engine import session_scope
from db.models import (
    MATERIAL_TYPES,
    Application,
    ApplicationSubmission,
    CatalogueClause,
    CatalogueVersion,
    Notification,
    SmsMessage,
    StoredFile,
)
from glrc_ui import paging
from glrc_ui.errors import ConflictError, FormErrors, PermissionDenied, ValidationError, WorkflowError
from glrc_ui.services import application_review as rev
from glrc_ui.services import applications as apps
from glrc_ui.services import catalogue, persons
from tests import factories as f

ALL_TYPES = tuple(MATERIAL_TYPES)
D1_TYPES = {'身份证', '学历学位证书', '专业技术职称证书', '劳动合同或聘用证明', '社保缴纳证明'}   # clause D-1
NUMBER = re.compile(r'^SB2026\d{7}$')


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


@pytest.fixture
def world(fake_clock):
    """An active unit of 秀峰区, its active person 1 and the three reviewing accounts (year 2026)."""
    return f.application_world(1)


# ---------------------------------------------------------------- helpers
def version(app_id: int) -> int:
    return f.application_get(app_id).version


def state(app_id: int) -> str:
    return f.application_get(app_id).state


def act(actor, app_id: int, action: str, opinion: str | None = None, **data) -> dict:
    return rev.review(actor, app_id, action, version(app_id), opinion, data or None)


def to_stage(w: dict, app_id: int, target: str) -> None:
    """Drive a pending_unit application forward to `target` (pending_org, pending_center, approved)."""
    steps = [('pending_org', 'unit'), ('pending_center', 'reviewer'), ('approved', 'center')]
    for reached, role in steps:
        if state(app_id) == target:
            return
        act(w[role], app_id, 'approve', **({'granted_level': 'D'} if role == 'center' else {}))
        assert state(app_id) == reached
    assert state(app_id) == target


def submitted(actor, level: str = 'D', *, offline: tuple[str, ...] = ALL_TYPES, **overrides) -> dict:
    """A submitted application whose required types are all 线下提交 (no uploads: the upload rate)."""
    return f.application_submitted(actor, level, offline=offline, **overrides)


def second_person(w: dict, n: int):
    """Another active person n of the world's unit: its actor."""
    f.person_active(n, w['unit_id'], w['unit_account'])
    return f.person_actor(n)


def notes_of(user_id: int) -> list[Notification]:
    with session_scope() as s:
        return list(s.exec(select(Notification).where(Notification.user_id == user_id)
                           .order_by(col(Notification.id))).all())


def application_sms(phone: str) -> list[str]:
    """The SMS texts about applications sent to this phone (not registration codes or account notices)."""
    with session_scope() as s:
        rows = s.exec(select(SmsMessage).where(SmsMessage.phone == phone).order_by(col(SmsMessage.id))).all()
        return [m.text for m in rows if '高层次人才认定申报' in m.text]


def files_of(app_id: int) -> list[StoredFile]:
    with session_scope() as s:
        return list(s.exec(select(StoredFile).where(StoredFile.entity == 'application', StoredFile.entity_id == app_id)
                           .order_by(col(StoredFile.id))).all())


def submissions_of(app_id: int) -> list[ApplicationSubmission]:
    with session_scope() as s:
        return list(s.exec(select(ApplicationSubmission).where(ApplicationSubmission.application_id == app_id)
                           .order_by(col(ApplicationSubmission.id))).all())


def ids(page) -> set[int]:
    return {row['id'] for row in page.items}


def publish_v2(text_suffix: str = '（正式）', *, materials: tuple[str, ...] = ('id_card',)) -> CatalogueVersion:
    rows = [(level, f'{level}-1', f'{level}类第一条{text_suffix}', materials) for level in 'ABCDE']
    with session_scope() as s:
        version = catalogue.publish(s, '桂林市高层次人才认定目录', rows)
        s.expunge(version)
        return version


# ---------------------------------------------------------------- 认定目录
def test_the_seeded_catalogue_is_an_example_on_every_clause():
    options = catalogue.options()
    assert options['version'] == 1 and options['is_example'] is True and '示例' in options['title']
    assert list(options['levels']) == ['A', 'B', 'C', 'D', 'E']
    labels = [label for clauses in options['clauses'].values() for label in clauses.values()]
    assert len(labels) == sum(len(c) for c in catalogue.EXAMPLE.values()) == 12
    assert all('示例' in label for label in labels), labels
    with session_scope() as s:
        [only] = s.exec(select(CatalogueVersion)).all()
        assert only.is_example and only.note == catalogue.EXAMPLE_NOTE
        assert all('示例' in c.text for c in s.exec(select(CatalogueClause)).all())
        assert catalogue.seed_example(s).id == only.id          # seeding again adds nothing
    # every clause names the material types it requires, all of them known, 劳动合同 always among them
    assert len(options['materials']) == 12
    assert all(m and set(m) <= set(MATERIAL_TYPES) and 'contract' in m for m in options['materials'].values())


def test_an_application_under_the_example_catalogue_says_so(world):
    d = f.application_draft(world['person'])
    assert d['catalogue_example'] is True and d['catalogue'] == '桂林市高层次人才认定目录（示例）（第 1 版）'
    assert d['clause'].startswith('D-1 ') and '示例' in d['clause']


def test_publish_makes_a_new_version_that_the_form_offers():
    version = publish_v2(materials=('id_card', 'contract'))
    assert version.number == 2 and version.is_example is False
    options = catalogue.options()
    assert (options['version'], options['is_example']) == (2, False)
    assert [list(c.values()) for c in options['clauses'].values()] == [[f'{lv}-1 {lv}类第一条（正式）'] for lv in 'ABCDE']
    assert [set(m) for m in options['materials'].values()] == [{'id_card', 'contract'}] * 5
    with session_scope() as s:    # the first version is untouched
        first = s.exec(select(CatalogueClause).join(CatalogueVersion)
                       .where(CatalogueVersion.number == 1)).all()
        assert len(first) == 12 and all('示例' in c.text for c in first)
    assert any(r.object == 'catalogue:2' for r in f.audit_rows('catalogue_published'))


@pytest.mark.parametrize(('row', 'label'), [
    (('F', 'F-1', '未知层次', ['id_card']), '申报层次'),
    (('D', '', '没有编号', ['id_card']), '认定依据'),
    (('D', 'D-9', '', ['id_card']), '认定依据'),
    (('D', 'D-9', '未知材料', ['id_card', 'passport']), '材料类型'),
])
def test_publish_refuses_bad_rows(row, label):
    with pytest.raises(FormErrors) as refused, session_scope() as s:
        catalogue.publish(s, '错误目录', [row])
    assert list(refused.value.errors) == [label]
    assert catalogue.options()['version'] == 1


def test_an_application_keeps_the_clause_it_was_filed_under(world):
    person = world['person']
    filed = submitted(person, 'D')                     # D-1 of the example catalogue, submitted
    draft = f.application_draft(person, 'E')           # E-1 of the example catalogue, a draft
    old_d, old_e = filed['clause'], draft['clause']
    publish_v2()
    for app_id, clause in ((filed['id'], old_d), (draft['id'], old_e)):
        d = apps.my_application(person, app_id)
        assert d['clause'] == clause and '示例' in d['clause']
        assert d['catalogue'] == '桂林市高层次人才认定目录（示例）（第 1 版）' and d['catalogue_example'] is True
    required = {m['label'] for m in apps.my_application(person, filed['id'])['materials'] if m['required']}
    assert required == D1_TYPES                        # still the old clause's material types
    to_stage(world, filed['id'], 'approved')
    result = rev.result(person, filed['id'])
    assert result['clause'] == old_d and result['catalogue_example'] is True
    # a new application is filed under the new version, with its text
    fresh = f.application_draft(person, 'C', clause_id=f.clause_of('C'))
    assert fresh['clause'] == 'C-1 C类第一条（正式）' and fresh['catalogue'] == '桂林市高层次人才认定目录（第 2 版）'
    assert fresh['catalogue_example'] is False


# ---------------------------------------------------------------- 保存
def test_save_keeps_an_incomplete_draft(world):
    person = world['person']
    d = apps.save(person, None, {'level': 'D'}, 0)
    assert (d['state'], d['state_label'], d['version'], d['editable']) == ('draft', '已保存', 1, True)
    assert NUMBER.match(d['number']), d['number']
    assert d['values']['level'] == 'D' and d['values']['specialty'] is None and d['values']['pledge'] is False
    assert d['info']['name'] == '测试人员001' and d['info']['unit_name'] == '桂林测试001有限公司'
    assert dict(d['info_sheet'])['身份证号'] == '450302********0039'     # masked on the form
    again = apps.save(person, d['id'], {'level': 'D', 'specialty': '软件研发'}, d['version'])
    assert (again['version'], again['number'], again['values']['specialty']) == (2, d['number'], '软件研发')
    [row] = apps.my_applications(person).items
    assert (row['id'], row['number'], row['level_label'], row['state_label']) == (d['id'], d['number'], 'D类', '已保存')
    assert (row['can_edit'], row['can_submit'], row['can_delete'], row['can_withdraw']) == (True, True, True, False)
    assert [r.object for r in f.audit_rows('application_saved')] == [f'application:{d["id"]}'] * 2
    second = apps.save(person, None, {}, 0)            # even an empty draft
    assert second['number'] != d['number'] and NUMBER.match(second['number'])


@pytest.mark.parametrize(('overrides', 'errors'), [
    ({'achievements': '业' * 5001}, {'主要业绩及成果': '主要业绩及成果最多 5000 字'}),
    ({'specialty': '岗' * 201}, {'现从事专业及岗位': '现从事专业及岗位最多 200 字'}),
    ({'honors': '奖' * 2001}, {'获奖及荣誉情况': '获奖及荣誉情况最多 2000 字'}),
    ({'other_notes': '注' * 2001}, {'其他需要说明的情况': '其他需要说明的情况最多 2000 字'}),
    ({'clause_id': 'C'}, {'认定依据': '请选择所选申报层次下的认定依据'}),          # a clause of level C for D
    ({'clause_id': 999_999}, {'认定依据': '请选择所选申报层次下的认定依据'}),
    ({'clause_id': 'not-a-number'}, {'认定依据': '请选择所选申报层次下的认定依据'}),
    ({'level': 'F', 'clause_id': None}, {'申报层次': '申报层次不正确，请从列表中选择'}),
    ({'level': 'd', 'clause_id': None}, {'申报层次': '申报层次不正确，请从列表中选择'}),
])
def test_save_refuses_bad_input_and_keeps_what_was_saved(world, overrides, errors):
    person = world['person']
    if overrides.get('clause_id') == 'C':
        overrides = overrides | {'clause_id': f.clause_of('C')}
    with pytest.raises(FormErrors) as refused:          # a new application: nothing is created
        apps.save(person, None, f.application_values('D') | overrides, 0)
    assert refused.value.errors == errors
    assert f.count_rows(Application) == 0
    d = f.application_draft(person)                     # an existing one: nothing changes
    with pytest.raises(FormErrors) as again:
        apps.save(person, d['id'], f.application_values('D') | overrides, d['version'])
    assert again.value.errors == errors
    assert apps.my_application(person, d['id'])['values'] == d['values'] and version(d['id']) == d['version']


def test_forged_fields_are_ignored(world):
    forged = {'state': 'approved', 'granted_level': 'A', 'certificate_no': 'GLRC-2026-A-999999', 'version': 99,
              'applicant_name': '冒名顶替', 'id_number': f.id_number(9), 'unit_id': 999, 'org_id': 1,
              'reached_org': True, 'clause_text': '伪造的认定依据', 'snapshot': '{}', 'offline': '{"id_card": "x"}'}
    d = apps.save(world['person'], None, f.application_values('D') | forged, 0)
    app = f.application_get(d['id'])
    assert (app.state, app.granted_level, app.certificate_no, app.version, app.reached_org) == \
        ('draft', None, None, 1, False)
    assert (app.applicant_name, app.id_number, app.unit_id, app.org_id) == \
        ('测试人员001', f.id_number(1), world['unit_id'], None)
    assert (app.clause_text, app.snapshot, app.offline) == ('具有正高级专业技术职称的专业技术人才（示例）', None, None)
    assert '身份证' in apps.missing(world['person'], d['id'])


def test_5000_characters_fit(world):
    text = '业' * 4999 + '绩'
    d = f.application_draft(world['person'], achievements=text)
    assert f.application_get(d['id']).achievements == text and len(d['values']['achievements']) == 5000


def test_one_open_application_per_level(world):
    person = world['person']
    first = f.application_complete(person, 'D', offline=ALL_TYPES)
    with pytest.raises(FormErrors) as refused:
        f.application_draft(person, 'D', clause_id=f.clause_of('D', 1))
    assert refused.value.errors == {'申报层次': apps.OPEN_LEVEL_TAKEN}
    other = f.application_draft(person, 'E')            # another 层次 is fine
    with pytest.raises(FormErrors) as moved:            # and cannot be moved onto the taken one
        apps.save(person, other['id'], f.application_values('D'), other['version'])
    assert moved.value.errors == {'申报层次': apps.OPEN_LEVEL_TAKEN}
    assert f.application_get(other['id']).level == 'E'
    apps.save(person, None, {}, 0)                      # drafts without a 层次 do not count
    apps.save(person, None, {}, 0)
    resaved = apps.save(person, first['id'], f.application_values('D', honors='又改了'), version(first['id']))
    assert resaved['values']['honors'] == '又改了'        # the open one itself saves again

    def still_taken() -> None:
        with pytest.raises(FormErrors) as again:
            apps.save(person, None, f.application_values('D'), 0)
        assert again.value.errors == {'申报层次': apps.OPEN_LEVEL_TAKEN}

    apps.submit(person, first['id'], version(first['id']))
    still_taken()                                       # pending_unit
    act(world['unit'], first['id'], 'return_', '请补充')
    still_taken()                                       # returned
    apps.submit(person, first['id'], version(first['id']))
    act(world['unit'], first['id'], 'approve')
    still_taken()                                       # pending_org
    act(world['reviewer'], first['id'], 'approve')
    still_taken()                                       # pending_center
    with session_scope() as s:
        assert len(s.exec(select(Application).where(Application.level == 'D')).all()) == 1


@pytest.mark.parametrize('ending', ['reject', 'approve', 'delete'])
def test_a_closed_application_frees_its_level(world, ending):
    person = world['person']
    if ending == 'delete':
        d = f.application_draft(person, 'D')
        apps.delete(person, d['id'], d['version'])
    else:
        d = submitted(person, 'D')
        if ending == 'reject':
            act(world['unit'], d['id'], 'reject', '不符合认定条件')
        else:
            to_stage(world, d['id'], 'approved')
    fresh = f.application_draft(person, 'D')
    assert fresh['id'] != d['id'] and fresh['state'] == 'draft'


def test_only_an_active_person_files(world):
    f.person_submitted(5, world['unit_id'])             # registered and submitted, not yet approved
    waiting = f.person_actor(5)
    for call in (lambda: apps.save(waiting, None, f.application_values('D'), 0), lambda: apps.new_form(waiting)):
        with pytest.raises(PermissionDenied) as refused:
            call()
        assert refused.value.message == '个人信息审核通过后才能办理高层次人才认定申报'
    for staff in (world['unit'], world['reviewer'], world['center']):
        with pytest.raises(PermissionDenied):
            apps.save(staff, None, f.application_values('D'), 0)
        assert apps.my_applications(staff).items == []
    assert f.count_rows(Application) == 0
    assert apps.new_form(world['person'])['info']['name'] == '测试人员001'


def test_a_stale_page_is_refused(world):
    person = world['person']
    d = f.application_complete(person, offline=ALL_TYPES)
    stale = d['version'] - 1
    with pytest.raises(ValidationError) as refused:
        apps.save(person, d['id'], f.application_values('D', specialty='旧页面'), stale)
    assert refused.value.message == '申报已在其他页面修改或状态已变化，请刷新页面后再保存'
    assert f.application_get(d['id']).specialty != '旧页面'
    for call in (lambda: apps.submit(person, d['id'], stale), lambda: apps.delete(person, d['id'], stale)):
        with pytest.raises(ConflictError):
            call()
    assert state(d['id']) == 'draft'
    apps.submit(person, d['id'], d['version'])
    with pytest.raises(ConflictError) as twice:        # a second click on 提交
        apps.submit(person, d['id'], d['version'])
    assert twice.value.message == '已被他人处理，请刷新后查看最新状态'


def test_another_person_cannot_touch_my_application(world):
    mine = f.application_complete(world['person'])
    other = second_person(world, 2)
    app_id, v = mine['id'], mine['version']
    file_id = mine['materials'][0]['files'][0]['id']
    calls = [lambda: apps.my_application(other, app_id), lambda: apps.evidence(other, app_id),
             lambda: apps.save(other, app_id, f.application_values('E'), v),
             lambda: apps.upload_evidence(other, app_id, 'other', f.TINY_PDF, 'x.pdf'),
             lambda: apps.delete_evidence(other, app_id, file_id),
             lambda: apps.set_offline(other, app_id, 'id_card', True, '涉密'),
             lambda: apps.submit(other, app_id, v), lambda: apps.delete(other, app_id, v),
             lambda: apps.withdraw(other, app_id, v), lambda: apps.missing(other, app_id),
             lambda: rev.result(other, app_id)]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert (state(app_id), version(app_id)) == ('draft', v)
    assert [x.deleted_at for x in files_of(app_id)] == [None] * len(files_of(app_id))
    denied = [r for r in f.audit_rows('permission_denied') if r.object == f'application:{app_id}']
    assert len(denied) >= len(calls) - 1 and all(r.user_id == other.user_id for r in denied)
    assert apps.my_applications(other).items == []


@pytest.mark.parametrize('stage', ['pending_unit', 'pending_org', 'pending_center'])
def test_frozen_after_submit_until_returned(world, stage):
    person = world['person']
    d = f.application_submitted(person)                 # real files for every required type
    to_stage(world, d['id'], stage)
    before = f.application_get(d['id'])
    file_id = d['materials'][0]['files'][0]['id']
    refusals = [
        lambda: apps.save(person, d['id'], f.application_values('D', specialty='审核中修改'), before.version),
        lambda: apps.upload_evidence(person, d['id'], 'other', f.TINY_PNG, '补充.png'),
        lambda: apps.delete_evidence(person, d['id'], file_id),
        lambda: apps.set_offline(person, d['id'], 'id_card', True, '涉密'),
    ]
    for call in refusals:
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.message.startswith('申报已提交，审核期间不能修改')
    after = f.application_get(d['id'])
    assert (after.specialty, after.offline, after.version) == (before.specialty, before.offline, before.version)
    assert [(x.kind, x.deleted_at) for x in files_of(d['id'])] == [(x.kind, None) for x in files_of(d['id'])]
    assert len(files_of(d['id'])) == 5
    assert apps.my_application(person, d['id'])['editable'] is False
    # 退回修改 at this stage makes it editable again
    who = {'pending_unit': 'unit', 'pending_org': 'reviewer', 'pending_center': 'center'}[stage]
    act(world[who], d['id'], 'return_', '请补充材料')
    assert state(d['id']) == 'returned'
    saved = apps.save(person, d['id'], f.application_values('D', specialty='已修改'), version(d['id']))
    assert saved['values']['specialty'] == '已修改' and saved['editable'] is True
    added = apps.upload_evidence(person, d['id'], 'other', f.TINY_PNG, '补充.png')
    apps.delete_evidence(person, d['id'], file_id)
    apps.set_offline(person, d['id'], 'id_card', True, '原件涉密')
    kept = {x.id: x.deleted_at for x in files_of(d['id'])}
    assert kept[added['id']] is None and kept[file_id] is not None
    assert apps.missing(person, d['id']) == {}          # the 身份证 is now 线下提交
    apps.submit(person, d['id'], version(d['id']))
    assert state(d['id']) == 'pending_unit'


# ---------------------------------------------------------------- 提交
def test_submit_lists_missing_fields_and_material_types_by_label(world):
    person = world['person']
    d = apps.save(person, None, {'level': 'D'}, 0)
    with pytest.raises(FormErrors) as refused:
        apps.submit(person, d['id'], d['version'])
    assert set(refused.value.errors) == {'认定依据', '现从事专业及岗位', '主要业绩及成果', apps.PLEDGE}
    assert refused.value.summary.startswith('以下信息未填写或不正确，请补充后再提交审核：')
    d = apps.save(person, d['id'], f.application_values('D', specialty='', pledge=False), d['version'])
    with pytest.raises(FormErrors) as refused:
        apps.submit(person, d['id'], d['version'])
    assert set(refused.value.errors) == {'现从事专业及岗位', apps.PLEDGE} | D1_TYPES
    assert refused.value.errors['身份证'] == '请上传身份证，或勾选「线下提交纸质材料」并说明'
    assert apps.missing(person, d['id']) == refused.value.errors
    assert (state(d['id']), submissions_of(d['id'])) == ('draft', [])
    d = apps.save(person, d['id'], f.application_values('D'), d['version'])
    apps.upload_evidence(person, d['id'], 'other', f.TINY_PDF, '其他.pdf')        # not a required type
    apps.upload_evidence(person, d['id'], 'id_card', f.TINY_JPEG, '身份证.jpg')
    assert set(apps.missing(person, d['id'])) == D1_TYPES - {'身份证'}
    with pytest.raises(FormErrors):
        apps.submit(person, d['id'], version(d['id']))
    assert state(d['id']) == 'draft'


def test_offline_needs_an_explanation_and_then_satisfies_a_type(world):
    person = world['person']
    d = f.application_draft(person)
    with pytest.raises(ValidationError) as refused:
        apps.set_offline(person, d['id'], 'title_cert', True, '   ')
    assert (refused.value.field, refused.value.message) == \
        ('专业技术职称证书线下提交说明', '请简要说明线下提交的原因（如涉密或不适宜网络传输）')
    with pytest.raises(ValidationError) as too_long:
        apps.set_offline(person, d['id'], 'title_cert', True, '说' * 201)
    assert too_long.value.message == '说明最多 200 字'
    with pytest.raises(ValidationError):
        apps.set_offline(person, d['id'], 'passport', True, '涉密')
    assert '专业技术职称证书' in apps.missing(person, d['id'])
    assert apps.set_offline(person, d['id'], 'title_cert', True, ' 涉密，线下报送 ') == {'offline': True, 'note': '涉密，线下报送'}
    assert '专业技术职称证书' not in apps.missing(person, d['id'])
    [title] = [m for m in apps.evidence(person, d['id'])['materials'] if m['key'] == 'title_cert']
    assert (title['required'], title['offline'], title['offline_note']) == (True, True, '涉密，线下报送')
    apps.set_offline(person, d['id'], 'title_cert', False, None)             # unchecked: missing again
    assert '专业技术职称证书' in apps.missing(person, d['id'])
    for key in ('id_card', 'diploma', 'title_cert', 'contract'):
        apps.set_offline(person, d['id'], key, True, '涉密')
    uploaded = apps.upload_evidence(person, d['id'], 'social_security', f.TINY_PNG, '社保.png')
    assert apps.missing(person, d['id']) == {}
    apps.delete_evidence(person, d['id'], uploaded['id'])                    # a deleted file no longer counts
    assert set(apps.missing(person, d['id'])) == {'社保缴纳证明'}
    with pytest.raises(ValidationError) as gone:
        apps.delete_evidence(person, d['id'], uploaded['id'])
    assert gone.value.message == '文件不存在或已删除'
    apps.set_offline(person, d['id'], 'social_security', True, '涉密')
    apps.submit(person, d['id'], version(d['id']))
    assert state(d['id']) == 'pending_unit'


def test_a_file_of_another_application_cannot_be_deleted_through_mine(world):
    person = world['person']
    a = f.application_draft(person, 'D')
    b = f.application_draft(person, 'E')
    row = apps.upload_evidence(person, b['id'], 'id_card', f.TINY_PDF, '身份证.pdf')
    with pytest.raises(ValidationError):
        apps.delete_evidence(person, a['id'], row['id'])
    assert [x.deleted_at for x in files_of(b['id'])] == [None]


def test_submit_takes_a_snapshot_of_the_person(world):
    person = world['person']
    d = submitted(person)
    draft = f.application_draft(person, 'E')
    assert d['info']['school'] == '广西师范大学' and d['info']['title'] == '工程师'
    profile = persons.my_person(person)
    persons.save_info(person, {'school': '桂林电子科技大学', 'title': '正高级工程师'}, profile['version'])
    assert f.person_get(world['person_id']).school == '桂林电子科技大学'
    for info in (apps.my_application(person, d['id'])['info'], rev.detail_for_review(world['unit'], d['id'])['info']):
        assert (info['school'], info['title']) == ('广西师范大学', '工程师')
    assert apps.my_application(person, draft['id'])['info']['school'] == '桂林电子科技大学'   # a draft is live
    snapshot = json.loads(f.application_get(d['id']).snapshot)
    assert snapshot['id_number'] == f.id_number(1) and snapshot['phone'] == f.person_phone(1)
    # a resubmission takes a new snapshot
    act(world['unit'], d['id'], 'return_', '请更新个人信息')
    apps.submit(person, d['id'], version(d['id']))
    assert apps.my_application(person, d['id'])['info']['school'] == '桂林电子科技大学'


def test_submit_records_what_was_submitted(world):
    person = world['person']
    d = f.application_submitted(person)
    app = f.application_get(d['id'])
    assert (app.state, app.unit_id, app.org_id, app.applicant_name, app.id_number) == \
        ('pending_unit', world['unit_id'], f.org_id('秀峰区'), '测试人员001', f.id_number(1))
    assert app.submitted_at is not None and d['submitted_at']
    [sub] = submissions_of(d['id'])
    content = json.loads(sub.content)
    assert content['fields']['specialty'] == f.application_values()['specialty']
    assert content['clause'] == d['clause']
    assert {kind: [x['name'] for x in rows] for kind, rows in content['files'].items()} == \
        {m['key']: [f'{m["label"]}.pdf'] for m in d['materials'] if m['required']}
    assert [h['action'] for h in d['history']] == ['submit']
    assert d['next_step'] == '申报已提交，正在等待所在单位审核'


# ---------------------------------------------------------------- the machine
def test_the_three_stage_approval(world):
    person = world['person']
    d = submitted(person)
    assert [a['action'] for a in rev.detail_for_review(world['unit'], d['id'])['actions']] == \
        ['approve', 'return_', 'reject']
    act(world['unit'], d['id'], 'approve', '同意推荐')
    assert state(d['id']) == 'pending_org' and f.application_get(d['id']).reached_org is True
    act(world['reviewer'], d['id'], 'approve', '情况属实')
    assert state(d['id']) == 'pending_center'
    [center_approve] = [a for a in rev.detail_for_review(world['center'], d['id'])['actions'] if a['action'] == 'approve']
    assert center_approve['fields'] == [{'name': 'granted_level', 'label': '认定层次',
                                         'choices': {level: f'{level}类' for level in 'ABCDE'}}]
    act(world['center'], d['id'], 'approve', '予以认定', granted_level='D')
    app = f.application_get(d['id'])
    assert (app.state, app.granted_level, app.certificate_no) == ('approved', 'D', 'GLRC-2026-D-000001')
    assert app.decided_at is not None
    result = rev.result(person, d['id'])
    assert (result['state_label'], result['granted_level'], result['certificate_no'], result['final']) == \
        ('认定通过', 'D类', 'GLRC-2026-D-000001', True)
    assert [(h['action'], h['role'], h['org'], h['opinion']) for h in result['history']] == [
        ('submit', 'person', '', ''), ('approve', 'unit', '桂林测试001有限公司', '同意推荐'),
        ('approve', 'reviewer', '秀峰区', '情况属实'), ('approve', 'center', apps.CENTER_NAME, '予以认定')]
    assert result['history'][-1]['data'] == {'granted_level': 'D'}
    assert result['last_opinion'] == '予以认定'
    for staff in ('unit', 'reviewer', 'center'):
        assert rev.result(world[staff], d['id'])['certificate_no'] == 'GLRC-2026-D-000001'
        assert rev.detail_for_review(world[staff], d['id'])['actions'] == []   # final: nothing left to do
    [row] = apps.my_applications(person).items
    assert (row['state_label'], row['can_edit'], row['can_withdraw'], row['can_delete'], row['can_result']) == \
        ('认定通过', False, False, False, True)


@pytest.mark.parametrize(('data', 'errors'), [
    (None, {'认定层次': '请选择认定层次'}),
    ({'granted_level': ''}, {'认定层次': '请选择认定层次'}),
    ({'granted_level': 'Z'}, {'认定层次': '认定层次不正确'}),
])
def test_the_center_approval_needs_a_level(world, data, errors):
    d = submitted(world['person'])
    to_stage(world, d['id'], 'pending_center')
    before = version(d['id'])
    with pytest.raises(FormErrors) as refused:
        rev.review(world['center'], d['id'], 'approve', before, '同意', data)
    assert refused.value.errors == errors
    app = f.application_get(d['id'])
    assert (app.state, app.version, app.certificate_no, app.granted_level) == ('pending_center', before, None, None)


def test_certificate_numbers_per_year_and_level(world, fake_clock):
    person, other = world['person'], second_person(world, 2)

    def granted(actor, level: str, granted_level: str) -> str:
        d = submitted(actor, level)
        to_stage(world, d['id'], 'pending_center')
        act(world['center'], d['id'], 'approve', granted_level=granted_level)
        return f.application_get(d['id']).certificate_no

    assert granted(person, 'D', 'D') == 'GLRC-2026-D-000001'
    assert granted(other, 'D', 'D') == 'GLRC-2026-D-000002'
    assert granted(person, 'C', 'D') == 'GLRC-2026-D-000003'     # the granted 层次 counts, not the applied one
    assert granted(other, 'C', 'C') == 'GLRC-2026-C-000001'
    fake_clock.now = fake_clock.now.replace(month=12, day=31, hour=16)   # 2027-01-01 00:00 in Shanghai
    assert granted(person, 'D', 'D') == 'GLRC-2027-D-000001'
    assert granted(other, 'E', 'D') == 'GLRC-2027-D-000002'
    with session_scope() as s:
        numbers = s.exec(select(Application.certificate_no).where(col(Application.certificate_no).is_not(None))).all()
    assert len(numbers) == len(set(numbers)) == 6
    assert all(re.fullmatch(r'GLRC-20\d\d-[A-E]-\d{6}', n) for n in numbers)


def test_a_return_at_the_org_restarts_at_the_unit(world):
    person = world['person']
    d = submitted(person)
    to_stage(world, d['id'], 'pending_org')
    act(world['reviewer'], d['id'], 'return_', '业绩材料不全')
    assert state(d['id']) == 'returned'
    mine = apps.my_application(person, d['id'])
    assert (mine['state_label'], mine['editable'], mine['last_opinion']) == ('退回修改', True, '业绩材料不全')
    [row] = apps.my_applications(person).items
    assert (row['can_edit'], row['can_submit'], row['can_delete'], row['can_withdraw']) == (True, True, False, False)
    with pytest.raises(WorkflowError):                  # the reviewer cannot act again on a returned item
        act(world['reviewer'], d['id'], 'approve')
    apps.submit(person, d['id'], version(d['id']))
    assert state(d['id']) == 'pending_unit'            # the unit reviews first again
    with pytest.raises(WorkflowError):
        act(world['reviewer'], d['id'], 'approve')
    assert state(d['id']) == 'pending_unit'
    to_stage(world, d['id'], 'approved')
    assert [h['action'] for h in rev.result(person, d['id'])['history']] == \
        ['submit', 'approve', 'return_', 'submit', 'approve', 'approve', 'approve']


@pytest.mark.parametrize('stage', ['pending_unit', 'pending_org', 'pending_center'])
def test_a_rejection_is_final(world, stage):
    person = world['person']
    d = submitted(person)
    to_stage(world, d['id'], stage)
    who = {'pending_unit': 'unit', 'pending_org': 'reviewer', 'pending_center': 'center'}[stage]
    act(world[who], d['id'], 'reject', '不符合认定条件')
    app = f.application_get(d['id'])
    assert (app.state, app.certificate_no) == ('rejected', None) and app.decided_at is not None
    result = rev.result(person, d['id'])
    assert (result['state_label'], result['final'], result['last_opinion']) == ('不予认定', True, '不符合认定条件')
    for actor, action, data in ((world['unit'], 'approve', None), (world['center'], 'approve', {'granted_level': 'D'}),
                                (world[who], 'return_', None)):
        with pytest.raises((WorkflowError, PermissionDenied)):
            rev.review(actor, d['id'], action, version(d['id']), '再议', data)
    for call in (lambda: apps.submit(person, d['id'], version(d['id'])),
                 lambda: apps.withdraw(person, d['id'], version(d['id'])),
                 lambda: apps.delete(person, d['id'], version(d['id']))):
        with pytest.raises(WorkflowError):
            call()
    with pytest.raises(ValidationError):
        apps.save(person, d['id'], f.application_values('D'), version(d['id']))
    assert state(d['id']) == 'rejected'


def test_withdraw_only_before_the_unit_acted(world):
    person = world['person']
    d = submitted(person)
    [row] = apps.my_applications(person).items
    assert (row['can_withdraw'], row['can_edit'], row['can_delete']) == (True, False, False)
    out = apps.withdraw(person, d['id'], version(d['id']))
    assert out['state'] == 'draft' and state(d['id']) == 'draft'
    assert apps.my_application(person, d['id'])['editable'] is True
    with pytest.raises(WorkflowError):                  # a draft cannot be withdrawn
        apps.withdraw(person, d['id'], version(d['id']))
    apps.submit(person, d['id'], version(d['id']))
    act(world['unit'], d['id'], 'approve')
    [row] = apps.my_applications(person).items
    assert row['can_withdraw'] is False
    with pytest.raises(WorkflowError):
        apps.withdraw(person, d['id'], version(d['id']))
    assert state(d['id']) == 'pending_org'
    # returned and resubmitted: pending at the unit again, nobody acted since: withdraw works again
    act(world['reviewer'], d['id'], 'return_', '请补充')
    with pytest.raises(WorkflowError):
        apps.withdraw(person, d['id'], version(d['id']))
    apps.submit(person, d['id'], version(d['id']))
    apps.withdraw(person, d['id'], version(d['id']))
    assert state(d['id']) == 'draft'
    with pytest.raises((WorkflowError, PermissionDenied)):      # nobody else withdraws
        rev.review(world['unit'], d['id'], 'withdraw', version(d['id']), None)


def test_delete_only_a_draft_and_its_files_go_with_it(world):
    person = world['person']
    d = f.application_complete(person)
    assert len(files_of(d['id'])) == 5
    apps.delete(person, d['id'], d['version'])
    assert state(d['id']) == 'deleted'
    assert apps.my_applications(person).items == [] and apps.my_applications(person).total == 0
    assert all(x.deleted_at is not None for x in files_of(d['id']))
    with session_scope() as s:
        app = s.get(Application, d['id'])
        for actor in (person, world['unit'], world['reviewer'], world['center']):
            assert apps.can_view(s, actor, app) is False
    for call in (lambda: apps.my_application(person, d['id']), lambda: rev.result(person, d['id']),
                 lambda: rev.result(world['center'], d['id']),
                 lambda: apps.save(person, d['id'], f.application_values('D'), version(d['id']))):
        with pytest.raises(PermissionDenied):
            call()
    assert rev.query_page(world['center']).total == 0 and rev.query_page(person).total == 0
    # only drafts: a submitted or returned application stays
    s2 = submitted(person, 'E')
    with pytest.raises(WorkflowError):
        apps.delete(person, s2['id'], version(s2['id']))
    act(world['unit'], s2['id'], 'return_', '请补充')
    with pytest.raises(WorkflowError):
        apps.delete(person, s2['id'], version(s2['id']))
    assert state(s2['id']) == 'returned'


# (actor key, stage, exception): a transition of a stage that is not the actor's
NOT_YOUR_STAGE = [
    ('reviewer', 'pending_unit', PermissionDenied),     # not visible yet
    ('center', 'pending_unit', WorkflowError),
    ('person', 'pending_unit', WorkflowError),
    ('other_unit', 'pending_unit', PermissionDenied),
    ('unit', 'pending_org', WorkflowError),
    ('center', 'pending_org', WorkflowError),
    ('other_reviewer', 'pending_org', PermissionDenied),
    ('unit', 'pending_center', WorkflowError),
    ('reviewer', 'pending_center', WorkflowError),
    ('person', 'pending_center', WorkflowError),
]


@pytest.mark.parametrize(('who', 'stage', 'exc'), NOT_YOUR_STAGE)
@pytest.mark.parametrize('action', ['approve', 'return_', 'reject'])
def test_nobody_fires_a_transition_of_another_stage(world, who, stage, exc, action):
    d = submitted(world['person'])
    to_stage(world, d['id'], stage)
    actors = dict(world)
    if who == 'other_unit':
        _, account = f.unit_active(2)
        actors[who] = f.actor_of_account(account)
    if who == 'other_reviewer':
        f.staff('rev_other', role='reviewer', org='叠彩区')
        actors[who] = f.actor_of_account('rev_other')
    before = version(d['id'])
    with pytest.raises(exc):
        rev.review(actors[who], d['id'], action, before, '意见', {'granted_level': 'D'})
    assert (state(d['id']), version(d['id'])) == (stage, before)


@pytest.mark.parametrize('action', ['return_', 'reject'])
@pytest.mark.parametrize('opinion', [None, '', '   '])
def test_return_and_reject_need_an_opinion(world, action, opinion):
    d = submitted(world['person'])
    with pytest.raises(WorkflowError) as refused:
        rev.review(world['unit'], d['id'], action, version(d['id']), opinion)
    assert refused.value.field == '审核意见' and '请填写审核意见' in refused.value.message
    assert state(d['id']) == 'pending_unit'
    with pytest.raises(WorkflowError):
        rev.review(world['unit'], d['id'], action, version(d['id']), '意' * 1001)
    act(world['unit'], d['id'], 'approve')             # approving needs none
    assert state(d['id']) == 'pending_org'


def test_two_clicks_make_one_transition(world):
    d = submitted(world['person'])
    v = version(d['id'])
    rev.review(world['unit'], d['id'], 'approve', v, None)
    with pytest.raises(ConflictError) as second:
        rev.review(world['unit'], d['id'], 'return_', v, '晚了')
    assert second.value.message == '已被他人处理，请刷新后查看最新状态'
    assert state(d['id']) == 'pending_org'
    assert [h['action'] for h in rev.result(world['person'], d['id'])['history']] == ['submit', 'approve']
    with pytest.raises(WorkflowError):
        rev.review(world['unit'], d['id'], 'publish', version(d['id']), None)


# ---------------------------------------------------------------- notifications
def test_each_stage_is_told_when_an_application_arrives(world):
    _, other_account = f.unit_active(2)                 # also makes rev_u002 (秀峰区) and ctr_u002
    other_unit = f.actor_of_account(other_account)
    f.staff('rev_diecai', role='reviewer', org='叠彩区')
    diecai = f.actor_of_account('rev_diecai')
    second_center = f.actor_of_account('ctr_u002')
    second_xiufeng = f.actor_of_account('rev_u002')
    watch = {'unit': world['unit'], 'other_unit': other_unit, 'reviewer': world['reviewer'],
             'second_xiufeng': second_xiufeng, 'diecai': diecai, 'center': world['center'],
             'second_center': second_center}
    before = {k: len(notes_of(a.user_id)) for k, a in watch.items()}

    def new_titles() -> dict[str, list[str]]:
        return {k: [n.title for n in notes_of(a.user_id)[before[k]:]] for k, a in watch.items()}

    d = submitted(world['person'])
    subject = f'高层次人才认定申报（{d["number"]}，测试人员001）'
    assert new_titles() == {'unit': [f'待审核：{subject}'], 'other_unit': [], 'reviewer': [], 'second_xiufeng': [],
                            'diecai': [], 'center': [], 'second_center': []}
    assert notes_of(world['unit'].user_id)[-1].link == f'/review/applications/{d["id"]}'
    act(world['unit'], d['id'], 'approve')
    titles = new_titles()
    assert titles['reviewer'] == titles['second_xiufeng'] == [f'待审核：{subject}']
    assert titles['diecai'] == titles['center'] == titles['other_unit'] == []
    act(world['reviewer'], d['id'], 'approve')
    titles = new_titles()
    assert titles['center'] == titles['second_center'] == [f'待审核：{subject}']
    assert len(titles['unit']) == len(titles['reviewer']) == 1
    settled = new_titles()
    act(world['center'], d['id'], 'approve', granted_level='D')
    assert new_titles() == settled                      # approved: no stage is left to tell


def test_the_applicant_gets_an_sms_only_for_the_final_approval(world):
    person = world['person']
    phone = f.person_phone(1)
    before = len(notes_of(person.user_id))
    d = submitted(person)
    assert application_sms(phone) == [] and len(notes_of(person.user_id)) == before   # 提交: no message to oneself
    act(world['unit'], d['id'], 'approve', '同意')
    act(world['reviewer'], d['id'], 'approve', '属实')
    assert application_sms(phone) == []                 # intermediate approvals: in-app only
    in_app = [n.title for n in notes_of(person.user_id)[before:]]
    assert in_app == ['桂林测试001有限公司审核通过，待主管部门/城区审核', '秀峰区审核通过，待市人才服务中心审核']
    act(world['center'], d['id'], 'approve', '予以认定', granted_level='C')
    [sms] = application_sms(phone)
    for part in ('认定层次：C类', '证书编号：GLRC-2026-C-000001', '予以认定', d['number']):
        assert part in sms, (part, sms)
    last = notes_of(person.user_id)[-1]
    assert last.title.startswith('桂林市人才服务中心审核通过')
    assert '认定层次：C类' in last.body and '证书编号：GLRC-2026-C-000001' in last.body and '审核意见：予以认定' in last.body
    assert last.link == f'/applications/{d["id"]}/result'
    outbox = [line for line in f.outbox_lines() if line['phone'] == phone and '高层次人才认定申报' in line['text']]
    assert [(line['text'], line['purpose'], line['code']) for line in outbox] == [(sms, 'notice', None)]


@pytest.mark.parametrize('stage', ['pending_unit', 'pending_org', 'pending_center'])
@pytest.mark.parametrize(('action', 'word'), [('return_', '退回修改'), ('reject', '不予通过')])
def test_the_applicant_is_told_of_a_return_or_rejection(world, stage, action, word):
    person = world['person']
    phone = f.person_phone(1)
    d = submitted(person)
    to_stage(world, d['id'], stage)
    who = {'pending_unit': 'unit', 'pending_org': 'reviewer', 'pending_center': 'center'}[stage]
    act(world[who], d['id'], action, '请补充近三年业绩证明')
    [sms] = application_sms(phone)
    assert word in sms and '请补充近三年业绩证明' in sms and d['number'] in sms
    last = notes_of(person.user_id)[-1]
    assert word in last.title and '审核意见：请补充近三年业绩证明' in last.body


# ---------------------------------------------------------------- what changed, consistency hints
def test_the_review_shows_what_changed_since_the_returned_submission(world):
    person = world['person']
    d = f.application_submitted(person)                 # five PDFs of the same bytes
    assert rev.detail_for_review(world['unit'], d['id'])['changes'] is None      # submitted once
    to_stage(world, d['id'], 'pending_org')
    act(world['reviewer'], d['id'], 'return_', '请补充')
    app_id = d['id']
    apps.save(person, app_id, f.application_values('D', specialty='人工智能算法研究', honors=''), version(app_id))
    [diploma] = [m for m in apps.evidence(person, app_id)['materials'] if m['key'] == 'diploma']
    apps.delete_evidence(person, app_id, diploma['files'][0]['id'])
    apps.upload_evidence(person, app_id, 'diploma', f.TINY_JPEG, '博士学位证书.jpg')
    apps.upload_evidence(person, app_id, 'other', f.TINY_PNG, '获奖证书.png')
    apps.set_offline(person, app_id, 'contract', True, '涉密合同')
    apps.submit(person, app_id, version(app_id))
    assert len(submissions_of(app_id)) == 2
    changes = rev.detail_for_review(world['unit'], app_id)['changes']
    assert changes['fields'] == [
        {'label': '现从事专业及岗位', 'old': '计算机软件研发 / 高级工程师', 'new': '人工智能算法研究'},
        {'label': '获奖及荣誉情况', 'old': '桂林市科技进步奖一等奖', 'new': ''},
        {'label': '劳动合同或聘用证明（线下提交纸质材料）', 'old': '否', 'new': '涉密合同'}]
    assert sorted(changes['added']) == ['其他材料：获奖证书.png', '学历学位证书：博士学位证书.jpg']
    assert changes['removed'] == ['学历学位证书：学历学位证书.pdf']
    assert changes['since']
    # the reviewer sees the same summary when it reaches the org again
    act(world['unit'], app_id, 'approve')
    assert rev.detail_for_review(world['reviewer'], app_id)['changes'] == changes


def test_changes_are_counted_from_the_returned_submission_even_after_a_withdrawal(world):
    """The unit returns S1 asking for a fix; the person fixes it and submits S2, withdraws S2 before the
    unit looked at it, touches another field and submits S3. The unit must see every change since S1
    (the submission it returned), not only what changed since the withdrawn S2."""
    person = world['person']
    d = submitted(person)
    act(world['unit'], d['id'], 'return_', '请写明具体岗位')
    apps.save(person, d['id'], f.application_values('D', specialty='桂林某研究院 / 首席工程师'), version(d['id']))
    apps.submit(person, d['id'], version(d['id']))                    # S2
    apps.withdraw(person, d['id'], version(d['id']))
    apps.save(person, d['id'], f.application_values('D', specialty='桂林某研究院 / 首席工程师',
                                                    honors='广西科技进步奖二等奖'), version(d['id']))
    apps.submit(person, d['id'], version(d['id']))                    # S3
    changed = {c['label']: (c['old'], c['new']) for c in rev.detail_for_review(world['unit'], d['id'])['changes']['fields']}
    assert changed == {'现从事专业及岗位': ('计算机软件研发 / 高级工程师', '桂林某研究院 / 首席工程师'),
                       '获奖及荣誉情况': ('桂林市科技进步奖一等奖', '广西科技进步奖二等奖')}


def test_nothing_changed_gives_an_empty_summary(world):
    person = world['person']
    d = submitted(person)
    act(world['unit'], d['id'], 'return_', '请核实')
    apps.submit(person, d['id'], version(d['id']))
    changes = rev.detail_for_review(world['unit'], d['id'])['changes']
    assert (changes['fields'], changes['added'], changes['removed']) == ([], [], [])


def test_hints_on_the_same_id_number(world):
    person = world['person']
    granted = submitted(person, 'D')
    to_stage(world, granted['id'], 'approved')
    rejected = submitted(person, 'B')
    act(world['unit'], rejected['id'], 'reject', '不符合')
    in_progress = submitted(person, 'E')
    f.application_draft(person, 'A')                     # a draft is nobody's business
    current = submitted(person, 'C')
    other = second_person(world, 2)                      # another 身份证号 is not mentioned
    submitted(other, 'D')
    hints = rev.detail_for_review(world['unit'], current['id'])['hints']
    assert len(hints) == 2, hints
    assert 'GLRC-2026-D-000001' in hints[0] and 'D类' in hints[0] and granted['number'] in hints[0]
    assert hints[1] == f'该身份证号另有申报正在办理：申报编号 {in_progress["number"]}，E类，待单位审核'
    assert rev.detail_for_review(world['center'], in_progress['id'])['hints'][1].endswith('C类，待单位审核')
    lone = [x for x in rev.queue_page(world['unit'], 'pending').items if x['name'] == '测试人员002']
    assert rev.detail_for_review(world['unit'], lone[0]['id'])['hints'] == []


def test_the_review_view_is_for_staff_in_scope(world):
    d = submitted(world['person'])
    with pytest.raises(PermissionDenied):
        rev.detail_for_review(world['person'], d['id'])
    view = rev.detail_for_review(world['unit'], d['id'])
    assert dict(view['info_sheet'])['身份证号'] == f.id_number(1)          # in full on the review view
    assert dict(view['info_sheet'])['手机号'] == f.person_phone(1)
    assert dict(apps.my_application(world['person'], d['id'])['info_sheet'])['身份证号'] != f.id_number(1)
    with pytest.raises(PermissionDenied):                 # the org sees it once it reaches its stage
        rev.detail_for_review(world['reviewer'], d['id'])
    assert any(r.object == f'application:{d["id"]}' for r in f.audit_rows('application_viewed'))


# ---------------------------------------------------------------- queues and 查询
@pytest.fixture
def spread(world):
    """Applications in many states across two units of two orgs (see the table in each test)."""
    p1, unit1 = world['person'], world['unit']
    p3 = second_person(world, 3)
    w2 = f.application_world(2, '市教育局')
    a = submitted(p1, 'D')['id']                                   # unit 1, pending_unit
    b = submitted(p1, 'C')['id']                                   # unit 1, pending_org
    to_stage(world, b, 'pending_org')
    c = submitted(p3, 'D')['id']                                   # unit 1, pending_center
    to_stage(world, c, 'pending_center')
    d = submitted(p3, 'E')['id']                                   # unit 1, approved
    to_stage(world, d, 'approved')
    e = submitted(p1, 'E')['id']                                   # unit 1, returned by the unit
    act(unit1, e, 'return_', '请补充')
    g = submitted(w2['person'], 'D')['id']                         # unit 2 (市教育局), pending_unit
    h = submitted(w2['person'], 'C')['id']                         # unit 2, pending_org
    to_stage(w2, h, 'pending_org')
    draft = f.application_draft(p3, 'A')['id']                     # never in a queue
    return {'w1': world, 'w2': w2, 'p3': p3, 'a': a, 'b': b, 'c': c, 'd': d, 'e': e, 'g': g, 'h': h, 'draft': draft}


def test_queues_by_role_and_status(spread):
    x = spread
    w1, w2 = x['w1'], x['w2']
    expected = {
        (w1['unit'], 'pending'): {x['a']}, (w1['unit'], 'done'): {x['b'], x['c'], x['d'], x['e']},
        (w1['unit'], 'all'): {x['a'], x['b'], x['c'], x['d'], x['e']},
        (w2['unit'], 'pending'): {x['g']}, (w2['unit'], 'done'): {x['h']}, (w2['unit'], 'all'): {x['g'], x['h']},
        (w1['reviewer'], 'pending'): {x['b']}, (w1['reviewer'], 'done'): {x['c'], x['d']},
        (w1['reviewer'], 'all'): {x['b'], x['c'], x['d']},
        (w2['reviewer'], 'pending'): {x['h']}, (w2['reviewer'], 'done'): set(), (w2['reviewer'], 'all'): {x['h']},
        (w1['center'], 'pending'): {x['c']},
        # 已审核 at the center: only what reached it (not e, returned by its unit before it got there)
        (w1['center'], 'done'): {x['d']},
        (w1['center'], 'all'): {x['a'], x['b'], x['c'], x['d'], x['e'], x['g'], x['h']},
    }
    for (actor, status), want in expected.items():
        page = rev.queue_page(actor, status, per_page=100)
        assert (ids(page), page.total) == (want, len(want)), (actor.account, status)
    assert rev.queue_page(x['p3'], 'all').items == []              # a person has no review queue
    rows = {r['id']: r for r in rev.queue_page(w1['unit'], 'all', per_page=100).items}
    assert rows[x['a']]['can_review'] is True and rows[x['b']]['can_review'] is False
    assert rows[x['d']]['certificate_no'] == 'GLRC-2026-D-000001' and rows[x['d']]['granted_level'] == 'D类'
    assert rows[x['a']]['id_number'] == '450302********0039'                        # masked in lists
    assert rows[x['b']]['org_name'] == '秀峰区' and rows[x['b']]['unit_name'] == '桂林测试001有限公司'
    summary = {a.account: rev.pending_summary(a)['count'] for a in (w1['unit'], w1['reviewer'], w1['center'],
                                                                    w2['unit'], w2['reviewer'])}
    assert summary == {w1['unit'].account: 1, w1['reviewer'].account: 1, w1['center'].account: 1,
                       w2['unit'].account: 1, w2['reviewer'].account: 1}
    # paging: two per page, every row once
    pages = [rev.queue_page(w1['center'], 'all', per_page=2, page=n) for n in (1, 2, 3, 4)]
    seen = [r['id'] for p in pages for r in p.items]
    assert sorted(seen) == sorted(expected[(w1['center'], 'all')]) and len(pages[3].items) == 1
    assert all(p.total == 7 for p in pages)


def test_keyword_finds_an_exact_number_an_exact_id_or_a_name(spread):
    x = spread
    center = x['w1']['center']
    number = f.application_get(x['c']).number
    assert ids(rev.queue_page(center, 'all', number)) == {x['c']}
    assert ids(rev.queue_page(center, 'all', number.lower())) == {x['c']}
    assert ids(rev.queue_page(center, 'all', f'  {number} ')) == {x['c']}
    assert rev.queue_page(center, 'all', number[:-1]).total == 0              # no prefix match on numbers
    assert ids(rev.queue_page(center, 'all', f.id_number(3))) == {x['c'], x['d']}
    assert rev.queue_page(center, 'all', f.id_number(3)[:10]).total == 0      # no partial 身份证号
    assert ids(rev.queue_page(center, 'all', '人员003')) == {x['c'], x['d']}
    assert ids(rev.queue_page(center, 'all', '测试人员')) == {x['a'], x['b'], x['c'], x['d'], x['e'], x['g'], x['h']}
    assert rev.queue_page(center, 'all', '%').total == 7                       # a wildcard is no filter
    assert rev.queue_page(center, 'all', '不存在').total == 0
    # scope first: the unit of 市教育局 does not find unit 1's application by its number
    assert rev.queue_page(x['w2']['unit'], 'all', number).total == 0
    assert ids(rev.query_page(x['p3'], 'all', f.application_get(x['d']).number)) == {x['d']}


def test_level_filter(spread):
    x = spread
    center = x['w1']['center']
    assert ids(rev.queue_page(center, 'all', level='D', per_page=100)) == {x['a'], x['c'], x['g']}
    assert ids(rev.queue_page(center, 'all', level='C', per_page=100)) == {x['b'], x['h']}
    assert rev.queue_page(center, 'all', level='A').total == 0                 # the draft is not listed
    assert rev.queue_page(center, 'all', level='Z').total == 7                 # an unknown 层次 is ignored
    assert ids(rev.queue_page(x['w1']['unit'], 'done', level='E')) == {x['d'], x['e']}
    assert ids(rev.query_page(center, 'approved', level='E')) == {x['d']}


def test_query_page_by_role_and_result(spread):
    x = spread
    w1, w2 = x['w1'], x['w2']
    assert ids(rev.query_page(w1['person'], 'all')) == {x['a'], x['b'], x['e']}
    assert ids(rev.query_page(x['p3'], 'all')) == {x['c'], x['d'], x['draft']}   # own, drafts included
    assert ids(rev.query_page(w1['unit'], 'in_progress')) == {x['a'], x['b'], x['c']}
    assert ids(rev.query_page(w1['unit'], 'returned')) == {x['e']}
    assert ids(rev.query_page(w1['reviewer'], 'all')) == {x['b'], x['c'], x['d']}
    assert ids(rev.query_page(w2['reviewer'], 'all')) == {x['h']}
    assert ids(rev.query_page(w1['center'], 'approved')) == {x['d']}
    assert rev.query_page(w1['center'], 'all').total == 7
    assert rev.query_page(w1['center'], 'rejected').total == 0
    for app_id, outsider in ((x['g'], w1['unit']), (x['a'], w1['reviewer']), (x['h'], w1['reviewer']),
                             (x['b'], w2['reviewer']), (x['draft'], w1['center'])):
        with pytest.raises(PermissionDenied):
            rev.result(outsider, app_id)


def test_date_range_is_inclusive_in_shanghai_time(world, fake_clock):
    person = world['person']
    fake_clock.now = fake_clock.now.replace(hour=15, minute=59)       # 2026-11-28 23:59 in Shanghai
    late = submitted(person, 'D')['id']
    fake_clock.advance(minutes=1)                                     # 2026-11-29 00:00 in Shanghai
    early = submitted(person, 'E')['id']
    fake_clock.advance(days=3)                                        # 2026-12-02
    later = submitted(person, 'C')['id']
    unit = world['unit']
    day = date(2026, 11, 28)
    assert ids(rev.queue_page(unit, 'all', date_from=day, date_to=day)) == {late}
    assert ids(rev.queue_page(unit, 'all', date_from=day + timedelta(days=1))) == {early, later}
    assert ids(rev.queue_page(unit, 'all', date_to=date(2026, 12, 1))) == {late, early}
    assert ids(rev.queue_page(unit, 'all', date_from=date(2026, 12, 2), date_to=date(2026, 12, 2))) == {later}
    assert rev.queue_page(unit, 'all', date_from=date(2026, 12, 3), date_to=date(2026, 12, 1)).total == 0
    assert ids(rev.query_page(person, 'all', date_from=day, date_to=day)) == {late}


def test_batch_approval_at_the_unit_but_not_at_the_center(world):
    person, unit = world['person'], world['unit']
    other = second_person(world, 2)
    a = submitted(person, 'D')['id']
    b = submitted(person, 'E')['id']
    c = submitted(other, 'D')['id']
    stale = submitted(other, 'E')['id']
    w2 = f.application_world(3, '市教育局')
    foreign = submitted(w2['person'], 'D')['id']
    result = rev.review_many(unit, [(a, version(a)), (b, version(b)), (c, version(c)),
                                    (stale, version(stale) - 1), (foreign, version(foreign))])
    assert result['done'] == 3
    assert dict(result['failed']) == {stale: '已被他人处理，请刷新后查看最新状态', foreign: rev.NOT_FOUND}
    assert [state(i) for i in (a, b, c, stale, foreign)] == \
        ['pending_org', 'pending_org', 'pending_org', 'pending_unit', 'pending_unit']
    assert rev.review_many(world['reviewer'], [(a, version(a)), (b, version(b))])['done'] == 2
    assert state(a) == state(b) == 'pending_center'
    # the center sets 认定层次 per item: no 批量通过
    refused = rev.review_many(world['center'], [(a, version(a)), (b, version(b))])
    assert refused['done'] == 0 and dict(refused['failed']) == {a: '该事项不能批量处理，请逐条审核',
                                                                b: '该事项不能批量处理，请逐条审核'}
    assert state(a) == state(b) == 'pending_center'
    assert f.application_get(a).certificate_no is None
    with pytest.raises(WorkflowError):                  # only 通过 is ever batched
        from glrc_ui import workflow
        workflow.fire_many('application', [(c, version(c))], 'reject', world['reviewer'])
    assert state(c) == 'pending_org'


def test_counts_are_capped(world, monkeypatch):
    person, other = world['person'], second_person(world, 2)
    made = [submitted(p, level)['id'] for p in (person, other) for level in ('C', 'D', 'E')]
    center = world['center']
    assert rev.queue_page(center, 'all', per_page=2).total == 6
    monkeypatch.setitem(paging.fetch.__kwdefaults__, 'count_cap', 3)
    page = rev.queue_page(center, 'all', per_page=2)
    assert page.total == 4 and len(page.items) == 2                    # 「3+」: counted no further
    assert rev.query_page(center, 'all', per_page=100).total == 4
    assert len(rev.query_page(center, 'all', per_page=100).items) == 6  # the rows themselves are all there
    assert rev.queue_page(center, 'all', level='D').total == 2          # under the cap: exact
    monkeypatch.undo()
    with session_scope() as s:
        query = select(Application)
        kwargs = {'sorts': rev.SORTS, 'id_column': Application.id, 'sort_by': 'submitted_at',
                  'default_sort': 'submitted_at', 'descending': False, 'page': 1, 'per_page': 2}
        assert paging.fetch(s, query, count_cap=5, **kwargs).total == 6
        assert paging.fetch(s, query, count_cap=4, **kwargs).total == 5
        assert paging.fetch(s, query, count_cap=None, **kwargs).total == 6
    assert len(made) == 6


def test_export_masks_for_units_and_audits(spread):
    x = spread
    unit, center = x['w1']['unit'], x['w1']['center']
    out = rev.export(unit, 'all')
    assert out['rows'] == 5
    path, name = rev.take_export(unit, out['token'])
    assert name.endswith('.xlsx') and rev.take_export(unit, out['token']) is None      # once
    sheet = _xlsx_text(path)
    assert '申报编号' in sheet and '证书编号' in sheet
    assert f.id_number(1) not in sheet and '450302********0039' in sheet
    assert f.person_phone(1) not in sheet and '138****0001' in sheet
    full = rev.export(center, 'approved')
    assert full['rows'] == 1
    assert rev.take_export(unit, full['token']) is None                                # someone else's
    path, _ = rev.take_export(center, full['token'])
    sheet = _xlsx_text(path)
    assert f.id_number(3) in sheet and 'GLRC-2026-D-000001' in sheet
    details = [json.loads(r.detail) for r in f.audit_rows('export')]
    assert [(d['status'], d['rows'], d['masked']) for d in details] == [('all', 5, True), ('approved', 1, False)]
    with pytest.raises(PermissionDenied):
        rev.export(x['p3'], 'all')
    assert len(f.audit_rows('export')) == 2


def test_an_export_past_the_limit_says_so(spread, monkeypatch):
    center = spread['w1']['center']
    monkeypatch.setattr(rev, 'EXPORT_MAX', 6)
    with pytest.raises(ValidationError) as refused:
        rev.export(center, 'all')                        # 7 rows
    assert refused.value.message.startswith('符合条件的记录超过 6 条') and '缩小筛选范围' in refused.value.message
    assert f.audit_rows('export') == []
    assert rev.export(center, 'all', level='D')['rows'] == 3     # a narrower filter passes


def test_export_writes_formulas_as_text(world):
    rows = [(level, f'{level}-1', '=HYPERLINK("http://evil.example","点击")', ('id_card',)) for level in 'ABCDE']
    with session_scope() as s:
        catalogue.publish(s, '含公式的目录', rows)
    d = submitted(world['person'], 'D')
    assert d['clause'] == 'D-1 =HYPERLINK("http://evil.example","点击")'
    out = rev.export(world['center'], 'all')
    path, _ = rev.take_export(world['center'], out['token'])
    with zipfile.ZipFile(path) as z:
        sheet = z.read('xl/worksheets/sheet1.xml').decode()
    assert '<f>' not in sheet and '=HYPERLINK' in _xlsx_text(path)


def _xlsx_text(path) -> str:
    from html import unescape
    with zipfile.ZipFile(path) as z:
        parts = [z.read(n).decode() for n in z.namelist() if n.startswith('xl/worksheets/') or n == 'xl/sharedStrings.xml']
    return unescape(' '.join(re.sub(r'<[^>]+>', ' ', p) for p in parts))


# ---------------------------------------------------------------- HTML stays text
HTML = '<script>alert("x")</script><b onmouseover=alert(1)>粗体</b> &amp; &lt;i&gt;'


def test_html_in_fields_is_kept_verbatim(world):
    person = world['person']
    values = {'specialty': '<img src=x onerror=alert(1)>', 'achievements': HTML, 'honors': '<a href="javascript:1">奖</a>',
              'other_notes': "'; DROP TABLE application; --"}
    d = f.application_draft(person, **values)
    for key, value in values.items():
        assert d['values'][key] == value
        assert getattr(f.application_get(d['id']), key) == value
    apps.set_offline(person, d['id'], 'id_card', True, '<b>涉密</b>')
    for key in ('diploma', 'title_cert', 'contract', 'social_security'):
        apps.set_offline(person, d['id'], key, True, '涉密')
    apps.submit(person, d['id'], version(d['id']))
    view = rev.detail_for_review(world['unit'], d['id'])
    assert {k: view['values'][k] for k in values} == values
    assert [m['offline_note'] for m in view['materials'] if m['key'] == 'id_card'] == ['<b>涉密</b>']
    act(world['unit'], d['id'], 'return_', '<i>意见</i>')
    assert apps.my_application(person, d['id'])['last_opinion'] == '<i>意见</i>'
    apps.save(person, d['id'], f.application_values('D', **values | {'achievements': HTML + '<br>'}), version(d['id']))
    apps.submit(person, d['id'], version(d['id']))
    [change] = rev.detail_for_review(world['unit'], d['id'])['changes']['fields']
    assert change == {'label': '主要业绩及成果', 'old': HTML, 'new': HTML + '<br>'}
    assert f.count_rows(Application) == 1                                         # and the table is still there
