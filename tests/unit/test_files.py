"""Uploads: type by content (F2), names are data only (F3), size refused while streaming (F1)."""
import hashlib

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from db.engine import session_scope
from db.models import StoredFile
from glrc_ui import config, http
from glrc_ui.actor import Actor
from glrc_ui.errors import ValidationError
from glrc_ui.services import files
from tests import factories as f
from tests.factories import TINY_JPEG, TINY_PDF, TINY_PNG

MB = 1024 * 1024


@pytest.fixture
def actor():
    user_id = f.person('13800138000')
    return Actor(user_id, '13800138000', 'person', f.IP)


def store(data: bytes, name: str, actor, **kwargs) -> dict:
    return files.store(data, name, kind='doc', entity='avatar', entity_id=actor.user_id, actor=actor, **kwargs)


# ---------------------------------------------------------------- F2 magic bytes

@pytest.mark.parametrize('data, name, kind', [
    (TINY_PDF, 'scan.pdf', 'application/pdf'),
    (TINY_PNG, 'photo.png', 'image/png'),
    (TINY_JPEG, 'photo.jpg', 'image/jpeg'),
    (TINY_PDF, 'renamed.png', 'application/pdf'),      # the name does not decide the type
    (TINY_JPEG, 'no_extension', 'image/jpeg'),
], ids=['pdf', 'png', 'jpeg', 'pdf-named-png', 'jpeg-no-extension'])
def test_real_files_are_accepted_by_content(actor, data, name, kind):
    stored = store(data, name, actor)
    assert stored['mime'] == kind and stored['size'] == len(data)


