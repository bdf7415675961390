"""Benchmark of the 高层次人才认定 queues, 人才认定情况查询 and 导出Excel (glrc_ui.services.application_review)
on a realistic volume. A script to run by hand, not a timed test.

    python benchmarks/application_queue.py                   # SQLite in a temporary data dir
    python benchmarks/application_queue.py --db postgres     # PostgreSQL: the server of GLRC_BENCH_PG_URL
                                                             # (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
                                                             # the benchmark never writes to the database named
                                                             # there: it (re)creates its own database
                                                             # (--pg-database, default glrc_bench) on that server
                                                             # and drops it afterwards (--keep keeps it)

It prepares the schema as the app does (cli.prepare: migrations, the seeded 审核机构 and 认定目录), then
bulk-inserts (SQLAlchemy Core executemany, not the service path) --units units (default 5,000) over the
seeded orgs, --persons persons with their logins (default 100,000) and --apps applications (default
100,000) in every state (待单位/待主管部门/待中心审核, 认定通过, 退回修改, 不予认定, 已保存) and 层次 A-E, submitted
over two years, with reached_org / reached_center, 申报编号 (ids in creation order), valid 身份证号 and unique 证书编号 as
the workflow leaves them; then the statistics: SQLite `ANALYZE; PRAGMA optimize` (--no-analyze: none,
as a database the app never analyzed), PostgreSQL `VACUUM ANALYZE` (what autovacuum does to a freshly
filled table within minutes). Persons are spread over units unevenly (a few big employers), so the
operator of the biggest unit has a long queue.

For the operator of that unit, the reviewer of the busiest org and the center it prints, per filter
and sort, the median and p95 time of queue_page(...) over --runs runs (server time: the service
call); page 1,000 (or the last page when the queue is shorter) against page 1 at 20 a page, as a jump
(OFFSET over ids) and as the next page after the cursor of the page before (keyset), with the ratio
of the medians (and of the p95s); query_page for the center; and the Excel export of about 1,000,
--export-rows (10,000) and 3x as many rows: time, the growth of the peak RSS (VmHWM) of a fresh
process doing one export, and the Python heap peak (tracemalloc); flat memory means about the same
for every size. Targets: p95 <= 150 ms, deep page <= 2x page 1, export <= 5 s. A case that misses a
target gets its statements' query plans printed (every case with --explain).
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from benchmarks.seed import (
    ACHIEVEMENT,
    APP_STATE_WEIGHTS,
    BUSY_ORGS,
    FAKE_HASH,
    WORDS,
    application_plan,
    application_row,
    chunks,
    credit_code,
    id_number,
    person_name,
    person_row,
    user_row,
)

DEFAULT_PG = 'postgresql+psycopg://postgres@127.0.0.1:5432/test'
TARGET_MS = 150.0
TARGET_RATIO = 2.0
TARGET_EXPORT_S = 5.0
PER_PAGE = 20
DEEP_PAGE = 1000

STATE_WEIGHTS = APP_STATE_WEIGHTS
KINDS = ['科技有限公司', '电子有限公司', '药业有限公司', '人民医院', '中学', '研究院', '大学', '设计院']


# ---- data: the rows are built by benchmarks/seed.py (shared with the runner's seeding) ---------------
def populate(n_units: int, n_persons: int, n_apps: int, seed: int = 2026) -> dict:
    """Bulk insert units, their operators, persons (and logins), applications, a reviewer and a center
    user. Returns what the cases need (actors' rows, samples, true counts)."""
    from db.engine import get_engine
    from db.models import LEVELS, Application, CatalogueClause, CertificateSequence, Org, Person, Unit, User
    rng = random.Random(seed)
    engine = get_engine()
    now = datetime.now(UTC).replace(microsecond=0)
    with engine.connect() as conn:
        orgs = [dict(r._mapping) for r in conn.execute(select(Org.id, Org.name, Org.kind).order_by(Org.id))]
        clauses = [dict(r._mapping) for r in conn.execute(
            select(CatalogueClause.id, CatalogueClause.version_id, CatalogueClause.level, CatalogueClause.code,
                   CatalogueClause.text))]
        next_user = (conn.execute(select(func.max(User.id))).scalar() or 0) + 1
        next_unit = (conn.execute(select(func.max(Unit.id))).scalar() or 0) + 1
        next_person = (conn.execute(select(func.max(Person.id))).scalar() or 0) + 1
        next_app = (conn.execute(select(func.max(Application.id))).scalar() or 0) + 1
    by_level: dict[str, list[dict]] = {}
    for c in clauses:
        by_level.setdefault(c['level'], []).append(c)
    org_weights = [BUSY_ORGS.get(o['name'], 1) for o in orgs]

    # units, all active (an application needs an active unit), each with one operator
    units, unit_rows, user_rows = [], [], []
    for k in range(n_units):
        unit_id, user_id = next_unit + k, next_user + k
        org = rng.choices(orgs, org_weights)[0]
        created = now - timedelta(days=rng.uniform(800, 1500))
        units.append({'id': unit_id, 'org_id': org['id'], 'name': f'桂林{rng.choice(WORDS)}{rng.choice(WORDS)}'
                                                                  f'{rng.choice(KINDS)}{k:05d}'})
        unit_rows.append({'id': unit_id, 'name': units[-1]['name'], 'credit_code': credit_code(k),
                          'unit_type': '企业', 'allocation': org['kind'], 'org_id': org['id'], 'industry': '信息技术',
                          'address': f'桂林市{org["name"]}示例路{k}号', 'legal_rep': f'法人{k:05d}',
                          'contact_phone': '0773-2825566', 'intro': '基准测试数据', 'licence_file_id': None,
                          'state': 'active', 'version': 9, 'submitted_at': created + timedelta(days=3),
                          'created_at': created, 'updated_at': created + timedelta(days=9)})
        user_rows.append({'id': user_id, 'role': 'unit', 'account': f'bench_u{k:05d}', 'phone': f'139{k:08d}',
                          'display_name': f'操作员{k:05d}', 'password_hash': FAKE_HASH, 'status': 'active',
                          'is_admin': False, 'must_change_password': False, 'org_id': None, 'unit_id': unit_id,
                          'failed_logins': 0, 'version': 1, 'created_at': created})
    operator_of = {u['id']: next_user + k for k, u in enumerate(units)}
    units_by_id = {u['id']: u for u in units}
    next_user += n_units

    # persons, spread unevenly (Zipf-like: a few big employers, many small ones)
    unit_weights = [1 / (rank + 1) ** 0.8 for rank in range(n_units)]
    person_unit = rng.choices(units, unit_weights, k=n_persons)
    persons, person_rows = [], []
    for k in range(n_persons):
        person_id, user_id = next_person + k, next_user + k
        unit = person_unit[k]
        name = person_name(rng)
        number = id_number(k)
        created = now - timedelta(days=rng.uniform(760, 800))
        phone = f'138{k:08d}'
        persons.append({'id': person_id, 'user_id': user_id, 'unit': unit, 'name': name, 'id_number': number,
                        'phone': phone})
        user_rows.append(user_row(user_id, 'person', phone, name, FAKE_HASH, created, phone=phone))
        person_rows.append(person_row(person_id, user_id, unit['id'], name, number, 'active', created))
    next_user += n_persons
    reviewer_id, center_id = next_user, next_user + 1

    # applications: the k-th goes to person k % n_persons, with a 层次 of its own per round (the open
    # application per person and 层次 stays unique); state, dates and stages as the workflow leaves them
    # (benchmarks/seed.py application_plan / application_row, shared with the benchmark runner's seeding)
    texts = [ACHIEVEMENT * rng.randint(2, 12) for _ in range(32)]
    certificates: Counter = Counter()
    planned = sorted(((application_plan(rng, now), k) for k in range(n_apps)), key=lambda p: p[0][2])
    app_rows = []
    for index, (plan, k) in enumerate(planned):
        # ids (and so 申报编号) in the order the drafts were created, as the app hands them out
        person = persons[k % n_persons]
        level = LEVELS[(person['id'] + k // n_persons) % len(LEVELS)]
        app_rows.append(application_row(next_app + index, plan, person, person['unit'], level,
                                        rng.choice(by_level[level]), rng, texts, certificates))
    if 'reached_center' not in Application.__table__.columns:   # a schema from before the column
        for row in app_rows:
            del row['reached_center']
    facts_rows = [(row['id'], row['unit_id'], units_by_id[row['unit_id']]['org_id'], row['reached_org'],
                   row['state'], row['submitted_at']) for row in app_rows]

    started = time.perf_counter()
    with engine.begin() as conn:
        for table, rows in ((Unit, unit_rows), (User, user_rows), (Person, person_rows), (Application, app_rows)):
            for part in chunks(rows):
                conn.execute(insert(table.__table__), part)
        conn.execute(insert(User.__table__), [
            {'id': reviewer_id, 'role': 'reviewer', 'account': 'bench_reviewer', 'phone': None,
             'display_name': '基准审核', 'password_hash': FAKE_HASH, 'status': 'active', 'is_admin': False,
             'must_change_password': False, 'org_id': None, 'unit_id': None, 'failed_logins': 0, 'version': 1,
             'created_at': now},
            {'id': center_id, 'role': 'center', 'account': 'bench_center', 'phone': None, 'display_name': '基准中心',
             'password_hash': FAKE_HASH, 'status': 'active', 'is_admin': False, 'must_change_password': False,
             'org_id': None, 'unit_id': None, 'failed_logins': 0, 'version': 1, 'created_at': now}])
        conn.execute(insert(CertificateSequence.__table__),
                     [{'year': y, 'level': lv, 'last': n} for (y, lv), n in certificates.items()])
        if engine.dialect.name == 'postgresql':   # ids were given explicitly: move the sequences on
            for table in ('unit', 'app_user', 'person', 'application'):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    insert_seconds = time.perf_counter() - started

    # the actors: the operator of the unit with the most queued applications, the reviewer of the org
    # with the most applications that reached it, the center
    queued = [f for f in facts_rows if f[4] != 'draft']
    unit_id = Counter(f[1] for f in queued).most_common(1)[0][0]
    org_id = Counter(f[2] for f in queued if f[3]).most_common(1)[0][0]
    with engine.begin() as conn:
        conn.execute(text('UPDATE app_user SET org_id = :o WHERE id = :i'), {'o': org_id, 'i': reviewer_id})
    org_name = next(o['name'] for o in orgs if o['id'] == org_id)
    return {'insert_seconds': insert_seconds, 'facts': facts_rows, 'apps': app_rows, 'now': now,
            'unit_id': unit_id, 'operator_id': operator_of[unit_id], 'org_id': org_id, 'org_name': org_name,
            'reviewer_id': reviewer_id, 'center_id': center_id, 'n_users': len(user_rows) + 2,
            'by_state': Counter(f[4] for f in facts_rows)}


def in_scope(role: str, data: dict):
    """The rule of application_review._scope_filter, in Python, for the true counts."""
    if role == 'unit':
        return lambda f: f[4] != 'draft' and f[1] == data['unit_id']
    if role == 'reviewer':
        return lambda f: f[4] != 'draft' and f[2] == data['org_id'] and f[3]
    return lambda f: f[4] != 'draft'


# ---- measuring -------------------------------------------------------------------------------------
class Capture:
    """Collects the SELECT statements (with their bound parameters) one call sends."""

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
                lines.append('  ' * depth[node] + detail)
            return lines
        rows = conn.exec_driver_sql('EXPLAIN (ANALYZE, BUFFERS) ' + statement, parameters).all()
        return [r[0] for r in rows]


def short_sql(sql: str) -> str:
    sql = ' '.join(sql.split())
    return re.sub(r'SELECT (application\.\w+(?: AS \w+)?, )+application\.\w+(?: AS \w+)? FROM',
                  'SELECT application.* FROM', sql)


def timed(fn, runs: int) -> tuple[float, float, object]:
    """(median ms, p95 ms, last result) of fn() over `runs` runs after 3 warm-up calls."""
    result = None
    for _ in range(3):
        result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18], result


def vm_kb(field: str) -> int:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(field + ':'):
            return int(line.split()[1])
    return 0


def reset_hwm() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0: clear_refs 5)."""
    try:
        Path('/proc/self/clear_refs').write_text('5')
        return True
    except OSError:
        return False


def discard_export(actor, result: dict) -> None:
    from glrc_ui.services import application_review as review
    taken = review.take_export(actor, result['token'])
    if taken is not None:
        taken[0].unlink()


def export_child(spec: str) -> int:
    """--export-child: one export in this fresh process, printing its peak RSS growth as JSON (the
    parent's environment names the database)."""
    from glrc_ui import cli
    from glrc_ui.actor import Actor
    from glrc_ui.services import application_review as review
    cli.prepare()
    import xlsxwriter  # noqa: F401 - imported before the baseline, as in a running server
    options = json.loads(spec)
    center = Actor(options['center_id'], 'bench_center', 'center', None, None, False, '基准中心')
    kwargs = {'date_from': date.fromisoformat(options['date_from']), 'date_to': date.fromisoformat(options['date_to'])}
    discard_export(center, review.export(center, **kwargs))     # warm: compiled statements, caches
    reset = reset_hwm()
    before = vm_kb('VmRSS') if reset else vm_kb('VmHWM')
    result = review.export(center, **kwargs)
    growth = (vm_kb('VmHWM') - before) / 1024
    discard_export(center, result)
    print(json.dumps({'rows': result['rows'], 'rss_growth_mib': growth, 'rss_before_mib': before / 1024,
                      'reset': reset}))
    return 0


def fmt_total(total: int) -> str:
    from glrc_ui import paging
    return f'{paging.COUNT_CAP:,}+' if total > paging.COUNT_CAP else f'{total:,}'


def run_backend(label: str, args) -> list[str]:
    from db.engine import get_engine
    from glrc_ui import cli, clock
    from glrc_ui.actor import Actor
    from glrc_ui.services import application_review as review
    cli.prepare()
    engine = get_engine()
    out = [f'\n{"=" * 110}\n{label}: {engine.url.render_as_string(hide_password=True)}\n{"=" * 110}']
    print(out[0], flush=True)
    data = populate(args.units, args.persons, args.apps)
    line = (f'inserted {args.units:,} units, {args.persons:,} persons, {data["n_users"]:,} users, '
            f'{args.apps:,} applications in {data["insert_seconds"]:.1f} s; by state: {dict(data["by_state"])}')
    started = time.perf_counter()
    if engine.dialect.name == 'sqlite':
        if not args.no_analyze:
            with engine.begin() as conn:
                conn.exec_driver_sql('ANALYZE')
                conn.exec_driver_sql('PRAGMA optimize')
        done = 'no ANALYZE' if args.no_analyze else 'ANALYZE; PRAGMA optimize'
    else:   # what autovacuum does to a freshly filled table within minutes: statistics and the visibility map
        with engine.connect().execution_options(isolation_level='AUTOCOMMIT') as conn:
            conn.exec_driver_sql('VACUUM ANALYZE')
        done = 'VACUUM ANALYZE'
    line += f'\n{done} ({time.perf_counter() - started:.1f} s)'
    print(line, flush=True)
    out.append(line)

    facts = data['facts']
    actors = {
        'unit': Actor(data['operator_id'], 'bench_u', 'unit', None, None, False, '基准单位'),
        'reviewer': Actor(data['reviewer_id'], 'bench_reviewer', 'reviewer', None, data['org_id'], False, '基准审核'),
        'center': Actor(data['center_id'], 'bench_center', 'center', None, None, False, '基准中心'),
    }
    today = datetime.now(clock.SHANGHAI).date()
    apps_by_id = {a['id']: a for a in data['apps']}
    rows: list[tuple] = []           # (what, case, total, median, p95, note)
    slow: list[tuple] = []           # (what, case, fn) to explain
    header = (f'{"role / call":<16} {"case":<44} {"total":>8} {"median ms":>10} {"p95 ms":>8}  note')

    def measure(what: str, case: str, fn, note: str = '', target: float | None = TARGET_MS):
        median, p95, result = timed(fn, args.runs)
        total = getattr(result, 'total', None)
        ok = target is None or p95 <= target
        mark = note + ('' if ok else f'  MISSES p95 <= {target:.0f} ms')
        rows.append((what, case, fmt_total(total) if total is not None else '', median, p95, mark.strip()))
        print(f'{what:<16} {case:<44} {rows[-1][2]:>8} {median:>10.2f} {p95:>8.2f}  {rows[-1][5]}', flush=True)
        if args.explain or not ok:
            slow.append((what, case, fn))
        return median, p95, result

    print('\n' + header, flush=True)
    for role, actor in actors.items():
        scope = in_scope(role, data)
        mine = [f for f in facts if scope(f)]
        sample = apps_by_id[mine[len(mine) // 2][0]]
        common = Counter(apps_by_id[f[0]]['applicant_name'] for f in mine).most_common()
        full_name = common[len(common) // 2][0]          # a name a few applicants share
        cases = [
            ('pending (待审核)', {'status': 'pending'}),
            ('done (已审核)', {'status': 'done'}),
            ('all (全部)', {'status': 'all'}),
            (f'keyword name {full_name}', {'status': 'all', 'keyword': full_name}),
            (f'keyword surname {full_name[0]}', {'status': 'all', 'keyword': full_name[0]}),
            ('keyword = 申报编号', {'status': 'all', 'keyword': sample['number']}),
            ('keyword = 身份证号', {'status': 'all', 'keyword': sample['id_number']}),
            ('level C', {'status': 'all', 'level': 'C'}),
            ('pending, level C', {'status': 'pending', 'level': 'C'}),
            ('date range (last 90 days)', {'status': 'all', 'date_from': today - timedelta(days=90),
                                           'date_to': today}),
            ('date range (a month a year ago)', {'status': 'all', 'date_from': today - timedelta(days=395),
                                                 'date_to': today - timedelta(days=365)}),
            ('all, sort 姓名 desc', {'status': 'all', 'sort_by': 'name', 'descending': True}),
            ('all, sort 申报编号', {'status': 'all', 'sort_by': 'number'}),
            ('all, sort 申报层次', {'status': 'all', 'sort_by': 'level'}),
            ('all, sort 状态 desc', {'status': 'all', 'sort_by': 'state', 'descending': True}),
        ]
        who = f'{role} queue'
        for case, kwargs in cases:
            measure(who, case, lambda kw=kwargs, a=actor: review.queue_page(a, **kw))
        # page 1 against a deep page (a jump: ids only) and the page after it (keyset with the cursor)
        for status in ('all', 'pending'):
            states = {'pending': set(review.MACHINE.queue_states(role)[0])}.get(status)
            true_total = sum(1 for f in mine if states is None or f[4] in states)
            deep = max(1, min(DEEP_PAGE, (true_total - 1) // PER_PAGE))
            first = lambda s=status, a=actor: review.queue_page(a, s)   # noqa: E731
            m1, p1, _ = measure(who, f'{status}, page 1', first)
            jump = lambda s=status, a=actor, d=deep: review.queue_page(a, s, page=d)   # noqa: E731
            md, pd, page = measure(who, f'{status}, page {deep} (jump)', jump)
            after = lambda s=status, a=actor, d=deep, c=page.cursor: review.queue_page(a, s, page=d + 1,  # noqa: E731
                                                                                      after=c)
            mk, pk, _ = measure(who, f'{status}, page {deep + 1} (next, cursor)', after)
            for name, m, p, fn in ((f'page {deep} (jump)', md, pd, jump), (f'page {deep + 1} (cursor)', mk, pk, after)):
                ratio = m / m1 if m1 else 0
                note = f'ratio {ratio:.2f}x (medians), {p / p1 if p1 else 0:.2f}x (p95s) vs page 1'
                if ratio > TARGET_RATIO:
                    note += f'  MISSES <= {TARGET_RATIO:.0f}x'
                    if not args.explain:
                        slow += [(who, f'{status}, page 1', first), (who, f'{status}, {name}', fn)]
                rows.append((who, f'{status}, {name} vs page 1', '', m, p, note))
                print(f'{who:<16} {status + ", " + name + " vs page 1":<44} {"":>8} {m:>10.2f} {p:>8.2f}  {note}',
                      flush=True)

    # 人才认定情况查询 for the center
    center = actors['center']
    sample = apps_by_id[[f for f in facts if f[4] == 'approved'][len(facts) // 4][0]]
    query_cases = [
        ('all, newest first', {}),
        ('in_progress (审核中)', {'status': 'in_progress'}),
        ('approved (认定通过)', {'status': 'approved'}),
        (f'keyword name {sample["applicant_name"]}', {'keyword': sample['applicant_name']}),
        ('keyword = 身份证号', {'keyword': sample['id_number']}),
        ('level B, last 365 days', {'level': 'B', 'date_from': today - timedelta(days=365), 'date_to': today}),
        (f'all, page {DEEP_PAGE} (jump)', {'page': DEEP_PAGE}),
    ]
    for case, kwargs in query_cases:
        measure('center query', case, lambda kw=kwargs: review.query_page(center, **kw))

    # 导出Excel of the newest submissions: about 1,000, --export-rows (10,000) and 3x as many rows. Time in
    # this process; memory in a fresh child process each (its peak RSS is not hidden by the memory this
    # one already holds) and, here, the Python heap peak (tracemalloc)
    submitted = sorted((f[5] for f in facts if f[4] != 'draft'), reverse=True)
    export_lines = []
    for want, runs in ((1_000, args.export_runs), (args.export_rows, args.export_runs), (3 * args.export_rows, 1)):
        local_day = submitted[min(want, len(submitted)) - 1].astimezone(clock.SHANGHAI)
        kwargs = {'date_from': local_day.date() + timedelta(days=1), 'date_to': today}
        times, result = [], {}
        for _ in range(runs):
            started = time.perf_counter()
            result = review.export(center, **kwargs)
            times.append(time.perf_counter() - started)
            discard_export(center, result)
        child = subprocess.run([sys.executable, __file__, '--export-child', json.dumps(
            {'center_id': data['center_id'], 'date_from': str(kwargs['date_from']), 'date_to': str(today)})],
            capture_output=True, text=True, check=True)
        memory = json.loads(child.stdout.strip().splitlines()[-1])
        tracemalloc.start()
        result = review.export(center, **kwargs)
        heap_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        discard_export(center, result)
        median = statistics.median(times)
        line = (f'center export  {result["rows"]:>6,} rows: median {median:.2f} s, max {max(times):.2f} s '
                f'over {len(times)} run(s); peak RSS growth {memory["rss_growth_mib"]:.1f} MiB '
                f'(fresh process, RSS before {memory["rss_before_mib"]:.0f} MiB)'
                f'{"" if memory["reset"] else " (VmHWM not resettable: over the earlier peak)"}; '
                f'Python heap peak {heap_peak:.1f} MiB'
                f'{"" if median <= TARGET_EXPORT_S or want > args.export_rows else f"  MISSES <= {TARGET_EXPORT_S:.0f} s"}')
        print(line, flush=True)
        export_lines.append(line)

    out.append(f'\nSUMMARY {label}: {args.apps:,} applications, {args.persons:,} persons, {args.units:,} units; '
               f'unit = operator of the biggest unit, reviewer = {data["org_name"]}; {args.runs} runs per case, '
               f'{PER_PAGE} a page; targets p95 <= {TARGET_MS:.0f} ms, deep page <= {TARGET_RATIO:.0f}x page 1, '
               f'export <= {TARGET_EXPORT_S:.0f} s')
    out.append(header)
    for what, case, total, median, p95, note in rows:
        out.append(f'{what:<16} {case:<44} {total:>8} {median:>10.2f} {p95:>8.2f}  {note}')
    out.extend(export_lines)

    if slow:
        print('\nQUERY PLANS' + (' (cases that missed a target)' if not args.explain else ''))
    for what, case, fn in slow:
        with Capture(engine) as cap:
            fn()
        print(f'\n--- {what} | {case}')
        for statement, params in cap.statements:
            if 'FROM application' not in statement:
                continue
            print(f'  {short_sql(statement)[:400]}')
            for plan_line in explain(engine, statement, params):
                print(f'      {plan_line}')
    for line in out:
        print(line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--db', choices=('sqlite', 'postgres'), default='sqlite')
    parser.add_argument('--apps', type=int, default=100_000)
    parser.add_argument('--persons', type=int, default=100_000)
    parser.add_argument('--units', type=int, default=5_000)
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--export-rows', type=int, default=10_000)
    parser.add_argument('--export-runs', type=int, default=3)
    parser.add_argument('--explain', action='store_true', help='print the query plans of every case')
    parser.add_argument('--no-analyze', action='store_true', help='SQLite: measure without ANALYZE statistics')
    parser.add_argument('--pg-database', default='glrc_bench', help='the database created for the benchmark')
    parser.add_argument('--keep', action='store_true', help='keep the PostgreSQL database afterwards')
    parser.add_argument('--data-dir', help='SQLite: put (and keep) the data dir here instead of a temporary one')
    parser.add_argument('--export-child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_child:
        return export_child(args.export_child)
    if args.apps > 5 * args.persons:
        parser.error('at most 5 applications per person (one open application per person and 层次)')
    with tempfile.TemporaryDirectory(prefix='glrc_bench_') as tmp:
        os.environ['GLRC_DATA_DIR'] = tmp
        if args.db == 'sqlite':
            if args.data_dir:
                if Path(args.data_dir, 'glrc.sqlite3').exists():
                    parser.error(f'{args.data_dir} already holds a database')
                os.environ['GLRC_DATA_DIR'] = str(Path(args.data_dir).resolve())
            os.environ.pop('GLRC_DATABASE_URL', None)
            run_backend('SQLite', args)
            from db.engine import get_engine
            get_engine().dispose()
            return 0
        server = make_url(os.environ.get('GLRC_BENCH_PG_URL') or DEFAULT_PG)
        if server.drivername == 'postgresql':
            server = server.set(drivername='postgresql+psycopg')
        name = args.pg_database
        if name == server.database:
            parser.error(f'--pg-database must not be the database of GLRC_BENCH_PG_URL ({name}): it is dropped')
        admin = create_engine(server.set(database='postgres'), isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            os.environ['GLRC_DATABASE_URL'] = server.set(database=name).render_as_string(hide_password=False)
            run_backend('PostgreSQL', args)
            from db.engine import get_engine
            get_engine().dispose()
        finally:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
