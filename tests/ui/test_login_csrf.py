"""Login CSRF and cross-site logout (issue 7, item 2): the login hand-over works only in the browser
that logged in, once; logging out is not a GET any page on the internet could trigger."""
from nicegui import app
from nicegui.testing import User

from components.session import pending_logins
from glrc_ui import security
from tests import factories as f
from tests.factories import PASSWORD, submit_login


def storage_id(user: User) -> str:
    from tests.ui.test_hardening import storage_id as decode
    return decode(user.http_client.cookies['session'])


async def test_a_captured_finish_url_does_not_log_another_browser_in(user: User, create_user):
    f.staff('csrf_attacker')
    attacker_token = f.login('csrf_attacker')
    # the attacker logs in in its own browser and captures its /login/finish URL before following it
    nonce = pending_logins.add(attacker_token, '/', browser='the-attackers-storage-id')
    victim = create_user()
    await victim.open('/login')
    response = await victim.http_client.get(f'/login/finish?n={nonce}', follow_redirects=False)
    assert response.status_code == 303 and response.headers['location'] == '/login?msg=expired'
    assert 'token' not in app.storage._users.get(storage_id(victim), {})
    # the nonce is used up: not even its own browser can finish with it now
    assert pending_logins.finish(nonce, 'the-attackers-storage-id', 'new') is False


async def test_the_hand_over_is_single_use(user: User):
    f.staff('csrf_once')
    await user.open('/login')
    browser = storage_id(user)
    nonce = pending_logins.add(f.login('csrf_once'), '/', browser=browser)
    first = await user.http_client.get(f'/login/finish?n={nonce}', follow_redirects=False)
    assert first.headers['location'] == f'/login/complete?n={nonce}'
    done = await user.http_client.get(f'/login/complete?n={nonce}', follow_redirects=False)
    assert done.status_code == 303 and done.headers['location'] == '/'
    assert app.storage._users[storage_id(user)]['token']
    for path in (f'/login/finish?n={nonce}', f'/login/complete?n={nonce}'):   # replay
        again = await user.http_client.get(path, follow_redirects=False)
        assert again.headers['location'] == '/login?msg=expired'


async def test_complete_needs_the_browser_that_finished(user: User, create_user):
    f.staff('csrf_split')
    await user.open('/login')
    nonce = pending_logins.add(f.login('csrf_split'), '/', browser=storage_id(user))
    await user.http_client.get(f'/login/finish?n={nonce}', follow_redirects=False)
    other = create_user()
    await other.open('/login')
    stolen = await other.http_client.get(f'/login/complete?n={nonce}', follow_redirects=False)
    assert stolen.headers['location'] == '/login?msg=expired'
    assert 'token' not in app.storage._users.get(storage_id(other), {})


async def test_a_get_to_logout_from_another_site_does_not_end_the_session(user: User):
    f.staff('csrf_logout')
    await user.open('/login')
    await submit_login(user, '管理人员', 'csrf_logout', PASSWORD)
    await user.should_see('首页')
    await f.settle()
    token = app.storage._users[storage_id(user)]['token']
    response = await user.http_client.get('/logout', headers={'referer': 'https://evil.example/'},
                                          follow_redirects=False)
    assert response.status_code in (404, 405)
    assert security.resolve_session(token) is not None
