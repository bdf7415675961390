"""A NiceGUI client without a browser: what a browser does for a login, cheap enough to run hundreds
of logins from one process (load tests, login storms).

What a browser does, and what this does instead:
- GET the page (cookies kept per "browser": each `Browser` has its own cookie jar). NiceGUI embeds
  the element tree as JSON in the page (`createApp(parseElements(String.raw`…`), {…query…})`,
  templates/index.html); `Page` parses it: element ids, tags, props (label, aria-label, name),
  children and slots, and the event listeners (listener_id per event type).
- Connect the page's socket.io socket (`/_nicegui_ws/socket.io`, static/nicegui.js) with the query the
  page carries (client_id, next_message_id, implicit_handshake=true; written as a Python literal)
  plus document_id and tab_id, websocket transport. With implicit_handshake the socket's `connect` is
  the handshake; otherwise a 'handshake' message with the query is emitted and its ack must be true.
  A dropped socket reconnects as socket.io-client does (the server replays missed messages); a
  refused reconnect or a 'try_reconnect' means a browser would reload the page: the login fails.
- Send what Vue would send for user input: an 'event' message
  {id, client_id, listener_id, args: [JSON of each argument]} (update:value of an input, click of a
  button, update:modelValue of the tabs).
- React to the server's messages: 'update' (element changes: input errors, messages), 'open' (a
  navigation, e.g. ui.navigate.to), 'notify', 'run_javascript' (answered with null when the server
  waits for a result), and acknowledge message ids every 3 s as the browser does.
- Follow a navigation over HTTP with the same cookies, redirects followed one by one so every status
  is recorded.

Not done: static assets (a browser caches them after the first visit), JavaScript, rendering.

Dependencies: aiohttp and python-socketio (both come with NiceGUI).

    result = await login('http://127.0.0.1:8080', 'account', 'password')      # 管理人员 by default
    result.ok, result.error, result.seconds, result.statuses     # statuses: [(path, HTTP status), …]

benchmarks/load/login_storm.py runs hundreds of these against a server; tests/e2e/test_login_storm_e2e.py
runs 50 at once in the test suite.
"""
from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import math
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp
import socketio

SOCKET_PATH = '/_nicegui_ws/socket.io'
USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) glrc-load-client/1'
ACK_INTERVAL = 3.0       # seconds; nicegui.js acknowledges received messages this often
SOCKET_CONNECT_TIMEOUT = 20.0  # socket.io-client's default connect timeout in the browser

_ELEMENTS_RE = re.compile(r'parseElements\(String\.raw`(.*?)`\)', re.S)
_QUERY_RE = re.compile(r'^\s*query:\s*(\{.*\}),\s*$', re.M)
_PREFIX_RE = re.compile(r'^\s*prefix:\s*"(.*)",\s*$', re.M)
_TRANSPORTS_RE = re.compile(r'^\s*transports:\s*(\[.*\]),\s*$', re.M)
_TITLE_RE = re.compile(r'<title>(.*?)</title>', re.S)
# parseElements() in nicegui.js undoes the template's escaping in this order
_UNESCAPE = (('&#36;', '$'), ('&#96;', '`'), ('&gt;', '>'), ('&lt;', '<'), ('&amp;', '&'))


class PageError(Exception):
    """The response is not a NiceGUI page, or the page lacks what was looked for."""


# ---------------------------------------------------------------------------------------- the page

