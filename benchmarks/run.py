"""The one benchmark runner (issue 11): seeds (cached), runs every scenario per backend and size, prints
one table and writes benchmarks/RESULTS.md (date, machine, command, table).

    python benchmarks/run.py                                   # SQLite, 100k and 1M rows, every scenario
    python benchmarks/run.py --backends sqlite postgresql      # PostgreSQL: queues, storm and paging
    python benchmarks/run.py --quick                           # small sizes and counts: a smoke run
    python benchmarks/run.py --rows 1000000 --only queues cold

Scenarios (--only takes these names):
  queues   queue service p95 per role and filter, deep page vs page 1, capped counts, keyword search
           (benchmarks/queues.py; in this process, no server)
  storm    login storm: 300 logins spread over 60 s with the seeded accounts, /healthz p99 meanwhile
           (benchmarks/load/login_storm.py)
  paging   300 clients paging the center's 单位注册审核 queue at once (benchmarks/load/paging_clients.py)
  held     1,000 held clients: MB per client, GC p99, loop lag p99, /healthz throughput held vs idle
           (benchmarks/load/held_clients.py)
  upload   20 MiB upload/download vs a plain transfer, RSS growth (benchmarks/upload_download.py; once
           per backend, not per size: it does not depend on the rows)
  cold     cold start to /healthz (median of 3), start-up steps, import times (benchmarks/cold_start.py)
Every scenario that needs a server gets a freshly started `python main.py` on the seeded data dir.
A scenario whose module is missing or fails shows one row 'not available' with the reason.
On PostgreSQL the default scenarios are queues, storm and paging (--only to run others).

Seeded data dirs are kept under --work-dir (GLRC_BENCH_DIR, default /tmp/glrc_bench) per backend and
size; PostgreSQL databases are glrc_bench_100k / glrc_bench_1m on --pg-server (never `test`)."""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import seed  # noqa: E402
from benchmarks.common import AppServer, Figure, table  # noqa: E402

SCENARIOS = ('queues', 'storm', 'paging', 'held', 'upload', 'cold')
PG_DEFAULT = ('queues', 'storm', 'paging')
RESULTS = Path(__file__).resolve().parent / 'RESULTS.md'


class Settings:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.storm_count, self.storm_duration = (20, 10.0) if quick else (300, 60.0)
        self.paging_clients = 20 if quick else 300
        self.paging_options = {'seconds': 10.0} if quick else {}
        self.held_clients = 30 if quick else 1000
        self.queue_runs = 5 if quick else 30
        self.cold_launches = 1 if quick else 3
        self.accounts = 50 if quick else 1000


def not_available(scenario: str, backend: str, reason: str) -> Figure:
    return Figure(scenario, 'not available', float('nan'), backend=backend, note=reason[:160].replace('|', '/'))


def attempt(scenario: str, backend: str, fn: Callable[[], list[Figure]]) -> list[Figure]:
    """fn's figures, or one 'not available' row when its module is missing or it fails."""
    started = time.perf_counter()
    print(f'\n--- {scenario} ({backend}) ---', flush=True)
    try:
        figures = fn()
    except ModuleNotFoundError as exc:
        print(f'{scenario}: module missing ({exc})', flush=True)
        return [not_available(scenario, backend, f'模块缺失：{exc.name}')]
    except Exception as exc:  # noqa: BLE001 - one scenario's failure must not stop the others
        traceback.print_exc()
        return [not_available(scenario, backend, f'{type(exc).__name__}: {exc}'.splitlines()[0])]
    print(f'{scenario}: {len(figures)} figures in {time.perf_counter() - started:.0f} s', flush=True)
    return figures


def with_server(data_dir: Path, database_url: str | None, fn: Callable[[AppServer], list[Figure]],
                env: dict[str, str] | None = None) -> list[Figure]:
    server = AppServer(data_dir, database_url, env=env or {})
    server.start()
    try:
        return fn(server)
    finally:
        server.stop()


