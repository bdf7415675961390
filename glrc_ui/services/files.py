"""Uploaded files: type by content, size on the server, temp → fsync → rename → row (SECURITY F1-F4, R4)."""
import hashlib
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import StoredFile
from glrc_ui import clock, config
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied, ValidationError
from glrc_ui.security import IpThrottle
from glrc_ui.services import audit, images

MB = 1024 * 1024
MAX_FILE = 20 * MB
MAX_AVATAR = 2 * MB
DOCUMENT_TYPES = ('pdf', 'jpeg', 'png')
IMAGE_TYPES = ('jpeg', 'png')
MIME = {'pdf': 'application/pdf', 'jpeg': 'image/jpeg', 'png': 'image/png'}
TYPE_NAMES = {'pdf': 'PDF', 'jpeg': 'JPG', 'png': 'PNG'}
# HTML/script markers refused anywhere in an upload (polyglots: a PDF or image that is also a web page).
# ASCII case does not matter (as in a browser). A tag counts only with a byte that ends a tag name
# after it ('<svg ', '<svg>', '<svg/'; not '<svgz', which a browser reads as another tag): compressed
# PDF streams and JPEG/PNG pixel data look like random bytes, where a bare '<svg' turns up once in
# 512 MB (1 in 25 files of 20 MB would be refused), '<svg' plus that byte once in ~18 GB.
_MARKUP_TAGS = (b'html', b'script', b'svg', b'body', b'iframe', b'object', b'embed')


def _any_case(word: bytes) -> bytes:
    """A regex for `word` in any ASCII case (b'<a:' → b'<[aA]:'): no lowered copy of each chunk."""
    return b''.join(b'[%c%c]' % (c, c ^ 0x20) if chr(c).isalpha() else re.escape(bytes([c])) for c in word)


# Two searches, each starting at one literal byte ('<', ':') that the regex engine finds fast.
_MARKUP_TAG = re.compile(b'<(?:' + b'|'.join(map(_any_case, _MARKUP_TAGS)) + rb')[\t\n\f\r />]|'
                         + _any_case(b'<!doctype'))
_MARKUP_URL = re.compile(b':(?<=' + _any_case(b'javascript:') + b')')
# the longest match: '<' + tag + the byte after it, '<!doctype', 'javascript:'
_MARKUP_SPAN = max([len(tag) + 2 for tag in _MARKUP_TAGS] + [len(b'<!doctype'), len(b'javascript:')])

GRACE = timedelta(hours=1)  # replaced files stay readable this long (a reviewer may have it open)
IN_FLIGHT = timedelta(minutes=10)   # a temp or unrecorded file this young may be an upload in progress
QUOTA = 200 * MB        # what one account may keep on disk
UPLOAD_RATE = 30        # uploads per account per 10 minutes
upload_limit = IpThrottle(timedelta(minutes=10), UPLOAD_RATE, name='upload')

# Test hook for R4: called with the step name ('written', 'renamed') before the next step.
fault_hook: Callable[[str], None] | None = None


def sniff(head: bytes, tail: bytes) -> str | None:
    """The file's real type from its bytes, or None. Rejects HTML in the head (polyglots); _check
    scans the rest of the file."""
    if has_markup(head):
        return None
    if head.startswith(b'%PDF-') and b'%%EOF' in tail:
        return 'pdf'
    if head.startswith(b'\xff\xd8\xff') and b'\xff\xd9' in tail:
        return 'jpeg'
    if head.startswith(b'\x89PNG\r\n\x1a\n') and b'IEND' in tail:
        return 'png'
    return None


def has_markup(data: bytes) -> bool:
    """Whether `data` holds an HTML/script marker (see _MARKUP_TAG)."""
    return _MARKUP_TAG.search(data) is not None or _MARKUP_URL.search(data) is not None


class MarkupScan:
    """has_markup over a stream fed chunk by chunk, in one pass: each chunk is searched together with
    the last bytes of the one before, so a marker split across two chunks is found too."""

    def __init__(self) -> None:
        self.found = False
        self._carry = b''

    def feed(self, chunk: bytes) -> None:
        if not self.found:
            window = self._carry + chunk
            self.found = has_markup(window)
            self._carry = window[-(_MARKUP_SPAN - 1):]  # a longer match would lie wholly in this window

    def close(self) -> bool:
        """True when a marker was found; the end of the stream ends a tag name too ('…<svg')."""
        if not self.found:
            self.found = has_markup(self._carry + b'>')
        return self.found


