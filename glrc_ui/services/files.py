"""Uploaded files: type by content, size on the server, temp → fsync → rename → row (SECURITY F1-F4, R4)."""
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_
from sqlmodel import Session, col, select

from db.engine import read_scope, session_scope
from db.models import StoredFile
from glrc_ui import clock, config
from glrc_ui.actor import Actor
from glrc_ui.errors import ValidationError
from glrc_ui.services import audit, images

MB = 1024 * 1024
MAX_FILE = 20 * MB
MAX_AVATAR = 2 * MB
DOCUMENT_TYPES = ('pdf', 'jpeg', 'png')
IMAGE_TYPES = ('jpeg', 'png')
MIME = {'pdf': 'application/pdf', 'jpeg': 'image/jpeg', 'png': 'image/png'}
TYPE_NAMES = {'pdf': 'PDF', 'jpeg': 'JPG', 'png': 'PNG'}
_HTML_MARKERS = (b'<html', b'<script', b'<!doctype', b'<svg', b'<body', b'<iframe')

GRACE = timedelta(hours=1)  # replaced files stay readable this long (a reviewer may have it open)

# Test hook for R4: called with the step name ('written', 'renamed') before the next step.
fault_hook: Callable[[str], None] | None = None


def sniff(head: bytes, tail: bytes) -> str | None:
    """The file's real type from its bytes, or None. Rejects HTML hiding in the head (polyglots)."""
    lowered = head[:1024].lower()
    if any(marker in lowered for marker in _HTML_MARKERS):
        return None
    if head.startswith(b'%PDF-') and b'%%EOF' in tail:
        return 'pdf'
    if head.startswith(b'\xff\xd8\xff') and b'\xff\xd9' in tail:
        return 'jpeg'
    if head.startswith(b'\x89PNG\r\n\x1a\n') and b'IEND' in tail:
        return 'png'
    return None


def safe_name(name: str | None) -> str:
    """Keep only the last path part of a browser-given name, without control characters."""
    name = (name or '').replace('\\', '/').split('/')[-1]
    name = ''.join(ch for ch in name if ch.isprintable() and ch not in '"\r\n\t')
    return name.strip()[:200] or 'file'


def _dirs() -> tuple[Path, Path]:
    root = config.current().upload_dir
    tmp = root / 'tmp'
    tmp.mkdir(parents=True, exist_ok=True)
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


def accept(data: 'bytes | Path', original_name: str, *, allowed: tuple[str, ...] = DOCUMENT_TYPES,
           max_size: int = MAX_FILE, field: str = '附件', strip_images: bool = False) -> Accepted:
    """Check one upload by content and move it into place: temp → check → fsync → rename (no
    transaction is open meanwhile: file I/O never holds the database lock).

    `data` is the content, or a file made by temp_path() (uploads are streamed there, so a 20 MB
    file never sits in memory); that file is moved into place or removed, whatever happens.
    With strip_images, an image is re-encoded without its metadata (EXIF, GPS) before it is kept
    (photos of people; documents are kept byte for byte, as evidence)."""
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
        size, real_type, digest = _check(tmp_path, allowed, max_size, field)
        if strip_images and real_type in IMAGE_TYPES:
            images.reencode(tmp_path, real_type, field=field)
            size, real_type, digest = _check(tmp_path, allowed, max_size, field)
        with open(tmp_path, 'rb+') as f:
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


def temp_path() -> Path:
    """A fresh path in the upload temp dir (same file system as the store: the final move is atomic)."""
    _, tmp_dir = _dirs()
    return tmp_dir / (secrets.token_hex(16) + '.part')


def _check(path: Path, allowed: tuple[str, ...], max_size: int, field: str) -> tuple[int, str, str]:
    """(size, real type, sha256) of a file on disk, read in chunks; ValidationError when refused."""
    size = path.stat().st_size
    if size == 0:
        raise ValidationError(field, '文件为空，请重新选择')
    if size > max_size:
        raise ValidationError(field, f'文件大小不能超过 {max_size // MB} MB')
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        head = f.read(2048)
        f.seek(max(0, size - 2048))
        tail = f.read(2048)
        f.seek(0)
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    real_type = sniff(head, tail)
    if real_type not in allowed:
        names = '、'.join(TYPE_NAMES[t] for t in allowed)
        raise ValidationError(field, f'文件内容不是有效的 {names} 文件，请上传 {names} 格式')
    return size, real_type, digest.hexdigest()


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


def sweep_orphans(grace: timedelta = GRACE) -> int:
    """Remove what no row needs: temp files (left by a crash mid-upload), stored files without a
    row, and the bytes of files soft-deleted more than `grace` ago (their rows stay, as history)."""
    root, tmp_dir = _dirs()
    removed = 0
    for part in tmp_dir.glob('*.part'):
        part.unlink(missing_ok=True)
        removed += 1
    with read_scope() as s:
        live = set(s.exec(select(StoredFile.stored_name).where(
            or_(col(StoredFile.deleted_at).is_(None), col(StoredFile.deleted_at) > clock.now() - grace))).all())
    for path in root.iterdir():
        if path.is_file() and path.name not in live and len(path.name) == 32:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# Who may read a file: one rule per entity, registered by the service that owns the entity.
_access_rules: dict[str, Callable] = {}


def register_access_rule(entity: str, rule: Callable) -> None:
    """rule(session, actor, StoredFile) -> bool."""
    _access_rules[entity] = rule


def _avatar_rule(s, actor: Actor, row: StoredFile) -> bool:
    """A photo is personal data: its owner and the staff who review people may see it."""
    return row.entity_id == actor.user_id or actor.role in ('reviewer', 'center')


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
