"""A table paged, sorted and filtered on the server (STYLE 6). Row buttons emit the row id and go
through the same session and role re-check as every other event."""
from collections.abc import Awaitable, Callable

from nicegui import ui

from components.auth import guarded
from glrc_ui.actor import Actor
from glrc_ui.paging import COUNT_CAP, Page

Fetch = Callable[..., Awaitable[Page]]


class PagedTable:
    """fetch(actor, page, per_page, sort_by, descending, after) -> Page; actions: {'审核': (handler(actor, row_id),
    name of a row flag that shows the button, or None)}.

    Oldest first by default (first come, first served). On narrow screens the table scrolls inside
    its own box with the first column (the name) and 操作 kept in view (STYLE: tables on phones)."""

    @classmethod
    async def create(cls, actor: Actor, columns: list[dict], fetch: Fetch,
                     actions: dict[str, tuple[Callable, str | None]], *, roles: tuple[str, ...],
                     sort_by: str = 'submitted_at', descending: bool = False, per_page: int = 20,
                     selection: str | None = None) -> 'PagedTable':
        """Fetch the first page, then build the table with it (Quasar reads rowsNumber at mount)."""
        first = await fetch(actor, page=1, per_page=per_page, sort_by=sort_by, descending=descending, after=None)
        return cls(columns, fetch, actions, first, roles=roles, sort_by=sort_by, descending=descending,
                   per_page=per_page, selection=selection)

    def __init__(self, columns: list[dict], fetch: Fetch, actions: dict[str, tuple[Callable, str | None]],
                 first: Page, *, roles: tuple[str, ...], sort_by: str, per_page: int, descending: bool = False,
                 selection: str | None = None) -> None:
        self.fetch = fetch
        self.cursor = first.cursor
        self.pagination = {'page': 1, 'rowsPerPage': per_page, 'sortBy': sort_by, 'descending': descending,
                           'rowsNumber': _rows_number(first, 1, per_page)}
        sticky = 'glrc-sticky-left glrc-name'
        cols = [dict(columns[0], classes=sticky, headerClasses=sticky), *columns[1:],
                {'name': 'actions', 'label': '操作', 'field': 'id', 'align': 'center',
                 'classes': 'glrc-sticky-right', 'headerClasses': 'glrc-sticky-right'}]
        self.table = ui.table(columns=cols, rows=first.items, row_key='id', pagination=dict(self.pagination),
                              selection=selection) \
            .props('flat bordered separator=cell no-data-label="暂无数据" rows-per-page-label="每页条数" '
                   ':rows-per-page-options="[10,20,50,100]"').classes('w-full glrc-table')
        # a total past paging.COUNT_CAP was not counted further: 「共 10,000+ 条」
        self.table.props(f':pagination-label="(a, b, t) => a + \'-\' + b + \' / 共 \' + '
                         f'(t > {COUNT_CAP} ? \'{COUNT_CAP:,}+\' : t) + \' 条\'"')
        buttons = []
        for label, (handler, condition) in actions.items():
            event = f'act_{len(buttons)}'
            show = f' v-if="props.row.{condition}"' if condition else ''
            buttons.append(f'<q-btn{show} flat dense no-caps color="primary" label="{label}" '
                           f':aria-label="\'{label} \' + (props.row.name || \'\')" '
                           f'@click="() => $parent.$emit(\'{event}\', props.row.id)" />')
            self.table.on(event, guarded(_row_handler(handler), roles))
        self.table.add_slot('body-cell-actions', '<q-td :props="props"><div class="glrc-actions">'
                            + ''.join(buttons) + '</div></q-td>')
        if selection:  # checkboxes with names (a screen reader says which row it selects)
            self.table.add_slot('header-selection', '<q-checkbox v-model="props.selected" dense aria-label="全选本页" />')
            self.table.add_slot('body-selection', '<q-checkbox v-model="props.selected" dense '
                                ':aria-label="\'选择 \' + (props.row.name || props.row.id)" />')
        self.table.on('request', guarded(self._on_request, roles))

    async def _on_request(self, actor: Actor, e) -> None:
        pagination = e.args.get('pagination', {}) if isinstance(e.args, dict) else {}
        self.pagination.update({k: pagination[k] for k in ('page', 'rowsPerPage', 'sortBy', 'descending')
                                if k in pagination})
        await self.load(actor)

    async def load(self, actor: Actor, first_page: bool = False) -> None:
        if first_page:
            self.pagination['page'] = 1
            self.cursor = None
        p = self.pagination
        result = await self.fetch(actor, page=p['page'], per_page=p['rowsPerPage'] or 20,
                                  sort_by=p['sortBy'] or 'submitted_at', descending=bool(p['descending']),
                                  after=self.cursor)
        self.cursor = result.cursor
        self.pagination['rowsNumber'] = _rows_number(result, p['page'], p['rowsPerPage'] or 20)
        self.table.selected.clear()
        self.table.rows = result.items
        self.table.pagination = dict(self.pagination)
        self.table.update()


def _rows_number(result: Page, page: int, per_page: int) -> int:
    """What Quasar's pager is told the total is. A total past COUNT_CAP was not counted to the end:
    the pager offers one page more than the one shown (下一页 goes on by keyset, page after page)
    until a page comes back short, which is then the last."""
    if result.total <= COUNT_CAP:
        return result.total
    shown = (page - 1) * per_page + len(result.items)
    if len(result.items) < per_page:
        return max(shown, COUNT_CAP + 1)
    return max(result.total, shown + per_page)


def _row_handler(handler: Callable) -> Callable:
    async def row_action(actor: Actor, e) -> None:
        if isinstance(e.args, int):
            await handler(actor, e.args)
    return row_action
