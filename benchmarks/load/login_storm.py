"""Login storm against a running server: N staff logins spread evenly over D seconds, each as a
browser does it (nicegui_client.login), while /healthz is sampled one request at a time.

    # a server of its own (any data dir), then its accounts, then the storm:
    GLRC_DATA_DIR=/tmp/storm GLRC_PORT=8097 python main.py &
    GLRC_DATA_DIR=/tmp/storm python benchmarks/load/login_storm.py --create --count 300
    python benchmarks/load/login_storm.py --url http://127.0.0.1:8097 --count 300 --duration 60

--create makes the accounts storm000… (role center, password --password) in this process through
glrc_ui.services.accounts.create_staff, against GLRC_DATA_DIR / GLRC_DATABASE_URL (the server's),
skipping those that exist; it does not run a storm. Prints successes, failures by reason, HTTP
statuses, login latency p50/p95/max and the latency p50/p95/p99/max of /healthz (and of /favicon.ico,
which needs no thread of NiceGUI's io pool) during the storm.
--json FILE writes every login's result too.

benchmarks/run.py calls run(base_url, accounts, count, duration, backend) with the seeded accounts
(benchmarks/seed.py: bench0000…) and puts its figures in the one table.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.load.nicegui_client import LoginResult, login, percentile  # noqa: E402

DEFAULT_PASSWORD = 'St0rm#Glrc2026'


def account_name(prefix: str, i: int) -> str:
    return f'{prefix}{i:03d}'


def create_accounts(prefix: str, count: int, password: str) -> None:
    from sqlalchemy import select

    from db.engine import session_scope
    from db.models import User
    from glrc_ui import cli
    from glrc_ui.services import accounts
    cli.prepare()
    with session_scope() as s:
        existing = set(s.scalars(select(User.account).where(User.account.like(f'{prefix}%'))))
    made = 0
    for i in range(count):
        account = account_name(prefix, i)
        if account not in existing:
            accounts.create_staff('center', account, password, f'压测员{i:03d}')
            made += 1
    print(f'{made} accounts created, {count - made} existed ({prefix}000…{account_name(prefix, count - 1)})')


async def sample(url: str, path: str, stop: asyncio.Event, interval: float) -> list[float]:
    """Latencies of GET path, one request at a time (a failed or non-200 answer counts as inf)."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        while not stop.is_set():
            start = time.monotonic()
            try:
                async with http.get(url + path) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies.append(time.monotonic() - start if ok else float('inf'))
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass
    return latencies


async def storm(url: str, accounts: list[tuple[str, str]], count: int, duration: float, timeout: float,
                healthz_interval: float) -> tuple[list[LoginResult], dict[str, list[float]], float]:
    """count logins (account i % len(accounts)) started evenly over duration seconds."""
    stop = asyncio.Event()
    # /healthz takes a thread of NiceGUI's io pool (as the logins do); /favicon.ico takes none (a small
    # response from Starlette's own thread pool): a slow favicon means a busy event loop or CPU, a slow
    # /healthz alone a waiting io pool
    samplers = {path: asyncio.create_task(sample(url, path, stop, healthz_interval))
                for path in ('/healthz', '/favicon.ico')}
    await asyncio.sleep(1.0)  # a few idle samples first
    start = time.monotonic()

    async def one(i: int) -> LoginResult:
        await asyncio.sleep(max(0.0, start + i * duration / count - time.monotonic()))
        account, password = accounts[i % len(accounts)]
        return await login(url, account, password, timeout=timeout)

    results = await asyncio.gather(*(one(i) for i in range(count)))
    wall = time.monotonic() - start
    stop.set()
    return list(results), {path: await task for path, task in samplers.items()}, wall


