"""Command line (SPEC §8): create-staff, migrate, seed-demo, backup, restore. `serve` lives in main.py.

Every command checks its arguments before it touches the data dir: a refused command leaves no data
dir, database or secret behind (exit code 2, one line in Chinese on stderr)."""
import argparse
import re
import sys
from pathlib import Path
from typing import NoReturn

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from db import engine
from db.models import Org, User
from glrc_ui import backup, config
from glrc_ui.backup import BackupError
from glrc_ui.errors import ValidationError

COMMANDS = ('create-staff', 'migrate', 'seed-demo', 'backup', 'restore')


class CliError(Exception):
    pass


def prepare() -> config.Settings:
    """Settings, engine and schema: every command starts here (after its arguments were checked)."""
    settings = config.reset()
    engine.init_engine(settings.database_url)
    engine.migrate(quick=True)
    from glrc_ui import entities
    from glrc_ui.services import catalogue, orgs
    entities.register_all()
    orgs.seed()
    catalogue.ensure_seeded()   # the example 认定目录 (示例) until the center publishes the official one
    return settings


class _Parser(argparse.ArgumentParser):
    """argparse with one Chinese line instead of usage + English on a bad command line."""

    def error(self, message: str) -> NoReturn:
        raise CliError(_translate(message))


def _translate(message: str) -> str:
    """argparse's English error as one Chinese line."""
    if choice := re.match(r"argument (\S+): invalid choice: '?([^'(]*?)'? \(choose from (.*)\)$", message):
        name, wrong, allowed = choice.groups()
        allowed = '、'.join(a.strip(" '") for a in allowed.split(','))
        if name == 'command':
            return f'未知命令 {wrong}（可用命令：{allowed}；用法见 python main.py --help）'
        return f'参数 {name} 的取值 {wrong} 无效（可选：{allowed}）'
    if message.startswith('the following arguments are required:'):
        return f'缺少参数：{message.split(":", 1)[1].strip()}（用法见 python main.py 命令 --help）'
    if message.startswith('unrecognized arguments:'):
        return f'无法识别的参数：{message.split(":", 1)[1].strip()}（用法见 python main.py --help）'
    if missing := re.match(r'argument (\S+): expected one argument$', message):
        return f'参数 {missing.group(1)} 缺少取值'
    return f'命令行参数有误：{message}（用法见 python main.py --help）'


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog='python main.py', description='桂林市人才服务信息化管理系统')
    sub = parser.add_subparsers(dest='command', required=True)
    staff = sub.add_parser('create-staff', help='创建审核人员或市人才服务中心账号')
    staff.add_argument('--role', required=True, choices=['center', 'reviewer'])
    staff.add_argument('--account', required=True)
    staff.add_argument('--password', required=True)
    staff.add_argument('--name', required=True)
    staff.add_argument('--org')
    staff.add_argument('--admin', action='store_true')
    sub.add_parser('migrate', help='应用数据库迁移')
    sub.add_parser('seed-demo', help='填充演示数据并打印演示账号')
    backup = sub.add_parser('backup', help='在线备份数据库、上传文件和密钥到一个空目录')
    backup.add_argument('dest')
    restore = sub.add_parser('restore', help='从备份目录恢复到空的数据目录')
    restore.add_argument('src')
    return parser


def run(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == 'restore':  # into an empty data dir: restore checks, then creates it
            manifest = backup.restore(config.load(create=False), Path(args.src))
            prepare()  # a backup from an older version gets the newer migrations
            print(f'已从备份恢复（{len(manifest["files"])} 个文件，备份时间 {manifest.get("created_at", "未知")}）')
            return 0
        if args.command == 'backup':
            backup.check_backup(config.load(create=False), Path(args.dest))
        elif args.command == 'create-staff':
            _check_staff(args)
        prepare()
        if args.command == 'backup':
            manifest = backup.backup(config.current(), Path(args.dest))
            print(f'备份完成：{args.dest}（{len(manifest["files"])} 个文件，均已记录 SHA-256）')
        elif args.command == 'migrate':
            print('数据库迁移已完成')
        elif args.command == 'create-staff':
            from glrc_ui.services import accounts
            user_id = accounts.create_staff(args.role, args.account, args.password, args.name, args.org, args.admin)
            print(f'已创建账号 {args.account.strip()}（编号 {user_id}）')
        elif args.command == 'seed-demo':
            from glrc_ui import demo
            for line in demo.seed():
                print(line)
    except ValidationError as exc:
        print(f'错误：{exc.field}：{exc.message}', file=sys.stderr)
        return 2
    except (CliError, BackupError) as exc:
        print(f'错误：{exc}', file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a one-line message instead of a traceback
        print(f'错误：{type(exc).__name__}: {exc}'.splitlines()[0][:300], file=sys.stderr)
        return 1
    finally:
        _close_database()
    return 0


def _check_staff(args: argparse.Namespace) -> None:
    """Every refusal of create-staff, before the data dir, database or a secret is created.

    The organisation and the account are looked up in the database when there is one; a database
    that does not exist yet will hold exactly the seeded organisations and no account."""
    from glrc_ui.services import accounts, orgs
    account, _ = accounts.check_staff_input(args.role, args.account, args.password, args.name, args.org, args.admin)
    settings = config.load(create=False)
    if settings.is_sqlite and not Path(make_url(settings.database_url).database or '').is_file():
        has_schema = False  # (init_engine would create the database file)
    else:
        try:
            db = inspect(engine.init_engine(settings.database_url))
            has_schema = db.has_table(str(User.__tablename__)) and db.has_table(str(Org.__tablename__))
        except SQLAlchemyError:
            return  # unreachable now: prepare() says so, and create_staff checks again in its transaction
    if has_schema:
        try:
            with engine.read_scope() as s:
                accounts.check_staff_in(s, args.role, account, args.org)
        except SQLAlchemyError:
            return  # an older schema: prepare() migrates it, create_staff checks in its transaction
    elif args.role == 'reviewer' and args.org.strip() not in orgs.DEPARTMENTS + [n for n, _ in orgs.DISTRICTS]:
        raise ValidationError('所属机构', f'审核机构不存在或已停用：{args.org}')


def _close_database() -> None:
    """Close pooled connections, so SQLite folds its -wal back and removes -wal and -shm."""
    try:
        engine.get_engine().dispose()
    except RuntimeError:
        pass
