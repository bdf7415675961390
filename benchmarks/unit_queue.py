"""Benchmark of the 单位注册审核 queue (glrc_ui.services.unit_review.queue) on a realistic volume.

    python benchmarks/unit_queue.py                       # SQLite in a temporary data dir
    python benchmarks/unit_queue.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
                                                          # ... and PostgreSQL: a temporary database
                                                          # glrc_bench_<pid> is created on that server
                                                          # and dropped afterwards (--keep keeps it)

It bulk-inserts --units units (default 5000) spread over the 28 seeded 审核机构 and every state of the
unit machine, with their operators and review records (SQLAlchemy Core, not the slow service path),
then for a reviewer (the busiest org) and for the center, and for each filter (status, keyword, credit
code, date range, sort by name, a deep page) prints the query plans of the queue's two statements
(count and page) and the median / p95 time of unit_review.queue(...) over --runs runs (default 50).
Plans that scan the whole unit table are marked with  <-- FULL SCAN.
"""
import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

from benchmarks.seed import BUSY_ORGS, FAKE_HASH, UNIT_STATE_WEIGHTS, credit_code, unit_row

STATE_WEIGHTS = UNIT_STATE_WEIGHTS
PATHS = {  # the review records each final state implies: (action, from, to, role)
    'registered': [],
    'pending_org': [('submit', 'registered', 'pending_org', 'unit')],
    'pending_center': [('submit', 'registered', 'pending_org', 'unit'),
                       ('approve', 'pending_org', 'pending_center', 'reviewer')],
    'returned': [('submit', 'registered', 'pending_org', 'unit'),
                 ('approve', 'pending_org', 'pending_center', 'reviewer'),
                 ('return_', 'pending_center', 'returned', 'center')],
    'active': [('submit', 'registered', 'pending_org', 'unit'),
               ('approve', 'pending_org', 'pending_center', 'reviewer'),
               ('approve', 'pending_center', 'active', 'center')],
    'disabled': [('submit', 'registered', 'pending_org', 'unit'),
                 ('approve', 'pending_org', 'pending_center', 'reviewer'),
                 ('approve', 'pending_center', 'active', 'center'),
                 ('disable', 'active', 'disabled', 'center')],
}


def populate(n_units: int, seed: int = 2026) -> dict:
    """Bulk insert units, operators and review records; returns facts the cases need."""
    from db.engine import get_engine
    from db.models import Org, ReviewRecord, Unit, User
    rng = random.Random(seed)
    engine = get_engine()
    now = datetime.now(UTC).replace(microsecond=0)
    with engine.connect() as conn:
        orgs = [dict(r._mapping) for r in conn.execute(select(Org.id, Org.name, Org.kind).order_by(Org.id))]
    weights = [BUSY_ORGS.get(o['name'], 1) for o in orgs]
    states, state_weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    unit_rows, user_rows, plan = [], [], []
    for i in range(1, n_units + 1):
        org = rng.choices(orgs, weights)[0]
        state = rng.choices(states, state_weights)[0]
        row = unit_row(i, i, org, state, rng, now)      # benchmarks/seed.py, shared with the runner's seeding
        row['version'] = 3 + 2 * len(PATHS[state])       # save + licence, then one per transition
        unit_rows.append(row)
        created, submitted = row['created_at'], row['submitted_at']
        user_rows.append({'role': 'unit', 'account': f'bench_u{i:05d}', 'phone': f'139{i:08d}',
                          'display_name': f'操作员{i:05d}', 'password_hash': FAKE_HASH, 'status': 'active',
                          'is_admin': False, 'must_change_password': False, 'unit_id': i, 'failed_logins': 0,
                          'version': 1, 'created_at': created})
        plan.append((i, org, state, submitted))
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Unit.__table__), unit_rows)
        conn.execute(insert(User.__table__), user_rows)
        operators = dict(conn.execute(select(User.unit_id, User.id).where(User.role == 'unit')).all())
        records = []
        for unit_id, org, state, submitted in plan:
            at = submitted
            for action, source, target, role in PATHS[state]:
                records.append({'entity': 'unit', 'entity_id': unit_id, 'action': action, 'from_state': source,
                                'to_state': target, 'actor_id': operators[unit_id] if role == 'unit' else None,
                                'actor_role': role, 'actor_name': '基准', 'org_id': org['id'] if role == 'reviewer' else None,
                                'org_name': org['name'] if role == 'reviewer' else None,
                                'opinion': '请补充材料' if action == 'return_' else None, 'at': at})
                at = at + timedelta(hours=rng.uniform(1, 72))
        conn.execute(insert(ReviewRecord.__table__), records)
        if engine.dialect.name == 'postgresql':   # ids were given explicitly: move the sequence on
            conn.execute(text("SELECT setval(pg_get_serial_sequence('unit', 'id'), (SELECT max(id) FROM unit))"))
    elapsed = time.perf_counter() - started
    busiest = max(orgs, key=lambda o: sum(1 for p in plan if p[1]['id'] == o['id']))
    sample = next(p for p in plan if p[1]['id'] == busiest['id'] and p[2] == 'pending_org')
    return {'orgs': orgs, 'busiest': busiest, 'sample_code': credit_code(sample[0]), 'insert_seconds': elapsed,
            'n_records': len(records), 'n_users': len(user_rows),
            'by_state': {s: sum(1 for p in plan if p[2] == s) for s in STATE_WEIGHTS},
            'busiest_count': sum(1 for p in plan if p[1]['id'] == busiest['id'])}