def report(results: list[LoginResult], probes: dict[str, list[float]], wall: float, duration: float) -> None:
    ok = [r for r in results if r.ok]
    seconds = [r.seconds for r in ok]
    print(f'logins: {len(ok)}/{len(results)} succeeded in {wall:.1f} s (planned {duration:.0f} s)')
    if seconds:
        print(f'  latency of the successful ones: p50 {percentile(seconds, 50):.3f} s, '
              f'p95 {percentile(seconds, 95):.3f} s, max {max(seconds):.3f} s')
        phases = sorted({name for r in ok for name in r.phases})
        print('  per step p50/p95: ' + ', '.join(
            f'{name} {percentile([r.phases.get(name, 0.0) for r in ok], 50):.3f}/'
            f'{percentile([r.phases.get(name, 0.0) for r in ok], 95):.3f}' for name in phases))
        hops: dict[str, list[float]] = {}
        for r in ok:
            for (path, _), took in zip(r.statuses, r.hop_seconds, strict=True):
                hops.setdefault(path.split('?')[0], []).append(took)
        print('  per request p50/p95: ' + ', '.join(
            f'GET {path} {percentile(t, 50):.3f}/{percentile(t, 95):.3f}' for path, t in hops.items()))
    dropped = [r for r in results if r.socket_drops]
    if dropped:
        print(f'  logins whose login-page socket dropped (and reconnected): {len(dropped)}, reasons '
              f'{dict(Counter(reason for r in dropped for reason in r.socket_drops))}')
    statuses = Counter(status for r in results for _, status in r.statuses)
    print(f'  HTTP statuses: {dict(sorted(statuses.items()))}; 5xx: {sum(n for s, n in statuses.items() if s >= 500)}')
    failures = Counter((r.error or '')[:160] for r in results if not r.ok)
    for error, n in failures.most_common(10):
        print(f'  failed ×{n}: {error}')
    for path, latencies in probes.items():
        answered = [x for x in latencies if x != float('inf')]
        print(f'{path} during the storm: {len(latencies)} samples, {len(latencies) - len(answered)} failed; '
              f'p50 {percentile(answered, 50) * 1000:.0f} ms, p95 {percentile(answered, 95) * 1000:.0f} ms, '
              f'p99 {percentile(answered, 99) * 1000:.0f} ms, max {max(answered, default=float("nan")) * 1000:.0f} ms')


def run(base_url: str, accounts: list[tuple[str, str]], count: int = 300, duration: float = 60.0,
        backend: str = 'sqlite', *, timeout: float = 120.0, healthz_interval: float = 0.05) -> list:
    """The storm as figures for benchmarks/run.py: logins that reached 首页, 5xx answers, login latency
    p50/p95/max, and /healthz (and /favicon.ico) p99 during the storm (one request at a time)."""
    from benchmarks.common import Figure
    results, probes, wall = asyncio.run(storm(base_url.rstrip('/'), accounts, count, duration, timeout,
                                              healthz_interval))
    report(results, probes, wall, duration)
    scenario = f'登录高峰 {count}/{duration:.0f} s'
    ok = [r for r in results if r.ok]
    seconds = [r.seconds for r in ok]
    statuses = Counter(status for r in results for _, status in r.statuses)
    errors = Counter((r.error or '')[:80] for r in results if not r.ok).most_common(2)
    figures = [
        Figure(scenario, '登录成功（到达首页）', len(ok), '', f'= {count}', len(ok) == count, backend,
               '；'.join(f'失败 ×{n}：{e}' for e, n in errors) or f'用时 {wall:.0f} s'),
        Figure(scenario, '5xx 响应', sum(n for s, n in statuses.items() if s >= 500), '', '= 0',
               not any(s >= 500 for s in statuses), backend),
        Figure(scenario, '登录耗时 p50', percentile(seconds, 50) * 1000, 'ms', backend=backend),
        Figure(scenario, '登录耗时 p95', percentile(seconds, 95) * 1000, 'ms', backend=backend,
               note=f'最长 {max(seconds, default=float("nan")) * 1000:.0f} ms'),
    ]
    for path, latencies in probes.items():
        answered = [x for x in latencies if x != float('inf')]
        failed = len(latencies) - len(answered)
        figures.append(Figure(scenario, f'{path} p99（高峰期间）', percentile(answered, 99) * 1000, 'ms',
                              backend=backend, note=f'{len(latencies)} 次采样，失败 {failed}；p50 '
                                                    f'{percentile(answered, 50) * 1000:.0f} ms'))
        figures[-1].ok = None if not failed else False
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', default='http://127.0.0.1:8097')
    parser.add_argument('--count', type=int, default=300)
    parser.add_argument('--duration', type=float, default=60.0, help='seconds over which the logins start')
    parser.add_argument('--prefix', default='storm')
    parser.add_argument('--password', default=DEFAULT_PASSWORD)
    parser.add_argument('--timeout', type=float, default=120.0, help='seconds a login may take')
    parser.add_argument('--healthz-interval', type=float, default=0.05)
    parser.add_argument('--create', action='store_true', help='create the accounts (in this process) and exit')
    parser.add_argument('--json', type=Path, help='write every login result to this file')
    args = parser.parse_args()
    if args.create:
        create_accounts(args.prefix, args.count, args.password)
        return 0
    accounts = [(account_name(args.prefix, i), args.password) for i in range(args.count)]
    results, probes, wall = asyncio.run(storm(args.url.rstrip('/'), accounts, args.count, args.duration,
                                               args.timeout, args.healthz_interval))
    report(results, probes, wall, args.duration)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1), encoding='utf-8')
    return 0 if all(r.ok for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
