"""Benchmark of a 20 MiB upload and download through the app against plain Starlette (issue 11).

    python benchmarks/upload_download.py                    # SQLite in a temporary data dir
    python benchmarks/upload_download.py --db postgres      # PostgreSQL on 127.0.0.1:5432: its own database
                                                            # glrc_bench_upload, (re)created and dropped
                                                            # afterwards (--keep keeps it)
    python benchmarks/upload_download.py --runs 7 --size-mb 20

Side by side in one run, on the same machine:
- the app: main.py (started through `--app-server`, below) with unit accounts made through units.register; a
  browser-free client (benchmarks/load/nicegui_client) logs in as a browser does, opens 单位信息维护,
  connects the page's socket and POSTs the file as multipart/form-data to the page's upload route (the
  route Quasar's uploader posts to) with the session's cookies. Timed until the user sees the result:
  the 「营业执照已上传」 notice on the page's socket (the route, the upload handler, files.accept,
  the row, the page update). The POST alone is shown too.
- plain, the comparison the targets use: an UploadFile endpoint that saves the file (copyfileobj in a
  worker thread) and a plain FileResponse, added to the app's server process by this script only
  (`--app-server`: main.py plus those two routes; never in the product), so both go through the same
  server, middleware stack and machine; the app's download is its authorised /files/{id} (session,
  access rule, audit check), read to the end.
- bare, for context: the same two endpoints in a bare FastAPI app in a uvicorn process of its own
  (`--plain-server`), without NiceGUI's middlewares; its temp files on the same disk as the app's.
- the app server's RSS growth during an upload (peak over the upload minus just before it; /proc
  sampled every 5 ms), the plain server's for context.

The file is PDF-like (valid for files.sniff: '%PDF-1.4' header, random bytes, '%%EOF'). One warm-up
round first, then --runs rounds (>= 3) of app upload, plain upload, app download, plain download,
interleaved so both see the same machine; the figures are the medians (ratios: median against
median), the RSS growth the largest of the rounds. The machine may be busy with other work: read
the ratios, not the seconds.
"""
import argparse
import asyncio
import contextlib
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    AppServer,
    Figure,
    check,
    child_env,
    free_port,
    rss_mb,
    table,
)

MB = 1024 * 1024
SIZE_MB = 20
RUNS = 5
UPLOADS_PER_ACCOUNT = 8          # the quota (files.QUOTA, 200 MB) counts replaced files for an hour
PASSWORD = 'Upl0ad#Bench-2026'
ACCOUNT_PREFIX = 'bench_up'
SAVED_NOTICE = '营业执照已上传'
TARGET_RATIO = 1.5
TARGET_RSS_MB = 50.0
DEFAULT_PG_SERVER = 'postgresql+psycopg://postgres@127.0.0.1:5432'
PG_DATABASE = 'glrc_bench_upload'
SCENARIO = '上传/下载 20 MiB'


def pdf_like(size: int) -> bytes:
    head, tail = b'%PDF-1.4\n', b'\n%%EOF\n'
    return head + os.urandom(size - len(head) - len(tail)) + tail


# ------------------------------------------------------------------------------- the plain servers

PLAIN_UPLOAD = '/bench/upload/plain'          # '/upload/' in it: the body limit applies as to the app's route
PLAIN_FILES = '/files/bench-plain'            # under /files/: not gzipped, as the app's downloads


def add_plain_routes(app, store: Path, upload_path: str, files_path: str) -> None:
    """A plain UploadFile endpoint that saves the file, and a plain FileResponse, on `app` (NiceGUI's app
    is a FastAPI app too): the comparison for the app's own upload and download."""
    import secrets
    import shutil

    from fastapi import UploadFile
    from fastapi.responses import FileResponse
    from starlette.concurrency import run_in_threadpool

    store.mkdir(parents=True, exist_ok=True)

    @app.post(upload_path, include_in_schema=False)
    async def plain_upload(file: UploadFile) -> dict:
        target = store / secrets.token_hex(16)

        def save() -> int:
            with open(target, 'wb') as out:
                shutil.copyfileobj(file.file, out, MB)
            return target.stat().st_size
        return {'size': await run_in_threadpool(save)}

    @app.get(files_path + '/{name}', include_in_schema=False)
    async def plain_download(name: str) -> FileResponse:
        return FileResponse(store / Path(name).name, media_type='application/pdf', filename='file.pdf')


