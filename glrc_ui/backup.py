"""`backup DEST_DIR` and `restore SRC_DIR` (SPEC §8, SECURITY R5).

A backup is a folder: the database (SQLite online backup API, or pg_dump for PostgreSQL), the
uploaded files, the generated secrets and the SMS outbox, plus manifest.json with a SHA-256 and
size for every file. Restore checks every checksum first and writes only into an empty data dir
(and, for PostgreSQL, an empty database)."""
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from glrc_ui import clock, config
from glrc_ui.config import Settings

SQLITE_NAME = 'glrc.sqlite3'
PG_DUMP_NAME = 'glrc.pgdump'
EXTRA_FILES = ('.storage.secret', '.sms.secret', '.audit.secret', 'sms_outbox.jsonl')
log = logging.getLogger('glrc')


class BackupError(Exception):
    """A refusal with a message for the operator."""


def check_backup(settings: Settings, dest: Path) -> Path:
    """Refuse a backup before anything is written (the CLI asks before it prepares the data dir):
    the target must be an empty or missing directory outside the data dir, and there must be a
    database to back up. Returns the resolved target."""
    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f'备份目录必须为空或不存在：{dest}')
    if dest == settings.data_dir or settings.data_dir in dest.parents:
        raise BackupError('备份目录不能放在数据目录内')
    if settings.is_sqlite and not _sqlite_path(settings).is_file():
        raise BackupError(f'没有可备份的数据库：{_sqlite_path(settings)}（请检查 GLRC_DATA_DIR）')
    return dest


def backup(settings: Settings, dest: Path) -> dict:
    """Write the backup into `dest` (0700, every file 0600); a failure removes what it wrote."""
    dest = check_backup(settings, dest)
    created = _missing_top(dest)
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if created is None:  # an empty dir the operator made: it is going to hold secrets
            _private_dir(dest)
        if settings.is_sqlite:
            _sqlite_backup(_sqlite_path(settings), dest / SQLITE_NAME)
        else:
            _pg_dump(settings.database_url, dest / PG_DUMP_NAME)
        # files after the database: every file a row refers to was on disk before its row was committed
        files_dir = settings.upload_dir
        if files_dir.exists():
            for path in files_dir.iterdir():
                if path.is_file() and not path.name.endswith('.part'):
                    (dest / 'files').mkdir(mode=0o700, exist_ok=True)
                    _copy_private(path, dest / 'files' / path.name)
        for name in EXTRA_FILES:
            if (settings.data_dir / name).exists():
                _copy_private(settings.data_dir / name, dest / name)
        manifest = {'created_at': clock.now().isoformat(),
                    'database': 'sqlite' if settings.is_sqlite else 'postgresql',
                    'files': {str(p.relative_to(dest)): _digest(p) for p in sorted(dest.rglob('*')) if p.is_file()}}
        _write_private(dest / 'manifest.json', json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    except BaseException:
        _remove_written(dest, created, keep=set())
        raise
    return manifest


def restore(settings: Settings, src: Path) -> dict:
    """Check the backup and the target first, then write the data dir (0700, files 0600); a failure
    removes what it wrote."""
    src = src.resolve()
    manifest_path = src / 'manifest.json'
    if not manifest_path.is_file():
        raise BackupError(f'不是有效的备份目录（缺少 manifest.json）：{src}')
    try:
        manifest = json.loads(manifest_path.read_text(encoding='utf-8'))
        listed = manifest['files'].items()
        database = manifest['database']
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupError(f'不是有效的备份目录（manifest.json 无法读取）：{src}') from None
    for name, expected in listed:
        path = src / name
        if not path.is_file() or _digest(path) != expected:
            raise BackupError(f'备份文件缺失或校验失败：{name}')
    wanted = 'sqlite' if settings.is_sqlite else 'postgresql'
    if database != wanted:
        raise BackupError(f'备份的数据库类型为 {database}，当前配置为 {wanted}')
    data_dir = settings.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or any(p.name != 'nicegui' for p in data_dir.iterdir())):
        raise BackupError(f'只能恢复到空的数据目录：{data_dir}')
    if settings.is_sqlite and _sqlite_path(settings).exists():  # GLRC_DATABASE_URL names a file elsewhere
        raise BackupError(f'数据库文件已存在，只能恢复到空的数据目录：{_sqlite_path(settings)}')
    if not settings.is_sqlite:
        _pg_check_empty(settings.database_url)
    created = _missing_top(data_dir)
    kept = {p.name for p in data_dir.iterdir()} if data_dir.exists() else set()
    try:
        config.make_data_dir(data_dir)
        if settings.is_sqlite:
            _copy_private(src / SQLITE_NAME, _sqlite_path(settings))
        else:
            _pg_restore(settings.database_url, src / PG_DUMP_NAME)
        if (src / 'files').is_dir():
            settings.upload_dir.mkdir(mode=0o700)
            for path in sorted((src / 'files').rglob('*')):
                target = settings.upload_dir / path.relative_to(src / 'files')
                if path.is_dir():
                    target.mkdir(mode=0o700)
                else:
                    _copy_private(path, target)
        for name in EXTRA_FILES:
            if (src / name).exists():
                _copy_private(src / name, data_dir / name)
    except BaseException:
        _remove_written(data_dir, created, keep=kept)
        if settings.is_sqlite:
            _sqlite_path(settings).unlink(missing_ok=True)  # absent before (checked above)
        raise
    return manifest


