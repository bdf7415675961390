"""Many open tabs (issue 11, item 4): N logged-in staff tabs connected at once and held open, measured
from outside the server.

    # a server of its own with the probes on (GLRC_GC_LOG), 1,000 accounts bench0000… in its data dir:
    python benchmarks/load/held_clients.py --data-dir /tmp/ld/data --clients 1000
    # or against a running server (started with GLRC_GC_LOG=FILE for the GC and lag figures):
    python benchmarks/load/held_clients.py --url http://127.0.0.1:8097 --pid 12345 --probe-log FILE

What a tab is: a logged-in staff member's page with its socket.io connection held open, as a browser
keeps it (nicegui_client.PageSocket: acknowledges every 3 s, answers pings). Logged-in tabs, not the
login page: the tabs that stay open for hours in an office are the signed-in ones, and they carry the
frame (header, menu, the session timer) and a NiceGUI user storage per browser, which the login page
has not. The default page is /review/units (a center clerk's unit queue: the frame plus filters and a
20-row table, the heaviest page a clerk keeps open); --path / takes the 首页 instead. Each account logs
in once (its browser keeps the cookie); with fewer accounts than tabs a browser opens several tabs.

Phases and figures:
1. log in the accounts (not timed as a figure: the login storm has its own script), then idle:
   server RSS (baseline), CPU % for 10 s, /healthz requests/s for 10 s (one at a time).
2. connect N tabs, offered at --rate per second (GET the page, connect its socket; a failure is a
   non-200 page, a socket that does not connect in 20 s, or one that drops): clients/s achieved
   (N / time from the first GET to the last socket up; target ≥ 50) and failures (target 0).
3. held: RSS per client ((held − baseline) / N, target ≤ 0.3 MB), CPU % for 10 s (idle-held), /healthz
   requests/s for 10 s (held / idle, target ≥ 0.8); then one forced full collection (SIGUSR2).
4. everything closed; after the server's reconnect_timeout (+5 s) RSS again (tabs pruned?).
From the probe log (glrc_ui/runtime.py install_probes, GLRC_GC_LOG), over phases 2–3: GC pauses (p99, max;
target max ≤ 100 ms), event-loop lag p99 (how late a 100 ms sleep wakes; target ≤ 100 ms), the forced
full collection's pause and the number of objects it walked. Without a probe log these are NaN.

The load client runs on the same machine as the server (2 cores here): its own CPU competes with the
server's, so read the figures as ratios between runs rather than absolutes.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import AppServer, Figure, check, cpu_seconds, percentile, rss_mb  # noqa: E402
from benchmarks.load.nicegui_client import Browser, PageSocket, login  # noqa: E402

SCENARIO = '{n} 个已登录标签页'
DEFAULT_PASSWORD = 'Bench#Glrc2026'
RECONNECT_TIMEOUT = 10.0   # main.py ui.run(reconnect_timeout=…): how long a closed tab's page is kept


def bench_accounts(count: int, prefix: str = 'bench', password: str = DEFAULT_PASSWORD) -> list[tuple[str, str]]:
    """The lead's runner's accounts: bench0000… (role center)."""
    return [(f'{prefix}{i:04d}', password) for i in range(count)]


# ------------------------------------------------------------------------------------- signing in

async def sign_in_many(base_url: str, accounts: list[tuple[str, str]], *, concurrency: int = 6,
                       timeout: float = 120.0) -> tuple[list[Browser], list[str]]:
    """Log every account in (a few at a time: each login hashes a password on the server); their
    browsers, left open with the session cookie, and the errors of those that failed."""
    browsers: list[Browser] = []
    errors: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(account: str, password: str) -> None:
        async with gate:
            browser = Browser(base_url, request_timeout=timeout)
            result = await login(base_url, account, password, connect_home=False, timeout=timeout, browser=browser)
            if result.ok:
                browsers.append(browser)
            else:
                errors.append(f'{account}: {result.error}')
                await browser.close()

    await asyncio.gather(*(one(a, p) for a, p in accounts))
    return browsers, errors


# ------------------------------------------------------------------------------------- the probes

@dataclass
class ProbeLog:
    """Lines of the server's GLRC_GC_LOG file (glrc_ui/runtime.py install_probes) from an offset on."""
    path: Path | None
    offset: int = 0
    gc: list[tuple[float, int, float]] = field(default_factory=list)       # (time, generation, ms)
    lag: list[tuple[float, float]] = field(default_factory=list)           # (time, ms)
    forced: list[tuple[float, float, int]] = field(default_factory=list)   # (time, ms, objects)
    census: list[str] = field(default_factory=list)
    reclaim: list[tuple[float, float, int, int]] = field(default_factory=list)   # (time, ms, collected, frozen)

    def mark(self) -> None:
        """Forget what was read; read from the current end of the file on."""
        self.gc.clear(), self.lag.clear(), self.forced.clear(), self.census.clear(), self.reclaim.clear()
        self.offset = self.path.stat().st_size if self.path and self.path.exists() else 0

    def read(self) -> ProbeLog:
        if not self.path or not self.path.exists():
            return self
        with open(self.path, encoding='utf-8') as f:
            f.seek(self.offset)
            text = f.read()
        self.offset += len(text.encode())
        for line in text.splitlines():
            kind, _, rest = line.partition(' ')
            parts = rest.split()
            with contextlib.suppress(ValueError, IndexError):
                if kind == 'gc':
                    self.gc.append((float(parts[0]), int(parts[1]), float(parts[2])))
                elif kind == 'lag':
                    self.lag.append((float(parts[0]), float(parts[1])))
                elif kind == 'forced':
                    self.forced.append((float(parts[0]), float(parts[1]), int(parts[2])))
                elif kind == 'reclaim':
                    self.reclaim.append((float(parts[0]), float(parts[1]), int(parts[2]), int(parts[3])))
                elif kind == 'census':
                    self.census.append(rest)
        return self

    def pauses(self, generation: int | None = None) -> list[float]:
        return [ms for _, gen, ms in self.gc if generation is None or gen == generation]

    def lags(self) -> list[float]:
        return [ms for _, ms in self.lag]


