"""Download headers (SECURITY F4): Content-Disposition by Starlette's FileResponse, with the original
name recoverable by a standard parser, quotes and line breaks unable to break out, inline vs attachment."""
from email.message import Message
from urllib.parse import quote

import httpx
import pytest
from nicegui.testing import User
from starlette.applications import Starlette
from starlette.routing import Route

from glrc_ui.services import files
from pages.files import file_response
from tests import factories as f
from tests.factories import TINY_PDF, TINY_PNG


def filename_of(disposition: str) -> str:
    """The file name as a mail/HTTP library reads it (RFC 2231/5987 filename* included)."""
    message = Message()
    message['Content-Disposition'] = disposition
    return message.get_filename()


async def fetch(tmp_path, name: str, *, inline: bool, mime: str = 'application/pdf') -> httpx.Response:
    """file_response served by a bare Starlette app, as the /files route returns it."""
    path = tmp_path / 'stored'
    path.write_bytes(TINY_PDF)

    async def endpoint(request):
        return file_response({'name': name, 'mime': mime}, path, inline=inline)
    app = Starlette(routes=[Route('/f', endpoint)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://test') as client:
        return await client.get('/f')


@pytest.mark.parametrize('inline, kind', [(False, 'attachment'), (True, 'inline')])
async def test_chinese_name_is_percent_encoded_utf8(tmp_path, inline, kind):
    response = await fetch(tmp_path, '营业执照 2026.pdf', inline=inline)
    assert response.status_code == 200 and response.content == TINY_PDF
    disposition = response.headers['content-disposition']
    assert disposition == f"{kind}; filename*=utf-8''{quote('营业执照 2026.pdf')}"
    assert filename_of(disposition) == '营业执照 2026.pdf'
    assert response.headers['x-content-type-options'] == 'nosniff'
    assert response.headers['cache-control'] == 'no-store'
    assert response.headers['content-type'] == 'application/pdf'


@pytest.mark.parametrize('name', [
    'a"b.pdf',
    'report.pdf"; filename="evil.html',
    'x\r\nSet-Cookie: glrc=stolen\r\n.pdf',
    'line\nbreak\r.pdf',
    'semi;colon,comma.pdf',
    "it's 100%.pdf",
])
async def test_quotes_and_line_breaks_stay_inside_the_name(tmp_path, name):
    response = await fetch(tmp_path, name, inline=False)
    disposition = response.headers['content-disposition']
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert not any(ch in disposition for ch in '"\r\n') and disposition.count(';') == 1
    assert 'set-cookie' not in response.headers and 'evil' not in disposition.split("''")[0]
    assert filename_of(disposition) == name                          # nothing lost, nothing added


async def test_a_plain_ascii_name_is_sent_as_it_is(tmp_path):
    response = await fetch(tmp_path, 'report-2026_v2.pdf', inline=False)
    assert response.headers['content-disposition'] == 'attachment; filename="report-2026_v2.pdf"'


async def test_an_empty_name_still_names_the_file(tmp_path):
    response = await fetch(tmp_path, '', inline=True)
    assert response.headers['content-disposition'] == 'inline; filename="file"'


async def test_the_files_route_sends_these_headers(user: User):
    """Through the real, authorised /files route: a center user opens a photo stored under a Chinese name
    with quotes and a line break (the upload keeps the name as data, without those characters)."""
    f.staff('center_one')
    actor = f.actor_of_account('center_one')
    stored = files.store(TINY_PNG, '证件照"\r\n张三.png', kind='avatar', entity='avatar', entity_id=actor.user_id,
                         actor=actor, allowed=files.IMAGE_TYPES)
    assert stored['name'] == '证件照张三.png'
    await f.open_logged_in(user, 'center_one', expect='首页')
    await f.settle()
    attachment = await user.http_client.get(f'/files/{stored["id"]}')
    assert attachment.status_code == 200 and attachment.content == TINY_PNG
    assert attachment.headers['content-disposition'] == f"attachment; filename*=utf-8''{quote('证件照张三.png')}"
    assert attachment.headers['content-type'] == 'image/png'
    assert attachment.headers['x-content-type-options'] == 'nosniff'
    assert attachment.headers['cache-control'] == 'no-store'
    assert 'content-encoding' not in attachment.headers                  # images are not gzipped
    inline = await user.http_client.get(f'/files/{stored["id"]}?inline=1')
    assert inline.headers['content-disposition'] == f"inline; filename*=utf-8''{quote('证件照张三.png')}"
    assert filename_of(inline.headers['content-disposition']) == '证件照张三.png'
