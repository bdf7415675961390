"""Content-Security-Policy (issue 7, item 8): every page carries it and works under it in Chromium,
with no violation reported (the page fixture also fails on any console error). The licence preview
(a PDF in a frame of this site) still shows."""
from playwright.sync_api import Page, expect

from glrc_ui.http import CONTENT_SECURITY_POLICY
from tests.e2e import helpers
from tests.e2e.helpers import ADMIN_ACCOUNT, ADMIN_NAME, ADMIN_PASSWORD

PAGES = ['/', '/account/settings', '/messages', '/review/units']
WATCH = '''window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));'''


def violations(page: Page) -> list[str]:
    return page.evaluate('window.__csp || []')


def test_every_page_works_under_the_policy(page: Page, server):
    page.add_init_script(WATCH)
    response = page.goto(server.url('/login'))
    assert response.headers['content-security-policy'] == CONTENT_SECURITY_POLICY.decode()
    expect(page.get_by_role('tab', name='管理人员', exact=True)).to_be_visible()
    assert violations(page) == []
    page.goto(server.url('/register/unit'))
    expect(page.get_by_label('单位名称', exact=True)).to_be_visible()
    assert violations(page) == []
    helpers.staff_login(page, server, ADMIN_ACCOUNT, ADMIN_PASSWORD)
    helpers.expect_home(page, server, ADMIN_NAME)
    for path in PAGES:
        response = page.goto(server.url(path))
        assert 'content-security-policy' in response.headers, path
        page.wait_for_load_state('networkidle')
        expect(page.locator('.glrc-title').first).to_be_visible()
        page.get_by_role('button', name='消息').hover()            # the page reacts: the socket is up
        assert violations(page) == [], path