def signal_server(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


# ------------------------------------------------------------------------------------- measurements

async def healthz_rate(base_url: str, seconds: float = 10.0) -> tuple[float, int]:
    """/healthz requests per second, one at a time for `seconds`; (rate, failed requests)."""
    done = failed = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        end = time.monotonic() + seconds
        began = time.monotonic()
        while time.monotonic() < end:
            try:
                async with http.get(base_url + '/healthz') as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        failed += 1
            except (aiohttp.ClientError, TimeoutError):
                failed += 1
        return done / (time.monotonic() - began), failed


async def cpu_percent(pid: int, seconds: float = 10.0) -> float:
    """The server's CPU use (% of one core) over `seconds`."""
    before, began = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - began) * 100


@dataclass
class Tab:
    socket: PageSocket | None = None
    error: str | None = None
    seconds: float = 0.0


async def open_tab(browser: Browser, path: str) -> Tab:
    """GET a page with this browser's cookies and connect its socket, as a browser opening a tab."""
    began = time.monotonic()
    tab = Tab()
    try:
        page = await browser.open(path)
        if page.status != 200:
            raise RuntimeError(f'{path} answered {page.status}')
        if not page.headings(1):
            raise RuntimeError(f'{path} shows no page (redirected to {page.url}?)')
        tab.socket = await browser.connect(page)
    except Exception as exc:  # noqa: BLE001 - counted as a failure
        tab.error = f'{type(exc).__name__}: {exc}'
    tab.seconds = time.monotonic() - began
    return tab


async def connect_tabs(browsers: list[Browser], clients: int, path: str, rate: float,
                       max_in_flight: int = 20) -> tuple[list[Tab], float]:
    """Open `clients` tabs, one every 1/rate s (round robin over the browsers), at most max_in_flight
    opening at once; (tabs, seconds from the first start to the last finish).

    The cap keeps the offered rate at what the server takes: offered faster than it builds pages, tabs
    queue inside the server until their sockets time out (20 s), which measures the collapse, not the
    rate. The rate reached is the figure; the cap is reported with it."""
    gate = asyncio.Semaphore(max_in_flight)
    began = time.monotonic()

    async def one(i: int) -> Tab:
        await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
        async with gate:
            return await open_tab(browsers[i % len(browsers)], path)

    tabs = await asyncio.gather(*(one(i) for i in range(clients)))
    return list(tabs), time.monotonic() - began


# ------------------------------------------------------------------------------------- the scenario

