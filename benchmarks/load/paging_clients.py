"""Many clerks paging a review queue at once (issue 11, item 4): N logged-in center staff on
/review/units (单位注册审核), each turning the table's pages, measured from outside the server.

    # a server of its own on a data dir with accounts bench0000… and many units:
    python benchmarks/load/paging_clients.py --data-dir /tmp/ld/data --clients 300
    # or against a running server:
    python benchmarks/load/paging_clients.py --url http://127.0.0.1:8097 --pid 12345 --clients 300

A page change is what the browser sends when the clerk clicks the table's next-page arrow (Quasar's
q-table in server mode): a 'request' event {pagination: {page, rowsPerPage, sortBy, descending,
rowsNumber}} for the table; the figure is the time from sending it to receiving the 'update' message
that carries the table's new rows. Each clerk turns forward through pages 1…10, then starts again at 1.

The rhythm is an assumption, and the figure depends on it. 300 clerks clicking in the same millisecond
would need under 0.7 ms of server CPU per page change for a 200 ms answer, which no Python server
gives. The default rhythm is a clerk's: each client waits 3–10 s (uniformly at random, and starting at
a random moment) between page changes, reading the rows, i.e. 300 clients ≈ 46 page changes per second
in all. A tighter rhythm (1–3 s, ≈ 150 per second: every clerk skimming) is reported too, as a stress
figure without a target. Targets: p95 ≤ 200 ms for the clerk's rhythm.

The load client runs on the same machine as the server (2 cores here): its own CPU competes with the
server's, so read the figures as ratios between runs rather than absolutes.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import AppServer, Figure, check, cpu_seconds, percentile  # noqa: E402
from benchmarks.load.held_clients import DEFAULT_PASSWORD, bench_accounts, open_tab, sign_in_many  # noqa: E402
from benchmarks.load.nicegui_client import Browser, PageSocket  # noqa: E402

PATH = '/review/units'
RHYTHMS = {'clerk': (3.0, 10.0), 'tight': (1.0, 3.0)}   # seconds between one client's page changes
PAGES = 10            # each clerk pages forward through 1…PAGES, then starts at 1 again
PER_PAGE = 20         # the queue's default rows per page (components/paged_table.py)
ANSWER_TIMEOUT = 30.0
OPEN_IN_FLIGHT = 10     # queue pages opening at once before the paging starts


@dataclass
class Clerk:
    socket: PageSocket
    table: int
    listener: str
    total: int
    page: int = 1
    latencies: list[float] = field(default_factory=list)   # ms
    failures: list[str] = field(default_factory=list)

    async def turn_page(self) -> None:
        """Click the next page (back to page 1 after PAGES); wait for the table's update."""
        self.page = self.page + 1 if self.page < PAGES else 1
        pagination = {'page': self.page, 'rowsPerPage': PER_PAGE, 'sortBy': 'submitted_at', 'descending': False,
                      'rowsNumber': self.total}
        seen = len(self.socket.messages)
        began = time.monotonic()
        try:
            await self.socket.event(self.table, self.listener, {'pagination': pagination})
        except socketio.exceptions.SocketIOError as exc:   # dropped (reconnecting): the click is lost
            self.failures.append(f'not sent: {type(exc).__name__}: {exc}')
            return
        deadline = began + ANSWER_TIMEOUT
        while True:
            for element_id, element in self.socket.updated_elements(seen):
                if element_id == self.table and element is not None:
                    shown = (element.get('props') or {}).get('pagination') or {}
                    if shown.get('page') != self.page:
                        self.failures.append(f'asked for page {self.page}, got {shown.get("page")}')
                    else:
                        self.latencies.append((time.monotonic() - began) * 1000)
                        self.total = int(shown.get('rowsNumber') or self.total)
                    return
            for kind, data in self.socket.messages[seen:]:
                if kind in ('open', 'notify'):   # 登录已失效, 无权… : the click did not page
                    self.failures.append(f'{kind}: {data}')
                    return
            if self.socket.lost or time.monotonic() > deadline:
                self.failures.append(self.socket.lost or 'no answer within 30 s')
                return
            self.socket.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.socket.changed.wait(), max(0.01, deadline - time.monotonic()))


async def open_queue(browser: Browser) -> Clerk:
    tab = await open_tab(browser, PATH)
    if tab.socket is None:
        raise RuntimeError(f'{PATH}: {tab.error}')
    page = tab.socket.page
    # ui.table is NiceGUI's component 'nicegui-table' (table.js, wrapping Quasar's q-table)
    tables = page.find('nicegui-table') or page.find('q-table')
    if len(tables) != 1:
        raise RuntimeError(f'{PATH}: expected one table, found {len(tables)}')
    table = tables[0]
    listener = page.listener(table, 'request')
    total = int(((page.elements[table].get('props') or {}).get('pagination') or {}).get('rowsNumber') or 0)
    return Clerk(tab.socket, table, listener, total)


async def page_for(clerks: list[Clerk], rhythm: tuple[float, float], seconds: float) -> None:
    """Every clerk pages at the rhythm (random waits within it) until `seconds` have passed."""
    end = time.monotonic() + seconds

    async def clerk_loop(clerk: Clerk) -> None:
        await asyncio.sleep(random.uniform(0, rhythm[1]))   # not all starting together
        while time.monotonic() < end:
            await clerk.turn_page()
            await asyncio.sleep(random.uniform(*rhythm))

    await asyncio.gather(*(clerk_loop(c) for c in clerks))


