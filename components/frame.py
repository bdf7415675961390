"""The page frame: header (system name, user, 消息, 退出登录) and the role's left menu."""
from contextlib import contextmanager

from nicegui import run, ui

from components import session
from components.menu import menu_for, registered_paths
from glrc_ui.actor import Actor
from glrc_ui.services import notifications

SYSTEM_NAME = '桂林市人才服务信息化管理系统'
CSS = '''
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       background: #f3f5f8; color: #1f2d3d; }
.glrc-header { background: linear-gradient(90deg, #a4161a, #c62828); }
.glrc-card { background: #fff; border-radius: 4px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 20px 24px; }
.glrc-title { font-size: 18px; font-weight: 600; color: #1f2d3d; border-left: 4px solid #c62828; padding-left: 10px; }
.glrc-form .q-field { width: 100%; }
.glrc-menu .q-item { min-height: 40px; border-radius: 4px; margin: 1px 6px; }
.glrc-menu .q-item.active { background: #fde8e8; color: #a4161a; font-weight: 600; }
.glrc-table td, .glrc-table th { white-space: normal; }
.glrc-table th { font-weight: 600; background: #f7f8fa; }
.glrc-group { color: #7a8599; font-size: 12px; padding: 14px 16px 4px; }
.glrc-form-grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); column-gap: 32px; row-gap: 12px; }
.glrc-sheet { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); column-gap: 24px; row-gap: 8px; }
.glrc-sheet-row { display: grid; grid-template-columns: 8.5em minmax(0, 1fr); column-gap: 12px; align-items: baseline; }
.glrc-sheet-label { color: #5f6b7a; text-align: right; }
@media (max-width: 600px) {
  .glrc-form-grid, .glrc-sheet { grid-template-columns: minmax(0, 1fr); }
  .glrc-sheet-row { grid-template-columns: 7em minmax(0, 1fr); }
}
'''


def add_style() -> None:
    ui.add_css(CSS)
    ui.query('body').classes('glrc')


async def header_and_menu(actor: Actor, current_path: str) -> None:
    add_style()
    unread = await run.io_bound(notifications.unread_count, actor.user_id)
    with ui.header(elevated=True).classes('glrc-header items-center px-6 py-2'):
        ui.label(SYSTEM_NAME).classes('text-lg font-bold tracking-wide')
        ui.space()
        ui.label(actor.display_name).classes('text-sm mr-4').props('data-testid=user-name')
        with ui.button('消息', icon='notifications', on_click=lambda: ui.navigate.to('/messages')) \
                .props('flat color=white').classes('mr-2'):
            if unread:
                ui.badge(str(unread), color='orange').props('floating')
        ui.button('退出登录', icon='logout', on_click=_logout).props('flat color=white')
    with ui.left_drawer(value=True, bordered=True).classes('bg-white p-0').props('width=220'):
        with ui.list().classes('glrc-menu w-full pt-2'):
            for group, items in menu_for(actor, registered_paths):
                if group:
                    ui.item_label(group).classes('glrc-group')
                for label, path in items:
                    item = ui.item(label, on_click=go_to(path))
                    if path == current_path:
                        item.classes('active')


def session_watch() -> None:
    """An open tab notices an ended session without waiting for the next click. Created after the
    page is built: a timer makes NiceGUI answer the request before anything built after it."""
    ui.timer(60, _check_alive, immediate=False)


def go_to(path: str):
    """A click handler that opens path (a factory: handlers with parameters get the event)."""
    return lambda: ui.navigate.to(path)


async def _check_alive() -> None:
    if await session.current_actor(touch=False) is None:
        ui.navigate.to('/login')


async def _logout() -> None:
    await session.sign_out()
    ui.navigate.to('/login')


@contextmanager
def content(title: str):
    """The white card that holds a page's main content."""
    with ui.column().classes('w-full max-w-6xl mx-auto p-4 gap-4'):
        with ui.element('div').classes('glrc-card w-full'):
            ui.label(title).classes('glrc-title mb-4')
            yield


def denied_page(actor: Actor) -> None:
    add_style()
    with ui.column().classes('w-full items-center mt-24 gap-4'):
        ui.icon('block', size='64px', color='grey')
        ui.label('无权访问此页面').classes('text-xl')
        ui.button('返回首页', on_click=lambda: ui.navigate.to('/')).props('unelevated color=primary')