async def _run(base_url: str, pid: int, backend: str, clients: int, accounts: list[tuple[str, str]],
               path: str, rate: float, probe_log: Path | None, hold: float, measure: float,
               in_flight: int = 20) -> list[Figure]:
    scenario = SCENARIO.format(n=f'{clients:,}')
    figures: list[Figure] = []

    def fig(metric: str, value: float, unit: str = '', target: str = '', ok: bool | None = None,
            note: str = '') -> None:
        figures.append(Figure(scenario, metric, value, unit, target, ok, backend, note))
        print(f'  {metric}: {figures[-1].shown()} {target and f"(target {target})"} {note}', flush=True)

    probes = ProbeLog(probe_log)
    print(f'signing in {len(accounts)} accounts…', flush=True)
    began = time.monotonic()
    browsers, errors = await sign_in_many(base_url, accounts)
    print(f'  {len(browsers)} signed in, {len(errors)} failed in {time.monotonic() - began:.0f} s'
          + (f'; first error: {errors[0]}' if errors else ''), flush=True)
    if not browsers:
        raise RuntimeError(f'no account could log in: {errors[:3]}')
    try:
        # 1. idle
        await asyncio.sleep(3)
        base_rss = rss_mb(pid)
        idle_cpu = await cpu_percent(pid, measure)
        idle_rate, _ = await healthz_rate(base_url, measure)
        print(f'idle: RSS {base_rss:.1f} MB, CPU {idle_cpu:.1f} %, /healthz {idle_rate:.1f}/s', flush=True)
        fig('空闲 CPU（无标签页）', idle_cpu, '%')

        # 2. connect
        probes.mark()
        print(f'connecting {clients} tabs of {path} (offered {rate:.0f}/s, at most {in_flight} at once)…', flush=True)
        tabs, seconds = await connect_tabs(browsers, clients, path, rate, in_flight)
        failed = [t for t in tabs if t.socket is None]
        fig('连接速率', (clients - len(failed)) / seconds, '/s', '≥ 50',
            check((clients - len(failed)) / seconds, at_least=50),
            f'{clients} 个用时 {seconds:.1f} s（同时最多 {in_flight} 个在打开）')
        fig('p95 单个标签页打开耗时', percentile([t.seconds * 1000 for t in tabs], 95), 'ms')

        # 3. held
        await asyncio.sleep(hold)
        held_rss = rss_mb(pid)
        per_client = (held_rss - base_rss) / clients
        fig('每个连接的内存', per_client, 'MB', '≤ 0.3', check(per_client, at_most=0.3),
            f'RSS {base_rss:.0f} → {held_rss:.0f} MB')
        held_cpu = await cpu_percent(pid, measure)
        fig('保持连接时的空闲 CPU', held_cpu, '%', note=f'无标签页时 {idle_cpu:.1f} %')
        held_rate, held_failed = await healthz_rate(base_url, measure)
        ratio = held_rate / idle_rate if idle_rate else float('nan')
        fig('/healthz 吞吐（保持 / 空闲）', ratio, '×', '≥ 0.8', check(ratio, at_least=0.8),
            f'{held_rate:.1f}/s vs {idle_rate:.1f}/s' + (f'；{held_failed} 个失败' if held_failed else ''))
        if probe_log:
            signal_server(pid, signal.SIGUSR1)   # census of what a full collection walks
            await asyncio.sleep(1)
            signal_server(pid, signal.SIGUSR2)   # one timed full collection
            await asyncio.sleep(2)
        dropped = [t for t in tabs if t.socket is not None and (t.socket.drops or t.socket.lost)]
        all_failed = len(failed) + len(dropped)
        fig('连接失败（含掉线）', all_failed, '', '0', all_failed == 0,
            '; '.join(sorted({t.error or '' for t in failed})[:3]
                      + sorted({str(t.socket.lost or t.socket.drops) for t in dropped if t.socket})[:2]))

        probes.read()
        pauses = probes.pauses()
        lag = probes.lags()
        note = '' if probe_log else '无探针日志（GLRC_GC_LOG）'
        fig('最长 GC 停顿', max(pauses) if pauses else float('nan'), 'ms', '≤ 100',
            check(max(pauses), at_most=100) if pauses else None,
            note or f'{len(pauses)} 次回收，其中全量 {len(probes.pauses(2))} 次')
        fig('p99 GC 停顿', percentile(pauses, 99), 'ms', note=note)
        full = probes.pauses(2)
        fig('最长全量回收（第 2 代）停顿', max(full) if full else float('nan'), 'ms', note=note or '自然发生的')
        if probes.forced:
            _, ms, objects = probes.forced[-1]
            fig('强制全量回收停顿', ms, 'ms', '≤ 100', check(ms, at_most=100), f'遍历 {objects:,} 个对象')
        fig('p99 事件循环延迟', percentile(lag, 99), 'ms', '≤ 100', check(percentile(lag, 99), at_most=100)
            if lag else None, note or f'{len(lag)} 个样本')
        for line in probes.census[-1:]:
            print(f'  census (what a full collection walks): {line}', flush=True)
    finally:
        # 4. all closed
        for browser in browsers:
            with contextlib.suppress(Exception):
                await browser.close()
    await asyncio.sleep(RECONNECT_TIMEOUT + 5)
    after = rss_mb(pid)
    fig('全部关闭后的 RSS 增量', after - base_rss, 'MB', note=f'关闭 {RECONNECT_TIMEOUT + 5:.0f} s 后')
    if probe_log:   # what the GC policy's quiet-moment reclaim frees now (garbage kept frozen meanwhile)
        probes.mark()
        signal_server(pid, signal.SIGHUP)
        await asyncio.sleep(3)
        for _, ms, collected, frozen in probes.read().reclaim[-1:]:
            fig('关闭后冻结对象中的垃圾', collected, '个', note=f'冻结 {frozen:,} 个；回收用时 {ms:.0f} ms')
    return figures


