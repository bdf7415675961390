"""The paging helper (whitelisted sorts, clamped sizes, keyset = offset rows) and field schemas."""
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest

from glrc_ui import paging
from glrc_ui.schema import FieldSpec, Schema
from glrc_ui.services import unit_review, units
from tests import factories as f


@pytest.mark.parametrize('page, per_page, expected', [
    (0, 20, (1, 20)), (-5, 500, (1, 100)), ('x', 20, (1, 20)), (3, 0, (3, 1)), (None, None, (1, 20))])
def test_paging_sizes_are_clamped(page, per_page, expected):
    assert paging.clamp(page, per_page) == expected


@pytest.fixture
def nine_units(fake_clock):
    f.staff('pg_center')
    for n in range(9):
        f.unit_submitted(300 + n, '秀峰区')
        if n % 3 == 0:
            fake_clock.advance(minutes=1)      # some share a submitted_at: the id breaks the tie
    return f.actor_of_account('pg_center')


@pytest.mark.parametrize('sort_by, descending', [('submitted_at', True), ('submitted_at', False),
                                                  ('name', True), ('name', False), ('state', True)])
def test_keyset_pages_hold_exactly_the_offset_pages(nine_units, sort_by, descending):
    center = nine_units
    by_offset, by_keyset, cursor = [], [], None
    for page in (1, 2, 3, 4):
        plain = unit_review.queue_page(center, 'all', sort_by=sort_by, descending=descending, page=page, per_page=3)
        with f.sql_log() as statements:
            keyed = unit_review.queue_page(center, 'all', sort_by=sort_by, descending=descending, page=page,
                                           per_page=3, after=cursor)
        keyset = [s for s in statements if 'unit.id <' in s or 'unit.id >' in s]
        assert len(keyset) == (1 if page > 1 else 0), statements   # the keyset query served pages 2-4
        cursor = keyed.cursor
        by_offset.append([r['id'] for r in plain.items])
        by_keyset.append([r['id'] for r in keyed.items])
        assert plain.total == keyed.total == 9
    assert by_keyset == by_offset
    assert sorted(sum(by_offset, [])) == sorted(set(sum(by_offset, []))) and len(sum(by_offset, [])) == 9


@contextmanager
def offsets():
    """The OFFSET values of the statements sent while the block runs (0s left out)."""
    from sqlalchemy import event

    from db.engine import get_engine
    found: list = []

    def log(conn, cursor, statement, parameters, context, executemany):
        if 'OFFSET' in statement:
            named = re.search(r'OFFSET %\((\w+)\)s', statement)   # psycopg; SQLite: the last "?"
            value = parameters[named.group(1)] if named else parameters[-1]
            if value:
                found.append(value)
    event.listen(get_engine(), 'before_cursor_execute', log)
    try:
        yield found
    finally:
        event.remove(get_engine(), 'before_cursor_execute', log)


@pytest.mark.parametrize('sort_by, descending', [('submitted_at', True), ('submitted_at', False),
                                                  ('name', True), ('name', False)])
def test_going_back_a_page_reads_backwards_from_the_shown_page_and_holds_the_offset_rows(
        nine_units, sort_by, descending):
    """上一页 from a deep page costs what 下一页 does: rows before the shown page's first, read from the
    index backwards — no OFFSET — and the same rows as counted out from the start."""
    center = nine_units
    cursor = None
    for page in (1, 2, 3):   # forwards to page 3 (keyset)
        cursor = unit_review.queue_page(center, 'all', sort_by=sort_by, descending=descending, page=page,
                                        per_page=3, after=cursor).cursor
    for page in (2, 1):      # and back
        with offsets() as skipped, f.sql_log() as statements:
            back = unit_review.queue_page(center, 'all', sort_by=sort_by, descending=descending, page=page,
                                          per_page=3, after=cursor)
        plain = unit_review.queue_page(center, 'all', sort_by=sort_by, descending=descending, page=page, per_page=3)
        assert [r['id'] for r in back.items] == [r['id'] for r in plain.items]
        assert skipped == [], statements     # no row was counted out
        if page == 2:
            assert [s for s in statements if 'unit.id <' in s or 'unit.id >' in s], statements
        cursor = back.cursor


def test_a_page_change_keeps_the_total_and_anything_else_counts_again(nine_units):
    center = nine_units
    first = unit_review.queue_page(center, 'all', page=1, per_page=3)
    counts = lambda statements: [s for s in statements if 'count(' in s.lower()]   # noqa: E731
    with f.sql_log() as statements:
        second = unit_review.queue_page(center, 'all', page=2, per_page=3, after=first.cursor)
        unit_review.queue_page(center, 'all', page=1, per_page=3, after=second.cursor)
    assert counts(statements) == [] and second.total == 9
    with f.sql_log() as statements:   # the same page again (a refresh after an action), another order, a jump
        unit_review.queue_page(center, 'all', page=2, per_page=3, after=second.cursor)
        unit_review.queue_page(center, 'all', sort_by='name', page=3, per_page=3, after=second.cursor)
        unit_review.queue_page(center, 'all', page=3, per_page=3, after=first.cursor)
    assert len(counts(statements)) == 3


