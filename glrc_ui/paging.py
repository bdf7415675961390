"""Server-side paging for every list (STYLE 6): whitelisted sort columns, clamped sizes, a stable
tie-break on the id, and keyset paging when the page asked for is next to the one just shown
(下一页 and 上一页 cost the same on page 10,000 as on page 2)."""
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import Select

MAX_PER_PAGE = 100
COUNT_CAP = 10_000      # a list counts at most this many rows (+1): shown as 「10,000+」, never a full scan
PER_PAGE_CHOICES = (10, 20, 50, 100)


@dataclass(frozen=True)
class Cursor:
    """Where a shown page began and ended; opaque to pages, kept on the server by the table."""
    page: int
    sort_by: str
    descending: bool
    value: Any          # the last row's sort value and id (for the next page)
    id: int
    first_value: Any = None   # the first row's (for the previous page)
    first_id: int | None = None
    total: int | None = None  # as counted for that page (kept while only the page changes)


@dataclass
class Page:
    items: list
    total: int
    cursor: Cursor | None       # hand back with the request for page + 1


def clamp(page: Any, per_page: Any) -> tuple[int, int]:
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        return 1, 20
    return max(1, min(page, 1_000_000)), min(max(1, per_page), MAX_PER_PAGE)


def fetch(s, query: Select, *, sorts: dict[str, Any], id_column, sort_by: str, default_sort: str,
          descending: bool, page: Any, per_page: Any, after: Cursor | None = None,
          not_null: tuple[str, ...] = (), count_cap: int | None = COUNT_CAP) -> Page:
    """One page of `query` (an ORM select of one entity). Unknown sort keys fall back to default_sort.

    Keyset (WHERE (sort, id) past the cursor) replaces OFFSET when `after` is the cursor of the
    page just before (下一页) or just after (上一页) the one asked for, in the same order, for columns that hold no NULL in this query (NOT NULL columns, or
    sort keys the caller names in `not_null`): NULLs sort differently per database and a keyset
    comparison would skip them.

    The total counts at most count_cap + 1 rows (a bigger total is shown as 「10,000+」); moving to the
    page next to the cursor's keeps the cursor's total instead of counting again. Every page
    reads ids first (for a jump to a deep page, the skipped rows' ids only, from the index that serves
    the order; for a filter or another order, the ids are filtered and sorted, not whole rows), then
    loads the page's rows by id."""
    page, per_page = clamp(page, per_page)
    if sort_by not in sorts:
        sort_by = default_sort
    column = sorts[sort_by]
    descending = bool(descending)
    if (after is not None and after.total is not None and abs(after.page - page) == 1
            and after.sort_by == sort_by and after.descending == descending):
        total = after.total   # 上一页 / 下一页 in the same list: not counted again (a new filter, sort or
    else:                     # refresh comes without a cursor, or with one of another page or order)
        counted = query.order_by(None).with_only_columns(id_column)
        if count_cap is not None:
            counted = counted.limit(count_cap + 1)
        total = s.execute(select(func.count()).select_from(counted.subquery())).scalar_one()
    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    # the page's ids first, from an index that holds the sort and filter columns (no whole row is read
    # to be filtered, sorted or skipped), then the page's rows by id
    ids = query.order_by(*order).limit(per_page).with_only_columns(id_column)
    keyset_ok = sort_by in not_null or not getattr(column, 'nullable', True)
    near = (keyset_ok and after is not None and after.sort_by == sort_by and after.descending == descending)
    items: list | None = None
    if near and after is not None and after.page == page - 1 and after.value is not None:
        ids = ids.where(*_past(column, id_column, after.value, after.id, forward=not descending))
    elif near and after is not None and after.page == page + 1 and page > 1 and after.first_value is not None:
        # the rows just before the shown page's first, read backwards from it, then put in order
        before = query.order_by(*(o for o in _reverse(column, id_column, descending))).limit(per_page) \
            .with_only_columns(id_column) \
            .where(*_past(column, id_column, after.first_value, after.first_id, forward=descending))
        items = list(reversed(_by_ids(s, query, id_column, before)))
        if len(items) < per_page:   # rows came or went meanwhile: count the page out from the start
            items = None
            ids = ids.offset((page - 1) * per_page)
    elif page > 1:
        ids = ids.offset((page - 1) * per_page)
    if items is None:
        items = _by_ids(s, query, id_column, ids)
    cursor = None
    if items:
        first, last = items[0], items[-1]
        cursor = Cursor(page, sort_by, descending, getattr(last, column.key), last.id,
                        getattr(first, column.key), first.id, total)
    return Page(items, total, cursor)


def _past(column, id_column, value: Any, row_id: Any, *, forward: bool) -> tuple:
    """WHERE (sort, id) lies after (value, row_id) in ascending order (forward) or before it. The
    redundant bound (sort >= value) is the range an index on (…, sort, id) seeks to; the OR alone is
    planned as two index scans whose union is then sorted (all rows past the cursor)."""
    if forward:
        return column >= value, or_(column > value, and_(column == value, id_column > row_id))
    return column <= value, or_(column < value, and_(column == value, id_column < row_id))


def _reverse(column, id_column, descending: bool) -> tuple:
    return (column.asc(), id_column.asc()) if descending else (column.desc(), id_column.desc())


def _by_ids(s, query: Select, id_column, ids_query: Select) -> list:
    """The rows whose ids `ids_query` selects, in its order."""
    ids = list(s.execute(ids_query).scalars().all())
    if not ids:
        return []
    # by id only: the ids already passed the filter, and a keyword's index lookup is not run again
    entity = query.column_descriptions[0]['entity']
    by_id = {row.id: row for row in s.execute(select(entity).where(id_column.in_(ids))).scalars().all()}
    return [by_id[i] for i in ids if i in by_id]
