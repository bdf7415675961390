"""人才认定情况查询's 导出Excel (SPEC §3.8, §4, §5; issue 10 item 8 and 「Bad input and abuse」).

A real .xlsx (read here with zipfile alone), Chinese headers, 身份证号 and phones masked unless the
role is entitled (the center), every value a text cell (= + - @ never become a formula, HTML stays
literal), each export audited with its filter and row count, an export over EXPORT_MAX refused
with a message saying to narrow the filter, the file handed once and only to its creator, and no
export for a person."""
import json
import re
import zipfile

import pytest
from sqlalchemy import update
from sqlmodel import col

from db.engine import session_scope
from db.models import Application, User
from glrc_ui import config, person_fields
from glrc_ui.errors import PermissionDenied, ValidationError
from glrc_ui.services import application_review, catalogue
from tests import factories as f

HEADERS = ['申报编号', '姓名', '身份证号', '手机号', '所在单位', '单位审核归属', '申报层次', '认定依据', '状态',
           '提交时间', '认定层次', '证书编号', '办结时间']
COLUMN = {title: i for i, title in enumerate(HEADERS)}
FORMULA = re.compile(r'<f[\s>/]')


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    f.cheap_hashing(monkeypatch)


@pytest.fixture
def world():
    return f.application_world(1, '秀峰区')


def data_rows(sheet: dict) -> list[list[str]]:
    return sheet['rows'][1:]


def row_of(sheet: dict, number: str) -> dict[str, str]:
    [row] = [r for r in data_rows(sheet) if r[0] == number]
    return dict(zip(HEADERS, row + [''] * (len(HEADERS) - len(row)), strict=True))


def export_audits() -> list:
    return f.audit_rows('export')


def zip_text(path) -> str:
    """Every member of the .xlsx as text (to look for a value anywhere in the file)."""
    with zipfile.ZipFile(path) as z:
        return '\n'.join(z.read(name).decode('utf-8', 'replace') for name in z.namelist())


def phone_of(user_id: int) -> str:
    with session_scope() as s:
        return s.get(User, user_id).phone


# ================================================================ a real workbook
def test_the_export_is_a_real_xlsx_with_chinese_headers(world):
    app_id = f.application_in(world, 'approved', 'D')
    app = f.application_get(app_id)
    sheet = f.export_sheet(world['center'])
    path = sheet['path']
    assert path.suffix == '.xlsx' and path.parent == config.current().data_dir / 'exports'
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        assert {'[Content_Types].xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml', '_rels/.rels'} <= names
        assert '人才认定情况' in z.read('xl/workbook.xml').decode('utf-8')
        assert 'spreadsheetml.sheet.main+xml' in z.read('[Content_Types].xml').decode('utf-8')
    assert sheet['rows'][0] == HEADERS
    assert sheet['rows_reported'] == len(data_rows(sheet)) == 1
    row = row_of(sheet, app.number)
    assert row['姓名'] == '测试人员001'
    assert row['身份证号'] == f.id_number(1) and row['手机号'] == f.person_phone(1)
    assert row['所在单位'] == '桂林测试001有限公司' and row['单位审核归属'] == '秀峰区'
    assert row['申报层次'] == 'D类' and row['认定依据'].startswith('D-1 ')
    assert row['状态'] == '认定通过' and row['认定层次'] == 'D类'
    assert row['证书编号'] == app.certificate_no and re.fullmatch(r'GLRC-\d{4}-D-000001', row['证书编号'])
    assert row['提交时间'] and row['办结时间']
    assert not FORMULA.search(sheet['xml'])