def safe_name(name: str | None) -> str:
    """Keep only the last path part of a browser-given name, without control characters."""
    name = (name or '').replace('\\', '/').split('/')[-1]
    name = ''.join(ch for ch in name if ch.isprintable() and ch not in '"\r\n\t')
    return name.strip()[:200] or 'file'


def _dirs() -> tuple[Path, Path]:
    root = config.current().upload_dir
    tmp = root / 'tmp'
    root.mkdir(mode=0o700, parents=True, exist_ok=True)  # 0700 from the start, whatever the umask
    tmp.mkdir(mode=0o700, exist_ok=True)
    return root, tmp


@dataclass(frozen=True)
class Accepted:
    """A checked upload already moved into place under its random name; not yet a row."""
    stored_name: str
    original_name: str
    mime: str
    size: int
    sha256: str


def store(data: 'bytes | Path', original_name: str, *, kind: str, entity: str, entity_id: int, actor: Actor,
          allowed: tuple[str, ...] = DOCUMENT_TYPES, max_size: int = MAX_FILE, field: str = '附件') -> dict:
    """Check and store one upload with its row, in the caller's transaction when one is open.
    Returns the file's public data. Raises ValidationError."""
    accepted = accept(data, original_name, allowed=allowed, max_size=max_size, field=field)
    with session_scope() as s:
        return record(s, accepted, kind=kind, entity=entity, entity_id=entity_id, actor=actor)


def admit(actor: Actor, size: int, field: str) -> None:
    """An account may upload UPLOAD_RATE files per 10 minutes and keep QUOTA bytes (files replaced
    less than GRACE ago still count: their bytes are still on disk). Raises ValidationError."""
    if actor.user_id is None:
        raise PermissionDenied()
    if upload_limit.hit(f'user:{actor.user_id}'):
        raise ValidationError(field, f'上传过于频繁（每 10 分钟最多 {UPLOAD_RATE} 个文件），请稍后再试')
    with read_scope() as s:
        used = s.exec(select(func.coalesce(func.sum(StoredFile.size), 0)).where(
            StoredFile.uploaded_by == actor.user_id,
            or_(col(StoredFile.deleted_at).is_(None), col(StoredFile.deleted_at) > clock.now() - GRACE))).one()
    if used + size > QUOTA:
        raise ValidationError(field, f'您的上传空间已满（{QUOTA // MB} MB），请删除不再需要的文件后再上传，'
                                     '或联系市人才服务中心')


def accept(data: 'bytes | Path', original_name: str, *, allowed: tuple[str, ...] = DOCUMENT_TYPES,
           max_size: int = MAX_FILE, field: str = '附件', strip_images: bool = False,
           actor: Actor | None = None) -> Accepted:
    """Check one upload by content and move it into place: temp → check → fsync → rename (no
    transaction is open meanwhile: file I/O never holds the database lock).

    `data` is the content, or a file made by temp_path() (uploads are streamed there, so a 20 MB
    file never sits in memory); that file is moved into place or removed, whatever happens.
    With strip_images, an image is re-encoded without its metadata (EXIF, GPS) before it is kept
    (photos of people; documents are kept byte for byte, as evidence). With an actor, the
    account's upload rate and quota are checked first (admit)."""
    root, tmp_dir = _dirs()
    stored_name = secrets.token_hex(16)
    if isinstance(data, Path):
        tmp_path = data
        if tmp_path.parent.resolve() != tmp_dir.resolve():
            raise ValueError('uploads are stored from files made by temp_path()')
    else:
        tmp_path = tmp_dir / (stored_name + '.part')
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
    try:
        if actor is not None:
            admit(actor, tmp_path.stat().st_size, field)
        size, real_type, digest = _check(tmp_path, allowed, max_size, field)
        if strip_images and real_type in IMAGE_TYPES:
            images.reencode(tmp_path, real_type, field=field)
            size, real_type, digest = _check(tmp_path, allowed, max_size, field)
        with open(tmp_path, 'rb+') as f:
            os.fchmod(f.fileno(), 0o600)  # also a file streamed into the (0700) temp dir by other code
            os.fsync(f.fileno())
        if fault_hook:
            fault_hook('written')
        final_path = root / stored_name
        os.replace(tmp_path, final_path)
    finally:
        tmp_path.unlink(missing_ok=True)
    _fsync_dir(root)
    if fault_hook:
        fault_hook('renamed')
    return Accepted(stored_name, safe_name(original_name), MIME[real_type], size, digest)