def cases(facts: dict) -> list[tuple[str, dict]]:
    today = date.today()
    return [
        ('status=pending, default sort (submitted_at desc)', {'status': 'pending'}),
        ('status=done', {'status': 'done'}),
        ('status=all', {'status': 'all'}),
        ('keyword on name (科技)', {'status': 'all', 'keyword': '科技'}),
        ('keyword = exact credit code', {'status': 'all', 'keyword': facts['sample_code']}),
        ('date range (last 30 days)', {'status': 'all', 'date_from': today - timedelta(days=30), 'date_to': today}),
        ('sort by name asc', {'status': 'all', 'sort_by': 'name', 'descending': False}),
        ('sort by name desc, page 10', {'status': 'all', 'sort_by': 'name', 'descending': True, 'page': 10}),
    ]


class Capture:
    """Collects the SELECT statements (with their bound parameters) one queue() call sends."""

    def __init__(self, engine) -> None:
        self.engine, self.statements = engine, []

    def _listen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith('SELECT'):
            self.statements.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, 'before_cursor_execute', self._listen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, 'before_cursor_execute', self._listen)


def explain(engine, statement: str, parameters) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == 'sqlite':
            rows = conn.exec_driver_sql('EXPLAIN QUERY PLAN ' + statement, parameters).all()
            depth, lines = {0: -1}, []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                mark = '   <-- FULL SCAN' if detail.startswith('SCAN unit') or detail == 'SCAN unit' else ''
                lines.append('  ' * depth[node] + detail + mark)
            return lines
        rows = conn.exec_driver_sql('EXPLAIN ' + statement, parameters).all()
        return [r[0] + ('   <-- FULL SCAN' if 'Seq Scan on unit' in r[0] else '') for r in rows]


def one_line(sql: str) -> str:
    """The statement on one line, with the long column lists shortened to unit.*."""
    sql = ' '.join(sql.split())
    return re.sub(r'SELECT (unit\.\w+(?: AS \w+)?, )+unit\.\w+(?: AS \w+)? FROM', 'SELECT unit.* FROM', sql)


def run_backend(label: str, n_units: int, runs: int, analyze: bool) -> None:
    from db.engine import get_engine
    from glrc_ui import cli
    from glrc_ui.actor import Actor
    from glrc_ui.services import unit_review
    cli.prepare()
    engine = get_engine()
    print(f'\n{"=" * 100}\n{label}: {engine.url.render_as_string(hide_password=True)}\n{"=" * 100}')
    facts = populate(n_units)
    print(f'inserted {n_units} units, {facts["n_users"]} operators, {facts["n_records"]} review records '
          f'in {facts["insert_seconds"]:.2f} s; by state: {facts["by_state"]}')
    if analyze:
        with engine.begin() as conn:
            conn.exec_driver_sql('ANALYZE')
        print('ANALYZE run (statistics available to the planner)')
    else:
        print('no ANALYZE (as the app runs: no statistics table)')
    busiest = facts['busiest']
    actors = {
        f'reviewer of {busiest["name"]} ({facts["busiest_count"]} units)':
            Actor(1, 'bench_reviewer', 'reviewer', None, busiest['id'], False, '基准审核'),
        'center': Actor(2, 'bench_center', 'center', None, None, False, '基准中心'),
    }
    summary = []
    for who, actor in actors.items():
        for case, kwargs in cases(facts):
            with Capture(engine) as cap:
                rows, total = unit_review.queue(actor, **kwargs)
            print(f'\n--- {who} | {case} | total={total}, page rows={len(rows)}')
            for name, (statement, params) in zip(("count", "page"), cap.statements[:2], strict=False):
                print(f'  [{name}] {one_line(statement)}')
                for line in explain(engine, statement, params):
                    print(f'      {line}')
            for _ in range(3):
                unit_review.queue(actor, **kwargs)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                unit_review.queue(actor, **kwargs)
                times.append((time.perf_counter() - started) * 1000)
            median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
            print(f'  timing over {runs} runs: median {median:.2f} ms, p95 {p95:.2f} ms')
            summary.append((who.split(' (')[0], case, total, median, p95))
    print(f'\nSUMMARY {label} ({n_units} units, {runs} runs each)')
    print(f'  {"actor":<22} {"case":<50} {"total":>6} {"median ms":>10} {"p95 ms":>8}')
    for who, case, total, median, p95 in summary:
        print(f'  {who:<22} {case:<50} {total:>6} {median:>10.2f} {p95:>8.2f}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--units', type=int, default=5000)
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--pg', metavar='URL', help='a PostgreSQL server URL (any database on it) to also run on')
    parser.add_argument('--keep', action='store_true', help='keep the temporary PostgreSQL database')
    parser.add_argument('--sqlite-analyze', action='store_true', help='run ANALYZE on SQLite before measuring')
    parser.add_argument('--no-sqlite', action='store_true', help='only PostgreSQL')
    args = parser.parse_args(argv)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix='glrc_bench_') as tmp:
            os.environ['GLRC_DATA_DIR'] = tmp
            os.environ.pop('GLRC_DATABASE_URL', None)
            run_backend('SQLite', args.units, args.runs, analyze=args.sqlite_analyze)
            from db.engine import get_engine
            get_engine().dispose()
    if args.pg:
        server = make_url(args.pg)
        if server.drivername == 'postgresql':
            server = server.set(drivername='postgresql+psycopg')
        name = f'glrc_bench_{os.getpid()}'
        admin = create_engine(server, isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE {name}'))
        try:
            with tempfile.TemporaryDirectory(prefix='glrc_bench_') as tmp:
                os.environ['GLRC_DATA_DIR'] = tmp
                os.environ['GLRC_DATABASE_URL'] = server.set(database=name).render_as_string(hide_password=False)
                # autovacuum analyzes fresh tables within a minute; do it now so the plans are the steady state
                run_backend('PostgreSQL', args.units, args.runs, analyze=True)
                from db.engine import get_engine
                get_engine().dispose()
        finally:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS {name}'))
            admin.dispose()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
