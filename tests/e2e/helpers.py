"""Reusable pieces for the browser tests: the app in a subprocess, the CLI, accounts, login steps.

The server is `python main.py` exactly as an operator starts it (SPEC §8). Accounts that the CLI
cannot make (persons, staff that must change their password) are written through the services
in-process, against the same data dir and database, inside `app_services()`."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / 'test-artifacts'
START_TIMEOUT = 30.0
# The center admin every `server` has, made with `python main.py create-staff … --admin`.
ADMIN_ACCOUNT, ADMIN_PASSWORD, ADMIN_NAME = 'e2e_admin', 'Gl!nRc#2026x', '赵管理员'
# Inherited variables that would make the child believe it runs under pytest or a NiceGUI test harness
# (STYLE pitfalls), or point it at another data dir or database.
_DROP_PREFIXES = ('PYTEST_', 'NICEGUI_', 'GLRC_')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def child_env(data_dir: Path, database_url: str | None, port: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
    env['GLRC_DATA_DIR'] = str(data_dir)
    if database_url:
        env['GLRC_DATABASE_URL'] = database_url
    if port is not None:
        env['GLRC_HOST'] = '127.0.0.1'
        env['GLRC_PORT'] = str(port)
    env['PYTHONUNBUFFERED'] = '1'
    return env


@dataclass
class Server:
    """A running `python main.py`."""
    data_dir: Path
    database_url: str | None  # None: the default SQLite file in data_dir
    port: int
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def url(self, path: str = '/') -> str:
        return self.base_url + path

    @property
    def env(self) -> dict[str, str]:
        return child_env(self.data_dir, self.database_url, self.port)

    def log(self) -> str:
        return self.log_path.read_text(encoding='utf-8', errors='replace') if self.log_path.exists() else ''

    def sms_outbox(self) -> list[dict]:
        """Every message the outbox gateway wrote (phone, text, code, purpose, at), oldest first."""
        path = self.data_dir / 'sms_outbox.jsonl'
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines() if line.strip()]

    def sms_code(self, phone: str, purpose: str = 'login', *, after: int = 0, timeout: float = 5.0) -> str:
        """The newest code sent to phone, waiting for it to appear (messages[after:] only)."""
        deadline = time.monotonic() + timeout
        while True:
            codes = [m['code'] for m in self.sms_outbox()[after:]
                     if m['phone'] == phone and m['purpose'] == purpose and m.get('code')]
            if codes:
                return codes[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f'no {purpose} code for {phone} in the SMS outbox: {self.sms_outbox()}')
            time.sleep(0.1)


def cli(server: Server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`python main.py ARGS…` against the server's data dir and database."""
    result = subprocess.run([sys.executable, 'main.py', *args], cwd=ROOT, env=child_env(server.data_dir,
                            server.database_url), capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f'python main.py {" ".join(args)} failed ({result.returncode}):\n'
                             f'{result.stdout}\n{result.stderr}')
    return result


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(server: Server) -> Server:
    """Start `python main.py` and wait until GET /healthz answers 200."""
    log = open(server.log_path, 'wb')  # noqa: SIM115 - kept open for the child's lifetime
    server.process = subprocess.Popen([sys.executable, 'main.py'], cwd=ROOT, env=server.env,
                                      stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f'python main.py exited with {server.process.returncode}:\n{server.log()}')
        if _healthy(server.url('/healthz')):
            return server
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f'python main.py did not answer /healthz within {START_TIMEOUT:.0f} s:\n{server.log()}')


def stop(server: Server) -> None:
    process = server.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# ---------------------------------------------------------------- accounts through the services

@contextmanager
def app_services(server: Server):
    """Run service calls in this process against the server's data dir and database."""
    from db import engine
    from glrc_ui import config
    saved = {name: os.environ.get(name) for name in ('GLRC_DATA_DIR', 'GLRC_DATABASE_URL')}
    os.environ['GLRC_DATA_DIR'] = str(server.data_dir)
    if server.database_url:
        os.environ['GLRC_DATABASE_URL'] = server.database_url
    else:
        os.environ.pop('GLRC_DATABASE_URL', None)
    try:
        settings = config.reset()
        engine.init_engine(settings.database_url)
        yield settings
    finally:
        engine.get_engine().dispose()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        config.reset()