def app_server_main() -> None:
    """`python main.py` with the plain routes added, in this benchmark's process only: same process,
    same middleware stack as the app's own routes."""
    import runpy

    from nicegui import app
    add_plain_routes(app, Path(os.environ['GLRC_BENCH_PLAIN_DIR']), PLAIN_UPLOAD, PLAIN_FILES)
    sys.argv = [str(ROOT / 'main.py')]
    runpy.run_path(str(ROOT / 'main.py'), run_name='__main__')


def plain_server_main(port: int, store: Path) -> None:
    """The plain routes alone, in a FastAPI app of their own (no NiceGUI middleware)."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get('/healthz')
    async def healthz() -> dict:
        return {'status': 'ok'}

    add_plain_routes(app, store, '/upload', '/file')
    uvicorn.run(app, host='127.0.0.1', port=port, log_level='warning')


@dataclass
class PlainServer:
    store: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> 'PlainServer':
        tmp = self.store / 'tmp'
        tmp.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, 'TMPDIR': str(tmp)}   # spooled parts on the same disk as the app's
        self.process = subprocess.Popen([sys.executable, __file__, '--plain-server', str(self.port), str(self.store)],
                                        cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'the plain server exited with {self.process.returncode}')
            with contextlib.suppress(OSError), urllib.request.urlopen(self.base_url + '/healthz', timeout=2):
                return self
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError('the plain server did not start')

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


# ----------------------------------------------------------------------------------- seeding

def seed_main(count: int) -> None:
    """Unit accounts bench_up000… through units.register, in the data dir / database of the environment."""
    from sqlmodel import select

    from db.engine import read_scope
    from db.models import User
    from glrc_ui import cli
    from glrc_ui.demo import credit_code
    from glrc_ui.services import units
    cli.prepare()
    with read_scope() as s:   # a database kept from an earlier run (or shared with other scenarios)
        existing = set(s.exec(select(User.account).where(User.account.like(f'{ACCOUNT_PREFIX}%'))).all())
    for i in range(count):
        if account_name(i) in existing:
            continue
        units.register(f'桂林上传压测{i:03d}有限公司', credit_code(90_000 + i), f'压测员{i:03d}', f'1390775{i:04d}',
                       account_name(i), PASSWORD, PASSWORD)


def account_name(i: int) -> str:
    return f'{ACCOUNT_PREFIX}{i:03d}'


def seed(data_dir: Path, database_url: str | None, count: int) -> None:
    result = subprocess.run([sys.executable, __file__, '--seed', str(count)], cwd=ROOT,
                            env=child_env(data_dir, database_url), capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f'seeding failed:\n{result.stdout}\n{result.stderr}')


# --------------------------------------------------------------------------- the app's client

class AppSession:
    """A logged-in unit operator, browser-free: cookies, and the 单位信息维护 page with its socket."""

    def __init__(self, base_url: str, account: str) -> None:
        from benchmarks.load.nicegui_client import Browser
        self.account = account
        self.browser = Browser(base_url, request_timeout=300)

    async def login(self) -> None:
        from urllib.parse import urlsplit

        from benchmarks.load.nicegui_client import PageError, _pick_tab, _wait_for_open, parse_page
        page = await self.browser.open('/login')
        sock = await self.browser.connect(page)
        try:
            panel = page.one('q-tab-panel', name='单位用户')
            await _pick_tab(sock, page, '单位用户')
            await sock.set_value(page.one('nicegui-input', label='登录账号', within=panel), self.account)
            await sock.set_value(page.one('nicegui-input', label='密码', within=panel), PASSWORD)
            seen = len(sock.messages)
            await sock.click(page.one('q-btn', label='登录', within=panel))
            target = await _wait_for_open(sock, page, panel, seen, time.monotonic() + 120)
        finally:
            await sock.close()
        status, url, body = await self.browser.get(target)
        if status != 200 or urlsplit(url).path != '/':
            raise PageError(f'login as {self.account} ended on {url} ({status})')
        parse_page(url, status, body)

    async def open_unit_form(self):
        """The 单位信息维护 page's socket and its upload route (the page builds its form after the socket
        connects: the upload element arrives in an update)."""
        from benchmarks.load.nicegui_client import PageError
        page = await self.browser.open('/unit/info')
        sock = await self.browser.connect(page)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            elements = list(page.elements.items()) + [(i, e) for i, e in sock.updated_elements() if e]
            for _, element in elements:
                url = (element.get('props') or {}).get('url')
                if isinstance(url, str) and '/upload/' in url:
                    return sock, url
            sock.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sock.changed.wait(), 1)
        await sock.close()
        raise PageError('单位信息维护 shows no upload field')

    async def upload(self, content: bytes, server_pid: int) -> tuple[float, float, float, int]:
        """(seconds until the notice, seconds of the POST, RSS growth MB, file id) for one upload."""
        import aiohttp

        from benchmarks.load.nicegui_client import PageError
        sock, url = await self.open_unit_form()
        try:
            since = len(sock.messages)
            form = aiohttp.FormData()
            form.add_field('file', content, filename='营业执照.pdf', content_type='application/pdf')
            async with RssPeak(server_pid) as rss:
                began = time.perf_counter()
                async with self.browser.http.post(self.browser.absolute(url), data=form) as response:
                    await response.read()
                    if response.status != 200:
                        raise PageError(f'upload answered {response.status}')
                posted = time.perf_counter() - began
                await self._wait_notice(sock, since)
                seen = time.perf_counter() - began
            return seen, posted, rss.growth, self._file_id(sock, since)
        finally:
            await sock.close()

    @staticmethod
    async def _wait_notice(sock, since: int) -> None:
        from benchmarks.load.nicegui_client import PageError
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for kind, data in sock.messages[since:]:
                if kind == 'notify' and SAVED_NOTICE in str(data.get('message')):
                    return
                if kind == 'notify' and data.get('type') == 'negative':
                    raise PageError(f'notice: {data.get("message")}')
            for _, element in sock.updated_elements(since):
                error = ((element or {}).get('props') or {}).get('error')
                if error:
                    raise PageError(f'the field says: {error}')
            sock.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sock.changed.wait(), 1)
        raise TimeoutError(f'no {SAVED_NOTICE} notice')

    @staticmethod
    def _file_id(sock, since: int) -> int:
        found = [int(m.group(1)) for _, element in sock.updated_elements(since) if element
                 for value in (element.get('props') or {}).values()
                 if isinstance(value, str) and (m := re.fullmatch(r'/files/(\d+)', value))]
        if not found:
            raise RuntimeError('the page shows no download link for the new licence')
        return found[-1]

    async def close(self) -> None:
        await self.browser.close()


class RssPeak:
    """The growth of a process's RSS while the block runs: peak (sampled every 5 ms) minus before."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = self.peak = float('nan')
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> 'RssPeak':
        self.before = self.peak = rss_mb(self.pid)
        self._task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(0.005)

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.peak = max(self.peak, rss_mb(self.pid))

    @property
    def growth(self) -> float:
        return self.peak - self.before


