"""A review queue: the filter row (待审核 / 已审核 / 全部, keyword, date range), the paged table and the
batch bar. Pages give it the service's queue function; every event re-checks session and role."""
from collections.abc import Callable
from datetime import date
from typing import Any

from nicegui import run, ui

from components import forms
from components.auth import guarded
from components.dialogs import confirm
from components.paged_table import PagedTable
from glrc_ui.actor import Actor
from glrc_ui.paging import Page

STATUS = {'pending': '待审核', 'done': '已审核', 'all': '全部'}


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class Queue:
    """service(actor, status, keyword, date_from, date_to, *, sort_by, descending, page, per_page, after)
    -> Page of row dicts (with 'id', 'version', 'name' and the flag named by each action)."""

    @classmethod
    async def create(cls, actor: Actor, service: Callable[..., Page], columns: list[dict],
                     actions: dict[str, tuple[Callable, str | None]], *, roles: tuple[str, ...],
                     keyword_hint: str, batch: tuple[str, Callable[[Actor, list], dict]] | None = None,
                     noun: str = '条', item: str = '记录', statuses: dict[str, str] | None = None,
                     selects: dict[str, tuple[str, dict[str, str]]] | None = None, sort_by: str = 'submitted_at',
                     descending: bool = False, tools: Callable[['Queue'], None] | None = None) -> 'Queue':
        """statuses: the toggle's choices (default 待审核 / 已审核 / 全部), the first one selected.
        selects: more filters as dropdowns {keyword argument of the service: (label, {value: text})},
        e.g. 申报层次. tools(queue) adds buttons under the filters (e.g. 导出Excel)."""
        queue = cls(service, roles, keyword_hint, statuses or STATUS, selects or {})
        if tools:
            tools(queue)
        queue.table = await PagedTable.create(actor, columns, queue._fetch, actions, roles=roles,
                                              selection='multiple' if batch else None, sort_by=sort_by,
                                              descending=descending)
        if batch:
            queue._batch_bar(*batch, noun=noun, item=item)
        return queue

    def __init__(self, service: Callable[..., Page], roles: tuple[str, ...], keyword_hint: str,
                 statuses: dict[str, str] = STATUS, selects: dict[str, tuple[str, dict[str, str]]] | None = None) -> None:
        self.service, self.roles = service, roles
        self.table: PagedTable
        self._filters_of_cursor: tuple | None = None
        with ui.row().classes('w-full items-start gap-3').props('role=search aria-label="筛选"'):
            self.status = ui.toggle(statuses, value=next(iter(statuses))) \
                .props('unelevated toggle-color=red-9 color=white text-color=grey-10 no-caps aria-label="审核状态"') \
                .classes('glrc-status-toggle')
            self.keyword = forms.text('关键字', placeholder=keyword_hint).classes('w-full sm:w-64', remove='w-full')
            self.selects = {name: forms.dropdown(label, {'': '全部'} | choices, '').classes('w-full sm:w-36', remove='w-full')
                            for name, (label, choices) in (selects or {}).items()}
            with ui.row().classes('gap-3 no-wrap items-start w-full sm:w-auto'):
                self.start = forms.text('开始日期').props('type=date').classes('flex-1 min-w-0 sm:w-40', remove='w-full')
                self.end = forms.text('结束日期').props('type=date').classes('flex-1 min-w-0 sm:w-40', remove='w-full')
            search = ui.button('查询', icon='search').props('unelevated color=red-9').classes('h-10')
        reload = guarded(self._reload, roles)
        search.on_click(reload)
        self.status.on_value_change(reload)
        self.keyword.on('keydown.enter', reload)
        for select in self.selects.values():
            select.on_value_change(reload)

    def filters(self) -> tuple:
        """(status, keyword, start, end, {select name: value}) as the service takes them."""
        start, end = parse_date(self.start.value), parse_date(self.end.value)
        chosen = {name: select.value or None for name, select in self.selects.items()}
        if start and end and end < start:  # refused in _reload; paging keeps the filters last applied
            return self._filters_of_cursor or (self.status.value, self.keyword.value, None, None, chosen)
        return (self.status.value, self.keyword.value, start, end, chosen)

    def date_error(self) -> str | None:
        """The date range as typed: an end before the start is refused with a message next to it."""
        self.start.error = self.end.error = None
        if self.start.value and parse_date(self.start.value) is None:
            self.start.error = '日期格式不正确'
        elif self.end.value and parse_date(self.end.value) is None:
            self.end.error = '日期格式不正确'
        else:
            start, end = parse_date(self.start.value), parse_date(self.end.value)
            if start and end and end < start:
                self.end.error = '结束日期不能早于开始日期'
        return self.start.error or self.end.error

    async def _fetch(self, actor: Actor, *, after=None, **paging: Any) -> Page:
        filters = self.filters()
        if filters != self._filters_of_cursor:  # a cursor is only valid for the filters it came from
            after = None
        self._filters_of_cursor = filters
        *positional, chosen = filters
        return await run.io_bound(self.service, actor, *positional, after=after, **chosen, **paging)

    async def _reload(self, actor: Actor) -> None:
        if self.date_error():
            return
        await self.table.load(actor, first_page=True)

    def _batch_bar(self, label: str, handler: Callable[[Actor, list], dict], *, noun: str, item: str) -> None:
        async def run_batch(actor: Actor, rows: list[dict]) -> None:
            result = await run.io_bound(handler, actor, [(row['id'], row['version']) for row in rows])
            if result is None:  # the app is shutting down
                return
            text = f'已通过 {result["done"]} {noun}'
            if result['failed']:
                text += f'；{len(result["failed"])} {noun}未处理：' + '；'.join(m for _, m in result['failed'][:3])
            ui.notify(text, type='positive' if not result['failed'] else 'warning', multi_line=True)
            await self.table.load(actor)

        def ask() -> None:
            rows = [row for row in self.table.table.selected if row.get('can_review')]
            if not rows:
                ui.notify(f'请先勾选待审核的{item}', type='warning')
                return

            async def confirmed(actor: Actor) -> None:
                await run_batch(actor, rows)

            names = '、'.join(row['name'] for row in rows[:10]) + (f' 等 {len(rows)} {noun}' if len(rows) > 10 else '')
            confirm(f'确认{label}', [f'确定{label}以下 {len(rows)} {noun}吗？', names],
                    guarded(confirmed, self.roles), color='green-9')

        with ui.row().classes('w-full items-center gap-3'):
            ui.button(label, icon='done_all', on_click=ask).props('outline color=green-9')
            ui.label(f'勾选多个待审核的{item}后可一次通过（退回修改须逐个填写审核意见）').classes('text-grey-9 text-sm')
