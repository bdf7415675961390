"""Browser tests: real Chromium (Playwright, sync API) against `python main.py` in a subprocess.

No autouse database fixture here: the app under test owns its data dir and database. With
GLRC_TEST_DATABASE_URL set, that PostgreSQL schema is reset and the server runs on it."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import TEST_DB_URL, reset_postgres
from tests.e2e import helpers

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run']


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Mark the browser tests `e2e` and run them after every other test.

    While a sync Playwright instance lives, its event loop counts as running in the main thread, so
    pytest-asyncio cannot run the async page tests (`user` fixture) of tests/ui after it:
    "Runner.run() cannot be called from a running event loop". With the browser tests last, the
    session-wide browser never overlaps them."""
    def is_e2e(item) -> bool:
        return HERE in Path(str(item.path)).resolve().parents
    browser_tests = [item for item in items if is_e2e(item)]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
    items[:] = [item for item in items if not is_e2e(item)] + browser_tests


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so `page` knows at teardown whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


# Debian's builds of Chromium, best first: the old headless shell (package chromium-headless-shell, what
# Playwright itself runs for headless tests) renders the same pages with the same engine and version as
# the full browser but without its browser UI and GPU process: the browser tests' Chromium CPU fell to
# about a third (units journeys: 34 → 13 s of CPU, 33 → 26 s wall). The full browser still serves.
DEBIAN_CHROMIUMS = ('/usr/bin/chromium-headless-shell', '/usr/bin/chromium')
# Playwright's expect() waits 5 s by default: too short for a page built after a click on a busy machine
# (both test passes side by side, load 7). A page that is right is seen at once; only a failure waits longer.
expect.set_options(timeout=15_000)


def chromium_executable(candidates: tuple[str, ...] = DEBIAN_CHROMIUMS) -> str | None:
    """$GLRC_CHROMIUM, else the first of Debian's candidates installed, else None (Playwright's own download).
    pdf_browser passes only the full Chromium."""
    configured = os.environ.get('GLRC_CHROMIUM', '').strip()
    if configured:
        return configured
    return next((path for path in candidates if Path(path).exists()), None)


@pytest.fixture(scope='session')
def playwright():
    with sync_playwright() as pw:
        yield pw


def _launch(pw, executable: str | None):
    kwargs = {'headless': True, 'args': CHROMIUM_ARGS}
    if executable:
        kwargs['executable_path'] = executable
    return pw.chromium.launch(**kwargs)


@pytest.fixture(scope='session')
def browser(playwright):
    browser = _launch(playwright, chromium_executable())
    yield browser
    browser.close()


@pytest.fixture(scope='session')
def pdf_browser(playwright):
    """The full Chromium, which shows a PDF inside the page (<iframe>): the headless shell has no PDF
    viewer, so there the pages show their 新窗口预览 box instead (tested too: test_everyday_e2e). For
    the tests of the in-page preview; started only when such a test runs."""
    executable = chromium_executable(DEBIAN_CHROMIUMS[-1:])
    browser = _launch(playwright, executable)
    context = browser.new_context()
    try:
        if context.new_page().evaluate('navigator.pdfViewerEnabled') is not True:
            pytest.fail(f'{executable or "Playwright Chromium"} has no PDF viewer; the in-page preview '
                        'tests need the full Chromium (Debian: apt-get install chromium)', pytrace=False)
    finally:
        context.close()
    yield browser
    browser.close()


@pytest.fixture
def page(browser, request):
    """A page in a fresh browser context (the full Chromium for a test marked pdf_viewer)."""
    if request.node.get_closest_marker('pdf_viewer'):
        browser = request.getfixturevalue('pdf_browser')
    context = browser.new_context(viewport={'width': 1280, 'height': 800}, locale='zh-CN')
    context.set_default_timeout(10_000)
    page = context.new_page()
    js_errors: list[str] = []
    page.on('pageerror', lambda exc: js_errors.append(f'uncaught: {exc}'))
    page.on('console', lambda msg: js_errors.append(f'console.error: {msg.text}') if msg.type == 'error' else None)
    yield page
    reports = request.node.stash.get(_REPORTS, {})
    failed = any(r.failed for r in reports.values())
    if failed or js_errors:
        name = re.sub(r'[^\w.-]+', '_', request.node.nodeid.split('::', 1)[-1])
        try:
            path = helpers.shot(page, f'FAILED-{name}')
            print(f'\nscreenshot of the failure: {path}')
        except Exception as exc:  # noqa: BLE001 - keep the test's own error, not the screenshot's
            print(f'\nno failure screenshot: {exc}')
    context.close()
    if js_errors:
        pytest.fail('JavaScript errors in the browser (a broken page can still pass its assertions):\n'
                    + '\n'.join(dict.fromkeys(e[:500] for e in js_errors)), pytrace=False)


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    """A fresh app (data dir, database, center admin) served by `python main.py` on a free port."""
    data_dir = tmp_path_factory.mktemp('e2e') / 'data'
    data_dir.mkdir()
    if TEST_DB_URL:
        reset_postgres(TEST_DB_URL)
    srv = helpers.Server(data_dir=data_dir, database_url=TEST_DB_URL or None, port=helpers.free_port(),
                         log_path=data_dir.parent / 'server.log')
    helpers.cli(srv, 'create-staff', '--role', 'center', '--account', helpers.ADMIN_ACCOUNT,
                '--password', helpers.ADMIN_PASSWORD, '--name', helpers.ADMIN_NAME, '--admin')
    helpers.start(srv)
    yield srv
    helpers.stop(srv)
    if srv.process is not None and srv.process.returncode not in (0, -15):
        print(f'server exited with {srv.process.returncode}; log:\n{srv.log()}')


@pytest.fixture(autouse=True)
def _server_log_has_no_traceback(request):
    """A test fails when the server died or logged a traceback meanwhile (e.g. an event handler crashed)."""
    if 'server' not in request.fixturenames:
        yield
        return
    srv = request.getfixturevalue('server')
    start = len(srv.log())
    yield
    new = srv.log()[start:]
    if any(report.failed for report in request.node.stash.get(_REPORTS, {}).values()):
        print(f'\nthe server log during the failed test (last 4000 characters):\n{new[-4000:]}')
    if srv.process is not None and srv.process.poll() is not None:
        pytest.fail(f'python main.py exited with {srv.process.returncode} during the test:\n{new[-4000:]}',
                    pytrace=False)
    if 'Traceback' in new:
        pytest.fail(f'the server logged an error during the test:\n{new[-4000:]}', pytrace=False)


@pytest.fixture
def cli(server):
    """cli(*args): `python main.py ARGS…` against the test server's data dir and database."""
    return lambda *args, check=True: helpers.cli(server, *args, check=check)