@dataclass
class Page:
    """A NiceGUI page as served: its element tree and the socket query it was built for."""
    url: str
    status: int
    title: str
    elements: dict[int, dict[str, Any]]
    query: dict[str, Any]
    prefix: str = ''
    transports: list[str] = field(default_factory=lambda: ['websocket', 'polling'])
    _parents: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for element_id, element in self.elements.items():
            for child in self.child_ids(element):
                self._parents[child] = element_id

    @property
    def client_id(self) -> str:
        return self.query['client_id']

    @staticmethod
    def child_ids(element: dict[str, Any]) -> list[int]:
        ids = list(element.get('children', []))
        for slot in (element.get('slots') or {}).values():
            ids.extend(slot.get('ids', []))
        return ids

    def ancestors(self, element_id: int) -> Iterable[int]:
        while element_id in self._parents:
            element_id = self._parents[element_id]
            yield element_id

    def descendants(self, element_id: int) -> set[int]:
        found: set[int] = set()
        todo = [element_id]
        while todo:
            for child in self.child_ids(self.elements.get(todo.pop(), {})):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def find(self, tag: str | None = None, *, label: str | None = None, text: str | None = None,
             name: str | None = None, within: int | None = None) -> list[int]:
        """Ids of the elements with this tag and label (the `label` or `aria-label` prop), text or
        name prop, in page order; `within`: only descendants of that element."""
        scope = self.descendants(within) if within is not None else None
        ids = []
        for element_id, element in sorted(self.elements.items()):
            props = element.get('props') or {}
            if tag is not None and element.get('tag') != tag:
                continue
            if label is not None and label not in (props.get('label'), props.get('aria-label')):
                continue
            if text is not None and element.get('text') != text:
                continue
            if name is not None and props.get('name') != name:
                continue
            if scope is not None and element_id not in scope:
                continue
            ids.append(element_id)
        return ids

    def one(self, tag: str | None = None, **kwargs: Any) -> int:
        ids = self.find(tag, **kwargs)
        if len(ids) != 1:
            raise PageError(f'expected one element {tag} {kwargs} on {self.url}, found {len(ids)}')
        return ids[0]

    def listener(self, element_id: int, *event_types: str) -> str:
        """The listener id of the element's first event of one of these types."""
        for event in self.elements[element_id].get('events', []):
            if event['type'] in event_types:
                return event['listener_id']
        raise PageError(f'element {element_id} ({self.elements[element_id].get("tag")}) has no {event_types} listener')

    def texts(self) -> list[str]:
        """Every element text and label prop (what a reader of the page would see, roughly)."""
        found = []
        for element in self.elements.values():
            if element.get('text'):
                found.append(element['text'])
            if label := (element.get('props') or {}).get('label'):
                found.append(str(label))
        return found

    def headings(self, level: int = 1) -> list[str]:
        return [e.get('text') or '' for e in self.elements.values() if e.get('tag') == f'h{level}']


def parse_page(url: str, status: int, html: str) -> Page:
    """The element tree and socket query of a NiceGUI page (raises PageError for anything else)."""
    match = _ELEMENTS_RE.search(html)
    query_match = _QUERY_RE.search(html)
    if match is None or query_match is None:
        raise PageError(f'{url} ({status}) is not a NiceGUI page: {html[:200]!r}')
    raw = match.group(1)
    for escaped, plain in _UNESCAPE:
        raw = raw.replace(escaped, plain)
    elements = {int(k): v for k, v in json.loads(raw).items()}
    title_match = _TITLE_RE.search(html)
    prefix_match = _PREFIX_RE.search(html)
    transports_match = _TRANSPORTS_RE.search(html)
    return Page(url=url, status=status, title=title_match.group(1).strip() if title_match else '',
                elements=elements, query=_literal(query_match.group(1)),
                prefix=prefix_match.group(1) if prefix_match else '',
                transports=_literal(transports_match.group(1)) if transports_match else ['websocket'])


def _literal(text: str) -> Any:
    """The template writes the socket query and transports as Python literals (`{'client_id': …,
    'implicit_handshake': True}`; nicegui.js defines True/False), so read them as such."""
    return ast.literal_eval(text)


# ------------------------------------------------------------------------------------- the browser

@dataclass
class Hop:
    method: str
    path: str
    status: int
    seconds: float