async def plain_upload(http, url: str, content: bytes, pid: int) -> tuple[float, float]:
    import aiohttp
    form = aiohttp.FormData()
    form.add_field('file', content, filename='file.pdf', content_type='application/pdf')
    async with RssPeak(pid) as rss:
        began = time.perf_counter()
        async with http.post(url, data=form) as response:
            answer = await response.json()
        seconds = time.perf_counter() - began
    if response.status != 200 or answer.get('size') != len(content):
        raise RuntimeError(f'plain upload answered {response.status}: {answer}')
    return seconds, rss.growth


async def download(http, url: str, size: int) -> float:
    began = time.perf_counter()
    got = 0
    async with http.get(url) as response:
        if response.status != 200:
            raise RuntimeError(f'GET {url} answered {response.status}')
        async for chunk in response.content.iter_chunked(MB):
            got += len(chunk)
    seconds = time.perf_counter() - began
    if got != size:
        raise RuntimeError(f'GET {url}: {got} bytes, expected {size}')
    return seconds


# ------------------------------------------------------------------------------------ the run

@dataclass
class Samples:
    app_upload: list[float] = field(default_factory=list)      # until the page shows the notice
    app_post: list[float] = field(default_factory=list)        # the POST alone
    plain_upload: list[float] = field(default_factory=list)    # plain UploadFile in the app's process
    bare_upload: list[float] = field(default_factory=list)     # plain UploadFile, bare FastAPI/uvicorn
    app_download: list[float] = field(default_factory=list)
    plain_download: list[float] = field(default_factory=list)
    bare_download: list[float] = field(default_factory=list)
    app_rss: list[float] = field(default_factory=list)
    plain_rss: list[float] = field(default_factory=list)
    bare_rss: list[float] = field(default_factory=list)


