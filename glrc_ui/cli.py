"""Command line (SPEC §8): create-staff, migrate, seed-demo, backup, restore. `serve` lives in main.py."""
import argparse
import sys
from pathlib import Path

from db import engine
from glrc_ui import backup, config
from glrc_ui.backup import BackupError
from glrc_ui.errors import ValidationError


class CliError(Exception):
    pass


def prepare() -> config.Settings:
    """Settings, engine and schema: every command starts here."""
    settings = config.reset()
    engine.init_engine(settings.database_url)
    engine.migrate()
    from glrc_ui import entities
    from glrc_ui.services import orgs
    entities.register_all()
    orgs.seed()
    return settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python main.py', description='桂林市人才服务信息化管理系统')
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
    args = _parser().parse_args(argv)
    try:
        if args.command == 'restore':  # into an empty data dir: nothing may be created there first
            manifest = backup.restore(config.reset(), Path(args.src))
            prepare()  # a backup from an older version gets the newer migrations
            print(f'已从备份恢复（{len(manifest["files"])} 个文件，备份时间 {manifest["created_at"]}）')
            return 0
        prepare()
        if args.command == 'backup':
            manifest = backup.backup(config.current(), Path(args.dest))
            print(f'备份完成：{args.dest}（{len(manifest["files"])} 个文件，均已记录 SHA-256）')
        elif args.command == 'migrate':
            print('数据库迁移已完成')
        elif args.command == 'create-staff':
            from glrc_ui.services import accounts
            user_id = accounts.create_staff(args.role, args.account, args.password, args.name, args.org, args.admin)
            print(f'已创建账号 {args.account}（编号 {user_id}）')
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
    return 0
