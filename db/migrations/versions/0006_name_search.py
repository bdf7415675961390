"""name search through trigram indexes: SQLite FTS5 (trigram tokenizer) tables kept in step by
triggers, PostgreSQL pg_trgm GIN indexes (glrc_ui/search.py)

Revision ID: 0006
Revises: 0005
"""
import logging

from alembic import op
from sqlalchemy.exc import SQLAlchemyError

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NAMES = (('unit', 'name'), ('person', 'name'), ('application', 'applicant_name'))


def _fts(table: str) -> str:
    return f'{table}_name_fts'


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table, col in NAMES:
            fts = _fts(table)
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({col}, content='{table}', content_rowid='id', "
                       f"tokenize='trigram')")
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
            op.execute(f'CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN '
                       f'INSERT INTO {fts}(rowid, {col}) VALUES (new.id, new.{col}); END')
            op.execute(f'CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN '
                       f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, old.{col}); END")
            op.execute(f'CREATE TRIGGER {fts}_au AFTER UPDATE OF {col} ON {table} BEGIN '
                       f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, old.{col}); "
                       f'INSERT INTO {fts}(rowid, {col}) VALUES (new.id, new.{col}); END')
    elif bind.dialect.name == 'postgresql':
        try:
            with bind.begin_nested():
                bind.exec_driver_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        except SQLAlchemyError:   # no right to create extensions: LIKE still works, without the index
            logging.getLogger('glrc').warning('pg_trgm is not available: name search scans its table')
            return
        for table, col in NAMES:
            op.execute(f'CREATE INDEX ix_{table}_{col}_trgm ON {table} USING gin ({col} gin_trgm_ops)')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table, _ in NAMES:
            fts = _fts(table)
            for suffix in ('ai', 'ad', 'au'):
                op.execute(f'DROP TRIGGER IF EXISTS {fts}_{suffix}')
            op.execute(f'DROP TABLE IF EXISTS {fts}')
    elif bind.dialect.name == 'postgresql':
        for table, col in NAMES:
            op.execute(f'DROP INDEX IF EXISTS ix_{table}_{col}_trgm')