def run_size(backend: str, rows: int, scenarios: list[str], settings: Settings, work_dir: Path, pg_server: str,
             first_size: bool, checkpoint: Callable[[list[Figure]], None] = lambda figures: None) -> list[Figure]:
    """The figures of every scenario at this backend and size; checkpoint(figures so far) after each."""
    data_dir, database_url, facts = seed.cached(work_dir, backend, rows, accounts=settings.accounts,
                                                pg_server=pg_server)
    accounts = [(seed.account_name(i), seed.ACCOUNT_PASSWORD) for i in range(settings.accounts)]
    size = f'{rows:,}'
    figures: list[Figure] = [Figure(f'种子数据 @{size}', '生成用时（缓存）', facts['seconds'], 's', backend=backend,
                                    note=f'每表 {rows:,} 行；app_user {facts["counts"]["app_user"]:,} 行；'
                                         f'生成于 {facts["seeded_at"]}')]
    for name in scenarios:
        if name == 'queues':
            from benchmarks import queues
            figures += attempt('queues', backend, lambda: queues.run(data_dir, database_url, backend, rows,
                                                                     runs=settings.queue_runs, facts=facts))
        elif name == 'storm':
            from benchmarks.load import login_storm
            figures += attempt('storm', backend, lambda: with_server(data_dir, database_url, lambda srv: _tag(
                login_storm.run(srv.base_url, accounts[:settings.storm_count], settings.storm_count,
                                settings.storm_duration, backend), size)))
        elif name == 'paging':
            figures += attempt('paging', backend, lambda: with_server(data_dir, database_url, lambda srv: _tag(
                importlib.import_module('benchmarks.load.paging_clients').run(
                    srv.base_url, srv.pid, backend=backend, clients=settings.paging_clients,
                    accounts=accounts[:settings.paging_clients], **settings.paging_options), size)))
        elif name == 'held':
            # the server writes its GC pauses and event-loop lag to this file (main.py, GLRC_GC_LOG)
            probe_log = work_dir / f'held-{backend}-{seed.size_label(rows)}.gc.log'
            probe_log.unlink(missing_ok=True)
            figures += attempt('held', backend, lambda p=probe_log: with_server(data_dir, database_url, lambda srv: _tag(
                importlib.import_module('benchmarks.load.held_clients').run(
                    srv.base_url, srv.pid, backend=backend, clients=settings.held_clients, accounts=accounts,
                    probe_log=p), size), env={'GLRC_GC_LOG': str(p)}))
        elif name == 'upload':
            if not first_size:
                continue
            upload_dir = work_dir / f'{backend}-upload'
            upload_dir.mkdir(parents=True, exist_ok=True)
            figures += attempt('upload', backend, lambda d=upload_dir: importlib.import_module(
                'benchmarks.upload_download').run(d, database_url, backend=backend))
        elif name == 'cold':
            from benchmarks import cold_start
            figures += attempt('cold', backend, lambda: cold_start.run(data_dir, database_url, backend,
                                                                       count=settings.cold_launches, rows=rows))
        checkpoint(figures)
    return figures


def _tag(figures: list[Figure], size: str) -> list[Figure]:
    """Name the data size in a server scenario's rows (the helpers do not know it)."""
    for figure in figures:
        if '@' not in figure.scenario:
            figure.scenario = f'{figure.scenario} @{size}'
    return figures


