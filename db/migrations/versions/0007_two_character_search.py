"""two-character name search through an index (a Chinese name is often two characters: 张三):
SQLite indexes each name with an end mark (char 31), so every two-character substring starts a
trigram the FTS5 vocabulary lists; PostgreSQL gets a GIN index on the names' character pairs
(glrc_bigrams). glrc_ui/search.py uses both.

Revision ID: 0007
Revises: 0006
"""
import logging

from alembic import op
from sqlalchemy.exc import SQLAlchemyError

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

NAMES = (('unit', 'name'), ('person', 'name'), ('application', 'applicant_name'))
END_MARK = 'char(31)'   # also in glrc_ui/search.py: never typed, removed from keywords

# every distinct two-character substring, lower-cased (ILIKE's folding for Latin letters); STRICT and
# IMMUTABLE so that an expression index may use it
BIGRAMS_SQL = """
CREATE OR REPLACE FUNCTION glrc_bigrams(s text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT coalesce(array_agg(DISTINCT substr(lower(s), i, 2)), '{}'::text[])
   FROM generate_series(1, char_length(s) - 1) AS i $$
"""


def _fts(table: str) -> str:
    return f'{table}_name_fts'


def _sqlite_triggers(table: str, col: str, value: str) -> None:
    fts = _fts(table)
    for suffix in ('ai', 'ad', 'au'):
        op.execute(f'DROP TRIGGER IF EXISTS {fts}_{suffix}')
    new, old = value.format(row='new', col=col), value.format(row='old', col=col)
    op.execute(f'CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN '
               f'INSERT INTO {fts}(rowid, {col}) VALUES (new.id, {new}); END')
    op.execute(f'CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN '
               f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, {old}); END")
    op.execute(f'CREATE TRIGGER {fts}_au AFTER UPDATE OF {col} ON {table} BEGIN '
               f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, {old}); "
               f'INSERT INTO {fts}(rowid, {col}) VALUES (new.id, {new}); END')


def _sqlite_reindex(table: str, col: str, value: str) -> None:
    fts = _fts(table)
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
    op.execute(f'INSERT INTO {fts}(rowid, {col}) SELECT id, {value.format(row=table, col=col)} FROM {table}')


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        marked = '{row}.{col} || ' + END_MARK
        for table, col in NAMES:
            _sqlite_triggers(table, col, marked)
            _sqlite_reindex(table, col, marked)
            op.execute(f"CREATE VIRTUAL TABLE {_fts(table)}_vocab USING fts5vocab({_fts(table)}, 'row')")
    elif bind.dialect.name == 'postgresql':
        try:
            with bind.begin_nested():
                bind.exec_driver_sql(BIGRAMS_SQL)
        except SQLAlchemyError:
            logging.getLogger('glrc').warning('glrc_bigrams could not be created: two-character search scans')
            return
        for table, col in NAMES:
            op.execute(f'CREATE INDEX ix_{table}_{col}_bigrams ON {table} USING gin (glrc_bigrams({col}))')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table, col in NAMES:
            op.execute(f'DROP TABLE IF EXISTS {_fts(table)}_vocab')
            _sqlite_triggers(table, col, '{row}.{col}')
            _sqlite_reindex(table, col, '{row}.{col}')
    elif bind.dialect.name == 'postgresql':
        for table, col in NAMES:
            op.execute(f'DROP INDEX IF EXISTS ix_{table}_{col}_bigrams')
        op.execute('DROP FUNCTION IF EXISTS glrc_bigrams(text)')
