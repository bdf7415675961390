"""Substring search on names (单位名称, 姓名) through a trigram index, so that a keyword does not scan a
million rows: SQLite's FTS5 trigram tables (kept in step with their table by triggers) and
PostgreSQL's pg_trgm GIN indexes, both created by migration 0006.

A trigram index can only answer a keyword of three characters or more; a shorter one (a two-character
Chinese name) is matched by LIKE on the table itself, with the same result."""
from sqlalchemy import Integer, column, text
from sqlalchemy.sql.elements import ColumnElement

from db.engine import get_engine

MIN_TRIGRAM = 3
# (table, column) -> its FTS5 table on SQLite (db/migrations/versions/0006_name_search.py)
FTS_TABLES = {('unit', 'name'): 'unit_name_fts', ('person', 'name'): 'person_name_fts',
              ('application', 'applicant_name'): 'application_name_fts'}


def clean(keyword: str | None, limit: int = 50) -> str:
    """The keyword as searched: trimmed, without LIKE's wildcards."""
    return (keyword or '').strip()[:limit].replace('%', '').replace('_', '')


def contains(model, field: str, keyword: str) -> ColumnElement[bool]:
    """WHERE model.field contains keyword (case-insensitive for Latin letters, as LIKE)."""
    word = clean(keyword)
    target = getattr(model, field)
    pattern = f'%{word}%'
    fts = FTS_TABLES.get((model.__tablename__, field))
    dialect = get_engine().dialect.name
    if dialect == 'postgresql':
        return target.ilike(pattern)     # the pg_trgm index serves ILIKE itself (case as SQLite's LIKE)
    if len(word) < MIN_TRIGRAM or fts is None:
        return target.like(pattern)
    ids = text(f'SELECT rowid FROM {fts} WHERE {field} LIKE :name_pattern') \
        .bindparams(name_pattern=pattern).columns(column('rowid', Integer))
    return model.id.in_(ids)
