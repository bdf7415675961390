"""The body of an upload POST, written once: its one file part is streamed straight into a file of the
upload temp dir (files.temp_path()) while its SHA-256 and the markup scan are computed in the same pass
(files.remember_streamed), so nothing copies or re-reads it afterwards (files._check reads only its head
and tail). Exactly one file part and no other field; more bytes than the field's limit stop the
writing at once. Blocking file I/O runs in worker threads, about 1 MB at a time, each batch written
while the next one arrives."""
import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from glrc_ui.services import files

ONE_FILE = '一次只能上传一个文件'
BAD_BODY = '上传数据不完整或格式有误'
BATCH = files.MB                 # bytes handed to a worker thread at a time
MAX_HEADER_BYTES = 8 * 1024       # one part's headers (name, file name, type)


class Refused(Exception):
    """The body is not one file part, or is malformed: answer `status` with `detail`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Received:
    """The file part of an upload. When too_large, nothing was kept (path no longer exists) and size
    is the bytes seen before the writing stopped (more than the limit)."""
    path: Path
    filename: str
    content_type: str
    size: int
    too_large: bool = False


class _Writer:
    """The temp file, its digest and markup scan; every method blocks (run in a worker thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.digest = hashlib.sha256()
        self.markup = files.MarkupScan()

    def write(self, chunks: list[bytes]) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        data = b''.join(chunks) if len(chunks) != 1 else chunks[0]
        self.digest.update(data)
        self.markup.feed(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def finish(self) -> None:
        """Close the file (created even when empty) and remember what the pass found."""
        if self.fd is None:
            self.write([b''])
        self.close()
        files.remember_streamed(self.path, self.digest.hexdigest(), self.markup.close())

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)

    def discard(self) -> None:
        self.close()
        files.discard_temp(self.path)


@dataclass
class _Part:
    """What the parser callbacks collect; file data waits in `pending` for the next write."""
    limit: int
    parts: int = 0
    header_name: bytes = b''
    header_value: bytes = b''
    header_bytes: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)
    filename: str | None = None
    content_type: str = ''
    size: int = 0
    too_large: bool = False
    part_done: bool = False
    ended: bool = False
    pending: list[bytes] = field(default_factory=list)
    pending_bytes: int = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > 1:
            raise Refused(400, ONE_FILE)

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self.header_value += data[start:end]

    def _count(self, n: int) -> None:
        self.header_bytes += n
        if self.header_bytes > MAX_HEADER_BYTES:
            raise Refused(400, BAD_BODY)

    def on_header_end(self) -> None:
        self.headers[self.header_name.strip().lower()] = self.header_value.strip()
        self.header_name = self.header_value = b''

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b'content-disposition', b''))
        if b'name' not in options or b'filename' not in options:
            raise Refused(400, ONE_FILE)   # a plain form field
        self.filename = _decode(options[b'filename'])
        self.content_type = _decode(parse_options_header(self.headers.get(b'content-type', b''))[0])

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.size += end - start
        if self.size > self.limit:
            self.too_large = True
            self.pending.clear()
            self.pending_bytes = 0
        elif end > start:
            self.pending.append(data[start:end])
            self.pending_bytes += end - start

    def on_part_end(self) -> None:
        self.part_done = True

    def on_end(self) -> None:
        self.ended = True

    def take(self) -> list[bytes]:
        chunks, self.pending, self.pending_bytes = self.pending, [], 0
        return chunks


def _decode(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode('latin-1')


async def receive_one_file(content_type: str | None, stream: AsyncIterator[bytes], limit: int) -> Received:
    """Stream the one file part of a multipart/form-data body into a new temp file; raises Refused
    for anything else (400). With more than `limit` bytes in the part, stops at once and keeps
    nothing (Received.too_large). Whatever goes wrong (a refusal, the client gone mid-upload), no
    temp file is left behind."""
    kind, params = parse_options_header(content_type or '')
    if kind != b'multipart/form-data' or not params.get(b'boundary'):
        raise Refused(400, ONE_FILE)
    part = _Part(limit)
    callbacks = {name: getattr(part, name) for name in (
        'on_part_begin', 'on_header_field', 'on_header_value', 'on_header_end', 'on_headers_finished',
        'on_part_data', 'on_part_end', 'on_end')}
    try:
        parser = MultipartParser(params[b'boundary'], callbacks)  # type: ignore[arg-type]
    except (FormParserError, ValueError):
        raise Refused(400, BAD_BODY) from None
    writer = _Writer(files.temp_path())
    writing: asyncio.Task | None = None   # the batch being written while the next one arrives

    async def drain() -> None:
        if writing is not None:
            await writing

    async def write(chunks: list[bytes]) -> None:
        nonlocal writing
        await drain()
        writing = asyncio.ensure_future(anyio.to_thread.run_sync(writer.write, chunks))

    try:
        async for chunk in stream:
            try:
                parser.write(chunk)
            except FormParserError:
                raise Refused(400, BAD_BODY) from None
            if part.too_large:
                break
            if part.pending_bytes >= BATCH:
                await write(part.take())
        if part.too_large:
            await drain()
            await anyio.to_thread.run_sync(writer.discard)
            return Received(writer.path, part.filename or '', part.content_type, part.size, too_large=True)
        if not (part.ended and part.part_done) or part.filename is None:
            raise Refused(400, ONE_FILE if part.parts == 0 else BAD_BODY)
        await write(part.take())
        await drain()
        await anyio.to_thread.run_sync(writer.finish)
        return Received(writer.path, part.filename, part.content_type, part.size)
    except BaseException:
        with anyio.CancelScope(shield=True):   # closed and removed only once no thread writes the file
            if writing is not None:
                await asyncio.wait([writing])
                if not writing.cancelled():
                    writing.exception()   # retrieved: the error that matters is the one raised here
            writer.discard()
        raise
