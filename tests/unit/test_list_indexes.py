"""Lists read through the index made for them (migration 0009 and db.models.person_phone): the query
each list sends is explained by the database itself, on SQLite and on PostgreSQL.

The tables here hold a handful of rows, where a planner may rather scan: on PostgreSQL sequential
scans and explicit sorts are switched off for the EXPLAIN, so it shows whether an index *can* serve the
query in its order (what it picks at a million rows, where a sort of every row costs 0.4 s). SQLite
without statistics prefers an index that gives the ORDER BY, which is the case that matters."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from db.engine import get_engine, session_scope
from db.models import User, person_phone
from glrc_ui.services import accounts, application_review, persons, unit_review
from tests import factories as f


@contextmanager
def sent_queries():
    """(statement, parameters) of every SELECT the app's engine sends while the block runs."""
    sent: list[tuple[str, object]] = []

    def log(conn, cursor, statement, parameters, *args):
        if statement.lstrip().upper().startswith('SELECT'):
            sent.append((statement, parameters))
    event.listen(get_engine(), 'before_cursor_execute', log)
    try:
        yield sent
    finally:
        event.remove(get_engine(), 'before_cursor_execute', log)


def plan(statement: str, parameters, *, ordered: bool = True) -> str:
    """The database's own plan for a statement the app sent, as one line of text. ordered: on
    PostgreSQL, explicit sorts are off too (the question is whether an index gives the order)."""
    raw = get_engine().raw_connection()
    try:
        cursor = raw.cursor()
        if get_engine().dialect.name == 'sqlite':
            cursor.execute('EXPLAIN QUERY PLAN ' + statement, parameters)
        else:
            cursor.execute('SET enable_seqscan = off')
            cursor.execute(f'SET enable_sort = {"off" if ordered else "on"}')
            cursor.execute('EXPLAIN ' + statement, parameters)
        text = ' | '.join(str(row) for row in cursor.fetchall())
        raw.rollback()
        return text
    finally:
        raw.close()


def plan_of(sent, *, contains: str, ordered: bool = True) -> str:
    """The plan of the first query sent whose SQL contains `contains`."""
    matching = [(statement, parameters) for statement, parameters in sent if contains in statement]
    assert matching, f'no query with {contains!r} among {[s for s, _ in sent]}'
    return plan(*matching[0], ordered=ordered)


@pytest.fixture
def unit_with_persons(fake_clock):
    unit_id, account = f.unit_active(1)
    for n in range(2, 6):
        f.person_submitted(n, unit_id)
        fake_clock.advance(days=1)
    return f.actor_of_account(account)


def test_a_units_person_list_reads_its_index_in_its_order(unit_with_persons, fake_clock):
    for sort_by, index in (('submitted_at', 'ix_person_unit_submitted'), ('name', 'ix_person_unit_name')):
        with sent_queries() as sent:
            page = persons.unit_queue(unit_with_persons, 'all', sort_by=sort_by, per_page=2)
        assert page.total == 4 and len(page.items) == 2
        assert index in plan_of(sent, contains='ORDER BY person.')
    today = fake_clock.now.date()
    with sent_queries() as sent:   # 近 30 天: counted as a range of created_at within the unit
        page = persons.unit_queue(unit_with_persons, 'all', date_from=today - timedelta(days=30), date_to=today)
    assert page.total == 4
    counted = plan_of(sent, contains='count(', ordered=False)
    # (PostgreSQL weighs the unit's indexes alike on a handful of rows: one of them, not a scan)
    assert ('ix_person_unit_created' if get_engine().dialect.name == 'sqlite' else 'ix_person_unit_') in counted


def test_a_person_login_by_phone_is_found_through_the_partial_phone_index(unit_with_persons):
    with session_scope() as s:
        query = select(User.id).where(person_phone(f.person_phone(2)))
        sql = str(query.compile(get_engine()))
        assert "app_user.role = 'person'" in sql   # the index's own WHERE, as a literal
        assert s.exec(query).one() is not None
    with sent_queries() as sent:
        accounts.request_login_code(f.person_phone(3), None)
    assert 'ux_app_user_person_phone' in plan_of(sent, contains='app_user.phone')
    with sent_queries() as sent:
        found = persons.unit_queue(unit_with_persons, 'all', keyword=f.person_phone(4))
    assert [row['name'] for row in found.items] == ['测试人员004']
    found_plan = plan_of(sent, contains="app_user.role = 'person'", ordered=False)
    assert 'ux_app_user_person_phone' in found_plan
    if get_engine().dialect.name == 'sqlite':
        # the person is read by its login (person.user_id), not every person of the unit checked; on
        # PostgreSQL the planner weighs that by its statistics, which a handful of rows does not have
        assert '(user_id=?)' in found_plan, found_plan
    assert persons.unit_queue(unit_with_persons, 'all', keyword='13900000000').items == []   # nobody has it


# What ANALYZE found in `application` with 100,000 seeded rows (benchmarks/seed.py): on SQLite the test
# gives the planner these statistics, so it weighs the plans as it does on a big table (on a handful of
# rows it takes the filter on state as selective and sorts what it finds).
APPLICATION_STATISTICS = {
    'ix_application_org_name': '100000 3449 1755 1 1 1', 'ix_application_unit_name': '100000 4 1 1 1',
    'ix_application_name': '100000 2 1 1 1', 'ix_application_id_number': '100000 1 1',
    'ix_application_person': '100000 1 1', 'ix_application_org_submitted': '100000 3449 1755 2 1 1 1 1',
    'ix_application_unit_submitted': '100000 4 1 1 1 1 1', 'ix_application_submitted': '100000 2 1 1 1 1',
    'ix_application_state_submitted': '100000 14286 2 1 1 1', 'ux_application_open_level': '45931 1 1'}


def big_table_statistics() -> None:
    if get_engine().dialect.name != 'sqlite':
        return
    with get_engine().begin() as conn:
        conn.execute(text('ANALYZE'))   # creates sqlite_stat1
        conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'application'"))
        for index, stat in APPLICATION_STATISTICS.items():
            conn.execute(text("INSERT INTO sqlite_stat1 VALUES ('application', :index, :stat)"),
                         {'index': index, 'stat': stat})
    get_engine().dispose()   # connections read the statistics when they open


@pytest.mark.parametrize('who, index', [('center', 'ix_application_name'), ('unit', 'ix_application_unit_name'),
                                        ('reviewer', 'ix_application_org_name')])
def test_the_application_queues_sorted_by_name_read_their_index(who, index):
    world = f.application_world(1)
    f.application_in(world, 'pending_center')
    f.application_in(world, 'returned', level='C')
    big_table_statistics()
    with sent_queries() as sent:
        page = application_review.queue_page(world[who], 'all', sort_by='name', descending=True)
    assert page.total == 2
    assert index in plan_of(sent, contains='ORDER BY application.applicant_name')


def test_a_reviewers_unit_list_sorted_by_name_reads_its_index(fake_clock):
    for n in range(3):
        f.unit_submitted(600 + n, '秀峰区')
    f.staff('rev_name', role='reviewer', org='秀峰区')
    with sent_queries() as sent:
        page = unit_review.queue_page(f.actor_of_account('rev_name'), 'all', sort_by='name', per_page=2)
    assert page.total == 3 and len(page.items) == 2
    assert 'ix_unit_org_name' in plan_of(sent, contains='ORDER BY unit.name')
