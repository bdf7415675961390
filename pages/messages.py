"""消息: the user's in-app notifications."""
from nicegui import run, ui

from components import frame
from components.auth import protected_page
from glrc_ui.actor import Actor
from glrc_ui.services import notifications


def register() -> None:
    @protected_page('/messages', title='消息')
    async def messages(actor: Actor):
        rows = await run.io_bound(notifications.list_for, actor.user_id)
        await run.io_bound(notifications.mark_all_read, actor.user_id)  # before the header counts unread
        await frame.header_and_menu(actor, '/messages')
        with frame.content('消息'):
            if not rows:
                ui.label('暂无消息').classes('text-grey-6')
            for row in rows:
                with ui.column().classes('w-full gap-1 border-b border-grey-4 py-3'):
                    with ui.row().classes('w-full items-center'):
                        if not row['read']:
                            ui.badge('未读', color='orange')
                        ui.label(row['title']).classes('font-medium')
                        ui.space()
                        ui.label(row['created_at']).classes('text-grey-6 text-sm')
                    ui.label(row['body']).classes('text-grey-8 whitespace-pre-wrap')
                    if row['link']:
                        ui.link('查看', row['link']).classes('text-sm')
