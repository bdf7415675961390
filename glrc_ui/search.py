"""Substring search on names (单位名称, 姓名) through an index, so that a keyword does not scan a
million rows (migrations 0006 and 0007):
- three characters or more: SQLite's FTS5 trigram tables (kept in step with their table by
  triggers), PostgreSQL's pg_trgm GIN indexes;
- two characters (a Chinese name is often two: 张三): on SQLite, each name is indexed with an end
  mark (char 31), so every two-character substring begins some trigram; the FTS5 vocabulary lists
  those trigrams (a range of its sorted terms) and the rows holding any of them are the candidates.
  On PostgreSQL, a GIN index on the name's character pairs (glrc_bigrams) gives them.
- one character: LIKE on the table.
The candidates are then matched by LIKE / ILIKE, so every length gives exactly LIKE's rows.

An index pays when the keyword is rare. A keyword in many names (科技有, 漓江: tens of thousands of
units) gives that many candidates, which a page must then sort; the list's own order, read with LIKE,
finds a page of them in the first rows it reads. On SQLite the FTS5 vocabulary says how many names
hold each trigram: above COMMON_ROWS (an upper bound of the matches), LIKE is used instead."""
from sqlalchemy import Integer, column, func, literal, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

from db.engine import get_engine

MIN_TRIGRAM = 3
COMMON_ROWS = 20_000   # more candidates than this: LIKE in the list's order (see above)
END_MARK = '\x1f'   # db/migrations/versions/0007_two_character_search.py
# (table, column) -> its FTS5 table on SQLite (db/migrations/versions/0006_name_search.py)
FTS_TABLES = {('unit', 'name'): 'unit_name_fts', ('person', 'name'): 'person_name_fts',
              ('application', 'applicant_name'): 'application_name_fts'}
# the FTS5 match expression of every trigram that begins with :pair ("…" OR "…"), or one that no
# name holds; a term's own double quotes are doubled (FTS5 strings)
_PAIR_MATCH = ("(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), "
               "'\"' || char(31, 31, 31) || '\"') FROM {vocab} WHERE term >= :pair AND term < :pair || char(1114111))")


def _candidates(fts: str, word: str) -> int:
    """SQLite: at most how many names hold `word` (2+ characters), from the FTS5 vocabulary: the rarest
    of its trigrams, or all the trigrams that begin with a pair."""
    low = word.lower()
    if len(low) == 2:
        sql = f'SELECT coalesce(sum(doc), 0) FROM {fts}_vocab WHERE term >= :pair AND term < :pair || char(1114111)'
        params: dict = {'pair': low}
    else:
        grams = sorted({low[i:i + 3] for i in range(len(low) - 2)})
        marks = ', '.join(f':g{i}' for i in range(len(grams)))
        sql = f'SELECT count(*), coalesce(min(doc), 0) FROM {fts}_vocab WHERE term IN ({marks})'
        params = {f'g{i}': gram for i, gram in enumerate(grams)}
    with get_engine().connect() as conn:
        row = conn.execute(text(sql), params).one()
    if len(low) != 2 and row[0] < len({low[i:i + 3] for i in range(len(low) - 2)}):
        return 0   # a trigram no name holds: nothing matches
    return int(row[-1])


def rebuild_statements() -> list[str]:
    """SQLite: the SQL that fills every FTS5 name table again from its table, end mark included (after a
    bulk load without the triggers; FTS5's own 'rebuild' would index the names without the mark)."""
    statements = []
    for (table, field), fts in FTS_TABLES.items():
        statements += [f"INSERT INTO {fts}({fts}) VALUES ('delete-all')",
                       f'INSERT INTO {fts}(rowid, {field}) SELECT id, {field} || char(31) FROM {table}']
    return statements


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
    if _candidates(fts, word) > COMMON_ROWS:
        return target.like(pattern)
    if len(word) == 2:
        ids = text(f'SELECT rowid FROM {fts} WHERE {fts} MATCH ' + _PAIR_MATCH.format(vocab=f'{fts}_vocab')) \
            .bindparams(pair=word.lower()).columns(column('rowid', Integer))
        return model.id.in_(ids) & target.like(pattern)
    ids = text(f'SELECT rowid FROM {fts} WHERE {field} LIKE :name_pattern') \
        .bindparams(name_pattern=pattern).columns(column('rowid', Integer))
    return model.id.in_(ids)
