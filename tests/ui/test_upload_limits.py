"""Unbounded disk use (issue 7, item 1): one file part per upload request, an upload rate and a
storage quota per account, replaced files counted until their bytes are gone, temp files kept in the
data dir and swept, never while an upload may still be writing them."""
import hashlib
import os
import tempfile
import time
from datetime import timedelta

import pytest
from nicegui import ui
from nicegui.testing import User

from components import upload as upload_component
from db.engine import read_scope
from db.models import StoredFile
from glrc_ui import config, upload_stream
from glrc_ui.errors import ValidationError
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import files, units
from tests import factories as f
from tests.factories import PASSWORD, submit_login


async def open_unit_form(user: User, account: str):
    await user.open('/login')
    await submit_login(user, '单位用户', account, PASSWORD)
    await user.should_see('首页')
    await f.settle()
    await user.open('/unit/info')
    await user.should_see('当前状态：', retries=150)
    await f.settle()
    return user.find(ui.upload).elements.pop().props['url']


async def test_two_file_parts_in_one_request_are_refused_before_any_handler(user: User):
    unit_id, account = f.unit_registered(91)
    url = await open_unit_form(user, account)
    pdf = simple_pdf(['x'])
    response = await user.http_client.post(url, files=[('file', ('a.pdf', pdf, 'application/pdf')),
                                                       ('file', ('b.pdf', pdf, 'application/pdf'))])
    assert response.status_code == 400 and response.json()['detail'] == '一次只能上传一个文件'
    await f.settle()
    assert f.count_rows(StoredFile) == 0 and f.unit_get(unit_id).licence_file_id is None
    assert not any((config.current().upload_dir / 'tmp').iterdir())   # the first part's temp file is gone


async def test_a_plain_form_field_on_the_upload_route_is_a_400(user: User):
    _, account = f.unit_registered(92)
    url = await open_unit_form(user, account)
    response = await user.http_client.post(url, data={'file': 'not a file'})
    assert response.status_code == 400
    assert f.count_rows(StoredFile) == 0


def part_files() -> list[str]:
    """The upload temp dir's files (Python's own temp files go there too: see use_private_tempdir)."""
    return sorted(p.name for p in (config.current().upload_dir / 'tmp').iterdir())


async def test_an_upload_is_written_once_and_not_read_again(user: User, monkeypatch):
    """Through the real route (issue 11): the body streams into the upload temp dir once, hashed on the
    way; the handler renames that file, never copies it (NiceGUI's LargeFileUpload.save), and
    files._check reads only its head and tail; the row's SHA-256 is that of the bytes sent."""
    unit_id, account = f.unit_registered(95)
    url = await open_unit_form(user, account)
    content = b'%PDF-1.4\n' + os.urandom(3 * files.MB) + b'\n%%EOF\n'
    written: list[int] = []
    real_write = upload_stream._Writer.write
    monkeypatch.setattr(upload_stream._Writer, 'write',
                        lambda self, chunks: (written.append(sum(map(len, chunks))), real_write(self, chunks))[1])

    async def no_copy(self, path):
        raise AssertionError('a streamed upload is copied')
    monkeypatch.setattr(upload_component.LargeFileUpload, 'save', no_copy)
    hashed: list[str] = []
    real_sha256 = files.hashlib.sha256

    class Hashlib:
        @staticmethod
        def sha256(*args):
            hashed.append('sha256')
            return real_sha256(*args)
    monkeypatch.setattr(files, 'hashlib', Hashlib)
    response = await user.http_client.post(url, files={'file': ('执照.pdf', content, 'application/pdf')})
    assert response.status_code == 200, response.text
    await f.eventually(lambda: f.unit_get(unit_id).licence_file_id is not None)
    await user.should_see('营业执照已上传', retries=100)
    file_id = f.unit_get(unit_id).licence_file_id
    with read_scope() as s:
        row = s.get(StoredFile, file_id)
        assert row.sha256 == hashlib.sha256(content).hexdigest() and row.size == len(content)
    assert sum(written) == len(content)           # written once, by the route
    assert hashed == []                            # _check did not hash it again
    assert files.path_of(row.stored_name).read_bytes() == content
    assert part_files() == []


async def test_a_file_over_the_field_limit_is_refused_while_streaming_and_the_field_says_so(user: User):
    f.staff('center_one')
    await f.open_logged_in(user, 'center_one', path='/account/settings', expect='保存')
    url = next(e for e in user.client.layout.descendants() if isinstance(e, ui.upload)).props['url']
    body = b'\x89PNG\r\n\x1a\n' + b'\x00' * (3 * files.MB)      # over the avatar's 2 MB, under the body limit
    response = await user.http_client.post(url, files={'file': ('big.png', body, 'image/png')})
    assert response.status_code == 413 and '2 MB' in response.json()['detail']
    await user.should_see('文件大小不能超过 2 MB', retries=100)
    assert f.count_rows(StoredFile) == 0 and part_files() == []