async def _run(base_url: str, pid: int, backend: str, clients: int, accounts: list[tuple[str, str]],
               seconds: float, rhythms: dict[str, tuple[float, float]]) -> list[Figure]:
    figures: list[Figure] = []
    print(f'signing in {len(accounts)} accounts…', flush=True)
    browsers, errors = await sign_in_many(base_url, accounts)
    print(f'  {len(browsers)} signed in, {len(errors)} failed' + (f'; first: {errors[0]}' if errors else ''),
          flush=True)
    if not browsers:
        raise RuntimeError(f'no account could log in: {errors[:3]}')
    try:
        gate = asyncio.Semaphore(OPEN_IN_FLIGHT)   # tabs opened a few at a time: the opening is not measured

        async def opened_queue(i: int) -> Clerk:
            async with gate:
                return await open_queue(browsers[i % len(browsers)])

        began = time.monotonic()
        opened = await asyncio.gather(*(opened_queue(i) for i in range(clients)), return_exceptions=True)
        print(f'  opened in {time.monotonic() - began:.1f} s', flush=True)
        clerks = [c for c in opened if isinstance(c, Clerk)]
        broken = [c for c in opened if not isinstance(c, Clerk)]
        print(f'  {len(clerks)} queue pages open ({len(broken)} failed'
              + (f': {broken[0]}' if broken else '') + f'); {clerks[0].total if clerks else 0} units in the queue',
              flush=True)
        for name, rhythm in rhythms.items():
            scenario = f'{clients} 人同时翻页（每人每 {rhythm[0]:g}–{rhythm[1]:g} s 一次）'
            for clerk in clerks:
                clerk.latencies.clear(), clerk.failures.clear()
            cpu_before, began = cpu_seconds(pid), time.monotonic()
            await page_for(clerks, rhythm, seconds)
            wall = time.monotonic() - began
            cpu = cpu_seconds(pid) - cpu_before
            latencies = [ms for c in clerks for ms in c.latencies]
            failures = [f for c in clerks for f in c.failures]
            count = len(latencies)
            target, at_most = ('≤ 200', 200.0) if name == 'clerk' else ('', None)
            p95 = percentile(latencies, 95)
            rows = [
                ('p50 翻页耗时', percentile(latencies, 50), 'ms', '', None, ''),
                ('p95 翻页耗时', p95, 'ms', target, check(p95, at_most=at_most) if at_most else None,
                 f'{count} 次翻页，{count / wall:.0f} 次/s'),
                ('最长翻页耗时', max(latencies) if latencies else float('nan'), 'ms', '', None, ''),
                ('每次翻页的服务器 CPU', cpu / max(1, count) * 1000, 'ms', '', None,
                 f'服务器 CPU {cpu / wall * 100:.0f} %'),
                ('翻页失败', len(failures), '', '0', not failures, '; '.join(sorted(set(failures))[:3])),
            ]
            drops = sum(len(c.socket.drops) for c in clerks)
            if drops:
                rows.append(('掉线（已重连）', drops, '', '0', False, '; '.join(sorted({d for c in clerks
                                                                                for d in c.socket.drops})[:3])))
            for metric, value, unit, tgt, ok, note in rows:
                figures.append(Figure(scenario, metric, value, unit, tgt, ok, backend, note))
                print(f'  [{name}] {metric}: {figures[-1].shown()} {tgt and f"(target {tgt})"} {note}', flush=True)
    finally:
        for browser in browsers:
            with contextlib.suppress(Exception):
                await browser.close()
    return figures


def run(base_url: str, pid: int, backend: str = 'sqlite', clients: int = 300,
        accounts: list[tuple[str, str]] | None = None, *, seconds: float = 60.0,
        rhythms: dict[str, tuple[float, float]] | None = None, seed: int = 2026) -> list[Figure]:
    """accounts: (account, password) of center staff (default bench0000…), one login each, at most
    `clients` of them (fewer: tabs share browsers). seconds: how long each rhythm runs. rhythms: name ->
    (min, max) seconds between one client's page changes (default clerk 3–10 s with the target, tight 1–3 s)."""
    random.seed(seed)
    accounts = list(accounts or bench_accounts(clients))[:clients]
    return asyncio.run(_run(base_url, pid, backend, clients, accounts, seconds, rhythms or RHYTHMS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', help='a running server (with --pid); else --data-dir starts one')
    parser.add_argument('--pid', type=int)
    parser.add_argument('--data-dir', type=Path)
    parser.add_argument('--database-url')
    parser.add_argument('--clients', type=int, default=300)
    parser.add_argument('--accounts', type=int, help='how many accounts (default: one per client)')
    parser.add_argument('--prefix', default='bench')
    parser.add_argument('--password', default=DEFAULT_PASSWORD)
    parser.add_argument('--seconds', type=float, default=60.0, help='per rhythm')
    parser.add_argument('--rhythm', action='append', default=[], help='NAME=MIN-MAX seconds (default clerk, tight)')
    parser.add_argument('--env', action='append', default=[], help='KEY=VALUE for the started server')
    args = parser.parse_args()
    accounts = bench_accounts(args.accounts or args.clients, args.prefix, args.password)
    rhythms: dict[str, tuple[float, float]] = {}
    for spec in args.rhythm:
        name, span = spec.split('=', 1)
        low, high = span.split('-')
        rhythms[name] = (float(low), float(high))
    backend = 'postgresql' if (args.database_url or '').startswith('postgresql') else 'sqlite'
    if args.url:
        run(args.url, args.pid, backend, args.clients, accounts, seconds=args.seconds, rhythms=rhythms or None)
    else:
        if not args.data_dir:
            parser.error('--url with --pid, or --data-dir')
        with AppServer(args.data_dir, args.database_url, env=dict(e.split('=', 1) for e in args.env)) as server:
            print(f'server {server.base_url} pid {server.pid}', flush=True)
            run(server.base_url, server.pid, backend, args.clients, accounts, seconds=args.seconds,
                rhythms=rhythms or None)
    return 0


if __name__ == '__main__':
    sys.exit(main())
