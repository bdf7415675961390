"""Substring search on names (单位名称, 姓名) through an index, so that a keyword does not scan a
million rows (migrations 0006 and 0007):
- three characters or more: SQLite's FTS5 trigram tables (kept in step with their table by
  triggers), PostgreSQL's pg_trgm GIN indexes;
- two characters (a Chinese name is often two: 张三): on SQLite, each name is indexed with an end
  mark (char 31), so every two-character substring begins some trigram; the FTS5 vocabulary lists
  those trigrams (a range of its sorted terms) and the rows holding any of them are the candidates.
  On PostgreSQL, a GIN index on the name's character pairs (glrc_bigrams) gives them.
- one character: LIKE on the table.
The candidates are then matched by LIKE / ILIKE, so every length gives exactly LIKE's rows."""
from sqlalchemy import Integer, column, func, literal, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

from db.engine import get_engine

MIN_TRIGRAM = 3
END_MARK = '\x1f'   # db/migrations/versions/0007_two_character_search.py
# (table, column) -> its FTS5 table on SQLite (db/migrations/versions/0006_name_search.py)
FTS_TABLES = {('unit', 'name'): 'unit_name_fts', ('person', 'name'): 'person_name_fts',
              ('application', 'applicant_name'): 'application_name_fts'}
# the FTS5 match expression of every trigram that begins with :pair ("…" OR "…"), or one that no
# name holds; a term's own double quotes are doubled (FTS5 strings)
_PAIR_MATCH = ("(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), "
               "'\"' || char(31, 31, 31) || '\"') FROM {vocab} WHERE term >= :pair AND term < :pair || char(1114111))")


def clean(keyword: str | None, limit: int = 50) -> str:
    """The keyword as searched: trimmed, without LIKE's wildcards or control characters."""
    word = (keyword or '').strip()[:limit].replace('%', '').replace('_', '')
    return ''.join(ch for ch in word if ch.isprintable())


def contains(model, field: str, keyword: str) -> ColumnElement[bool]:
    """WHERE model.field contains keyword (case-insensitive for Latin letters, as LIKE)."""
    word = clean(keyword)
    target = getattr(model, field)
    pattern = f'%{word}%'
    fts = FTS_TABLES.get((model.__tablename__, field))
    dialect = get_engine().dialect.name
    if dialect == 'postgresql':
        if len(word) == 2 and fts is not None:   # the pairs' GIN index finds the candidates
            pairs = literal([word.lower()], ARRAY(Text))
            return func.glrc_bigrams(target).op('@>')(pairs) & target.ilike(pattern)
        return target.ilike(pattern)     # the pg_trgm index serves ILIKE itself (case as SQLite's LIKE)
    if fts is None or len(word) < 2:
        return target.like(pattern)
    if len(word) == 2:
        ids = text(f'SELECT rowid FROM {fts} WHERE {fts} MATCH ' + _PAIR_MATCH.format(vocab=f'{fts}_vocab')) \
            .bindparams(pair=word.lower()).columns(column('rowid', Integer))
        return model.id.in_(ids) & target.like(pattern)
    ids = text(f'SELECT rowid FROM {fts} WHERE {field} LIKE :name_pattern') \
        .bindparams(name_pattern=pattern).columns(column('rowid', Integer))
    return model.id.in_(ids)