def record(s: Session, accepted: Accepted, *, kind: str, entity: str, entity_id: int, actor: Actor) -> dict:
    """The row for an accepted file, in the caller's transaction; if that transaction rolls back,
    the file is removed too (no bytes without a row)."""
    row = StoredFile(kind=kind, entity=entity, entity_id=entity_id, uploaded_by=actor.user_id,
                     stored_name=accepted.stored_name, original_name=accepted.original_name, mime=accepted.mime,
                     size=accepted.size, sha256=accepted.sha256)
    path = path_of(accepted.stored_name)
    s.info.setdefault('after_rollback', []).append(lambda: path.unlink(missing_ok=True))
    s.add(row)
    s.flush()
    audit.record(s, 'file_uploaded', actor=actor, obj=f'file:{row.id}', detail=f'{entity}:{entity_id}:{kind}')
    return public(row)


def discard(s: Session, file_id: int | None) -> None:
    """Soft-delete a file row (replaced or removed); the sweeper removes its bytes after GRACE."""
    if file_id and (row := s.get(StoredFile, file_id)) is not None and row.deleted_at is None:
        row.deleted_at = clock.now()
        s.add(row)


def unlink_accepted(accepted: Accepted) -> None:
    """Remove an accepted file that will not get a row (e.g. its item changed meanwhile)."""
    path_of(accepted.stored_name).unlink(missing_ok=True)


def use_private_tempdir() -> Path:
    """Python's temp files (NiceGUI spools large upload parts there) go to the upload temp dir inside
    the data dir: private, on the same disk as the data, and swept (SECURITY R4)."""
    _, tmp_dir = _dirs()
    tempfile.tempdir = str(tmp_dir)
    return tmp_dir


def temp_path() -> Path:
    """A fresh path in the upload temp dir (same file system as the store: the final move is atomic)."""
    _, tmp_dir = _dirs()
    return tmp_dir / (secrets.token_hex(16) + '.part')


def _check(path: Path, allowed: tuple[str, ...], max_size: int, field: str) -> tuple[int, str, str]:
    """(size, real type, sha256) of a file on disk; ValidationError when refused. A file streamed in by
    an upload (remember_streamed) is not read again: its digest and markup scan come from that pass,
    only its head and tail are read; any other file is read once, in chunks."""
    stat = path.stat()
    size = stat.st_size
    if size == 0:
        raise ValidationError(field, '文件为空，请重新选择')
    if size > max_size:
        raise ValidationError(field, f'文件大小不能超过 {max_size // MB} MB')
    streamed = _streamed_result(path, stat)
    with open(path, 'rb') as f:
        head = f.read(2048)
        f.seek(max(0, size - 2048))
        tail = f.read(2048)
        if streamed is None:
            digest = hashlib.sha256()
            markup = MarkupScan()  # HTML anywhere, not only in the head that sniff sees (late polyglots)
            f.seek(0)
            while chunk := f.read(MB):
                digest.update(chunk)
                markup.feed(chunk)
            streamed = digest.hexdigest(), markup.close()
    hexdigest, has_markup_inside = streamed
    real_type = sniff(head, tail)
    if real_type not in allowed or has_markup_inside:
        names = '、'.join(TYPE_NAMES[t] for t in allowed)
        raise ValidationError(field, f'文件内容不是有效的 {names} 文件，请上传 {names} 格式')
    return size, real_type, hexdigest