def test_going_back_counts_out_the_page_when_rows_went_meanwhile(nine_units):
    center = nine_units
    cursor = None
    for page in (1, 2, 3):
        shown = unit_review.queue_page(center, 'all', page=page, per_page=3, after=cursor)
        cursor = shown.cursor
    from db.engine import session_scope
    from db.models import Unit
    with session_scope() as s:   # four of the first six moved to the end: fewer than a page lie before page 3
        first_two = unit_review.queue_page(center, 'all', page=1, per_page=6).items
        for row in first_two[:4]:
            unit = s.get(Unit, row['id'])
            unit.submitted_at = unit.submitted_at + timedelta(days=30)
            s.add(unit)
    back = unit_review.queue_page(center, 'all', page=2, per_page=3, after=cursor)
    plain = unit_review.queue_page(center, 'all', page=2, per_page=3)
    assert [r['id'] for r in back.items] == [r['id'] for r in plain.items] and len(back.items) == 3


def test_a_cursor_is_ignored_unless_it_ends_the_page_before_in_the_same_order(nine_units):
    center = nine_units
    first = unit_review.queue_page(center, 'all', page=1, per_page=3)
    wrong_order = unit_review.queue_page(center, 'all', sort_by='name', page=2, per_page=3, after=first.cursor)
    plain = unit_review.queue_page(center, 'all', sort_by='name', page=2, per_page=3)
    assert [r['id'] for r in wrong_order.items] == [r['id'] for r in plain.items]
    skipped = unit_review.queue_page(center, 'all', page=3, per_page=3, after=first.cursor)
    assert [r['id'] for r in skipped.items] == [r['id'] for r in unit_review.queue_page(center, 'all', page=3,
                                                                                       per_page=3).items]


def test_an_unknown_sort_key_falls_back_to_the_default(nine_units):
    rows = unit_review.queue_page(nine_units, 'all', sort_by='password_hash; DROP TABLE unit', per_page=100).items
    assert [r['id'] for r in rows] == [r['id'] for r in unit_review.queue_page(nine_units, 'all', per_page=100).items]


SCHEMA = Schema(FieldSpec('name', '姓名', required=True, max_len=5),
                FieldSpec('kind', '类别', 'select', required=True, choices={'a': '甲', 'b': '乙'}),
                FieldSpec('code', '代码', upper=True, check=lambda v: None if v.isalnum() else '代码只能是字母和数字'))


def test_the_schema_cleans_and_checks_with_its_labels():
    values = SCHEMA.clean({'name': '  张三 ', 'kind': '', 'code': ' ab1 ', 'other': 'dropped'})
    assert values == {'name': '张三', 'kind': None, 'code': 'AB1'}
    assert SCHEMA.errors(values, complete=False) == {}
    assert SCHEMA.errors(values, complete=True) == {'类别': '请选择类别'}
    assert SCHEMA.errors({'name': '张三李四王五', 'kind': 'c', 'code': 'a-b'}, complete=True) == {
        '姓名': '姓名最多 5 字', '类别': '类别不正确，请从列表中选择', '代码': '代码只能是字母和数字'}
    assert SCHEMA.errors({}, complete=False, always=('name',)) == {'姓名': '请填写姓名'}
    assert SCHEMA.sheet({'name': '张三', 'kind': 'b'}, {'code': '（无）'}) == [
        ('姓名', '张三'), ('类别', '乙'), ('代码', '（无）')]


def test_the_unit_schema_is_where_the_unit_labels_live():
    assert units.LABELS['credit_code'] == '统一社会信用代码'
    assert units.SCHEMA.required == ('name', 'credit_code', 'unit_type', 'allocation', 'org_id', 'address',
                                     'legal_rep', 'contact_phone')
    unit_id, account = f.unit_filled(320)
    detail = units.my_unit(f.actor_of_account(account))
    sheet = dict(detail['sheet'])
    assert sheet['单位审核归属'] == '秀峰区' and sheet['单位分配管理'] == '城区' and sheet['单位名称'] == detail['name']


@pytest.mark.parametrize('total, page, items, expected', [
    (57, 1, 20, 57),                                  # counted to the end: as counted
    (paging.COUNT_CAP + 1, 1, 20, paging.COUNT_CAP + 1),
    (paging.COUNT_CAP + 1, 501, 20, 10_040),          # past the count: one page more than shown
    (paging.COUNT_CAP + 1, 10_000, 20, 200_020),      # page 10,000 (reached by 下一页) still offers the next
    (paging.COUNT_CAP + 1, 10_000, 7, 199_987),       # a short page is the last
    (paging.COUNT_CAP + 1, 502, 0, 10_020)])                 # an empty page: the rows shown before are all
def test_the_pager_goes_on_past_the_capped_count_until_a_page_comes_back_short(total, page, items, expected):
    from components.paged_table import _rows_number
    assert _rows_number(paging.Page([object()] * items, total, None), page, 20) == expected


def test_the_center_queue_reads_the_submission_order_index_past_the_drafts(nine_units):
    """Drafts have no submitted_at (NULL sorts first): the queue says its rows are submitted, so the
    index in submission order is read from the first submitted unit, not through every draft."""
    for n in range(5):
        f.unit_registered(400 + n)   # drafts: no submitted_at
    with f.sql_log() as statements:
        unit_review.queue_page(nine_units, 'all', page=1, per_page=3)
    ids_query = next(s for s in statements if s.startswith('SELECT unit.id') and 'ORDER BY' in s)
    assert 'unit.submitted_at IS NOT NULL' in ids_query
    assert unit_review.queue_page(nine_units, 'all', per_page=100).total == 9    # every submitted unit, no draft
