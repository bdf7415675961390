"""The page frame: header (system name, user, 消息, 退出登录) and the role's left menu."""
from collections.abc import Callable
from contextlib import contextmanager

from nicegui import app, context, run, ui
from nicegui.client import Client

from components import session
from components.dialogs import confirm, heading
from components.menu import menu_for, registered_paths
from glrc_ui import config
from glrc_ui.actor import Actor
from glrc_ui.services import accounts

SYSTEM_NAME = '桂林市人才服务信息化管理系统'
BRAND_HTML = '<span class="inline-block">桂林市人才服务</span><span class="inline-block">信息化管理系统</span>'
CSS = '''
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       background: #f3f5f8; color: #1f2d3d; font-size: 15px; }
a, .nicegui-link { color: #0d47a1; }
.glrc-header { background: linear-gradient(90deg, #a4161a, #c62828); }
.glrc-brand { font-size: 18px; font-weight: 700; letter-spacing: .04em; line-height: 1.25; min-width: 0; }
.glrc-card { background: #fff; border-radius: 4px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 20px 24px; }
.glrc-title { font-size: 18px; font-weight: 600; line-height: 1.6; letter-spacing: normal; color: #1f2d3d;
              border-left: 4px solid #c62828; padding-left: 10px; }
h1.glrc-title { font-size: 20px; }
.glrc-title.plain { border: 0; padding: 0; }
.q-timeline__title { font-size: 16px; line-height: 1.5; font-weight: 500; }
.q-timeline__subtitle { opacity: 1; color: #4a5565; }
.glrc-form .q-field { width: 100%; }
.q-field__label { color: #3d4a5c; }
.q-field--float .q-field__label { transform: translateY(-40%) scale(.86); font-weight: 500; }
.q-field--dense.q-field--float .q-field__label { transform: translateY(-30%) scale(.86); }
.q-field__bottom { color: #4a5565; }
/* a hint or an error of two lines pushes what follows down instead of running into the next label */
.q-field--with-bottom { padding-bottom: 0; }
.q-field__bottom { position: static; transform: none; padding: 4px 12px 0; line-height: 1.4; min-height: 20px; }
.q-tab--inactive { opacity: 1; }
.glrc-menu .q-item { min-height: 40px; border-radius: 4px; margin: 1px 6px; color: #1f2d3d; }
.glrc-menu .q-item.active { background: #fde8e8; color: #a4161a; font-weight: 600; }
.glrc-table td { white-space: normal; }
.glrc-table th, .glrc-table td.glrc-sticky-right { white-space: nowrap; }
.glrc-actions { display: flex; gap: 8px; justify-content: center; flex-wrap: nowrap; }
.glrc-upload .q-uploader__subtitle { display: none; }
.glrc-upload .q-uploader__title { font-size: 14px; line-height: 1.4; }
.glrc-table th { font-weight: 600; background: #f7f8fa; color: #1f2d3d; }
.glrc-table td.glrc-name, .glrc-table th.glrc-name { min-width: 11em; }
.glrc-group { color: #4a5565; font-size: 13px; padding: 14px 16px 4px; }
.glrc-form-grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); column-gap: 32px; row-gap: 12px; }
.glrc-sheet { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); column-gap: 24px; row-gap: 8px; }
.glrc-sheet-row { display: grid; grid-template-columns: 8.5em minmax(0, 1fr); column-gap: 12px; align-items: baseline; }
.glrc-sheet-label { color: #4a5565; text-align: right; }
.glrc-auth-page { width: 100%; min-height: 100vh; display: flex; flex-direction: column; align-items: center;
                  justify-content: center; padding: 24px 12px;
                  background: linear-gradient(180deg, #a4161a 0%, #c62828 40%, #f3f5f8 40%); }
.glrc-auth-page.plain { justify-content: flex-start; background: #f3f5f8; }
.glrc-auth-title { color: #fff; font-size: 28px; font-weight: 700; letter-spacing: .06em; text-align: center; border: 0;
                   padding: 0; margin: 0 0 24px; line-height: 1.3; }
.glrc-auth-page.plain .glrc-auth-title { color: #a4161a; font-size: 22px; margin-bottom: 16px; }
.glrc-auth-card { width: 100%; max-width: 440px; }
.glrc-auth-card.wide { max-width: 560px; padding: 24px 28px; }
.glrc-locked .q-field__control { background: #f5f6f8; }
.glrc-resizable textarea { resize: vertical; min-height: 8em; }
/* a chosen long option (认定依据) wraps instead of being cut off */
.glrc-wrap-select .q-field__native, .glrc-wrap-select .q-field__native > span { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }
.glrc-wrap-select .q-field__control, .glrc-wrap-select .q-field__native { height: auto !important; min-height: 40px; }
.glrc-status-toggle { flex-wrap: wrap; }
.glrc-status-toggle .q-btn { flex: 0 0 auto; }
@media (max-width: 1023px) {
  .glrc-table th.glrc-sticky-left, .glrc-table td.glrc-sticky-left { position: sticky; left: 0; z-index: 1; background: #fff; }
  .glrc-table th.glrc-sticky-left { background: #f7f8fa; }
  .glrc-table th.glrc-sticky-right, .glrc-table td.glrc-sticky-right { position: sticky; right: 0; z-index: 1; background: #fff;
                                                                       box-shadow: -2px 0 3px rgba(0,0,0,.06); }
  .glrc-table th.glrc-sticky-right { background: #f7f8fa; }
  .glrc-table td, .glrc-table th { white-space: nowrap; }
  .glrc-table td.glrc-name { white-space: normal; min-width: 7em; max-width: 9em; }
  .glrc-table th.glrc-name { min-width: 7em; }
  .glrc-table td.glrc-sticky-right { padding: 4px 6px; }
  .glrc-actions { flex-direction: column; gap: 2px; align-items: center; }
}
@media (max-width: 600px) {
  body { font-size: 14px; }
  .glrc-icon-xs .q-btn__content > .block { display: none !important; }   /* Quasar's .block is !important */
  .glrc-auth-title { font-size: 21px; letter-spacing: .02em; margin-bottom: 16px; }
  .glrc-auth-page.plain .glrc-auth-title { font-size: 18px; }
  .glrc-auth-card.wide { padding: 16px 14px; }
  .glrc-brand { font-size: 15px; letter-spacing: 0; }
  .glrc-header .q-btn.glrc-icon-xs { padding-left: 6px; padding-right: 6px; }
  .glrc-card { padding: 14px 12px; }
  .glrc-form-grid, .glrc-sheet { grid-template-columns: minmax(0, 1fr); }
  .glrc-sheet-row { grid-template-columns: 8.5em minmax(0, 1fr); column-gap: 8px; }
  .glrc-sheet-label { text-align: left; }
  .glrc-wide-only { display: none !important; }
}
'''
# beforeunload: the browser asks before a reload, a closed tab or a typed URL drops unsaved input
# (the page sets window.glrcDirty while its form differs from what was saved).
HEAD_SCRIPT = '''<script>
window.addEventListener('beforeunload', (e) => { if (window.glrcDirty) { e.preventDefault(); e.returnValue = ''; } });
</script>'''
PRIMARY = '#1565c0'   # white on it 5.7:1; the NiceGUI default (#5898d4) is 3.0:1


