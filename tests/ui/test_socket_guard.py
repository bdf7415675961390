"""Events not tied to their socket (issue 7, item 3): a frame that names a page's client id runs that
page's handlers only when it arrives on a socket handshaked for that page."""
from nicegui import ui
from nicegui.testing import User

from components import socket_guard
from tests import factories as f


def click_message(user: User, button: ui.button) -> dict:
    listener_id = next(lid for lid, listener in button._event_listeners.items() if listener.type == 'click')
    return {'client_id': user.client.id, 'id': button.id, 'type': 'click', 'listener_id': listener_id, 'args': []}


async def test_an_event_from_a_foreign_socket_is_refused_and_from_its_own_socket_runs(user: User, caplog):
    reviewer = f.staff('sock_rev', role='reviewer', org='秀峰区')
    await f.open_logged_in(user, 'sock_rev', path='/account/settings', expect='账号信息设置')
    await f.settle()
    with user.client:
        save = next(b for b in user.find(ui.button).elements if b.text == '保存')
        name = f.field(user, '姓名').elements.pop()
    name.value = '被伪造的名字'
    own_socket = next(iter(user.client._socket_to_document_id))
    socket_guard.on_event('another-pages-socket', click_message(user, save))
    await f.settle()
    assert f.get_user(reviewer).display_name == '测试中心人员'          # nothing ran
    assert any('not one of its sockets' in r.getMessage() for r in caplog.records)
    socket_guard.on_event(own_socket, click_message(user, save))
    await f.eventually(lambda: f.get_user(reviewer).display_name == '被伪造的名字', 15,
                       'the genuine socket was refused')


def test_the_guard_is_what_the_socket_server_calls():
    from nicegui import core
    socket_guard.install()
    assert core.sio.handlers['/']['event'] is socket_guard.on_event
    assert core.sio.handlers['/']['javascript_response'] is socket_guard.on_javascript_response