def create_person(server: Server, phone: str, name: str, password: str, status: str = 'active') -> int:
    """A person account (login = phone) with its person row, as if registered and approved."""
    from db.engine import session_scope
    from db.models import User
    from glrc_ui import security
    from tests.factories import add_person_row
    with app_services(server):
        with session_scope() as s:
            user = User(role='person', account=phone, phone=phone, display_name=name,
                        password_hash=security.hash_password(password), status=status)
            s.add(user)
            s.flush()
            user_id = user.id
        add_person_row(user_id, phone, name)   # its person row, in an active unit
        return user_id


def create_staff(server: Server, role: str, account: str, password: str, name: str, org: str | None = None,
                 *, admin: bool = False, must_change: bool = False) -> int:
    """A reviewer or center account through the same service as `create-staff` (plus must_change)."""
    from glrc_ui.services import accounts
    with app_services(server):
        return accounts.create_staff(role, account, password, name, org, admin, must_change=must_change)


# ---------------------------------------------------------------- browser steps

def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f'{name}.png'
    page.screenshot(path=str(path), full_page=True)
    return path


def select_tab(page: Page, name: str):
    """Click a tab and return the panel it shows, once that panel (not the old one) is in the page.

    The login panels use keep_alive=False, so the old panel's inputs vanish and the new ones appear;
    panels present before the click are marked so a fill can never land in the outgoing panel."""
    tab = page.get_by_role('tab', name=name, exact=True)
    expect(tab).to_be_visible()
    if tab.get_attribute('aria-selected') != 'true':
        page.evaluate("document.querySelectorAll('.q-tab-panel').forEach(e => e.setAttribute('data-e2e-old', ''))")
        tab.click()
    expect(tab).to_have_attribute('aria-selected', 'true')
    return page.locator('.q-tab-panel:not([data-e2e-old])').last


def open_login_tab(page: Page, server: Server, tab: str, sub_tab: str | None = None, path: str | None = '/login'):
    """Open /login, pick a tab (and the 个人用户 sub-tab) and return the panel that holds the form."""
    if path is not None:
        page.goto(server.url(path))
    panel = select_tab(page, tab)
    if sub_tab:
        panel = select_tab(page, sub_tab)
    first_field = '手机号' if tab == '个人用户' else '登录账号'
    expect(panel.get_by_label(first_field, exact=True)).to_be_visible()
    return panel


def staff_login(page: Page, server: Server, account: str, password: str, *, tab: str = '管理人员') -> None:
    """Fill and submit the account/password form of 管理人员 (or 单位用户); does not wait for a result."""
    panel = open_login_tab(page, server, tab)
    panel.get_by_label('登录账号', exact=True).fill(account)
    panel.get_by_label('密码', exact=True).fill(password)
    panel.get_by_role('button', name='登录', exact=True).click()


def person_code_login(page: Page, server: Server, phone: str, *, screenshot: str | None = None) -> None:
    """个人用户 → 验证码登录: request a code, read it from the SMS outbox, log in.

    screenshot: a name for a picture of the filled form just before 登录 is clicked."""
    panel = open_login_tab(page, server, '个人用户', '验证码登录')
    expect(panel.get_by_label('验证码', exact=True)).to_be_visible()
    before = len(server.sms_outbox())
    panel.get_by_label('手机号', exact=True).fill(phone)
    panel.get_by_role('button', name='获取验证码').click()
    expect(page.get_by_text('验证码已发送')).to_be_visible()
    code = server.sms_code(phone, 'login', after=before)
    panel.get_by_label('验证码', exact=True).fill(code)
    if screenshot:
        shot(page, screenshot)
    panel.get_by_role('button', name='登录', exact=True).click()


def expect_home(page: Page, server: Server, name: str) -> None:
    """Landed on 首页 with name in the header."""
    expect(page).to_have_url(server.url('/'))
    expect(page.locator('.glrc-title', has_text='首页')).to_be_visible()
    expect(page.get_by_test_id('user-name')).to_have_text(name)


def expect_login_page(page: Page, server: Server) -> None:
    expect(page).to_have_url(re.compile(re.escape(server.url('/login')) + r'(\?.*)?$'))
    expect(page.get_by_role('tab', name='管理人员', exact=True)).to_be_visible()