class Browser:
    """One browser: its own cookie jar; records every HTTP status it sees (`hops`)."""

    def __init__(self, base_url: str, *, request_timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip('/')
        self.request_timeout = request_timeout
        self.hops: list[Hop] = []
        # unsafe=True: keep cookies from an IP address host such as 127.0.0.1, as a browser does
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          headers={'User-Agent': USER_AGENT, 'Accept-Language': 'zh-CN'},
                                          timeout=aiohttp.ClientTimeout(total=request_timeout))
        self.sockets: list[PageSocket] = []

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for sock in list(self.sockets):
            await sock.close()
        await self.http.close()

    def absolute(self, path: str) -> str:
        return urljoin(self.base_url + '/', path)

    async def get(self, path: str, *, max_redirects: int = 10, accept: str = 'text/html') -> tuple[int, str, str]:
        """GET, following redirects one by one (each hop recorded); (status, final url, body)."""
        url = self.absolute(path)
        for _ in range(max_redirects + 1):
            start = time.monotonic()
            async with self.http.get(url, allow_redirects=False, headers={'Accept': accept}) as response:
                body = await response.text(errors='replace')
                location = response.headers.get('Location')
            self.hops.append(Hop('GET', _path_of(url), response.status, time.monotonic() - start))
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            return response.status, url, body
        raise PageError(f'more than {max_redirects} redirects from {path}')

    async def open(self, path: str) -> Page:
        """GET a page (following redirects) and parse it; the status is on the page (not checked)."""
        status, url, body = await self.get(path)
        return parse_page(url, status, body)

    async def connect(self, page: Page, *, timeout: float = SOCKET_CONNECT_TIMEOUT) -> PageSocket:
        sock = PageSocket(self, page)
        self.sockets.append(sock)
        try:
            await sock.connect(timeout)
        except BaseException:
            await sock.close()
            raise
        return sock


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f'?{parts.query}' if parts.query else '')


