"""Shared parts of the benchmark scripts: one figure type, an app server in a subprocess, percentiles.

Every scenario module exposes `run(...) -> list[Figure]`; benchmarks/run.py calls them one after the
other (side by side where a ratio is measured) and prints one table (and writes benchmarks/RESULTS.md).
A figure's `ok` is None when it has no target (context figures)."""
from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# environment variables of the benchmark process that must not leak into the server under test
_DROP_PREFIXES = ('GLRC_', 'NICEGUI_')


@dataclass
class Figure:
    scenario: str            # e.g. '登录高峰 300/60 s'
    metric: str              # e.g. 'p95 登录耗时'
    value: float
    unit: str = ''           # 'ms', 's', 'MB', '×', '/s', ''
    target: str = ''         # e.g. '≤ 1000' (human readable, same unit)
    ok: bool | None = None   # None: no target
    backend: str = 'sqlite'  # 'sqlite' | 'postgresql'
    note: str = ''
    group: str = ''          # '' (the summary table) or e.g. 'detail' (every case: a second table)

    def shown(self) -> str:
        if isinstance(self.value, float) and math.isnan(self.value):
            return '—'
        if self.unit in ('×',):
            return f'{self.value:.2f}{self.unit}'
        if abs(self.value) >= 100 or float(self.value).is_integer():
            return f'{self.value:,.0f} {self.unit}'.strip()
        return f'{self.value:.2f} {self.unit}'.strip()


def check(value: float, *, at_most: float | None = None, at_least: float | None = None) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    if at_most is not None and value > at_most:
        return False
    return not (at_least is not None and value < at_least)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float('nan')
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (Linux /proc)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    ticks = os.sysconf('SC_CLK_TCK')
    return (int(fields[11]) + int(fields[12])) / ticks


def child_env(data_dir: Path, database_url: str | None = None, port: int | None = None,
              extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
    env['GLRC_DATA_DIR'] = str(data_dir)
    if database_url:
        env['GLRC_DATABASE_URL'] = database_url
    if port is not None:
        env['GLRC_HOST'] = '127.0.0.1'
        env['GLRC_PORT'] = str(port)
    env.update(extra or {})
    return env


def cli(data_dir: Path, *args: str, database_url: str | None = None, timeout: float = 600) -> str:
    """`python main.py ARGS…` against a data dir (and database); its stdout. Raises on failure."""
    result = subprocess.run([sys.executable, 'main.py', *args], cwd=ROOT, env=child_env(data_dir, database_url),
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f'python main.py {" ".join(args)} failed ({result.returncode}):\n'
                           f'{result.stdout}\n{result.stderr}')
    return result.stdout


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class AppServer:
    """`python main.py` in a subprocess on a free port of 127.0.0.1.

        with AppServer(data_dir, database_url) as srv:
            srv.base_url, srv.pid, srv.start_seconds (launch → first 200 from /healthz)"""
    data_dir: Path
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    start_timeout: float = 120.0
    args: list[str] = field(default_factory=lambda: ['main.py'])   # what python runs (a script may wrap main.py)
    process: subprocess.Popen | None = field(default=None, repr=False)
    start_seconds: float = float('nan')

    @property
    def base_url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f'bench-server-{self.port}.log'

    def log(self) -> str:
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''

    def start(self) -> AppServer:
        log = open(self.log_path, 'wb')  # noqa: SIM115 - kept open for the child's lifetime
        began = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, *self.args], cwd=ROOT,
                                        env=child_env(self.data_dir, self.database_url, self.port, self.env),
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = began + self.start_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'python main.py exited with {self.process.returncode}:\n{self.log()[-4000:]}')
            if _healthy(self.base_url + '/healthz'):
                self.start_seconds = time.perf_counter() - began
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f'the server did not answer /healthz within {self.start_timeout:.0f} s')

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def table(figures: list[Figure]) -> str:
    """The figures as one Markdown table (also readable in a terminal)."""
    rows = [('场景', '指标', '数据库', '结果', '目标', '达标', '说明')]
    for f in figures:
        verdict = '—' if f.ok is None else ('是' if f.ok else '否')
        rows.append((f.scenario, f.metric, 'PostgreSQL' if f.backend == 'postgresql' else 'SQLite', f.shown(),
                     f.target, verdict, f.note))
    lines = ['| ' + ' | '.join(rows[0]) + ' |', '|' + '---|' * len(rows[0])]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows[1:]]
    return '\n'.join(lines)