# What an upload's single streaming pass found (glrc_ui.upload_stream), so that _check does not read
# the file again: the SHA-256 and whether markup is inside, per temp file. An entry holds only while
# the file is the very one that was streamed (device, inode, size, mtime; a re-encoded image is a new
# file) and is used once; entries of files removed unused go with the file (discard_temp) or, at
# the latest, when the next entry is made.
_streamed: dict[Path, tuple[tuple[int, int, int, int], str, bool]] = {}
_streamed_lock = threading.Lock()


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def remember_streamed(path: Path, sha256: str, markup: bool) -> None:
    """Record the digest and markup scan of a temp file just written and closed (see _check)."""
    entry = (_identity(path.stat()), sha256, markup)
    with _streamed_lock:
        for old in [p for p in _streamed if not p.exists()]:
            del _streamed[old]
        _streamed[path] = entry


def _streamed_result(path: Path, stat: os.stat_result) -> tuple[str, bool] | None:
    with _streamed_lock:
        entry = _streamed.pop(path, None)
    if entry is None or entry[0] != _identity(stat):
        return None
    return entry[1], entry[2]


def rename_temp(src: Path, dst: Path) -> None:
    """Move a streamed temp file to another temp path (same file system: a rename, no copy); what
    was remembered about it moves with it."""
    os.replace(src, dst)
    with _streamed_lock:
        if (entry := _streamed.pop(src, None)) is not None:
            _streamed[dst] = entry


def discard_temp(path: Path) -> None:
    """Remove a temp file (if still there) and what was remembered about it."""
    path.unlink(missing_ok=True)
    with _streamed_lock:
        _streamed.pop(path, None)


def public(row: StoredFile) -> dict:
    return {'id': row.id, 'kind': row.kind, 'name': row.original_name, 'mime': row.mime, 'size': row.size,
            'created_at': row.created_at, 'entity': row.entity, 'entity_id': row.entity_id}


def path_of(stored_name: str) -> Path:
    root = config.current().upload_dir
    path = (root / stored_name).resolve()
    if path.parent != root.resolve():
        raise ValueError('bad stored name')
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_orphans(grace: timedelta = GRACE, in_flight: timedelta = IN_FLIGHT) -> int:
    """Remove what no row needs: temp files (left by a crash mid-upload, or by NiceGUI's spooling of
    large parts), stored files without a row, and the bytes of files soft-deleted more than `grace`
    ago (their rows stay, as history). Files younger than `in_flight` may belong to an upload in
    progress and are left alone; at start-up nothing is in flight (in_flight=0)."""
    root, tmp_dir = _dirs()
    removed = 0
    settled = time.time() - in_flight.total_seconds()
    for part in tmp_dir.iterdir():
        if part.is_file() and part.stat().st_mtime <= settled:
            part.unlink(missing_ok=True)
            removed += 1
    with read_scope() as s:
        live = set(s.exec(select(StoredFile.stored_name).where(
            or_(col(StoredFile.deleted_at).is_(None), col(StoredFile.deleted_at) > clock.now() - grace))).all())
    for path in root.iterdir():
        if path.is_file() and path.name not in live and len(path.name) == 32 and path.stat().st_mtime <= settled:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# Who may read a file: one rule per entity, registered by the service that owns the entity.
_access_rules: dict[str, Callable] = {}


def register_access_rule(entity: str, rule: Callable) -> None:
    """rule(session, actor, StoredFile) -> bool."""
    _access_rules[entity] = rule


def _avatar_rule(s, actor: Actor, row: StoredFile) -> bool:
    """A photo is personal data: only its owner sees it (no page shows another user's photo; the
    application review that will show a person's photo adds its own rule)."""
    return row.entity_id == actor.user_id


register_access_rule('avatar', _avatar_rule)


def open_for(actor: Actor, file_id: int) -> tuple[dict, Path] | None:
    """The file and its path if the actor may read it; denials are audited. None = not found/denied."""
    with session_scope() as s:  # writes the audit entry
        row = s.get(StoredFile, file_id)
        if row is None or row.deleted_at is not None:
            return None
        rule = _access_rules.get(row.entity)
        allowed = bool(rule and rule(s, actor, row))
        if not allowed:
            audit.record(s, 'permission_denied', actor=actor, obj=f'file:{file_id}', result='denied')
            return None
        if row.uploaded_by != actor.user_id and row.entity != 'avatar':
            audit.record(s, 'file_download', actor=actor, obj=f'file:{file_id}')
        return public(row), path_of(row.stored_name)
