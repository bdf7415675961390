"""首页: every role lands here after login. Areas add their own panels per role."""
from collections.abc import Callable

from nicegui import run, ui

from components import frame
from components.auth import protected_page
from db.models import ROLE_LABELS
from glrc_ui.actor import Actor
from glrc_ui.services import accounts

# role -> builders of home panels, added by the areas (units add "what to do next", …)
PANELS: dict[str, list[Callable]] = {}


def add_panel(role: str, builder: Callable) -> None:
    if builder not in PANELS.setdefault(role, []):
        PANELS[role].append(builder)


def register() -> None:
    @protected_page('/', title='首页')
    async def home(actor: Actor):
        await frame.header_and_menu(actor, '/')
        info = await run.io_bound(accounts.profile, actor.user_id)
        with frame.content('首页'):
            with ui.row().classes('items-center gap-4 no-wrap'):
                if info['avatar_file_id']:
                    ui.image(f'/files/{int(info["avatar_file_id"])}?inline=1').classes('w-12 h-12 rounded-full shrink-0') \
                        .props(f'alt="{info["display_name"]}的头像" no-spinner fit=cover')
                else:
                    ui.icon('account_circle', size='48px', color='grey-8').props('aria-hidden=true')
                with ui.column().classes('gap-0'):
                    ui.label(f'您好，{info["display_name"]}').classes('text-lg font-medium')
                    role = ROLE_LABELS[actor.role] + ('（系统管理员）' if actor.is_admin else '')
                    ui.label(f'{role}{"  ·  " + info["org_name"] if info["org_name"] else ""}').classes('text-grey-9')
        for builder in PANELS.get(actor.role, []):
            result = builder(actor)
            if hasattr(result, '__await__'):
                await result
