"""A table paged, sorted and filtered on the server (STYLE 6). Row buttons emit the row id."""
from collections.abc import Awaitable, Callable

from nicegui import ui


class PagedTable:
    """fetch(page, per_page, sort_by, descending) -> (rows, total); actions: {'审核': handler(row_id)}."""

    @classmethod
    async def create(cls, columns: list[dict], fetch: Callable[..., Awaitable[tuple[list[dict], int]]],
                     actions: dict[str, tuple[Callable, str | None]], *, sort_by: str = 'submitted_at',
                     per_page: int = 20, selection: str | None = None) -> 'PagedTable':
        """Fetch the first page, then build the table with it (Quasar reads rowsNumber at mount)."""
        rows, total = await fetch(page=1, per_page=per_page, sort_by=sort_by, descending=True)
        return cls(columns, fetch, actions, rows, total, sort_by=sort_by, per_page=per_page, selection=selection)

    def __init__(self, columns: list[dict], fetch: Callable[..., Awaitable[tuple[list[dict], int]]],
                 actions: dict[str, tuple[Callable, str | None]], rows: list[dict], total: int, *,
                 sort_by: str, per_page: int, selection: str | None = None) -> None:
        self.fetch = fetch
        self.pagination = {'page': 1, 'rowsPerPage': per_page, 'sortBy': sort_by, 'descending': True,
                           'rowsNumber': total}
        cols = columns + [{'name': 'actions', 'label': '操作', 'field': 'id', 'align': 'center'}]
        self.table = ui.table(columns=cols, rows=rows, row_key='id', pagination=dict(self.pagination),
                              selection=selection) \
            .props('flat bordered separator=cell no-data-label="暂无数据" rows-per-page-label="每页条数" '
                   ':rows-per-page-options="[10,20,50,100]"').classes('w-full glrc-table')
        buttons = []
        for label, (handler, condition) in actions.items():
            event = f'act_{len(buttons)}'
            show = f' v-if="props.row.{condition}"' if condition else ''
            buttons.append(f'<q-btn{show} flat dense color="primary" label="{label}" '
                           f'@click="() => $parent.$emit(\'{event}\', props.row.id)" />')
            self.table.on(event, self._row_handler(handler))
        self.table.add_slot('body-cell-actions', '<q-td :props="props" class="q-gutter-x-sm">'
                            + ''.join(buttons) + '</q-td>')
        self.table.on('request', self._on_request)

    @staticmethod
    def _row_handler(handler: Callable) -> Callable:
        async def call(e) -> None:
            row_id = e.args
            if isinstance(row_id, int):
                await handler(row_id)
        return call

    async def _on_request(self, e) -> None:
        pagination = e.args.get('pagination', {}) if isinstance(e.args, dict) else {}
        self.pagination.update({k: pagination[k] for k in ('page', 'rowsPerPage', 'sortBy', 'descending')
                                if k in pagination})
        await self.load()

    async def load(self, first_page: bool = False) -> None:
        if first_page:
            self.pagination['page'] = 1
        p = self.pagination
        rows, total = await self.fetch(page=p['page'], per_page=p['rowsPerPage'] or 20,
                                       sort_by=p['sortBy'] or 'submitted_at', descending=bool(p['descending']))
        self.pagination['rowsNumber'] = total
        self.table.selected.clear()
        self.table.rows = rows
        self.table.pagination = dict(self.pagination)
        self.table.update()
