"""A restart keeps people logged in (the cookie secret lives in the data dir) and the data intact."""
from playwright.sync_api import Page, expect

from tests.e2e import helpers


def test_still_logged_in_after_a_restart(page: Page, server):
    helpers.staff_login(page, server, helpers.ADMIN_ACCOUNT, helpers.ADMIN_PASSWORD)
    helpers.expect_home(page, server, helpers.ADMIN_NAME)
    secret = (server.data_dir / '.storage.secret').read_text()
    page.goto('about:blank')  # no open socket to fail (and log) while the server is down
    helpers.stop(server)
    helpers.start(server)
    assert (server.data_dir / '.storage.secret').read_text() == secret  # generated once, reused
    page.goto(server.url('/account/settings'))
    expect(page.locator('.glrc-title', has_text='账号信息设置')).to_be_visible()
    expect(page.get_by_test_id('user-name')).to_have_text(helpers.ADMIN_NAME)
