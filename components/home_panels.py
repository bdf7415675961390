"""The 首页 panels every area shows: the owner's state (next step, last opinion, the way to the form)
and a reviewer's count of what waits (with the oldest submission and the way to the queue)."""
from nicegui import ui

from components import frame


def state_panel(title: str, d: dict, *, editable_states: tuple[str, ...], button: str, path: str,
                extra: str = '') -> None:
    """d: the service's detail (name, state, state_label, state_color, next_step, last_opinion)."""
    with frame.section(title):
        with ui.row().classes('items-center gap-3'):
            ui.label(d['name']).classes('text-lg')
            ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
            if extra:
                ui.label(extra).classes('text-grey-9')
        ui.label(d['next_step']).classes('mt-2 text-base')
        if d['last_opinion'] and d['state'] in editable_states:
            ui.label(f'审核意见：{d["last_opinion"]}').classes('mt-1 text-deep-orange-10 whitespace-pre-wrap')
        if d['state'] in editable_states:
            ui.button(button, on_click=frame.go_to(path)).props('unelevated color=red-9').classes('mt-3')


def pending_panel(title: str, caption: str, summary: dict, path: str, button: str = '去审核') -> None:
    """summary: {'count', 'oldest'} from the service's pending_summary. button: its name, distinct
    when a 首页 has several such panels."""
    with frame.section(title):
        with ui.row().classes('items-center gap-6'):
            with ui.column().classes('gap-0'):
                ui.label(caption).classes('text-grey-9')
                ui.label(str(summary['count'])).classes('text-3xl font-bold text-red-9')
            if summary['count']:
                ui.label(f'最早提交：{summary["oldest"]}').classes('text-grey-9')
            ui.button(button, on_click=frame.go_to(path)).props('unelevated color=red-9')