def add_style() -> None:
    ui.colors(primary=PRIMARY, positive='#2e7d32', negative='#c62828', warning='#b45309', info='#0d47a1')
    # NiceGUI's last layer: beats Quasar's !important utilities. Headings lose the browser's margins in
    # the base layer, so Tailwind's mt-*/mb-* (utilities) still place them.
    ui.add_css('@layer base { h1.glrc-title, h2.glrc-title, h3.glrc-title { margin: 0; } } '
               '@layer overrides {' + CSS + '}')
    ui.add_head_html(HEAD_SCRIPT)
    ui.query('body').classes('glrc')


class Header:
    """The header's live parts: the unread badge (消息 updates it) and the drawer."""

    def __init__(self, badge: ui.badge, drawer: ui.left_drawer, bell: ui.button) -> None:
        self.badge, self.drawer, self.bell = badge, drawer, bell

    def set_unread(self, count: int) -> None:
        self.badge.set_text(str(count) if count else '')
        self.badge.set_visibility(count > 0)
        # the name starts with what is shown (消息, then the count): WCAG 2.5.3 label in name
        self.bell.props(f'aria-label="消息 {count} 条未读"' if count else 'aria-label="消息"')


async def header_and_menu(actor: Actor, current_path: str) -> Header:
    add_style()
    info = await run.io_bound(accounts.header_info, actor.user_id)
    with ui.header(elevated=True).classes('glrc-header items-center no-wrap px-2 py-2 gap-1'):
        toggle = ui.button(icon='menu').props('flat round dense color=white aria-label="菜单"')
        # two halves that wrap between them on a phone instead of being cut off
        ui.html(BRAND_HTML, sanitize=False).classes('glrc-brand ml-1').mark('brand')
        ui.space()
        if info['avatar_file_id']:
            ui.image(f'/files/{int(info["avatar_file_id"])}?inline=1').classes('w-8 h-8 rounded-full shrink-0') \
                .props(f'alt="{actor.display_name}的头像" no-spinner fit=cover').props('data-testid=header-avatar')
        else:
            ui.icon('account_circle', size='32px').classes('shrink-0').props('aria-hidden=true')
        ui.label(actor.display_name).classes('text-sm mx-2 gt-xs').props('data-testid=user-name')
        with ui.button('消息', icon='notifications', on_click=lambda: leave_to('/messages')) \
                .props('flat dense color=white no-caps').classes('px-2 glrc-icon-xs') as bell:
            badge = ui.badge('', color='orange-10').props('floating')
        ui.button('退出登录', icon='logout', on_click=_logout) \
            .props('flat dense color=white no-caps aria-label="退出登录"').classes('px-2 glrc-icon-xs')
    # Open above 1023 px, closed (an overlay the menu button opens) below: Quasar decides in the browser
    # (show-if-above). Not value=None: NiceGUI then asks the browser for the state with a 1 s timeout,
    # which logs an error on a busy server.
    with ui.left_drawer(value=False, bordered=True).classes('bg-white p-0') \
            .props('show-if-above width=220 breakpoint=1023 aria-label="功能菜单"') as drawer:
        with ui.element('nav').props('aria-label="功能菜单"'), ui.list().classes('glrc-menu w-full pt-2'):
            for group, items in menu_for(actor, registered_paths):
                if group:
                    ui.item_label(group).classes('glrc-group')
                for label, path in items:
                    item = ui.item(label, on_click=go_to(path))
                    if path == current_path:
                        item.classes('active').props('aria-current=page')
    toggle.on_click(lambda: drawer.run_method('toggle'))
    if flashed := app.storage.user.pop(FLASH_KEY, None):   # said by the page we came from (flash)
        ui.notify(flashed[0], type=flashed[1])
    header = Header(badge, drawer, bell)
    header.set_unread(info['unread'])
    context.client.glrc_header = header
    return header