# ---- the machine ------------------------------------------------------------------------------------
def machine(pg_server: str, backends: list[str]) -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        cpuinfo = Path('/proc/cpuinfo').read_text()
        model = next((line.split(':', 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith('model name')),
                     platform.processor() or '?')
        info['CPU'] = f'{model}, {os.cpu_count()} cores'
        mem_kb = next(int(line.split()[1]) for line in Path('/proc/meminfo').read_text().splitlines()
                      if line.startswith('MemTotal:'))
        info['RAM'] = f'{mem_kb / 1024 / 1024:.1f} GiB'
    except (OSError, StopIteration):
        info['CPU'] = platform.processor() or '?'
    info['OS'] = f'{platform.system()} {platform.release()}'
    try:   # the machine is shared (tests, other benchmarks): how busy it was when the run ended
        info['Load average (1/5/15 min, at the end)'] = ' '.join(Path('/proc/loadavg').read_text().split()[:3])
    except OSError:
        pass
    info['Python'] = platform.python_version()
    info['SQLite'] = sqlite3.sqlite_version
    if 'postgresql' in backends:
        try:
            from sqlalchemy import create_engine, text
            engine = create_engine(pg_server)
            with engine.connect() as conn:
                info['PostgreSQL'] = str(conn.execute(text('SHOW server_version')).scalar())
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            info['PostgreSQL'] = f'unreachable ({type(exc).__name__})'
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        info['git'] = commit + (' (with uncommitted changes)' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        info['git'] = '?'
    return info


HOW_TO_READ = """\
How to read it: every figure was measured in this one run, on this machine, while other work may have
been running on it (2 cores: the test suite, other benchmarks). Absolute milliseconds are noisy; the
ratios (deep page / page 1, held / idle throughput, transfer / plain transfer) were measured side by
side in the same run and are the steadier reading. 「达标」 is the figure against its target; '—' has no
target (context). Queue figures are server time of the service call (no HTTP, no rendering), p95 over
30 calls after warm-up; 「最慢筛选」 is the slowest of the filters of that queue and role (every filter is
in the detail table below). Counts stop at 10,001 rows (shown 「10,000+」). Seeding is cached per
backend and size (its time is from when it ran)."""


def write_results(path: Path, command: str, info: dict[str, str], figures: list[Figure], started: datetime,
                  seconds: float, *, earlier: str = '', partial: bool = False) -> None:
    """RESULTS.md: date, machine, command, how to read, the summary table, missed targets, the detail
    table. earlier: the runs already in the file, kept above this one (--append). partial: written
    after a scenario while the run goes on (an interrupted run leaves what it measured)."""
    main = [f for f in figures if f.group != 'detail']
    detail = [f for f in figures if f.group == 'detail']
    if earlier:
        earlier = earlier.rstrip() + '\n\n---\n\n'
    lines = ['# Benchmark results (issue 11)' if not earlier else f'# Run of {started:%Y-%m-%d %H:%M} UTC', '',
             f'- Date: {started:%Y-%m-%d %H:%M} UTC ' + (f'(PARTIAL: the run was still going after {seconds / 60:.0f} min, '
                                                          'or was interrupted)' if partial else
                                                          f'(the run took {seconds / 60:.0f} min)')]
    lines += [f'- {key}: {value}' for key, value in info.items()]
    lines += [f'- Command: `{command}`', '', HOW_TO_READ, '', '## Summary', '', table(main), '']
    missed = [f for f in main if f.ok is False]
    if missed:
        lines += ['## Missed targets', '']
        lines += [f'- {f.scenario} · {f.metric} ({"PostgreSQL" if f.backend == "postgresql" else "SQLite"}): '
                  f'{f.shown()} (target {f.target}) {f.note}' for f in missed]
        lines.append('')
    if detail:
        lines += ['## Detail (every queue filter, start-up steps, imports)', '', table(detail), '']
    path.write_text(earlier + '\n'.join(lines) + '\n', encoding='utf-8')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--rows', type=int, nargs='+', help='sizes (default 100000 1000000; --quick: 2000)')
    parser.add_argument('--backends', nargs='+', choices=('sqlite', 'postgresql'), default=['sqlite'])
    parser.add_argument('--quick', action='store_true', help='small sizes and counts: a smoke run of a few minutes')
    parser.add_argument('--only', nargs='+', choices=SCENARIOS, metavar='SCENARIO', help=' '.join(SCENARIOS))
    parser.add_argument('--work-dir', type=Path, default=seed.default_work_dir())
    parser.add_argument('--pg-server', default=seed.DEFAULT_PG_SERVER,
                        help='a PostgreSQL server URL; the databases glrc_bench_<size> are created on it')
    parser.add_argument('--results', type=Path, help=f'write the results here (default {RESULTS.name}, '
                                                     'not written by --quick)')
    parser.add_argument('--append', action='store_true', help='add this run to the results file instead of '
                                                              'replacing it')
    parser.add_argument('--details', action='store_true', help='also print the detail table')
    args = parser.parse_args(argv)
    settings = Settings(args.quick)
    sizes = args.rows or ([2_000] if args.quick else [100_000, 1_000_000])
    started, began = datetime.now(UTC), time.perf_counter()
    command = 'python benchmarks/run.py ' + ' '.join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    results = args.results or (None if args.quick else RESULTS)
    earlier = results.read_text(encoding='utf-8') if args.append and results and results.exists() else ''
    info = machine(args.pg_server, args.backends)
    figures: list[Figure] = []

    def checkpoint(current: list[Figure]) -> None:
        if results:
            write_results(results, command.strip(), info, figures + current, started, time.perf_counter() - began,
                          earlier=earlier, partial=True)

    for backend in args.backends:
        scenarios = list(args.only or (SCENARIOS if backend == 'sqlite' else PG_DEFAULT))
        for index, rows in enumerate(sizes):
            print(f'\n===== {backend}, {rows:,} rows: {", ".join(scenarios)} =====', flush=True)
            figures += run_size(backend, rows, scenarios, settings, args.work_dir, args.pg_server, index == 0,
                                checkpoint)
    seconds = time.perf_counter() - began
    print('\n' + table([f for f in figures if args.details or f.group != 'detail']))
    if results:
        write_results(results, command.strip(), machine(args.pg_server, args.backends), figures, started, seconds,
                      earlier=earlier)
        print(f'\nwritten to {results}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