# ================================================================ masking
@pytest.mark.parametrize('who, entitled', [('unit', False), ('reviewer', False), ('center', True)])
def test_id_numbers_and_phones_are_masked_unless_the_role_is_entitled(world, who, entitled):
    app_id = f.application_in(world, 'pending_center', 'D')
    number, id_number, phone = f.application_get(app_id).number, f.id_number(1), f.person_phone(1)
    assert phone_of(world['person'].user_id) == phone
    sheet = f.export_sheet(world[who])
    row = row_of(sheet, number)
    everything = zip_text(sheet['path'])
    if entitled:
        assert (row['身份证号'], row['手机号']) == (id_number, phone)
    else:
        assert (row['身份证号'], row['手机号']) == (person_fields.mask_id(id_number), person_fields.mask_phone(phone))
        assert row['身份证号'] == f'{id_number[:6]}********{id_number[-4:]}'
        assert row['手机号'] == f'{phone[:3]}****{phone[-4:]}'
        assert id_number not in everything and phone not in everything
    [audit] = export_audits()
    assert json.loads(audit.detail)['masked'] is (not entitled)


# ================================================================ no formula, no markup
HOSTILE = {   # 层次 -> (clause code, clause text, applicant name as stored)
    'A': ('=1+1', '=1+1 认定依据以等号开头', '=HYPERLINK("http://evil.example/","点我")'),
    'B': ('+B-1', '+SUM(1,2) 以加号开头', '+86 13800000000'),
    'C': ('-C-1', '-2+3 以减号开头', '-1+2'),
    'D': ('@D-1', '@SUM(A1:A2) 以@开头', '@SUM(A1)'),
    'E': ('E-1', '<script>alert(1)</script><b>粗体</b>&amp;', '<img src=x onerror=alert(1)>'),
}


def test_values_starting_with_formula_characters_are_text_cells_and_html_stays_literal(world):
    with session_scope() as s:
        catalogue.publish(s, '恶意输入测试目录', [(level, code, text, ['id_card'])
                                           for level, (code, text, _) in HOSTILE.items()])
    numbers = {}
    for level, (_, _, name) in HOSTILE.items():
        app_id = f.application_in(world, 'pending_unit', level)   # the current catalogue's clause
        with session_scope() as s:   # the applicant's name as stored (it comes from the person's data)
            s.execute(update(Application).where(Application.id == app_id).values(applicant_name=name))
        numbers[level] = f.application_get(app_id).number
    for who in ('unit', 'center'):
        sheet = f.export_sheet(world[who])
        assert not FORMULA.search(sheet['xml']), 'the sheet holds a formula'
        assert sheet['rows_reported'] == len(HOSTILE)
        index = {r[0]: i for i, r in enumerate(sheet['rows'])}
        for level, (code, text, name) in HOSTILE.items():
            i = index[numbers[level]]
            row = dict(zip(HEADERS, sheet['rows'][i], strict=False))
            kinds = dict(zip(HEADERS, sheet['types'][i], strict=False))
            assert row['认定依据'] == f'{code} {text}' and row['姓名'] == name, (who, level)
            assert kinds['认定依据'] in ('s', 'inlineStr') and kinds['姓名'] in ('s', 'inlineStr'), (who, level, kinds)
        everything = zip_text(sheet['path'])
        assert '<script>' not in everything and '<img src' not in everything
        assert '&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;&amp;amp;' in everything
    # every cell of the sheet is text (the export writes no number, date or formula either)
    assert {k for kinds in sheet['types'] for k in kinds if k is not None} <= {'s', 'inlineStr'}


# ================================================================ audit
def test_each_export_is_audited_with_its_filter_and_row_count(world):
    for level in 'ABCD':
        f.application_in(world, 'pending_org', level)
    unit = world['unit']
    sheet = f.export_sheet(unit, status='in_progress', keyword='测试人员', level='D')
    assert len(data_rows(sheet)) == sheet['rows_reported'] == 1
    f.export_sheet(unit)
    first, second = export_audits()
    assert (first.user_id, first.role, first.object, first.result) == (unit.user_id, 'unit', 'applications', 'ok')
    detail = json.loads(first.detail)
    assert detail == {'status': 'in_progress', 'keyword': '测试人员', 'date_from': '', 'date_to': '', 'level': 'D',
                      'rows': 1, 'masked': True}
    assert json.loads(second.detail)['rows'] == 4 and json.loads(second.detail)['level'] == ''
    # the rows exported are the rows 人才认定情况查询 lists with the same filter
    listed = {r['number'] for r in application_review.query_page(unit, 'in_progress', '测试人员', level='D').items}
    assert {r[0] for r in data_rows(sheet)} == listed


