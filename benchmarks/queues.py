"""The queues at N rows (issue 11 item 3): service time per role and filter, deep page against page 1,
capped counts and keyword search, on a data dir seeded by benchmarks/seed.py.

    python benchmarks/queues.py --rows 1000000 [--backend postgresql] [--runs 30]

Measured in this process, as server time of the service call (no HTTP, no rendering), the median and
p95 over `runs` calls after 3 warm-up calls (the timing of benchmarks/application_queue.py):
- 单位注册审核 unit_review.queue_page: the reviewer of the org with the most units, and the center;
- 单位人员账号设置 persons.unit_queue: the operator of the unit with the most persons;
- 高层次人才认定审核 application_review.queue_page: the operator of the unit with the most applications,
  the reviewer of the org with the most, the center; and the center's 人才认定情况查询 query_page;
- the audit log and the user list: the administration issue adds their pages; what is measured here
  is the query shape those pages need, through the same paging.fetch (newest first, an event / role
  filter, a date range, a deep page). No keyword search on them (no such filter is specified yet).

Filters per queue: 待审核 / 已审核 / 全部, a keyword of 3+ characters (the trigram index: FTS5 on
SQLite, pg_trgm on PostgreSQL), a keyword of 2 characters (LIKE, no index can serve it), the exact
code / 身份证号 / 申报编号 / phone, a date range, another sort order. Deep page: page 10,000 at 20 a
page (or the queue's last page when it is shorter) reached by a jump (OFFSET over ids) and as the
next page after the cursor of the page before (keyset), each against page 1 (ratio of the medians).
Capped count: the queue's count statement alone (at most COUNT_CAP + 1 rows: 「10,000+」).

Figures with group 'detail' are every (queue, role, filter); the others are the summary: per queue and
role the slowest filter's p95 (target ≤ 50 ms), the deep page ratios (≤ 2×), the capped counts, the
keyword searches."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, check, table  # noqa: E402

TARGET_MS = 50.0
TARGET_RATIO = 2.0
DEEP_PAGE = 10_000
PER_PAGE = 20
SLOW_MS = 300.0      # a case slower than this on its warm-up is timed over fewer runs


@contextmanager
def app_database(data_dir: Path, database_url: str | None) -> Iterator[None]:
    """The app's engine, settings and schema on this data dir (cli.prepare), env restored after."""
    saved = {k: os.environ.get(k) for k in ('GLRC_DATA_DIR', 'GLRC_DATABASE_URL')}
    os.environ['GLRC_DATA_DIR'] = str(data_dir)
    if database_url:
        os.environ['GLRC_DATABASE_URL'] = database_url
    else:
        os.environ.pop('GLRC_DATABASE_URL', None)
    from db import engine
    from glrc_ui import cli
    try:
        cli.prepare()
        yield
    finally:
        engine.get_engine().dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """(median ms, p95 ms, last result) over `runs` calls after 3 warm-up calls (fewer for a slow case)."""
    started = time.perf_counter()
    result = fn()
    if (time.perf_counter() - started) * 1000 > SLOW_MS:
        runs = min(runs, 5)
    else:
        for _ in range(2 if runs > 2 else 0):     # (a smoke run with runs ≤ 2 skips the extra warm-up)
            result = fn()
    times = []
    for _ in range(max(2, runs)):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20, method='inclusive')[18], result


