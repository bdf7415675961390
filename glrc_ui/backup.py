"""`backup DEST_DIR` and `restore SRC_DIR` (SPEC §8, SECURITY R5).

A backup is a folder: the database (SQLite online backup API, or pg_dump for PostgreSQL), the
uploaded files, the generated secrets and the SMS outbox, plus manifest.json with a SHA-256 and
size for every file. Restore checks every checksum first and writes only into an empty data dir
(and, for PostgreSQL, an empty database)."""
import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from glrc_ui import clock
from glrc_ui.config import Settings

SQLITE_NAME = 'glrc.sqlite3'
PG_DUMP_NAME = 'glrc.pgdump'
EXTRA_FILES = ('.storage.secret', '.sms.secret', '.audit.secret', 'sms_outbox.jsonl')


class BackupError(Exception):
    """A refusal with a message for the operator."""


def backup(settings: Settings, dest: Path) -> dict:
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f'备份目录必须为空或不存在：{dest}')
    if dest == settings.data_dir or settings.data_dir in dest.parents:
        raise BackupError('备份目录不能放在数据目录内')
    dest.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        _sqlite_backup(_sqlite_path(settings), dest / SQLITE_NAME)
    else:
        _pg_dump(settings.database_url, dest / PG_DUMP_NAME)
    # files after the database: every file a row refers to was on disk before its row was committed
    files_dir = settings.upload_dir
    if files_dir.exists():
        for path in files_dir.iterdir():
            if path.is_file() and not path.name.endswith('.part'):
                (dest / 'files').mkdir(exist_ok=True)
                shutil.copy2(path, dest / 'files' / path.name)
    for name in EXTRA_FILES:
        if (settings.data_dir / name).exists():
            shutil.copy2(settings.data_dir / name, dest / name)
    manifest = {'created_at': clock.now().isoformat(), 'database': 'sqlite' if settings.is_sqlite else 'postgresql',
                'files': {str(p.relative_to(dest)): _digest(p) for p in sorted(dest.rglob('*')) if p.is_file()}}
    (dest / 'manifest.json').write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding='utf-8')
    return manifest


def restore(settings: Settings, src: Path) -> dict:
    src = src.resolve()
    manifest_path = src / 'manifest.json'
    if not manifest_path.exists():
        raise BackupError(f'不是有效的备份目录（缺少 manifest.json）：{src}')
    manifest = json.loads(manifest_path.read_text(encoding='utf-8'))
    for name, expected in manifest['files'].items():
        path = src / name
        if not path.is_file() or _digest(path) != expected:
            raise BackupError(f'备份文件缺失或校验失败：{name}')
    wanted = 'sqlite' if settings.is_sqlite else 'postgresql'
    if manifest['database'] != wanted:
        raise BackupError(f'备份的数据库类型为 {manifest["database"]}，当前配置为 {wanted}')
    data_dir = settings.data_dir
    if any(p.name != 'nicegui' for p in data_dir.iterdir()) if data_dir.exists() else False:
        raise BackupError(f'只能恢复到空的数据目录：{data_dir}')
    data_dir.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        shutil.copy2(src / SQLITE_NAME, _sqlite_path(settings))
    else:
        _pg_restore(settings.database_url, src / PG_DUMP_NAME)
    if (src / 'files').exists():
        shutil.copytree(src / 'files', settings.upload_dir)
    for name in EXTRA_FILES:
        if (src / name).exists():
            shutil.copy2(src / name, data_dir / name)
    return manifest


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
    import os
    if shutil.which(cmd[0]) is None:
        raise BackupError(f'找不到 {cmd[0]}，请安装与服务器版本一致的 PostgreSQL 客户端（postgresql-client）')
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f'{cmd[0]} 失败：{(result.stderr or result.stdout).strip().splitlines()[-1][:300]}')


def _pg_dump(url: str, target: Path) -> None:
    args, env = _pg_args(url)
    _run(['pg_dump', *args, '--format=custom', '--no-owner', '--file', str(target), _database_name(url)], env)


def _pg_restore(url: str, source: Path) -> None:
    from db.engine import init_engine
    engine = init_engine(url)
    if inspect(engine).get_table_names():
        raise BackupError('只能恢复到空的 PostgreSQL 数据库（当前数据库中已有数据表）')
    engine.dispose()
    args, env = _pg_args(url)
    _run(['pg_restore', *args, '--no-owner', '--exit-on-error', '--dbname', _database_name(url), str(source)], env)