FLASH_KEY = 'glrc_flash'


def flash(message: str, kind: str = 'positive') -> None:
    """A notice for the next page this browser opens (e.g. 「操作完成：已通过」 before going back to
    the queue): a notice on the page being left would vanish with it."""
    app.storage.user[FLASH_KEY] = [message, kind]


def set_unread(count: int) -> None:
    """Update this page's header badge (after 消息 marked messages read)."""
    header = getattr(context.client, 'glrc_header', None)
    if header is not None:
        header.set_unread(count)


# ---- unsaved input ------------------------------------------------------------------------------
def watch_unsaved(is_dirty: Callable[[], bool]) -> None:
    """This page has a form: in-app navigation asks before leaving while is_dirty() is true."""
    context.client.glrc_dirty = is_dirty


def mark_unsaved(dirty: bool, client: Client | None = None) -> None:
    """Tell the browser (beforeunload) whether the page holds unsaved input. `client`: the page's,
    when the element that started the event may be gone (a form rebuilt after 保存)."""
    client = client or context.client
    if getattr(client, 'glrc_dirty_shown', False) != dirty:
        client.glrc_dirty_shown = dirty
        client.run_javascript(f'window.glrcDirty = {"true" if dirty else "false"};')


def leave_to(path: str) -> None:
    """Navigate, first asking when the page holds unsaved input."""
    is_dirty = getattr(context.client, 'glrc_dirty', None)
    if is_dirty is not None and is_dirty():
        def leave() -> None:
            mark_unsaved(False)
            ui.navigate.to(path)
        confirm('离开此页面？', ['您有尚未保存的修改，离开后这些修改将丢失。', '如需保留，请先点击「保存」。'], leave,
                confirm_label='放弃修改并离开', cancel_label='留在此页')
        return
    ui.navigate.to(path)


