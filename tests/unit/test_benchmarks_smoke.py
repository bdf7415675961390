"""The benchmark runner's parts at a tiny size (not timed: the figures must exist and be sane).

benchmarks/seed.py fills a fresh SQLite data dir (its own, whatever database the other tests use)
and benchmarks/queues.py measures every queue on it; the seeded staff accounts log in."""
import math

import pytest

from benchmarks import queues, seed


@pytest.fixture(scope='module')
def seeded(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp('bench') / 'data'
    facts = seed.seed(data_dir, None, rows=50, accounts=3, quiet=True)
    return data_dir, facts


def test_seed_fills_every_table_and_the_search_index(seeded):
    import sqlite3
    data_dir, facts = seeded
    conn = sqlite3.connect(data_dir / 'glrc.sqlite3')
    try:
        counts = {t: conn.execute(f'SELECT count(*) FROM {t}').fetchone()[0]
                  for t in ('unit', 'person', 'application', 'app_user')}
        audit = conn.execute("SELECT count(*) FROM audit_log WHERE role IN ('unit', 'person')").fetchone()[0]
        staff = conn.execute("SELECT account, password_hash FROM app_user WHERE role = 'center' ORDER BY id").fetchall()
        unit_name = conn.execute('SELECT name FROM unit WHERE id = 1').fetchone()[0]
        fts_hit = conn.execute('SELECT rowid FROM unit_name_fts WHERE name LIKE ?', (f'%{unit_name[2:6]}%',)).fetchall()
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        stats = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0]
        journal = conn.execute('PRAGMA journal_mode').fetchone()[0]
    finally:
        conn.close()
    assert counts == {'unit': 50, 'person': 50, 'application': 50, 'app_user': 2 * 50 + 28 + 3}
    assert audit == 50
    assert [a for a, _ in staff] == [seed.account_name(i) for i in range(3)] == ['bench0000', 'bench0001', 'bench0002']
    assert len({h for _, h in staff}) == 1      # hashed once
    from glrc_ui import security
    assert security.PWD.verify(seed.ACCOUNT_PASSWORD, staff[0][1])
    assert (1,) in fts_hit                      # the trigram table was rebuilt after the load
    assert {'unit_name_fts_ai', 'application_name_fts_au'} <= triggers     # …and its triggers are back
    assert {'ix_application_submitted', 'ix_unit_state_submitted', 'ix_audit_log_event_at'} <= indexes
    assert stats == 1 and journal == 'wal'
    assert facts['center_id'] and facts['person_unit']['persons'] >= 1


def test_queues_scenario_gives_sane_figures(seeded):
    data_dir, facts = seeded
    figures = queues.run(data_dir, None, 'sqlite', 50, runs=2, facts=facts, verbose=False)
    summary = [f for f in figures if f.group != 'detail']
    scenarios = {f.scenario.split(' @')[0] for f in summary}
    assert {'队列', '深页', '计数上限', '关键词搜索'} <= scenarios
    for figure in figures:
        assert figure.backend == 'sqlite'
        assert not math.isnan(figure.value) and figure.value >= 0, figure
        if figure.unit == 'ms':
            assert figure.value < 60_000, figure
    queue_names = {f.metric.split(' · ')[0] for f in summary if f.scenario.startswith('队列')}
    assert {'单位注册审核', '单位人员', '人才认定审核', '人才认定查询'} <= queue_names
    deep = [f for f in summary if f.scenario.startswith('深页')]
    assert deep and all(f.unit == '×' and f.ok is not None for f in deep)
    counts = [f for f in summary if f.scenario.startswith('计数上限')]
    assert all('未达上限' in f.note for f in counts)      # 50 rows: no list reaches the cap