async def measure(app: AppServer, bare: PlainServer, content: bytes, runs: int, accounts: int) -> Samples:
    import aiohttp
    (app.data_dir.parent / 'plain-in-app' / 'same.pdf').write_bytes(content)
    (bare.store / 'same.pdf').write_bytes(content)
    samples = Samples()
    sessions: list[AppSession] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
        try:
            for i in range(accounts):
                session = AppSession(app.base_url, account_name(i))
                sessions.append(session)
                await session.login()
            for round_no in range(runs + 1):          # round 0 warms everything up
                session = sessions[round_no // UPLOADS_PER_ACCOUNT]
                seen, posted, app_rss, file_id = await session.upload(content, app.pid)
                plain_seconds, plain_rss = await plain_upload(http, app.base_url + PLAIN_UPLOAD, content, app.pid)
                bare_seconds, bare_rss = await plain_upload(http, bare.base_url + '/upload', content, bare.pid)
                app_get = await download(session.browser.http, session.browser.absolute(f'/files/{file_id}'),
                                         len(content))
                plain_get = await download(http, app.base_url + PLAIN_FILES + '/same.pdf', len(content))
                bare_get = await download(http, bare.base_url + '/file/same.pdf', len(content))
                if round_no == 0:
                    continue
                for name, value in (('app_upload', seen), ('app_post', posted), ('plain_upload', plain_seconds),
                                    ('bare_upload', bare_seconds), ('app_download', app_get),
                                    ('plain_download', plain_get), ('bare_download', bare_get),
                                    ('app_rss', app_rss), ('plain_rss', plain_rss), ('bare_rss', bare_rss)):
                    getattr(samples, name).append(value)
        finally:
            for session in sessions:
                await session.close()
    return samples


def run(work_dir: Path, database_url: str | None = None, backend: str = 'sqlite', *, runs: int = RUNS,
        size_mb: int = SIZE_MB) -> list[Figure]:
    """The figures of one side-by-side run in work_dir (a fresh data dir is made there)."""
    runs = max(3, runs)
    work_dir = Path(work_dir)
    data_dir = work_dir / 'upload-data'
    accounts = math.ceil((runs + 1) / UPLOADS_PER_ACCOUNT)
    seed(data_dir, database_url, accounts)
    content = pdf_like(size_mb * MB)
    plain_dir = work_dir / 'plain-in-app'
    plain_dir.mkdir(parents=True, exist_ok=True)
    # main.py plus the plain endpoints, in one process: `python benchmarks/upload_download.py --app-server`
    with AppServer(data_dir, database_url, env={'GLRC_BENCH_PLAIN_DIR': str(plain_dir)},
                   args=[__file__, '--app-server']) as app, \
            PlainServer(work_dir / 'plain-bare') as bare:
        try:
            samples = asyncio.run(measure(app, bare, content, runs, accounts))
        except Exception:
            print(app.log()[-4000:], file=sys.stderr)
            raise
    return figures(samples, backend, size_mb, runs)


def figures(s: Samples, backend: str, size_mb: int, runs: int) -> list[Figure]:
    med = statistics.median
    scenario = SCENARIO if size_mb == SIZE_MB else f'上传/下载 {size_mb} MiB'
    up_ratio = med(s.app_upload) / med(s.plain_upload)
    down_ratio = med(s.app_download) / med(s.plain_download)
    rss = max(s.app_rss)
    note = f'{runs} 轮中位数'
    plain = '同一服务器进程中的普通 UploadFile'

    def ms(values: list[float]) -> float:
        return med(values) * 1000

    def context(metric: str, value: float, unit: str, what: str) -> Figure:
        return Figure(scenario, metric, value, unit, '', None, backend, what)

    return [
        Figure(scenario, '上传耗时 应用/普通 UploadFile', up_ratio, '×', f'≤ {TARGET_RATIO}',
               check(up_ratio, at_most=TARGET_RATIO), backend,
               f'{note}；应用至页面显示「{SAVED_NOTICE}」，对照：{plain}'),
        Figure(scenario, '下载耗时 应用/普通 FileResponse', down_ratio, '×', f'≤ {TARGET_RATIO}',
               check(down_ratio, at_most=TARGET_RATIO), backend,
               f'{note}；/files/{{id}}（登录、权限、审计检查），对照：同一进程中的普通 FileResponse'),
        Figure(scenario, '上传期间服务器 RSS 增长', rss, 'MB', f'≤ {TARGET_RSS_MB:.0f}', check(rss, at_most=TARGET_RSS_MB),
               backend, f'{runs} 轮最大值（中位数 {med(s.app_rss):.1f} MB）'),
        context('上传 POST 耗时 应用/普通', med(s.app_post) / med(s.plain_upload), '×', f'{note}；仅 POST 应答'),
        context('上传耗时（应用，至页面显示）', ms(s.app_upload), 'ms', note),
        context('上传 POST 耗时（应用）', ms(s.app_post), 'ms', note),
        context('上传耗时（普通 UploadFile，同一进程）', ms(s.plain_upload), 'ms', note),
        context('上传耗时（普通 UploadFile，单独 FastAPI）', ms(s.bare_upload), 'ms',
                f'{note}；无 NiceGUI 中间件的 uvicorn 进程'),
        context('下载耗时（应用）', ms(s.app_download), 'ms', note),
        context('下载耗时（普通 FileResponse，同一进程）', ms(s.plain_download), 'ms', note),
        context('下载耗时（普通 FileResponse，单独 FastAPI）', ms(s.bare_download), 'ms',
                f'{note}；无 NiceGUI 中间件的 uvicorn 进程'),
        context('上传期间 RSS 增长（普通 UploadFile，同一进程）', max(s.plain_rss), 'MB', f'{runs} 轮最大值'),
        context('上传期间 RSS 增长（普通 UploadFile，单独 FastAPI）', max(s.bare_rss), 'MB', f'{runs} 轮最大值'),
    ]


# ------------------------------------------------------------------------------------- the CLI

def _pg(action: str, database: str, server: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(f'{server}/postgres', isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS {database} WITH (FORCE)'))
        if action == 'create':
            conn.execute(text(f'CREATE DATABASE {database}'))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', choices=('sqlite', 'postgres'), default='sqlite')
    parser.add_argument('--pg-server', default=DEFAULT_PG_SERVER, help='PostgreSQL server URL without a database')
    parser.add_argument('--pg-database', default=PG_DATABASE)
    parser.add_argument('--keep', action='store_true', help='keep the PostgreSQL database and the work dir')
    parser.add_argument('--runs', type=int, default=RUNS)
    parser.add_argument('--size-mb', type=int, default=SIZE_MB)
    parser.add_argument('--plain-server', nargs=2, metavar=('PORT', 'DIR'), help=argparse.SUPPRESS)
    parser.add_argument('--seed', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--app-server', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_server:
        app_server_main()
        return 0
    if args.plain_server:
        plain_server_main(int(args.plain_server[0]), Path(args.plain_server[1]))
        return 0
    if args.seed is not None:
        seed_main(args.seed)
        return 0
    if args.db == 'postgres' and args.pg_database == 'test':
        parser.error('the database named test belongs to the test suite')
    database_url = f'{args.pg_server}/{args.pg_database}' if args.db == 'postgres' else None
    backend = 'postgresql' if database_url else 'sqlite'
    work = Path(tempfile.mkdtemp(prefix='glrc-bench-upload-'))
    if database_url:
        _pg('create', args.pg_database, args.pg_server)
    try:
        found = run(work, database_url, backend, runs=args.runs, size_mb=args.size_mb)
    finally:
        if database_url and not args.keep:
            _pg('drop', args.pg_database, args.pg_server)
        if not args.keep:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
    print(table(found))
    return 0 if all(f.ok is not False for f in found) else 1


if __name__ == '__main__':
    sys.exit(main())
