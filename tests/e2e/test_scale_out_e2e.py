"""Scale-out (issue 11): two `python main.py` processes on one PostgreSQL database, NiceGUI's user
storage (NICEGUI_REDIS_URL) and the per-address limits (GLRC_REDIS_URL) in Redis, behind nginx with
the shipped site config (deploy/nginx/glrc.conf), all on 127.0.0.1 and free ports.

Shows in real Chromium, through nginx: a logged-in browser is served by either process (and by
each process's own port), a password change on one process ends the session that lives on the
other, and failed logins count across both.

Needs nginx and Redis (scripts/test.sh installs Debian's nginx and redis-server when missing) and
PostgreSQL (postgres@127.0.0.1:5432): a database `glrc_scaleout_<run id>` is created for the run and
dropped afterwards (GLRC_TEST_SCALEOUT_PG_URL names another scratch database; never the main suite's
`test`). Redis: GLRC_TEST_REDIS_URL (default redis://127.0.0.1:6379/0), else a redis-server of its
own; this run's keys have their own prefixes and are deleted afterwards. Without nginx, Redis or
PostgreSQL the test is skipped, except in CI (CI=true), where it fails."""
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import create_engine, make_url, text

from tests.e2e import helpers

# its own PostgreSQL database and Redis keys whatever the pass: run once (the SQLite pass), see pytest.ini
pytestmark = [pytest.mark.timeout(600), pytest.mark.once]

ROOT = helpers.ROOT
NGINX_SITE = ROOT / 'deploy' / 'nginx' / 'glrc.conf'
RUN_ID = secrets.token_hex(4)
# a database of this run's own (two runs at once never meet), created and dropped by the test
PG_URL = os.environ.get('GLRC_TEST_SCALEOUT_PG_URL', '').strip() \
    or f'postgresql+psycopg://postgres@127.0.0.1:5432/glrc_scaleout_{RUN_ID}'
SESSION_CHECK_SECONDS = 5   # GLRC_SESSION_CHECK_SECONDS of both processes (default 60): how soon B's tab notices
REDIS_URL = os.environ.get('GLRC_TEST_REDIS_URL', '').strip() or 'redis://127.0.0.1:6379/0'
UPSTREAM_HEADER = 'x-glrc-upstream'   # added to the generated config only: which process answered
LOGIN_FAILED = '账号或密码错误，连续 5 次错误将锁定 30 分钟'
LOGIN_THROTTLED = '本网络登录失败次数过多，请 10 分钟后再试'
CHANGED_ELSEWHERE = '您的密码或登录账号已在其他地方修改，请使用新的密码或账号重新登录'


def _missing(reason: str) -> None:
    """Skip locally; in CI a missing piece is a failure, not a silent skip."""
    if os.environ.get('CI', '').lower() == 'true':
        pytest.fail(f'scale-out test cannot run: {reason}', pytrace=False)
    pytest.skip(reason)


@dataclass
class AppProcess(helpers.Server):
    """`python main.py` with the scale-out environment (helpers.Server drops every GLRC_/NICEGUI_ variable)."""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**helpers.child_env(self.data_dir, self.database_url, self.port), **self.extra_env}