class _SocketIoClient(socketio.AsyncClient):
    """python-socketio's client, with the browser's connect timeout on reconnects too (its own
    reconnect loop waits only 1 s for the namespace, socket.io-client in the browser 20 s)."""

    connect_timeout = SOCKET_CONNECT_TIMEOUT

    async def connect(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault('wait_timeout', self.connect_timeout)
        await super().connect(*args, **kwargs)


class PageSocket:
    """The socket.io connection of one page, as nicegui.js keeps it: it reconnects after a drop
    (socket.io-client's delays: 1 s doubling to 5 s, ±50 %) with the message id it has reached, so
    the server replays what was missed; a refused reconnect means the page is gone (a browser
    reloads it): `lost` says why."""

    def __init__(self, browser: Browser, page: Page) -> None:
        self.browser = browser
        self.page = page
        self.document_id = str(uuid.uuid4())
        self.tab_id = str(uuid.uuid4())
        self.next_message_id = int(page.query.get('next_message_id') or 0)
        self.messages: list[tuple[str, dict[str, Any]]] = []   # (type, data) in the order received
        self.opened: asyncio.Queue[str] = asyncio.Queue()        # paths of 'open' messages
        self.changed = asyncio.Event()                           # set at every message
        self.drops: list[str] = []                               # why the connection dropped (engine.io's reason)
        self.lost: str | None = None                             # the page is gone (a browser would reload it)
        self._ack_task: asyncio.Task | None = None
        self._connected_once = False
        self._closing = False
        self._stopper: asyncio.Task | None = None
        self.sio = _SocketIoClient(reconnection=True, reconnection_delay=1, reconnection_delay_max=5,
                                   randomization_factor=0.5, http_session=browser.http, logger=False,
                                   engineio_logger=False, request_timeout=browser.request_timeout)
        for name in ('update', 'open', 'notify', 'download', 'load_js_components'):
            self.sio.on(name, self._handler(name))
        self.sio.on('try_reconnect', self._on_try_reconnect)
        self.sio.on('run_javascript', self._on_run_javascript)
        self.sio.on('disconnect', self._on_disconnect)
        self.sio.on('connect_error', self._on_connect_error)

    def _url(self) -> str:
        """The socket URL with the page's query; a reconnect sends the message id reached so far (nicegui.js
        does the same on reconnect_attempt)."""
        query = {**self.page.query, 'next_message_id': self.next_message_id,
                 'document_id': self.document_id, 'tab_id': self.tab_id}
        query = {k: ('true' if v is True else 'false' if v is False else v) for k, v in query.items() if v is not None}
        return f'{self.browser.base_url}?{urlencode(query)}'

    async def connect(self, timeout: float = SOCKET_CONNECT_TIMEOUT) -> None:
        implicit = bool(self.page.query.get('implicit_handshake'))
        transports = [t for t in self.page.transports if t in ('websocket', 'polling')][:1] or ['websocket']
        self.sio.connect_timeout = timeout
        await self.sio.connect(self._url, headers={'Origin': self.browser.base_url}, transports=transports,
                               socketio_path=f'{self.page.prefix}{SOCKET_PATH}', wait_timeout=timeout)
        if not implicit:
            query = {**self.page.query, 'document_id': self.document_id, 'tab_id': self.tab_id}
            ok = await self.sio.call('handshake', query, timeout=timeout)
            if not ok:
                raise PageError(f'handshake refused for client {self.page.client_id}')
        self._connected_once = True
        self._ack_task = asyncio.create_task(self._ack_loop())

    async def close(self) -> None:
        self._closing = True
        if self._ack_task is not None:
            self._ack_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ack_task
            self._ack_task = None
        with contextlib.suppress(Exception):
            await self.sio.shutdown()   # disconnects, or stops a reconnect in progress
        with contextlib.suppress(Exception):
            if self.sio.eio.state == 'connected':   # connected at the engine.io level only (mid-connect)
                await self.sio.eio.disconnect()
        if self in self.browser.sockets:
            self.browser.sockets.remove(self)

    # -- what the user does

    async def event(self, element_id: int, listener_id: str, *args: Any) -> None:
        await self.sio.emit('event', {'id': element_id, 'client_id': self.page.client_id, 'listener_id': listener_id,
                                      'args': [json.dumps(arg) for arg in args]})

    async def set_value(self, element_id: int, value: Any) -> None:
        """Type into an input / pick a tab: the element's value event with the new value."""
        await self.event(element_id, self.page.listener(element_id, 'update:value', 'update:modelValue'), value)

    async def click(self, element_id: int) -> None:
        await self.event(element_id, self.page.listener(element_id, 'click'))

    async def wait_open(self, timeout: float) -> str:
        """The path of the next 'open' message (a navigation)."""
        return await asyncio.wait_for(self.opened.get(), timeout)

    def updated_elements(self, since: int = 0) -> list[tuple[int, dict[str, Any] | None]]:
        """(id, element or None when deleted) from the 'update' messages received since message index `since`."""
        found = []
        for kind, data in self.messages[since:]:
            if kind == 'update':
                found.extend((int(k), v) for k, v in data.items() if k.isdigit())
        return found

    # -- what nicegui.js does with the server's messages

    def _accept(self, data: Any) -> bool:
        """Skip messages already seen (a replayed history after a reconnect), as nicegui.js does."""
        if isinstance(data, dict) and '_id' in data:
            message_id = data.pop('_id')
            if message_id < self.next_message_id:
                return False
            self.next_message_id = message_id + 1
        return True

    def _handler(self, name: str):
        async def handle(data: Any = None) -> None:
            if not self._accept(data):
                return
            self.messages.append((name, data if isinstance(data, dict) else {'data': data}))
            if name == 'open' and isinstance(data, dict):
                path = data.get('path', '')
                self.opened.put_nowait(self.page.prefix + path if path.startswith('/') else path)
            self.changed.set()
        return handle

    async def _on_run_javascript(self, data: Any = None) -> None:
        if not self._accept(data):
            return
        self.messages.append(('run_javascript', data))
        if isinstance(data, dict) and data.get('request_id'):  # the server awaits a result: a browser sends one
            await self.sio.emit('javascript_response', {'request_id': data['request_id'],
                                                        'client_id': self.page.client_id, 'result': None})
        self.changed.set()

    async def _on_disconnect(self, reason: Any = None) -> None:
        if not self._closing:
            self.drops.append(str(reason or 'closed'))
        self.changed.set()

    async def _on_connect_error(self, data: Any = None) -> None:
        message = data.get('message') if isinstance(data, dict) else data
        if self._connected_once and 'handshake failed' in str(message).lower():
            self.lost = f'the server refused the reconnect ({message}): the page is gone'
            # stop reconnecting (a browser reloads the page instead); from a task of its own, since this
            # handler runs inside the reconnect task that shutdown() waits for
            self._stopper = asyncio.create_task(self.sio.shutdown())
        self.changed.set()

    async def _on_try_reconnect(self, data: Any = None) -> None:
        if self._accept(data):
            self.messages.append(('try_reconnect', data if isinstance(data, dict) else {}))
            self.lost = 'the server asked the browser to reload the page (try_reconnect)'
            self.changed.set()

    async def _ack_loop(self) -> None:
        while True:
            await asyncio.sleep(ACK_INTERVAL)
            if self.sio.connected:
                with contextlib.suppress(Exception):
                    await self.sio.emit('ack', {'client_id': self.page.client_id,
                                                'next_message_id': self.next_message_id})


# --------------------------------------------------------------------------------------- the login

@dataclass
class LoginResult:
    account: str
    ok: bool = False
    error: str | None = None
    seconds: float = 0.0
    statuses: list[tuple[str, int]] = field(default_factory=list)   # (GET path, HTTP status), in order
    hop_seconds: list[float] = field(default_factory=list)           # how long each of those took
    socket_drops: list[str] = field(default_factory=list)            # socket drops on the login page (reconnected)
    phases: dict[str, float] = field(default_factory=dict)          # seconds per step

    @property
    def server_errors(self) -> list[tuple[str, int]]:
        return [(path, status) for path, status in self.statuses if status >= 500]


async def login(base_url: str, account: str, password: str, *, tab: str = '管理人员', sub_tab: str | None = None,
                home_heading: str = '首页', timeout: float = 120.0, connect_home: bool = True,
                id_label: str | None = None, expect_text: str | None = None,
                socket_timeout: float = SOCKET_CONNECT_TIMEOUT, browser: Browser | None = None) -> LoginResult:
    """One login as a browser does it: /login, pick the tab, type account and password, click 登录,
    follow the navigation to /login/finish?… and on to /, and check that / is the 首页.

    tab: 管理人员 / 单位用户 (登录账号 + 密码) or 个人用户 (sub_tab 密码登录, 手机号 + 密码).
    connect_home: also connect the home page's socket, as the browser does once it shows the page.
    expect_text: a text the home page must show (e.g. '您好，<name>': the right account is logged in).
    socket_timeout: how long a socket may take to connect (a browser reloads the page after 20 s).
    browser: log in with this browser and leave it open (its cookies then carry the session: open more
    pages with it, e.g. benchmarks/load/held_clients.py); by default a browser of its own, closed after.
    Never raises for a failed login: the result says what happened (ok, error, statuses, seconds)."""
    result = LoginResult(account=account)
    start = time.monotonic()
    deadline = start + timeout
    keep_browser = browser is not None
    if browser is None:
        browser = Browser(base_url, request_timeout=timeout)
    first_hop = len(browser.hops)
    step = 'GET /login'
    mark = start
    sock: PageSocket | None = None

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        result.phases[name] = now - mark
        mark = now

    try:
        page = await browser.open('/login')
        if page.status != 200:
            raise PageError(f'/login answered {page.status}')
        phase('login_page')
        step = 'socket'
        sock = await browser.connect(page, timeout=min(socket_timeout, max(1.0, deadline - time.monotonic())))
        phase('socket')
        step = 'form'
        sub_tab = sub_tab or ('密码登录' if tab == '个人用户' else None)
        id_label = id_label or ('手机号' if tab == '个人用户' else '登录账号')
        panel = page.one('q-tab-panel', name=tab)
        await _pick_tab(sock, page, tab)
        if sub_tab:
            panel = page.one('q-tab-panel', name=sub_tab, within=panel)
            await _pick_tab(sock, page, sub_tab)
        account_input = page.one('nicegui-input', label=id_label, within=panel)
        password_input = page.one('nicegui-input', label='密码', within=panel)
        button = page.one('q-btn', label='登录', within=panel)
        await sock.set_value(account_input, account)
        await sock.set_value(password_input, password)
        seen = len(sock.messages)
        await sock.click(button)
        step = 'waiting for the navigation after 登录'
        target = await _wait_for_open(sock, page, panel, seen, deadline)
        phase('submit')
        if not urlsplit(target).path.endswith('/login/finish'):
            raise PageError(f'登录 navigated to {target}, not /login/finish')
        step = f'GET {target}'
        status, final_url, body = await browser.get(target)
        phase('finish')
        await sock.close()   # the login page is gone once the next document is shown
        step = 'home page'
        home = parse_page(final_url, status, body)
        if status != 200:
            raise PageError(f'{_path_of(final_url)} answered {status}')
        if urlsplit(final_url).path != '/':
            raise PageError(f'landed on {_path_of(final_url)}, not /')
        if home_heading not in home.headings(1):
            shown = '；'.join(t for t in home.texts() if t)[:200]
            raise PageError(f'/ is not the {home_heading} (h1: {home.headings(1)}; texts: {shown})')
        if expect_text is not None and expect_text not in home.texts():
            raise PageError(f'the {home_heading} does not show {expect_text!r}')
        if connect_home:
            step = 'home socket'
            home_sock = await browser.connect(home, timeout=min(socket_timeout,
                                                                max(1.0, deadline - time.monotonic())))
            await home_sock.close()
        phase('home')
        result.ok = True
    except Exception as exc:  # noqa: BLE001 - the result reports any failure; a storm goes on
        result.error = f'{step}: {type(exc).__name__}: {exc}'.strip()
    finally:
        result.seconds = time.monotonic() - start
        result.statuses = [(hop.path, hop.status) for hop in browser.hops[first_hop:]]
        result.hop_seconds = [hop.seconds for hop in browser.hops[first_hop:]]
        result.socket_drops = list(sock.drops) if sock is not None else []
        if not keep_browser:
            with contextlib.suppress(Exception):
                await browser.close()
        elif sock is not None and not result.ok:   # the login page's socket, left open by the failure
            with contextlib.suppress(Exception):
                await sock.close()
    return result


async def _pick_tab(sock: PageSocket, page: Page, name: str) -> None:
    """Click a tab: its q-tabs element gets update:modelValue with the tab's name."""
    tab = page.one('q-tab', name=name)
    tabs = next(a for a in page.ancestors(tab) if page.elements[a].get('tag') == 'q-tabs')
    if (page.elements[tabs].get('props') or {}).get('model-value') != name:
        await sock.set_value(tabs, name)


async def _wait_for_open(sock: PageSocket, page: Page, panel: int, since: int, deadline: float) -> str:
    """The path of the navigation after the click; a message shown in the form (an input's error, the
    form's message line) or a negative notice instead ends the wait as a failed login."""
    in_panel = page.descendants(panel)
    while True:
        if not sock.opened.empty():
            return sock.opened.get_nowait()
        for element_id, element in sock.updated_elements(since):
            if element is None or element_id not in in_panel:
                continue
            props = element.get('props') or {}
            if props.get('error'):
                raise PageError(f'the form says: {props["error"]}')
            if element.get('text') and 'hidden' not in (element.get('class') or []):
                raise PageError(f'the form says: {element["text"]}')
        for kind, data in sock.messages[since:]:
            if kind == 'notify' and data.get('type') in ('negative', 'warning'):
                raise PageError(f'notice: {data.get("message")}')
        if sock.lost:
            raise PageError(f'{sock.lost}; drops: {sock.drops}')
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError('no navigation before the deadline')
        sock.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sock.changed.wait(), remaining)


# ------------------------------------------------------------------------------------- small stats

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; nan for no values."""
    if not values:
        return float('nan')
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