# ================================================================ the limit
def test_an_export_over_the_limit_says_to_narrow_the_filter(world, monkeypatch):
    monkeypatch.setattr(application_review, 'EXPORT_MAX', 3)
    for level in 'ABCD':
        f.application_in(world, 'pending_org', level)
    exports = config.current().data_dir / 'exports'
    before = set(exports.glob('*.xlsx')) if exports.exists() else set()
    for who in ('unit', 'reviewer', 'center'):
        with pytest.raises(ValidationError) as refused:
            application_review.export(world[who])
        assert '缩小筛选范围' in refused.value.message and '3' in refused.value.message, refused.value.message
    assert (set(exports.glob('*.xlsx')) if exports.exists() else set()) == before   # no file was written
    assert export_audits() == []
    # three rows (the limit itself) and a narrower filter are fine
    assert f.export_sheet(world['center'], level='D')['rows_reported'] == 1
    f.application_in(world, 'pending_org', 'E')
    assert f.export_sheet(world['center'], status='in_progress', keyword='', level='A')['rows_reported'] == 1
    with session_scope() as s:
        s.execute(update(Application).where(col(Application.level).in_(('A', 'B'))).values(state='approved'))
    assert f.export_sheet(world['center'], status='in_progress')['rows_reported'] == 3


# ================================================================ the download
def test_take_export_hands_the_file_to_its_creator_once(world):
    f.application_in(world, 'pending_org', 'D')
    f.staff('ctr_other', role='center', name='另一中心人员')
    other_center = f.actor_of_account('ctr_other')
    center = world['center']
    made = application_review.export(center)
    # nobody else gets it, and their attempts do not use it up
    for actor in (other_center, world['unit'], world['reviewer'], world['person']):
        assert application_review.take_export(actor, made['token']) is None
    assert application_review.take_export(center, 'not-a-token') is None
    taken = application_review.take_export(center, made['token'])
    assert taken is not None
    path, name = taken
    assert path.exists() and name.endswith('.xlsx') and name.startswith('人才认定情况_')
    assert f.xlsx_sheet(path)['rows'][0] == HEADERS
    assert application_review.take_export(center, made['token']) is None   # once


def test_an_expired_export_is_not_handed_out(world, monkeypatch):
    f.application_in(world, 'pending_org', 'D')
    monkeypatch.setattr(application_review, 'EXPORT_TTL', -1)
    made = application_review.export(world['center'])
    assert application_review.take_export(world['center'], made['token']) is None


def test_a_person_cannot_export(world):
    f.application_in(world, 'approved', 'D')
    for kwargs in ({}, {'status': 'approved'}, {'level': 'D'}):
        with pytest.raises(PermissionDenied):
            application_review.export(world['person'], **kwargs)
    assert export_audits() == []


# ================================================================ the audit entry holds no personal number
@pytest.mark.parametrize('keyword', ['id_number', 'phone'])
def test_the_export_audit_holds_no_full_id_number_or_phone(world, keyword):
    """A unit may filter by an exact 身份证号 (the query's keyword) and export the result; the audit
    entry records the filter, but a log never holds a full ID number or phone (SECURITY L2): masked
    (or left out), as everywhere else in the log."""
    f.application_in(world, 'pending_org', 'D')
    value = {'id_number': f.id_number(1), 'phone': f.person_phone(1)}[keyword]
    sheet = f.export_sheet(world['unit'], keyword=value)
    assert sheet['rows_reported'] == (1 if keyword == 'id_number' else 0)
    [audit] = export_audits()
    assert json.loads(audit.detail)['rows'] == sheet['rows_reported']
    assert value not in (audit.detail or '')
    assert value not in f.table_text('audit_log')