@dataclass
class Cluster:
    a: AppProcess
    b: AppProcess
    proxy: helpers.Server              # nginx: only its url() is used
    routes: dict[int, str]             # app port -> a glrc_route cookie value nginx sends there
    env: dict[str, str]
    redis_url: str
    prefixes: tuple[str, str]          # GLRC_REDIS_KEY_PREFIX, NICEGUI_REDIS_KEY_PREFIX of this run

    def cli(self, *args: str) -> None:
        result = subprocess.run([sys.executable, 'main.py', *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, f'python main.py {" ".join(args)} failed:\n{result.stdout}\n{result.stderr}'

    def get(self, path: str, route: str | None = None) -> tuple[int, str]:
        """GET through nginx: (port of the process that answered, Set-Cookie headers)."""
        request = urllib.request.Request(self.proxy.url(path), headers={'Cookie': f'glrc_route={route}'} if route else {})
        with urllib.request.urlopen(request, timeout=10) as response:
            upstream = response.headers[UPSTREAM_HEADER]
            return int(upstream.rsplit(':', 1)[1]), ' | '.join(response.headers.get_all('Set-Cookie') or [])

    def context(self, browser: Browser, port: int) -> BrowserContext:
        """A browser whose glrc_route cookie makes nginx send it to the process on `port`."""
        context = browser.new_context(viewport={'width': 1280, 'height': 800}, locale='zh-CN')
        context.set_default_timeout(15_000)
        context.add_cookies([{'name': 'glrc_route', 'value': self.routes[port], 'url': self.proxy.url('/')}])
        return context


def _nginx_binary() -> str | None:
    return shutil.which('nginx', path=os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/sbin']))


def _redis_answers(url: str) -> bool:
    import redis
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _nginx_conf(workdir: Path, port: int, backends: list[int]) -> Path:
    """The shipped site with this run's ports, inside a minimal main config that keeps every file
    (pid, logs, temp dirs) in workdir; plus a header that names the process which answered."""
    site = NGINX_SITE.read_text(encoding='utf-8')
    servers = ''.join(f'    server 127.0.0.1:{p};\n' for p in backends)
    site, n = re.subn(r'(?:[ \t]*server 127\.0\.0\.1:\d+;\n)+', servers, site)
    assert n == 1, 'deploy/nginx/glrc.conf: expected one block of `server 127.0.0.1:PORT;` lines'
    site, n = re.subn(r'listen 80;', f'listen 127.0.0.1:{port};', site)
    assert n == 1, 'deploy/nginx/glrc.conf: expected `listen 80;`'
    site, n = re.subn(r'(location / \{\n)', r'\1        add_header X-GLRC-Upstream $upstream_addr always;\n', site)
    assert n == 1, 'deploy/nginx/glrc.conf: expected `location / {`'
    temp = ''.join(f'    {kind}_temp_path {workdir / kind};\n' for kind in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'))
    conf = workdir / 'nginx.conf'
    conf.write_text(
        ('user root;\n' if os.geteuid() == 0 else '')
        + f'daemon off;\nworker_processes 1;\npid {workdir / "nginx.pid"};\nerror_log {workdir / "error.log"} info;\n'
        + 'events { worker_connections 512; }\n'
        + 'http {\n'
        + f'    access_log {workdir / "access.log"};\n' + temp + site + '}\n', encoding='utf-8')
    return conf


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'{url}: the process exited with {process.returncode}:\n{log.read_text(errors="replace")}')
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f'{url} did not answer within {timeout:.0f} s:\n{log.read_text(errors="replace")}')


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _reset_database(url: str) -> None:
    target = make_url(url)
    assert target.database and target.database not in {'test', 'postgres'}, f'not a scratch database: {url}'
    admin = create_engine(target.set(database='postgres'), isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _drop_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database='postgres'), isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _delete_keys(url: str, prefixes: tuple[str, ...]) -> None:
    import redis
    with redis.Redis.from_url(url) as client:
        for prefix in prefixes:
            keys = list(client.scan_iter(match=f'{prefix}*', count=1000))
            if keys:
                client.delete(*keys)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    nginx = _nginx_binary()
    if nginx is None:
        _missing('nginx is not installed (Debian: apt-get install nginx; scripts/test.sh installs it)')
    try:
        _reset_database(PG_URL)
    except Exception as exc:  # noqa: BLE001 - any connection failure means: no PostgreSQL here
        _missing(f'PostgreSQL for {PG_URL} is unreachable: {exc}')
    work = tmp_path_factory.mktemp('scale-out')
    processes: list[subprocess.Popen] = []
    redis_url, own_redis = REDIS_URL, None
    if not _redis_answers(redis_url):
        redis_server = shutil.which('redis-server', path=os.pathsep.join([os.environ.get('PATH', ''), '/usr/bin']))
        if redis_server is None:
            _missing(f'Redis at {REDIS_URL} does not answer and redis-server is not installed '
                     '(Debian: apt-get install redis-server; scripts/test.sh installs it)')
        port = helpers.free_port()
        (work / 'redis').mkdir()
        own_redis = subprocess.Popen([redis_server, '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                                      '--appendonly', 'no', '--dir', str(work / 'redis')],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        redis_url = f'redis://127.0.0.1:{port}/0'
        deadline = time.monotonic() + 10
        while not _redis_answers(redis_url):
            assert time.monotonic() < deadline and own_redis.poll() is None, 'own redis-server did not start'
            time.sleep(0.1)

    prefixes = (f'glrc-scaleout-{RUN_ID}:', f'nicegui-scaleout-{RUN_ID}:')
    data_dir = work / 'data'   # one data dir for both: the generated secrets (cookie signing) and uploads
    env = {**helpers.child_env(data_dir, PG_URL), 'GLRC_REDIS_URL': redis_url, 'GLRC_REDIS_KEY_PREFIX': prefixes[0],
           'NICEGUI_REDIS_URL': redis_url, 'NICEGUI_REDIS_KEY_PREFIX': prefixes[1],
           'GLRC_SESSION_CHECK_SECONDS': str(SESSION_CHECK_SECONDS)}
    extra = {k: v for k, v in env.items() if k.startswith(('GLRC_REDIS', 'NICEGUI_REDIS', 'GLRC_SESSION_CHECK'))}
    a = AppProcess(data_dir, PG_URL, helpers.free_port(), work / 'app-a.log', extra_env=extra)
    b = AppProcess(data_dir, PG_URL, helpers.free_port(), work / 'app-b.log', extra_env=extra)
    proxy = helpers.Server(data_dir, PG_URL, helpers.free_port(), work / 'nginx' / 'error.log')
    nginx_process = None
    try:
        cl = Cluster(a, b, proxy, {}, env, redis_url, prefixes)
        # migrations and the first account once, before the processes start (README: one migrate first)
        cl.cli('create-staff', '--role', 'center', '--account', helpers.ADMIN_ACCOUNT, '--password',
               helpers.ADMIN_PASSWORD, '--name', helpers.ADMIN_NAME, '--admin')
        helpers.start(a)
        helpers.start(b)
        (work / 'nginx').mkdir()
        conf = _nginx_conf(work / 'nginx', proxy.port, [a.port, b.port])
        nginx_log = work / 'nginx' / 'stderr.log'
        with open(nginx_log, 'wb') as out:
            nginx_process = subprocess.Popen([nginx, '-p', str(work / 'nginx'), '-c', str(conf), '-e',
                                              str(work / 'nginx' / 'error.log')], stdout=out, stderr=subprocess.STDOUT)
        processes.append(nginx_process)
        _wait_for(proxy.url('/healthz'), nginx_process, nginx_log)
        for n in range(500):   # a route cookie value for each process
            port, _ = cl.get('/healthz', f'route-{n}')
            cl.routes.setdefault(port, f'route-{n}')
            if len(cl.routes) == 2:
                break
        assert set(cl.routes) == {a.port, b.port}, f'nginx sent every route to {set(cl.routes)}'
        yield cl
        for app_process in (a, b):
            log = app_process.log()
            assert app_process.process is not None and app_process.process.poll() is None, \
                f'python main.py on {app_process.port} died:\n{log[-4000:]}'
            assert 'Traceback' not in log, f'python main.py on {app_process.port} logged an error:\n{log[-4000:]}'
    finally:
        _stop(nginx_process)
        helpers.stop(a)
        helpers.stop(b)
        try:
            _delete_keys(redis_url, prefixes)
        finally:
            _stop(own_redis)
            _drop_database(PG_URL)


def _upstream(response) -> int:
    assert response is not None
    return int(response.header_value(UPSTREAM_HEADER).rsplit(':', 1)[1])


def _login(page: Page, cluster: Cluster, account: str, password: str, name: str, port: int) -> None:
    """Log in through nginx and land on 首页, served by the process on `port`."""
    helpers.staff_login(page, cluster.proxy, account, password)
    helpers.expect_home(page, cluster.proxy, name)
    assert _upstream(page.reload()) == port
    helpers.expect_home(page, cluster.proxy, name)


def test_nginx_spreads_browsers_and_a_session_works_on_both_processes(browser: Browser, cluster: Cluster):
    a, b = cluster.a.port, cluster.b.port
    # new browsers (no route cookie yet) are spread over both processes and each gets its route …
    first = [cluster.get('/healthz') for _ in range(24)]
    assert {port for port, _ in first} == {a, b}
    assert all('glrc_route=' in cookies for _, cookies in first)
    # … which keeps sending it to the same process
    for port, route in cluster.routes.items():
        assert {cluster.get('/healthz', route)[0] for _ in range(6)} == {port}
        assert 'glrc_route=' not in cluster.get('/healthz', route)[1]   # given once, not on every answer

    context = cluster.context(browser, a)
    try:
        page = context.new_page()
        _login(page, cluster, helpers.ADMIN_ACCOUNT, helpers.ADMIN_PASSWORD, helpers.ADMIN_NAME, a)
        # the same browser, now routed to B: still logged in there, and the app works on B's socket
        context.add_cookies([{'name': 'glrc_route', 'value': cluster.routes[b], 'url': cluster.proxy.url('/')}])
        assert _upstream(page.reload()) == b
        helpers.expect_home(page, cluster.proxy, helpers.ADMIN_NAME)
        page.locator('.glrc-menu').get_by_text('账号信息设置', exact=True).click()
        expect(page).to_have_url(cluster.proxy.url('/account/settings'))
        expect(page.get_by_label('登录账号', exact=True)).to_have_value(helpers.ADMIN_ACCOUNT)
        # and with the same cookies straight at each process's own port
        for app_process in (cluster.a, cluster.b):
            page.goto(app_process.url('/'))
            helpers.expect_home(page, app_process, helpers.ADMIN_NAME)
    finally:
        context.close()


def test_a_password_change_on_one_process_ends_the_session_on_the_other(browser: Browser, cluster: Cluster):
    account, old, new, name = 'scale_center', 'Old#Scale2026', 'New#Scale2027', '钱中心'
    cluster.cli('create-staff', '--role', 'center', '--account', account, '--password', old, '--name', name)
    on_b, on_a = cluster.context(browser, cluster.b.port), cluster.context(browser, cluster.a.port)
    try:
        page_b = on_b.new_page()
        _login(page_b, cluster, account, old, name, cluster.b.port)   # this tab stays open on B

        page_a = on_a.new_page()
        _login(page_a, cluster, account, old, name, cluster.a.port)
        page_a.locator('.glrc-menu').get_by_text('账号信息设置', exact=True).click()
        page_a.get_by_label('原密码', exact=True).fill(old)
        page_a.get_by_label('新密码', exact=True).fill(new)
        page_a.get_by_label('确认新密码', exact=True).fill(new)
        page_a.get_by_role('button', name='保存').click()
        helpers.expect_login_page(page_a, cluster.proxy)
        expect(page_a.get_by_text('修改成功，请重新登录')).to_be_visible()

        # B's open tab notices on its own (its session check runs every SESSION_CHECK_SECONDS) and says why
        expect(page_b).to_have_url(re.compile(re.escape(cluster.proxy.url('/login')) + r'\?msg=changed$'),
                                   timeout=(SESSION_CHECK_SECONDS + 15) * 1000)
        expect(page_b.get_by_text(CHANGED_ELSEWHERE)).to_be_visible()
        # the old password is refused on B, the new one works there
        helpers.staff_login(page_b, cluster.proxy, account, old)
        expect(page_b.get_by_role('alert').filter(has_text='账号或密码错误')).to_have_text(LOGIN_FAILED)
        _login(page_b, cluster, account, new, name, cluster.b.port)
    finally:
        on_a.close()
        on_b.close()


def _fail_login(page: Page, cluster: Cluster, account: str) -> str:
    """One wrong password on the 管理人员 tab (the page is open already); the message shown."""
    panel = helpers.open_login_tab(page, cluster.proxy, '管理人员', path=None)
    panel.get_by_label('登录账号', exact=True).fill(account)
    panel.get_by_label('密码', exact=True).fill('Wrong#Scale2026')
    panel.get_by_role('button', name='登录', exact=True).click()
    expect(panel.get_by_label('密码', exact=True)).to_have_value('')   # the attempt is answered
    alert = panel.get_by_role('alert')
    expect(alert).to_be_visible()
    return alert.inner_text()


def test_failed_logins_count_across_both_processes(browser: Browser, cluster: Cluster):
    """30 failed logins per address in 10 minutes (security.ip_throttle): 20 on A and 10 on B use them
    up, so B refuses the next one although B alone has seen only 10. (Runs last: afterwards every
    login from 127.0.0.1 is refused for 10 minutes.)"""
    _delete_keys(cluster.redis_url, (f'{cluster.prefixes[0]}login_ip:',))   # the earlier tests' wrong passwords
    contexts = {port: cluster.context(browser, port) for port in (cluster.a.port, cluster.b.port)}
    try:
        pages = {}
        for port, context in contexts.items():
            pages[port] = context.new_page()
            assert _upstream(pages[port].goto(cluster.proxy.url('/login'))) == port
        for n in range(20):
            assert _fail_login(pages[cluster.a.port], cluster, f'nobody_a{n}') == LOGIN_FAILED
        for n in range(10):
            assert _fail_login(pages[cluster.b.port], cluster, f'nobody_b{n}') == LOGIN_FAILED
        assert _fail_login(pages[cluster.b.port], cluster, 'nobody_b10') == LOGIN_THROTTLED
        assert _fail_login(pages[cluster.a.port], cluster, 'nobody_a20') == LOGIN_THROTTLED
    finally:
        for context in contexts.values():
            context.close()
    import redis
    with redis.Redis.from_url(cluster.redis_url) as client:   # the counter lives in Redis, under this run's prefix
        assert list(client.scan_iter(match=f'{cluster.prefixes[0]}login_ip:*'))
