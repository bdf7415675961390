"""An upload is written once (issue 11): the POST's one file part streams into the upload temp dir with
its SHA-256 and markup scan computed on the way (glrc_ui.upload_stream); files.accept then neither
copies nor re-reads it, unless the file changed since (a re-encoded photo)."""
import builtins
import hashlib
import io
import os
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from starlette.requests import ClientDisconnect

from glrc_ui import upload_stream
from glrc_ui.errors import ValidationError
from glrc_ui.services import files

BOUNDARY = 'glrcStreamBoundary42'
CONTENT_TYPE = f'multipart/form-data; boundary={BOUNDARY}'


def pdf_like(size: int) -> bytes:
    """A file files.sniff takes for a PDF: header, random bytes, %%EOF (random bytes hold no markup
    with these few sizes: see files._MARKUP_TAGS)."""
    body = os.urandom(size - 16)
    return b'%PDF-1.4\n' + body + b'\n%%EOF\n'


def part(content: bytes, *, name: str = 'file', filename: str | None = 'a.pdf', ctype: str = 'application/pdf') -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else '')
    return (f'--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + content + b'\r\n')


def body(*parts: bytes) -> bytes:
    return b''.join(parts) + f'--{BOUNDARY}--\r\n'.encode()


class Chunks:
    """The request body as the server receives it, in odd-sized chunks; counts what was consumed and
    can fail after `fail_after` chunks (the client gone)."""

    def __init__(self, data: bytes, size: int = 65_521, fail_after: int | None = None) -> None:
        self.data, self.size, self.fail_after = data, size, fail_after
        self.consumed = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for n, start in enumerate(range(0, len(self.data), self.size)):
            if self.fail_after is not None and n >= self.fail_after:
                raise ClientDisconnect()
            self.consumed += min(self.size, len(self.data) - start)
            yield self.data[start:start + self.size]


@pytest.fixture(autouse=True)
def _no_digests_of_other_tests():
    files._streamed.clear()    # a test that ends with an unused temp file leaves its entry behind
    yield


def temp_files() -> list[str]:
    return sorted(p.name for p in files._dirs()[1].iterdir())


class ReadSpy:
    """files.open counting the bytes read from each file (to prove _check does not re-read)."""

    def __init__(self, monkeypatch) -> None:
        self.read = 0
        spy = self

        class Counting(io.BufferedReader):
            def read(self, n=-1):
                data = super().read(n)
                spy.read += len(data)
                return data

        def opener(path, mode='r', *args, **kwargs):
            f = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 - returned to the caller's with
            if mode == 'rb':
                raw = f.detach()
                return Counting(raw)
            return f

        monkeypatch.setattr(files, 'open', opener, raising=False)


async def receive(data: bytes, limit: int = files.MAX_FILE, **kwargs) -> upload_stream.Received:
    return await upload_stream.receive_one_file(CONTENT_TYPE, Chunks(data, **kwargs).__aiter__(), limit)


async def test_the_part_is_written_once_and_accept_does_not_read_it_again(monkeypatch):
    content = pdf_like(3 * files.MB + 123)
    writes: list[int] = []
    real_write = upload_stream._Writer.write
    monkeypatch.setattr(upload_stream._Writer, 'write',
                        lambda self, chunks: (writes.append(sum(map(len, chunks))), real_write(self, chunks))[1])
    got = await receive(body(part(content, filename='证书.pdf')))
    assert got.filename == '证书.pdf' and got.content_type == 'application/pdf' and not got.too_large
    assert got.size == len(content) == got.path.stat().st_size
    assert got.path.parent == files._dirs()[1] and got.path.read_bytes() == content
    assert sum(writes) == len(content) and max(writes) < 2 * upload_stream.BATCH  # in ~1 MB batches, once
    spy = ReadSpy(monkeypatch)
    accepted = files.accept(got.path, got.filename)
    assert accepted.sha256 == hashlib.sha256(content).hexdigest() and accepted.size == len(content)
    assert spy.read <= 4096                      # head and tail only: the digest came from the stream
    assert files.path_of(accepted.stored_name).read_bytes() == content
    assert not got.path.exists() and not files._streamed


async def test_a_file_not_streamed_is_still_read_whole(monkeypatch):
    """The spy above would pass if _check never hashed at all: a plain temp file is hashed in full."""
    content = pdf_like(files.MB + 7)
    tmp = files.temp_path()
    tmp.write_bytes(content)
    spy = ReadSpy(monkeypatch)
    assert files.accept(tmp, 'x.pdf').sha256 == hashlib.sha256(content).hexdigest()
    assert spy.read >= len(content)


async def test_a_file_changed_after_streaming_is_hashed_again():
    content = pdf_like(200_000)
    got = await receive(body(part(content)))
    with open(got.path, 'ab') as f:       # another size: not the file that was streamed
        f.write(b'%%EOF\n')
    accepted = files.accept(got.path, 'a.pdf')
    assert accepted.sha256 == hashlib.sha256(content + b'%%EOF\n').hexdigest()


async def test_a_renamed_upload_keeps_its_digest(monkeypatch):
    content = pdf_like(500_000)
    got = await receive(body(part(content)))
    target = files.temp_path()
    files.rename_temp(got.path, target)
    spy = ReadSpy(monkeypatch)
    assert files.accept(target, 'a.pdf').sha256 == hashlib.sha256(content).hexdigest()
    assert spy.read <= 4096


async def test_a_re_encoded_photo_gets_the_digest_of_what_is_kept():
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = 'PhoneMaker'
    Image.new('RGB', (40, 20), (200, 30, 30)).save(out, format='JPEG', exif=exif, comment=b'at home')
    photo = out.getvalue()
    got = await receive(body(part(photo, filename='face.jpg', ctype='image/jpeg')))
    accepted = files.accept(got.path, 'face.jpg', allowed=files.IMAGE_TYPES, strip_images=True)
    kept = files.path_of(accepted.stored_name).read_bytes()
    assert kept != photo
    assert accepted.sha256 == hashlib.sha256(kept).hexdigest() != hashlib.sha256(photo).hexdigest()
    assert accepted.size == len(kept)


async def test_markup_split_between_two_batches_is_found(monkeypatch):
    monkeypatch.setattr(upload_stream, 'BATCH', 4096)
    batches: list[int] = []
    real_write = upload_stream._Writer.write
    monkeypatch.setattr(upload_stream._Writer, 'write',
                        lambda self, chunks: (batches.append(sum(map(len, chunks))), real_write(self, chunks))[1])
    clean = b'%PDF-1.4\n' + b'a' * 40_000 + b'\n%%EOF\n'   # no CR: the parser passes every byte on at once
    got = await receive(body(part(clean)), size=1000)
    files.discard_temp(got.path)
    split = batches[0]                                     # where the first batch ended
    content = clean[:split - 4] + b'<script>' + clean[split + 4:]
    batches.clear()
    got = await receive(body(part(content)), size=1000)
    assert batches[0] == split and content[split - 4:split] == b'<scr'     # the marker spans two batches
    assert files._streamed[got.path][2] is True
    with pytest.raises(ValidationError, match='文件内容不是有效的'):
        files.accept(got.path, 'a.pdf')
    assert temp_files() == []


async def test_two_parts_are_refused_and_leave_nothing():
    content = pdf_like(300_000)
    with pytest.raises(upload_stream.Refused) as refused:
        await receive(body(part(content), part(content, filename='b.pdf')))
    assert refused.value.status == 400 and refused.value.detail == upload_stream.ONE_FILE
    assert temp_files() == [] and not files._streamed


@pytest.mark.parametrize('data, content_type', [
    (body(part(b'not a file', filename=None)), CONTENT_TYPE),       # a plain field
    (body(), CONTENT_TYPE),                                          # no part at all
    (b'file=x', 'application/x-www-form-urlencoded'),
    (body(part(b'%PDF-1.4 x %%EOF')), 'multipart/form-data'),        # no boundary
], ids=['field', 'empty', 'urlencoded', 'no-boundary'])
async def test_anything_but_one_file_part_is_a_400(data, content_type):
    with pytest.raises(upload_stream.Refused) as refused:
        await upload_stream.receive_one_file(content_type, Chunks(data).__aiter__(), files.MAX_FILE)
    assert refused.value.status == 400
    assert temp_files() == []


async def test_a_truncated_body_is_a_400_and_leaves_nothing():
    data = body(part(pdf_like(2 * files.MB)))
    with pytest.raises(upload_stream.Refused) as refused:
        await receive(data[:-100])
    assert refused.value.status == 400
    assert temp_files() == [] and not files._streamed


async def test_more_than_the_limit_stops_the_stream_and_keeps_nothing():
    limit = 2 * files.MB
    stream = Chunks(body(part(pdf_like(5 * files.MB))))
    got = await upload_stream.receive_one_file(CONTENT_TYPE, stream.__aiter__(), limit)
    assert got.too_large and got.size > limit and not got.path.exists()
    assert stream.consumed < limit + 2 * 65_521           # stopped right after the limit
    assert temp_files() == [] and not files._streamed


async def test_exactly_the_limit_is_accepted():
    content = pdf_like(files.MB)
    got = await receive(body(part(content)), limit=files.MB)
    assert not got.too_large and got.path.read_bytes() == content


async def test_a_client_gone_mid_upload_leaves_no_temp_file():
    with pytest.raises(ClientDisconnect):
        await receive(body(part(pdf_like(3 * files.MB))), fail_after=30)   # ~2 MB in: a batch is written
    assert temp_files() == [] and not files._streamed


async def test_a_failed_write_leaves_no_temp_file(monkeypatch):
    """The disk refuses a batch (full) while the next one arrives: the error reaches the route, the
    file goes."""
    real_write = upload_stream._Writer.write
    calls = []

    def failing(self, chunks):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, 'No space left on device')
        real_write(self, chunks)
    monkeypatch.setattr(upload_stream._Writer, 'write', failing)
    with pytest.raises(OSError, match='No space left'):
        await receive(body(part(pdf_like(5 * files.MB))))
    assert temp_files() == [] and not files._streamed


async def test_a_cancelled_upload_leaves_no_temp_file():
    """The request task cancelled mid-upload (server shutdown, timeout): the batch being written
    finishes first, then the file goes."""
    import asyncio
    started = asyncio.Event()

    async def slow_body():
        data = body(part(pdf_like(4 * files.MB)))
        for start in range(0, len(data), 65_536):
            if start > 2 * files.MB:
                started.set()
                await asyncio.sleep(0.01)
            yield data[start:start + 65_536]

    task = asyncio.ensure_future(upload_stream.receive_one_file(CONTENT_TYPE, slow_body(), files.MAX_FILE))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert temp_files() == [] and not files._streamed