def _samples(facts: dict) -> dict:
    """Keywords that exist in the seeded rows (read from the database: the cache may be older)."""
    from sqlalchemy import func, select

    from db.engine import read_scope
    from db.models import Application, Person, Unit
    unit_id = facts['person_unit']['unit_id']
    with read_scope() as s:
        three = s.execute(select(Person.name).where(Person.unit_id == unit_id, func.length(Person.name) == 3)
                          .order_by(Person.id).limit(1)).scalar() or '王伟伟'
        person = s.execute(select(Person.id_number, Person.name).where(Person.unit_id == unit_id)
                           .order_by(Person.id.desc()).limit(1)).first()
        app = s.execute(select(Application.number, Application.id_number, Application.applicant_name)
                        .where(Application.state == 'approved').order_by(Application.id).limit(1)
                        .offset(max(0, facts['rows'] // 3 - 1))).first() \
            or s.execute(select(Application.number, Application.id_number, Application.applicant_name)
                         .where(Application.state != 'draft').order_by(Application.id).limit(1)).first()
        unit = s.execute(select(Unit.credit_code).where(Unit.org_id == facts['unit_org']['org_id'],
                                                        Unit.state == 'pending_org').order_by(Unit.id.desc())
                         .limit(1)).scalar()
    return {'person_name3': three, 'person_name2': three[:2], 'person_id_number': person[0] if person else '',
            'app_number': app[0], 'app_id_number': app[1], 'app_name3': three,
            'credit_code': unit or facts['samples']['credit_code']}


def _count_ms(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(median ms, p95 ms) of the count statement the call sends (captured, then run alone)."""
    from benchmarks.application_queue import Capture
    from db.engine import get_engine
    engine = get_engine()
    with Capture(engine) as cap:
        fn()
    statement, params = next(((st, p) for st, p in cap.statements if 'count(' in st.lower()), (None, None))
    if statement is None:
        return float('nan'), float('nan')

    def count() -> Any:
        with engine.connect() as conn:
            return conn.exec_driver_sql(statement, params).scalar()
    median, p95, _ = timed(count, runs)
    return median, p95


def run(data_dir: Path, database_url: str | None, backend: str, rows: int, *, runs: int = 30,
        facts: dict | None = None, verbose: bool = True) -> list[Figure]:
    import json
    if facts is None:
        facts = json.loads((Path(data_dir).parent / 'seed.json').read_text())
    with app_database(Path(data_dir), database_url):
        return _measure(facts, backend, rows, runs, verbose)


def _measure(facts: dict, backend: str, rows: int, runs: int, verbose: bool) -> list[Figure]:
    from sqlalchemy import select
    from sqlmodel import col

    from db.engine import read_scope
    from db.models import AuditLog, User
    from glrc_ui import clock, paging
    from glrc_ui.actor import Actor
    from glrc_ui.services import application_review, persons, unit_review
    size = f'{rows:,}'
    samples = _samples(facts)
    today = datetime.now(clock.SHANGHAI).date()
    last30 = {'date_from': today - timedelta(days=30), 'date_to': today}
    year_ago = {'date_from': today - timedelta(days=395), 'date_to': today - timedelta(days=365)}

    def actor(user_id: int, role: str, org_id: int | None = None) -> Actor:
        return Actor(user_id, f'bench_{role}', role, None, org_id, False, '基准')

    center = actor(facts['center_id'] or 1, 'center')
    unit_reviewer = actor(facts['unit_org']['reviewer_id'], 'reviewer', facts['unit_org']['org_id'])
    person_operator = actor(facts['person_unit']['operator_id'], 'unit')
    app_operator = actor(facts['app_unit']['operator_id'], 'unit')
    app_reviewer = actor(facts['app_org']['reviewer_id'], 'reviewer', facts['app_org']['org_id'])

    def audit_page(**kw: Any) -> paging.Page:
        kw.setdefault('page', 1)
        with read_scope() as s:
            query = select(AuditLog)
            if kw.pop('event', None):
                query = query.where(AuditLog.event == 'login_failed')
            if since := kw.pop('since', None):
                query = query.where(col(AuditLog.at) >= since)
            return paging.fetch(s, query, sorts={'at': AuditLog.at}, id_column=AuditLog.id, sort_by='at',
                                default_sort='at', descending=True, per_page=PER_PAGE, not_null=('at',), **kw)

    def user_page(role: str, **kw: Any) -> paging.Page:
        kw.setdefault('page', 1)
        with read_scope() as s:
            query = select(User).where(User.role == role)
            if account := kw.pop('account', None):
                query = query.where(User.account == account)
            return paging.fetch(s, query, sorts={'created_at': User.created_at, 'account': User.account},
                                id_column=User.id, sort_by=kw.pop('sort_by', 'created_at'), default_sort='created_at',
                                descending=True, per_page=PER_PAGE, not_null=('created_at', 'account'), **kw)

    name3_unit = '科技有'      # in every tenth unit name (…科技有限公司…)
    rare3_unit = '漓江山水'     # two WORDS in a row: one unit in 400
    queues: list[tuple[str, str, Callable[..., Any], list[tuple[str, dict]]]] = [
        ('单位注册审核', 'reviewer', lambda **kw: unit_review.queue_page(unit_reviewer, **kw), [
            ('待审核', {'status': 'pending'}), ('已审核', {'status': 'done'}), ('全部', {'status': 'all'}),
            (f'关键词 3+ 字 {rare3_unit}', {'status': 'all', 'keyword': rare3_unit}),
            (f'关键词 3 字 {name3_unit}', {'status': 'all', 'keyword': name3_unit}),
            ('关键词 2 字 漓江', {'status': 'all', 'keyword': '漓江'}),
            ('信用代码', {'status': 'all', 'keyword': samples['credit_code']}),
            ('信用代码前缀', {'status': 'all', 'keyword': samples['credit_code'][:12]}),
            ('近 30 天', {'status': 'all', **last30}), ('按名称排序', {'status': 'all', 'sort_by': 'name'})]),
        ('单位注册审核', 'center', lambda **kw: unit_review.queue_page(center, **kw), [
            ('待审核', {'status': 'pending'}), ('已审核', {'status': 'done'}), ('全部', {'status': 'all'}),
            (f'关键词 3+ 字 {rare3_unit}', {'status': 'all', 'keyword': rare3_unit}),
            (f'关键词 3 字 {name3_unit}', {'status': 'all', 'keyword': name3_unit}),
            ('关键词 2 字 漓江', {'status': 'all', 'keyword': '漓江'}),
            ('信用代码', {'status': 'all', 'keyword': samples['credit_code']}),
            ('近 30 天', {'status': 'all', **last30}), ('一年前的一个月', {'status': 'all', **year_ago}),
            ('按名称排序', {'status': 'all', 'sort_by': 'name'})]),
        ('单位人员', 'unit', lambda **kw: persons.unit_queue(person_operator, **kw), [
            ('待审核', {'status': 'pending'}), ('已审核', {'status': 'done'}), ('全部', {'status': 'all'}),
            (f'关键词 3 字 {samples["person_name3"]}', {'status': 'all', 'keyword': samples['person_name3']}),
            (f'关键词 2 字 {samples["person_name2"]}', {'status': 'all', 'keyword': samples['person_name2']}),
            ('身份证号', {'status': 'all', 'keyword': samples['person_id_number']}),
            ('手机号', {'status': 'all', 'keyword': facts['samples']['phone']}),
            ('近 30 天', {'status': 'all', **last30}), ('按姓名排序', {'status': 'all', 'sort_by': 'name'})]),
    ]
    app_cases = [
        ('待审核', {'status': 'pending'}), ('已审核', {'status': 'done'}), ('全部', {'status': 'all'}),
        (f'关键词 3 字 {samples["app_name3"]}', {'status': 'all', 'keyword': samples['app_name3']}),
        (f'关键词 2 字 {samples["app_name3"][:2]}', {'status': 'all', 'keyword': samples['app_name3'][:2]}),
        ('申报编号', {'status': 'all', 'keyword': samples['app_number']}),
        ('身份证号', {'status': 'all', 'keyword': samples['app_id_number']}),
        ('层次 C', {'status': 'all', 'level': 'C'}), ('待审核 层次 C', {'status': 'pending', 'level': 'C'}),
        ('近 30 天', {'status': 'all', **last30}), ('一年前的一个月', {'status': 'all', **year_ago}),
        ('按姓名倒序', {'status': 'all', 'sort_by': 'name', 'descending': True}),
        ('按状态排序', {'status': 'all', 'sort_by': 'state'})]
    for role, who in (('unit', app_operator), ('reviewer', app_reviewer), ('center', center)):
        queues.append(('人才认定审核', role, lambda a=who, **kw: application_review.queue_page(a, **kw), app_cases))
    queues.append(('人才认定查询', 'center', lambda **kw: application_review.query_page(center, **kw), [
        ('全部 最新在前', {}), ('审核中', {'status': 'in_progress'}), ('认定通过', {'status': 'approved'}),
        (f'关键词 3 字 {samples["app_name3"]}', {'keyword': samples['app_name3']}),
        (f'关键词 2 字 {samples["app_name3"][:2]}', {'keyword': samples['app_name3'][:2]}),
        ('身份证号', {'keyword': samples['app_id_number']}),
        ('层次 B 近一年', {'level': 'B', 'date_from': today - timedelta(days=365), 'date_to': today})]))
    queues.append(('审计日志（查询形态）', 'center', audit_page, [
        ('最新在前', {}), ('事件 login_failed', {'event': True}),
        ('近 7 天', {'since': datetime.combine(today - timedelta(days=7), datetime.min.time(), clock.SHANGHAI)})]))
    queues.append(('用户列表（查询形态）', 'center', lambda **kw: user_page(**kw), [
        ('个人用户 最新在前', {'role': 'person'}), ('中心人员', {'role': 'center'}),
        ('个人用户 按账号排序', {'role': 'person', 'sort_by': 'account'}),
        ('账号 精确', {'role': 'person', 'account': facts['samples']['phone']})]))

    figures: list[Figure] = []
    scenario = f'队列 @{size}'

    def log(text: str) -> None:
        if verbose:
            print(text, flush=True)

    for queue, role, call, cases in queues:
        worst: tuple[float, str] = (-1.0, '')
        for case, kwargs in cases:
            median, p95, page = timed(lambda c=call, kw=kwargs: c(**kw), runs)
            total = getattr(page, 'total', None)
            shown = '' if total is None else (f'{paging.COUNT_CAP:,}+' if total > paging.COUNT_CAP else f'{total:,}')
            log(f'  {queue} {role:<8} {case:<28} total {shown:>8}  median {median:7.2f} ms  p95 {p95:7.2f} ms')
            figures.append(Figure(scenario, f'{queue} · {role} · {case}', p95, 'ms', f'≤ {TARGET_MS:.0f}',
                                  check(p95, at_most=TARGET_MS), backend,
                                  f'中位 {median:.1f} ms；共 {shown} 条', group='detail'))
            worst = max(worst, (p95, case))
            if case.startswith('关键词'):
                figures.append(Figure(f'关键词搜索 @{size}', f'{queue} · {role} · {case} p95', p95, 'ms',
                                      f'≤ {TARGET_MS:.0f}', check(p95, at_most=TARGET_MS), backend,
                                      f'中位 {median:.1f} ms；{shown} 条' +
                                      ('；三元组索引' if '3' in case.split(' ')[1] else '；LIKE（2 字无法用三元组）')))
        figures.append(Figure(scenario, f'{queue} · {role}：最慢筛选 p95', worst[0], 'ms', f'≤ {TARGET_MS:.0f}',
                              check(worst[0], at_most=TARGET_MS), backend, f'{len(cases)} 种筛选中最慢：{worst[1]}'))

    # deep page vs page 1, and the capped count, on each queue's longest list
    deep_cases = [('单位注册审核 center 全部', lambda **kw: unit_review.queue_page(center, 'all', **kw)),
                  ('单位人员 unit 全部', lambda **kw: persons.unit_queue(person_operator, 'all', **kw)),
                  ('人才认定审核 center 全部', lambda **kw: application_review.queue_page(center, 'all', **kw)),
                  ('人才认定审核 reviewer 全部', lambda **kw: application_review.queue_page(app_reviewer, 'all', **kw)),
                  ('人才认定查询 center', lambda **kw: application_review.query_page(center, **kw)),
                  ('审计日志 最新在前', lambda **kw: audit_page(**kw)),
                  ('用户列表 个人用户', lambda **kw: user_page('person', **kw))]
    for name, call in deep_cases:
        m1, p1, first = timed(lambda c=call: c(), runs)
        deep, length = _last_page(call, first.total)
        md, pd, page = timed(lambda c=call, d=deep: c(page=d), runs)
        before = call(page=deep - 1)
        mk, pk, _ = timed(lambda c=call, d=deep, cur=before.cursor: c(page=d, after=cur), runs)
        label = f'第 {deep:,} 页' + ('' if deep == DEEP_PAGE else '（末页）')
        for how, m, p in (('跳转', md, pd), ('下一页（游标）', mk, pk)):
            ratio = m / m1 if m1 else float('nan')
            log(f'  deep {name:<28} {label} {how}: {m:.2f} ms vs page 1 {m1:.2f} ms = {ratio:.2f}x')
            figures.append(Figure(f'深页 @{size}', f'{name}：{label}{how} / 第 1 页', ratio, '×',
                                  f'≤ {TARGET_RATIO:.0f}', check(ratio, at_most=TARGET_RATIO), backend,
                                  f'中位 {m:.1f} vs {m1:.1f} ms；p95 {p:.1f} vs {p1:.1f} ms'))
        cm, cp = _count_ms(lambda c=call: c(), runs)
        capped = first.total > paging.COUNT_CAP
        figures.append(Figure(f'计数上限 @{size}', f'{name}：计数语句 p95', cp, 'ms', f'≤ {TARGET_MS:.0f}',
                              check(cp, at_most=TARGET_MS), backend,
                              f'显示 「{paging.COUNT_CAP:,}+」' if capped else f'共 {first.total:,} 条（未达上限）'))
        if capped:
            figures.append(Figure(f'计数上限 @{size}', f'{name}：显示的总数', first.total, '',
                                  f'= {paging.COUNT_CAP + 1:,}（「{paging.COUNT_CAP:,}+」）',
                                  first.total == paging.COUNT_CAP + 1, backend, f'实有 {length} 条'))
    return figures


def _last_page(call: Callable[..., Any], shown: int) -> tuple[int, str]:
    """(the deep page to measure: DEEP_PAGE or the list's last page when shorter, the list's length as
    shown in a note). The count stops at COUNT_CAP + 1: past it, a binary search over pages that are
    not empty (a few page calls, not a count of every row)."""
    from glrc_ui import paging
    if shown <= paging.COUNT_CAP:
        return max(2, -(-shown // PER_PAGE)), f'{shown:,}'
    if call(page=DEEP_PAGE).items:
        return DEEP_PAGE, f'≥ {DEEP_PAGE * PER_PAGE:,}'
    low, high = paging.COUNT_CAP // PER_PAGE, DEEP_PAGE     # low has rows, high has none
    while low + 1 < high:
        mid = (low + high) // 2
        if call(page=mid).items:
            low = mid
        else:
            high = mid
    return low, f'{(low - 1) * PER_PAGE + len(call(page=low).items):,}'


def main(argv: list[str] | None = None) -> int:
    from benchmarks import seed
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=100_000)
    parser.add_argument('--backend', choices=('sqlite', 'postgresql'), default='sqlite')
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--work-dir', type=Path, default=seed.default_work_dir())
    parser.add_argument('--details', action='store_true', help='also print every filter in the table')
    args = parser.parse_args(argv)
    data_dir, url, facts = seed.cached(args.work_dir, args.backend, args.rows)
    figures = run(data_dir, url, args.backend, args.rows, runs=args.runs, facts=facts)
    print(table([f for f in figures if args.details or f.group != 'detail']))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
