"""Name search (单位名称, 姓名) through indexes (glrc_ui/search.py, migrations 0006 and 0007): the same
rows as a plain substring match for every keyword length, kept in step when names change, and
answered by an index from two characters on."""
from sqlalchemy import text
from sqlmodel import select

from db import clock
from db.engine import get_engine, session_scope
from db.models import Person, Unit
from glrc_ui import search
from glrc_ui.services import unit_review
from tests import factories as f


def names(model, keyword: str) -> set[str]:
    with session_scope() as s:
        return set(s.exec(select(model.name).where(search.contains(model, 'name', keyword))).all())


def add_units(*unit_names: str) -> None:
    """Units waiting for their org, as a real submission leaves them: stamped with submitted_at (the queues
    only list submitted rows)."""
    with session_scope() as s:
        for i, name in enumerate(unit_names):
            s.add(Unit(name=name, credit_code=f'TESTCODE{i:010d}', state='pending_org',
                       submitted_at=clock.now()))


def pg_plan_among_search_indexes(table: str, sql: str) -> str:
    """PostgreSQL's plan for sql when the table's only indexes are its search indexes (GIN) and those
    behind constraints: the others are dropped inside a transaction that is rolled back. On a handful of
    rows the planner would rather read a whole B-tree that holds the name (e.g. ix_unit_org_name) than
    the GIN index; at a million rows the GIN index is the only one that narrows the rows down."""
    with get_engine().connect() as conn, conn.begin() as transaction:
        others = conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = :table AND indexdef NOT LIKE '%USING gin%' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"), {'table': table}).scalars().all()
        for name in others:
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text('SET LOCAL enable_seqscan = off'))   # a tiny table: the planner would rather scan it
        plan = ' '.join(str(row) for row in conn.execute(text('EXPLAIN ' + sql)).all())
        transaction.rollback()
    return plan


def test_substrings_of_any_length_match_as_like_does():
    add_units('桂林漓江旅游服务有限公司', '桂林山水文化传媒有限公司', '漓江科技（桂林）有限公司', 'Lijiang Tech Co')
    assert names(Unit, '漓江旅游') == {'桂林漓江旅游服务有限公司'}                      # 4 characters: the index
    assert names(Unit, '有限公司') == {'桂林漓江旅游服务有限公司', '桂林山水文化传媒有限公司', '漓江科技（桂林）有限公司'}
    assert names(Unit, '漓江') == {'桂林漓江旅游服务有限公司', '漓江科技（桂林）有限公司'}    # 2: pairs' index
    assert names(Unit, '公司') == {'桂林漓江旅游服务有限公司', '桂林山水文化传媒有限公司', '漓江科技（桂林）有限公司'}
    assert names(Unit, 'co') == {'Lijiang Tech Co'}                # a pair at the very end of a name
    assert names(Unit, '林）') == {'漓江科技（桂林）有限公司'}
    assert names(Unit, '江') == {'桂林漓江旅游服务有限公司', '漓江科技（桂林）有限公司'}       # 1: LIKE
    assert names(Unit, 'lijiang t') == {'Lijiang Tech Co'}                                   # case as LIKE
    assert names(Unit, '%桂林_') == names(Unit, '桂林')                                       # no wildcards
    assert names(Unit, '不存在的单位') == set()
    assert names(Unit, '不在') == set()


def test_a_renamed_or_new_row_is_found_by_its_new_name_only():
    add_units('桂林旧名称科技有限公司')
    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.name == '桂林旧名称科技有限公司')).one()
        unit.name = '桂林新名称科技有限公司'
        s.add(unit)
    assert names(Unit, '旧名称科') == set()
    assert names(Unit, '新名称科') == {'桂林新名称科技有限公司'}
    assert names(Unit, '旧名') == set()
    assert names(Unit, '新名') == {'桂林新名称科技有限公司'}
    f.person('13800138001', name='欧阳明月')
    assert names(Person, '阳明月') == {'欧阳明月'}
    assert names(Person, '明月') == {'欧阳明月'}
    with session_scope() as s:
        s.delete(s.exec(select(Unit).where(Unit.name == '桂林新名称科技有限公司')).one())
    assert names(Unit, '新名') == set()