def _missing_top(path: Path) -> Path | None:
    """The outermost directory that mkdir(parents=True) would create for `path`; None if it exists."""
    if path.exists():
        return None
    while not path.parent.exists():
        path = path.parent
    return path


def _remove_written(target: Path, created: Path | None, keep: set[str]) -> None:
    """Undo a backup or restore that failed: remove the dirs it created, or what it put into a dir
    that was there (all but the names in `keep`)."""
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
        return
    if target.is_dir():
        for path in target.iterdir():
            if path.name in keep:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _private_dir(path: Path) -> None:
    try:
        path.chmod(0o700)
    except OSError as exc:
        log.warning('目录 %s 无法收紧为 0700：%s', path, exc)


def _create_private(path: Path) -> int:
    """A new file, 0600 from the start (an existing one is refused: targets are empty dirs)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _write_private(path: Path, data: bytes) -> None:
    with os.fdopen(_create_private(path), 'wb') as f:
        f.write(data)


def _copy_private(source: Path, target: Path) -> None:
    """Copy bytes and times into a new 0600 file (shutil.copy2 would copy the source's rights, and a
    backup copied around may have lost them)."""
    with open(source, 'rb') as fin, os.fdopen(_create_private(target), 'wb') as fout:
        shutil.copyfileobj(fin, fout, 1024 * 1024)
    info = source.stat()
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))


def _digest(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return {'sha256': digest.hexdigest(), 'size': path.stat().st_size}


def _sqlite_path(settings: Settings) -> Path:
    return Path(_database_name(settings.database_url)).resolve()


def _database_name(url: str) -> str:
    """The database (SQLite: file path) named in the URL; a URL without one cannot be backed up."""
    name = make_url(url).database
    if not name:
        raise BackupError(f'数据库地址中没有数据库名：{make_url(url).render_as_string(hide_password=True)}')
    return name


def _sqlite_backup(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the app keeps serving."""
    os.close(_create_private(target))  # SQLite would create it 0644 minus the umask
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        if dst.execute('PRAGMA integrity_check').fetchone()[0] != 'ok':
            raise BackupError('备份数据库完整性检查失败')
    finally:
        dst.close()
        src.close()


def _pg_args(url: str) -> tuple[list[str], dict]:
    u = make_url(url)
    args = ['--host', u.host or '127.0.0.1', '--port', str(u.port or 5432), '--username', u.username or 'postgres']
    env = {'PGPASSWORD': u.password} if u.password else {}
    return args, env


def _run(cmd: list[str], env: dict) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f'找不到 {cmd[0]}，请安装与服务器版本一致的 PostgreSQL 客户端（postgresql-client）')
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f'{cmd[0]} 失败：{(result.stderr or result.stdout).strip().splitlines()[-1][:300]}')


def _pg_dump(url: str, target: Path) -> None:
    args, env = _pg_args(url)
    os.close(_create_private(target))  # pg_dump writes into it, keeping its rights
    _run(['pg_dump', *args, '--format=custom', '--no-owner', '--file', str(target), _database_name(url)], env)


def _pg_check_empty(url: str) -> None:
    from db.engine import init_engine
    engine = init_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise BackupError('只能恢复到空的 PostgreSQL 数据库（当前数据库中已有数据表）')
    finally:
        engine.dispose()


def _pg_restore(url: str, source: Path) -> None:
    _pg_check_empty(url)
    args, env = _pg_args(url)
    _run(['pg_restore', *args, '--no-owner', '--exit-on-error', '--dbname', _database_name(url), str(source)], env)