HTML = b'<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>'
BAD_FILES = {
    'html renamed .pdf': (HTML, 'report.pdf'),
    'pdf head with script': (b'%PDF-1.4\n<script>alert(1)</script>\n' + TINY_PDF[9:], 'poly.pdf'),
    'pdf head with html': (b'%PDF-1.7\n%<html><body onload=alert(1)>\n' + TINY_PDF[9:], 'poly2.pdf'),
    'png with svg inside': (TINY_PNG[:33] + b'<svg onload=alert(1)>' + TINY_PNG[33:], 'poly.png'),
    'jpeg with iframe comment': (TINY_JPEG[:2] + b'\xff\xfe\x00\x20<iframe src=//x>' + TINY_JPEG[2:], 'p.jpg'),
    'truncated pdf': (TINY_PDF[:-7], 'cut.pdf'),
    'truncated png': (TINY_PNG[:-12], 'cut.png'),
    'gif': (b'GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'anim.gif'),
    'svg': (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', 'logo.png'),
    'zip/docx': (b'PK\x03\x04' + b'\x00' * 100, 'cv.pdf'),
    'text': (b'%%EOF just text', 'a.pdf'),
}


@pytest.mark.parametrize('case', list(BAD_FILES))
def test_disguised_or_unknown_content_is_rejected(actor, case):
    data, name = BAD_FILES[case]
    with pytest.raises(ValidationError) as err:
        store(data, name, actor)
    assert '文件内容不是有效的' in err.value.message
    assert not [p for p in config.current().upload_dir.rglob('*') if p.is_file()]   # nothing written


def test_images_only_where_images_are_expected(actor):
    with pytest.raises(ValidationError):
        store(TINY_PDF, 'avatar.png', actor, allowed=files.IMAGE_TYPES)
    assert store(TINY_PNG, 'avatar.png', actor, allowed=files.IMAGE_TYPES)['mime'] == 'image/png'


def test_empty_and_oversized_files_are_refused(actor):
    with pytest.raises(ValidationError) as err:
        store(b'', 'empty.pdf', actor)
    assert '文件为空' in err.value.message
    big = TINY_PNG[:-12] + b'\x00' * (files.MAX_AVATAR) + TINY_PNG[-12:]
    with pytest.raises(ValidationError) as err:
        store(big, 'big.png', actor, allowed=files.IMAGE_TYPES, max_size=files.MAX_AVATAR)
    assert '2 MB' in err.value.message


# ---------------------------------------------------------------- F3 names are data only

@pytest.mark.parametrize('name, shown', [
    ('../../x.pdf', 'x.pdf'),
    ('..\\x.pdf', 'x.pdf'),
    ('..\\..\\..\\x.pdf', 'x.pdf'),
    ('/etc/x.pdf', 'x.pdf'),
    ('C:\\Windows\\x.pdf', 'x.pdf'),
    ('a\r\nSet-Cookie: x=1.pdf', 'aSet-Cookie: x=1.pdf'),
    ('申报材料 "最终版".pdf', '申报材料 最终版.pdf'),
    ('..', '..'),
])
def test_traversal_names_stay_inside_the_upload_dir(actor, tmp_path, name, shown):
    stored = store(TINY_PDF, name, actor)
    assert stored['name'] == shown
    with session_scope() as s:
        row = s.get(StoredFile, stored['id'])
    root = config.current().upload_dir.resolve()
    path = files.path_of(row.stored_name)
    assert path.parent == root
    assert len(row.stored_name) == 32 and int(row.stored_name, 16) >= 0   # random hex, not the given name
    assert path.read_bytes() == TINY_PDF
    assert row.sha256 == hashlib.sha256(TINY_PDF).hexdigest()
    assert not list(tmp_path.rglob('*.pdf'))                  # no file named after the upload, anywhere
    assert not (tmp_path.parent / 'x.pdf').exists() and not (tmp_path.parent.parent / 'x.pdf').exists()


@pytest.mark.parametrize('stored_name', ['../glrc.sqlite3', '../../etc/passwd', 'tmp/../../x', '/etc/passwd'])
def test_path_of_refuses_names_that_leave_the_upload_dir(stored_name):
    with pytest.raises(ValueError):
        files.path_of(stored_name)


def test_two_uploads_of_one_name_do_not_overwrite(actor):
    a, b = store(TINY_PDF, 'same.pdf', actor), store(TINY_PNG, 'same.pdf', actor)
    with session_scope() as s:
        names = {s.get(StoredFile, a['id']).stored_name, s.get(StoredFile, b['id']).stored_name}
    assert len(names) == 2
    assert {files.path_of(n).read_bytes() for n in names} == {TINY_PDF, TINY_PNG}


# ---------------------------------------------------------------- F1 body limit while streaming

UPLOAD_PATH = '/_nicegui/client/x/upload/y'


class Probe:
    """A stand-in for NiceGUI's upload route: parses the multipart form like it does."""

    def __init__(self) -> None:
        self.calls = 0
        self.bytes_in_form = 0

    async def upload(self, request: Request) -> JSONResponse:
        self.calls += 1
        async with request.form() as form:
            for value in form.values():
                self.bytes_in_form += len(await value.read())
        return JSONResponse({'upload': 'success'})

    def app(self) -> Starlette:
        # the same stack as app.add_middleware(http.BodyLimitMiddleware)
        return Starlette(routes=[Route(UPLOAD_PATH, self.upload, methods=['POST']),
                                 Route('/other', self.upload, methods=['POST'])],
                         middleware=[Middleware(http.BodyLimitMiddleware)])


def multipart(size: int) -> tuple[bytes, str]:
    boundary = 'glrcboundary7MA4YWxkTrZu0gW'
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            'Content-Type: application/pdf\r\n\r\n').encode()
    body = head + b'%PDF-' + b'0' * (size - 5) + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


async def post(app, body: bytes, content_type: str, *, chunked: bool, path: str = UPLOAD_PATH) -> httpx.Response:
    async def stream():
        for start in range(0, len(body), MB):
            yield body[start:start + MB]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url='http://test') as client:
        if chunked:
            request = client.build_request('POST', path, content=stream(), headers={'content-type': content_type})
            assert 'content-length' not in request.headers
            assert request.headers.get('transfer-encoding') == 'chunked'
        else:
            request = client.build_request('POST', path, content=body, headers={'content-type': content_type})
            assert int(request.headers['content-length']) == len(body)
        return await client.send(request)


@pytest.mark.parametrize('chunked', [False, True], ids=['content-length', 'chunked'])
async def test_21_mb_upload_is_refused_with_413(chunked):
    probe = Probe()
    body, content_type = multipart(21 * MB)
    response = await post(probe.app(), body, content_type, chunked=chunked)
    assert response.status_code == 413
    assert '20 MB' in response.json()['detail']
    assert probe.bytes_in_form == 0                       # the form never reached the route
    if not chunked:
        assert probe.calls == 0                           # refused on the header alone


@pytest.mark.parametrize('chunked', [False, True], ids=['content-length', 'chunked'])
async def test_a_full_20_mb_file_still_goes_through(chunked):
    probe = Probe()
    body, content_type = multipart(files.MAX_FILE)
    response = await post(probe.app(), body, content_type, chunked=chunked)
    assert response.status_code == 200, response.text
    assert probe.bytes_in_form == files.MAX_FILE
