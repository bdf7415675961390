"""Cold start (issue 11 item 5): `python main.py` from launch to the first 200 of /healthz on a seeded
data dir (target ≤ 3 s on SQLite with 1M rows), and what start-up pays for.

    python benchmarks/cold_start.py --rows 1000000 [--backend postgresql]

- launch → /healthz 200: the median of 3 launches (common.AppServer.start_seconds), each process
  stopped before the next starts (the OS file cache stays warm: a start after a reboot is slower);
- the start-up steps timed one by one in a fresh process, in main.serve()'s order: the imports of
  main.py, settings, engine, the migration check (quick: the database's revision against the newest
  migration file, no Alembic when they match), entities, org and 认定目录 seeding, importing the
  pages, the sweep of orphaned uploads, registering the pages; the rest of a launch (NiceGUI/uvicorn
  start-up, the first /healthz) is launch minus their sum;
- `python -X importtime`: self time of every imported module summed per top-level package (what
  the imports of start-up are made of)."""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import AppServer, Figure, check, child_env, cpu_seconds, table  # noqa: E402

TARGET_S = 3.0
LAUNCHES = 3

# the steps of main.serve() before ui.run, timed in a fresh process (prints one JSON line)
STEPS = r'''
import json, time
t0 = time.perf_counter(); marks = {}
def mark(name):
    global t0
    now = time.perf_counter(); marks[name] = now - t0; t0 = now
import main
mark('import main (nicegui, sqlalchemy, models, cli)')
from glrc_ui import config
settings = config.reset()
mark('settings (config.reset)')
from db import engine
engine.init_engine(settings.database_url)
mark('engine')
quick = engine.at_head(engine.get_engine())
engine.migrate(quick=True)
mark('migration check (at head: %s)' % quick)
from glrc_ui import entities
entities.register_all()
mark('entities')
from glrc_ui.services import catalogue, orgs
orgs.seed()
catalogue.ensure_seeded()
mark('orgs and 认定目录 seeding')
from nicegui import storage
import pages
from glrc_ui import http
from glrc_ui.services import files
from components import socket_guard
mark('import pages, components')
files.use_private_tempdir()
files.sweep_orphans()
mark('sweep of orphaned uploads')
pages.register_all()
socket_guard.install()
mark('register pages')
engine.get_engine().dispose()
print(json.dumps(marks, ensure_ascii=False))
'''


def launches(data_dir: Path, database_url: str | None, count: int = LAUNCHES) -> tuple[list[float], list[float]]:
    """(wall seconds launch → first /healthz 200, CPU seconds the server used by then) per launch. The
    CPU seconds hardly depend on what else runs on the machine; the wall seconds do."""
    seconds, cpu = [], []
    for _ in range(count):
        server = AppServer(data_dir, database_url)
        try:
            server.start()
            cpu.append(cpu_seconds(server.pid))
            seconds.append(server.start_seconds)
        finally:
            server.stop()
    return seconds, cpu


def steps(data_dir: Path, database_url: str | None) -> dict[str, float]:
    result = subprocess.run([sys.executable, '-c', STEPS], cwd=ROOT, env=child_env(data_dir, database_url),
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f'start-up steps failed:\n{result.stderr[-3000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_times(data_dir: Path, database_url: str | None) -> tuple[float, Counter]:
    """(total import seconds, self seconds per top-level package) of importing main and the pages."""
    result = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'import main, pages, components.socket_guard'],
                            cwd=ROOT, env=child_env(data_dir, database_url), capture_output=True, text=True,
                            timeout=300)
    per_package: Counter = Counter()
    total = 0.0
    for line in result.stderr.splitlines():
        if not line.startswith('import time:') or 'self [us]' in line:
            continue
        self_us, cumulative_us, name = line[len('import time:'):].split('|')
        package = name.strip().split('.')[0]
        per_package[package] += int(self_us) / 1e6
        if len(name) - len(name.lstrip()) <= 1:     # a top-level import (nested ones are indented more)
            total += int(cumulative_us) / 1e6
    return total, per_package


def run(data_dir: Path, database_url: str | None, backend: str, *, count: int = LAUNCHES,
        rows: int | None = None) -> list[Figure]:
    data_dir = Path(data_dir)
    size = f' @{rows:,}' if rows else ''
    seconds, cpu = launches(data_dir, database_url, count)
    median = statistics.median(seconds)
    figures = [Figure(f'冷启动{size}', f'启动 → /healthz 200（{count} 次中位）', median, 's',
                      f'≤ {TARGET_S:.0f}' if backend == 'sqlite' else '',
                      check(median, at_most=TARGET_S) if backend == 'sqlite' else None, backend,
                      '各次 ' + ' / '.join(f'{s:.2f}' for s in seconds) + ' s'),
               Figure(f'冷启动{size}', '启动到 /healthz 200 时服务器已用 CPU（中位）', statistics.median(cpu), 's',
                      backend=backend, note='与机器上其他负载基本无关；墙钟时间 ≈ CPU 时间 ÷ 可得的 CPU 份额')]
    marks = steps(data_dir, database_url)
    accounted = sum(marks.values())
    for name, took in marks.items():
        figures.append(Figure(f'冷启动{size}', f'步骤：{name}', took * 1000, 'ms', backend=backend, group='detail'))
    figures.append(Figure(f'冷启动{size}', '步骤：NiceGUI/uvicorn 启动与首个 /healthz（启动减以上各步）',
                          max(0.0, median - accounted) * 1000, 'ms', backend=backend, group='detail'))
    slowest = sorted(marks.items(), key=lambda kv: -kv[1])[:3]
    figures.append(Figure(f'冷启动{size}', 'ui.run 之前各步合计', accounted, 's', backend=backend,
                          note='最多：' + '；'.join(f'{n} {t * 1000:.0f} ms' for n, t in slowest)))
    total, per_package = import_times(data_dir, database_url)
    top = per_package.most_common(8)
    figures.append(Figure(f'冷启动{size}', 'import 合计（main + pages）', total, 's', backend=backend,
                          note='；'.join(f'{p} {t * 1000:.0f} ms' for p, t in top[:5])))
    for package, took in top:
        figures.append(Figure(f'冷启动{size}', f'import {package}（自身时间合计）', took * 1000, 'ms', backend=backend,
                              group='detail'))
    return figures


def main(argv: list[str] | None = None) -> int:
    from benchmarks import seed
    parser = argparse.ArgumentParser(description=(__doc__ or '').split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--backend', choices=('sqlite', 'postgresql'), default='sqlite')
    parser.add_argument('--work-dir', type=Path, default=seed.default_work_dir())
    parser.add_argument('--launches', type=int, default=LAUNCHES)
    args = parser.parse_args(argv)
    data_dir, url, _ = seed.cached(args.work_dir, args.backend, args.rows)
    print(table(run(data_dir, url, args.backend, count=args.launches, rows=args.rows)))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