def session_watch() -> None:
    """An open tab notices an ended session without waiting for the next click. Created after the
    page is built: a timer makes NiceGUI answer the request before anything built after it. Every
    GLRC_SESSION_CHECK_SECONDS (60; at least 5): a password change or 停用 on another process or tab
    shows within that time."""
    ui.timer(config.current().session_check_seconds, _check_alive, immediate=False)


def go_to(path: str):
    """A click handler that opens path, asking first when the page holds unsaved input (a factory:
    handlers with parameters get the event)."""
    return lambda: leave_to(path)


async def _check_alive() -> None:
    if await session.current_actor(touch=False) is None:
        mark_unsaved(False)
        ui.navigate.to(await session.login_url_after_end())


async def _logout() -> None:
    is_dirty = getattr(context.client, 'glrc_dirty', None)
    if is_dirty is not None and is_dirty():
        async def leave() -> None:
            mark_unsaved(False)
            await session.sign_out()
            ui.navigate.to('/login?msg=logout')
        confirm('退出登录？', ['您有尚未保存的修改，退出后这些修改将丢失。'], leave, confirm_label='放弃修改并退出',
                cancel_label='留在此页')
        return
    await session.sign_out()
    ui.navigate.to('/login?msg=logout')


@contextmanager
def content(title: str):
    """The white card that holds a page's main content; its title is the page's one h1."""
    with ui.element('div').classes('w-full max-w-6xl mx-auto p-2 sm:p-4 flex flex-col gap-4'):   # in q-page's <main>
        with ui.element('div').classes('glrc-card w-full'):
            heading(title, 1).classes('mb-4')
            yield


@contextmanager
def section(title: str):
    """A further card on the page (首页 panels), titled with an h2."""
    with ui.element('section').classes('w-full max-w-6xl mx-auto px-2 sm:px-4 pb-4'):
        with ui.element('div').classes('glrc-card w-full'):
            heading(title, 2).classes('mb-3')
            yield


def denied_page(actor: Actor) -> None:
    status_panel('block', '无权访问此页面', '您的账号没有使用此功能的权限。', ('返回首页', '/'))


def status_panel(icon: str, title: str, text: str, link: tuple[str, str]) -> None:
    """A whole page that says what happened and offers the way on (404, no access, a refused file)."""
    add_style()
    with ui.element('div').classes('w-full flex flex-col items-center mt-24 gap-4 px-4 text-center'):
        ui.icon(icon, size='64px', color='grey-8').props('aria-hidden=true')
        heading(title, 1).classes('plain')
        ui.label(text).classes('text-grey-9')
        ui.link(link[0], link[1]).classes('text-base')