async def test_a_client_gone_mid_upload_leaves_no_temp_file(user: User):
    unit_id, account = f.unit_registered(96)
    url = await open_unit_form(user, account)
    boundary = 'glrcGoneBoundary'

    async def body():
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
               'Content-Type: application/pdf\r\n\r\n%PDF-1.4\n').encode()
        for _ in range(3):
            yield os.urandom(files.MB)     # more than one batch: the temp file exists by now
        raise ConnectionResetError('the browser went away')

    with pytest.raises(Exception) as gone:   # the app's middleware may wrap it in a group
        await user.http_client.post(url, content=body(),
                                    headers={'content-type': f'multipart/form-data; boundary={boundary}'})
    assert 'the browser went away' in repr(gone.value) or 'the browser went away' in repr(gone.value.__cause__)
    await f.settle()
    assert part_files() == [] and f.unit_get(unit_id).licence_file_id is None


def test_repeated_licence_posts_hit_the_upload_rate_limit():
    unit_id, account = f.unit_registered(93)
    op = f.actor_of_account(account)
    for n in range(files.UPLOAD_RATE):
        units.upload_licence(op, simple_pdf([f'licence {n}']), f'{n}.pdf', f.unit_get(unit_id).version)
    with pytest.raises(ValidationError) as refused:
        units.upload_licence(op, simple_pdf(['one too many']), 'x.pdf', f.unit_get(unit_id).version)
    assert refused.value.field == '营业执照' and '上传过于频繁' in refused.value.message
    assert f.count_rows(StoredFile) == files.UPLOAD_RATE


def test_the_quota_counts_replaced_files_until_their_bytes_are_gone(monkeypatch, fake_clock):
    unit_id, account = f.unit_registered(94)
    op = f.actor_of_account(account)
    size = len(simple_pdf(['licence 0']))
    monkeypatch.setattr(files, 'QUOTA', 2 * size + 10)
    units.upload_licence(op, simple_pdf(['licence 0']), 'a.pdf', f.unit_get(unit_id).version)
    units.upload_licence(op, simple_pdf(['licence 1']), 'b.pdf', f.unit_get(unit_id).version)  # replaces a
    with pytest.raises(ValidationError, match='上传空间已满'):
        units.upload_licence(op, simple_pdf(['licence 2']), 'c.pdf', f.unit_get(unit_id).version)
    fake_clock.advance(hours=1, minutes=1)       # the replaced one is past its grace period
    files.sweep_orphans(in_flight=timedelta(0))
    units.upload_licence(op, simple_pdf(['licence 2']), 'c.pdf', f.unit_get(unit_id).version)
    assert len([p for p in config.current().upload_dir.iterdir() if p.is_file()]) == 2


def test_temp_files_live_in_the_data_dir_and_only_settled_ones_are_swept():
    tmp_dir = files.use_private_tempdir()
    try:
        assert tmp_dir.is_relative_to(config.current().data_dir)
        assert tempfile.gettempdir() == str(tmp_dir)
        with tempfile.NamedTemporaryFile(delete=False) as spooled:   # what NiceGUI does for large parts
            spooled.write(b'x' * 1024)
        young = files.temp_path()
        young.write_bytes(b'%PDF- being written')
        old = files.temp_path()
        old.write_bytes(b'left by a crash')
        an_hour_ago = time.time() - 3600
        os.utime(old, (an_hour_ago, an_hour_ago))
        os.utime(spooled.name, (an_hour_ago, an_hour_ago))
        files.sweep_orphans()                                       # a sweep while the server runs
        assert young.exists() and not old.exists() and not os.path.exists(spooled.name)
        files.sweep_orphans(in_flight=timedelta(0))                 # at start-up nothing is in flight
        assert not young.exists()
    finally:
        tempfile.tempdir = None


def test_a_refused_upload_leaves_its_temp_file_removed(monkeypatch):
    _, account = f.unit_registered(97)
    op = f.actor_of_account(account)
    monkeypatch.setattr(files, 'QUOTA', 10)
    tmp = files.temp_path()
    tmp.write_bytes(simple_pdf(['too big for the quota']))
    with pytest.raises(ValidationError, match='上传空间已满'):
        files.accept(tmp, 'x.pdf', actor=op)
    assert not tmp.exists()