def test_a_two_character_name_is_found_through_an_index():
    """张三 — the commonest shape of a Chinese name — is looked up in an index, not by scanning."""
    f.person('13800138002', name='张三')
    f.person('13800138003', name='李张三')
    f.person('13800138004', name='张三丰')
    f.person('13800138005', name='王五')
    assert names(Person, '张三') == {'张三', '李张三', '张三丰'}
    with session_scope() as s:
        query = select(Person.id).where(search.contains(Person, 'name', '张三'))
        sql = str(query.compile(get_engine(), compile_kwargs={'literal_binds': True}))
        if get_engine().dialect.name == 'sqlite':
            plan = ' '.join(str(row) for row in s.exec(text('EXPLAIN QUERY PLAN ' + sql)).all())
            assert 'person_name_fts' in plan and 'person_name_fts_vocab' in plan
    if get_engine().dialect.name != 'sqlite':
        assert 'ix_person_name_bigrams' in pg_plan_among_search_indexes('person', sql)


def test_the_queue_keyword_uses_the_trigram_index():
    add_units('桂林漓江旅游服务有限公司')
    with session_scope() as s:
        query = select(Unit.id).where(search.contains(Unit, 'name', '漓江旅游'))
        sql = str(query.compile(get_engine(), compile_kwargs={'literal_binds': True}))
        if get_engine().dialect.name == 'sqlite':
            plan = ' '.join(str(row) for row in s.exec(text('EXPLAIN QUERY PLAN ' + sql)).all())
            assert 'unit_name_fts' in plan and 'VIRTUAL TABLE' in plan
        else:
            indexes = {row[0] for row in s.exec(text("SELECT indexname FROM pg_indexes WHERE tablename IN "
                                                     "('unit', 'person', 'application') AND indexname LIKE '%_trgm'"))}
            assert indexes == {'ix_unit_name_trgm', 'ix_person_name_trgm', 'ix_application_applicant_name_trgm'}
    if get_engine().dialect.name != 'sqlite':
        assert 'ix_unit_name_trgm' in pg_plan_among_search_indexes('unit', sql)
    f.staff('center_q')
    center = f.actor_of_account('center_q')
    assert [row['name'] for row in unit_review.queue_page(center, 'all', '漓江旅游').items] == ['桂林漓江旅游服务有限公司']


def test_a_rebuilt_index_finds_what_the_triggers_indexed():
    """After a bulk load (benchmarks/seed.py), rebuild_statements() fill the FTS5 tables again with the
    end mark, so two-character search still finds a pair at the end of a name."""
    add_units('桂林漓江旅游服务有限公司', 'Lijiang Tech Co')
    before = names(Unit, '公司'), names(Unit, 'co'), names(Unit, '漓江旅游')
    if get_engine().dialect.name == 'sqlite':
        with session_scope() as s:
            for statement in search.rebuild_statements():
                s.exec(text(statement))
    assert (names(Unit, '公司'), names(Unit, 'co'), names(Unit, '漓江旅游')) == before
    assert before == ({'桂林漓江旅游服务有限公司'}, {'Lijiang Tech Co'}, {'桂林漓江旅游服务有限公司'})


def test_a_keyword_in_many_names_is_read_in_the_lists_order_instead(monkeypatch):
    """Many candidates would all be sorted for one page: above COMMON_ROWS the list is read with LIKE
    in its own order. Same rows either way."""
    add_units('桂林漓江旅游服务有限公司', '漓江科技（桂林）有限公司', '桂林山水文化传媒有限公司')
    rare = names(Unit, '漓江'), names(Unit, '有限公司')
    monkeypatch.setattr(search, 'COMMON_ROWS', 1)
    assert (names(Unit, '漓江'), names(Unit, '有限公司')) == rare
    assert rare == ({'桂林漓江旅游服务有限公司', '漓江科技（桂林）有限公司'},
                    {'桂林漓江旅游服务有限公司', '漓江科技（桂林）有限公司', '桂林山水文化传媒有限公司'})
    common = str(select(Unit.id).where(search.contains(Unit, 'name', '有限公司')).compile(get_engine()))
    rarest = str(select(Unit.id).where(search.contains(Unit, 'name', '传媒有限')).compile(get_engine()))
    if get_engine().dialect.name == 'sqlite':
        assert 'unit_name_fts' not in common            # 3 names hold it: more than COMMON_ROWS=1
        assert 'unit_name_fts' in rarest                # 1 name: through the index
        assert 'unit_name_fts' not in str(select(Unit.id).where(search.contains(Unit, 'name', '漓江')).compile(get_engine()))
        monkeypatch.setattr(search, 'COMMON_ROWS', 20_000)
        assert 'unit_name_fts' in str(select(Unit.id).where(search.contains(Unit, 'name', '漓江')).compile(get_engine()))
