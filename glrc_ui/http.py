"""HTTP-level wiring that is not UI: upload size cap while streaming, headers, gzip exclusions."""
from fastapi.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from glrc_ui.services.files import MAX_FILE

UPLOAD_BODY_LIMIT = MAX_FILE + 256 * 1024  # one 20 MB file plus multipart overhead
NO_GZIP_PREFIXES = ('/files/',)


def is_upload_path(path: str) -> bool:
    return '/upload/' in path


class BodyLimitMiddleware:
    """Refuses upload bodies over the limit: by Content-Length at once, else while streaming (F1)."""

    def __init__(self, app: ASGIApp, limit: int = UPLOAD_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or scope.get('method') != 'POST' or not is_upload_path(scope.get('path', '')):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get('headers', []):
            if name == b'content-length' and value.isdigit() and int(value) > self.limit:
                await _too_large(send)
                return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message['type'] == 'http.request':
                seen += len(message.get('body', b''))
                if seen > self.limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message['type'] == 'http.response.start':
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send)
        except Exception as exc:  # the form parser wraps our signal in its own error types
            if seen > self.limit and not started:
                await _too_large(send)
            else:
                raise exc


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = '{"detail":"文件大小不能超过 20 MB"}'.encode()
    await send({'type': 'http.response.start', 'status': 413,
                'headers': [(b'content-type', b'application/json; charset=utf-8'),
                            (b'content-length', str(len(body)).encode()), (b'connection', b'close')]})
    await send({'type': 'http.response.body', 'body': body})


# What NiceGUI's pages need and nothing more: its scripts are inline and Vue compiles templates in the
# browser ('unsafe-eval'); everything is served by this site; the socket goes to this site.
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; frame-src 'self'; "
    b"frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeadersMiddleware:
    """nosniff, framing by this site only (the licence preview), no referrer leaks, on every response;
    a Content-Security-Policy on HTML pages (files keep the browser's own viewers working)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message['type'] == 'http.response.start':
                headers = list(message.get('headers', []))
                names = {k.lower() for k, _ in headers}
                for key, value in ((b'x-content-type-options', b'nosniff'), (b'x-frame-options', b'SAMEORIGIN'),
                                   (b'referrer-policy', b'same-origin')):
                    if key not in names:
                        headers.append((key, value))
                content_type = next((v for k, v in headers if k.lower() == b'content-type'), b'')
                if content_type.startswith(b'text/html') and b'content-security-policy' not in names:
                    headers.append((b'content-security-policy', CONTENT_SECURITY_POLICY))
                message = {**message, 'headers': headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def gzip_except_files(app: ASGIApp) -> ASGIApp:
    """GZip for pages and scripts, but not for file downloads (PDFs and images are compressed already)."""
    zipped = GZipMiddleware(app)

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] == 'http' and scope.get('path', '').startswith(NO_GZIP_PREFIXES):
            await app(scope, receive, send)
        else:
            await zipped(scope, receive, send)
    return dispatch


def client_ip(request: Request | None) -> str | None:
    if request is None or request.client is None:
        return None
    return request.client.host
