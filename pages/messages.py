"""消息: the user's in-app notifications. Unread ones are marked until the user opens them (查看) or
marks them all read; the header's badge counts exactly the rows marked 未读 here."""
from nicegui import run, ui

from components import frame
from components.auth import guarded, protected_page
from glrc_ui.actor import Actor
from glrc_ui.services import notifications


def register() -> None:
    @protected_page('/messages', title='消息')
    async def messages(actor: Actor):
        await frame.header_and_menu(actor, '/messages')
        with frame.content('消息'):
            await MessageList.create(actor)


class MessageList:
    @classmethod
    async def create(cls, actor: Actor) -> 'MessageList':
        rows = await run.io_bound(notifications.list_for, actor.user_id)
        return cls(rows)

    def __init__(self, rows: list[dict]) -> None:
        self.box = ui.column().classes('w-full gap-0')
        self.render(rows)

    def render(self, rows: list[dict]) -> None:
        self.box.clear()
        unread = sum(not row['read'] for row in rows)
        with self.box:   # (inside: the clicked button that got here is gone)
            frame.set_unread(unread)
            with ui.row().classes('w-full items-center gap-3 pb-2'):
                ui.label(f'共 {len(rows)} 条，{unread} 条未读' if rows else '暂无消息').classes('text-grey-9')
                ui.space()
                if unread:
                    ui.button('全部标为已读', icon='done_all', on_click=guarded(self.read_all)) \
                        .props('flat dense no-caps color=primary')
            with ui.element('ul').classes('w-full p-0 m-0 list-none').props('aria-label="消息列表"'):
                for row in rows:
                    self._row(row)

    def _row(self, row: dict) -> None:
        with ui.element('li').classes('w-full flex flex-col gap-1 border-b border-grey-4 py-3'):
            with ui.row().classes('w-full items-center gap-2'):
                if not row['read']:
                    ui.badge('未读', color='red-9')
                ui.label(row['title']).classes('font-medium' if row['read'] else 'font-bold').props('data-testid=message-title')
                ui.space()
                ui.label(row['created_at']).classes('text-grey-9 text-sm')
            if row['body']:
                ui.label(row['body']).classes('text-grey-10 whitespace-pre-wrap break-all')
            if row['link']:
                ui.button('查看', on_click=guarded(self._opener(row['id']))) \
                    .props(f'flat dense no-caps color=primary aria-label="查看：{row["title"]}"').classes('self-start')

    def _opener(self, notification_id: int):
        async def open_message(actor: Actor) -> None:
            link = await run.io_bound(notifications.open_one, actor.user_id, notification_id)
            if link is None:
                ui.notify('该消息不存在', type='warning')
                return
            ui.navigate.to(link)
        return open_message

    async def read_all(self, actor: Actor) -> None:
        await run.io_bound(notifications.mark_all_read, actor.user_id)
        rows = await run.io_bound(notifications.list_for, actor.user_id)
        ui.notify('已全部标为已读', type='positive')   # before render: it deletes the clicked button and its slot
        self.render(rows)
