"""Events are accepted only from a socket that belongs to the page they name (issue 7, item 3).

NiceGUI 3.18's socket handlers look the page up by the client id inside the message and ignore the
socket it came on, so a frame sent on one socket could run another page's handlers as that page's
user. This small shim re-registers those handlers with the check (python-socketio keeps one handler
per event name, the last one registered). Upstream note: Client.handle_event could take the sid and
check it against Client._socket_to_document_id itself."""
import logging
from typing import Any

from nicegui import Client, core

log = logging.getLogger('glrc')


def install() -> None:
    core.sio.on('event', handler=on_event)
    core.sio.on('javascript_response', handler=on_javascript_response)


def _own_client(sid: str, msg: Any) -> Client | None:
    """The client named in the message, if this socket was handshaked for it; else None (logged)."""
    client = Client.instances.get(msg.get('client_id')) if isinstance(msg, dict) else None
    if client is None or not client.has_socket_connection:
        return None
    if sid not in client._socket_to_document_id:  # NiceGUI's record of the page's sockets
        log.warning('refused a socket message for client %s from socket %s, which is not one of its sockets',
                    client.id, sid)
        return None
    return client


def on_event(sid: str, msg: dict) -> None:
    if client := _own_client(sid, msg):
        client.handle_event(msg)


def on_javascript_response(sid: str, msg: dict) -> None:
    if client := _own_client(sid, msg):
        client.handle_javascript_response(msg)