def run(base_url: str, pid: int, backend: str = 'sqlite', clients: int = 1000,
        accounts: list[tuple[str, str]] | None = None, *, path: str = '/', rate: float = 100.0,
        probe_log: Path | str | None = None, hold: float = 5.0, measure: float = 10.0,
        in_flight: int = 20) -> list[Figure]:
    """accounts: (account, password) of center staff (default bench0000… with the runner's password),
    one login each, at most `clients` of them. probe_log: the server's GLRC_GC_LOG file (GC and lag
    figures; NaN without it). rate: tabs offered per second; in_flight: at most this many opening at once."""
    accounts = list(accounts or bench_accounts(clients))[:clients]
    return asyncio.run(_run(base_url, pid, backend, clients, accounts, path, rate,
                            Path(probe_log) if probe_log else None, hold, measure, in_flight))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', help='a running server (with --pid); else --data-dir starts one')
    parser.add_argument('--pid', type=int)
    parser.add_argument('--data-dir', type=Path, help='start a server of its own on this data dir, probes on')
    parser.add_argument('--database-url', help='with --data-dir: the server\'s database (default: SQLite)')
    parser.add_argument('--probe-log', type=Path, help='with --url: the server\'s GLRC_GC_LOG file')
    parser.add_argument('--clients', type=int, default=1000)
    parser.add_argument('--accounts', type=int, help='how many accounts (default: one per client)')
    parser.add_argument('--prefix', default='bench', help='accounts PREFIX0000…')
    parser.add_argument('--password', default=DEFAULT_PASSWORD)
    parser.add_argument('--path', default='/')
    parser.add_argument('--rate', type=float, default=100.0, help='tabs offered per second')
    parser.add_argument('--in-flight', type=int, default=20, help='at most this many tabs opening at once')
    parser.add_argument('--env', action='append', default=[], help='KEY=VALUE for the started server')
    args = parser.parse_args()
    accounts = bench_accounts(args.accounts or args.clients, args.prefix, args.password)
    backend = 'postgresql' if (args.database_url or '').startswith('postgresql') else 'sqlite'
    if args.url:
        figures = run(args.url, args.pid, backend, args.clients, accounts, path=args.path, rate=args.rate,
                      probe_log=args.probe_log, in_flight=args.in_flight)
    else:
        if not args.data_dir:
            parser.error('--url with --pid, or --data-dir')
        log = Path(tempfile.mkdtemp(prefix='glrc-probe-')) / 'probe.log'
        env = {'GLRC_GC_LOG': str(log), **dict(e.split('=', 1) for e in args.env)}
        with AppServer(args.data_dir, args.database_url, env=env) as server:
            print(f'server {server.base_url} pid {server.pid}, probe log {log}', flush=True)
            figures = run(server.base_url, server.pid, backend, args.clients, accounts, path=args.path,
                          rate=args.rate, probe_log=log, in_flight=args.in_flight)
    failed = [f for f in figures if f.ok is False]
    print(f'\n{len(figures)} figures, {len(failed)} past their target: '
          + ', '.join(f'{f.metric} {f.shown()}' for f in failed))
    return 0


if __name__ == '__main__':
    random.seed(2026)
    sys.exit(main())
