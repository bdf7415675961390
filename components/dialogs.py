"""The one confirmation dialog (STYLE: every irreversible or wide action asks first, naming the item)
and headings with a real level (one h1 per page, h2 for its sections)."""
from collections.abc import Callable

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement


class Heading(TextElement):
    """<h1>…<h3> with the app's title look (Quasar's own h1 style is a 6rem display font)."""

    def __init__(self, text: str, level: int = 2) -> None:
        super().__init__(tag=f'h{level}', text=text)
        self.classes('glrc-title')


def heading(text: str, level: int = 2) -> Heading:
    return Heading(text, level)


def confirm(title: str, lines: list[str], on_confirm: Callable, *, confirm_label: str = '确定',
            color: str = 'red-9', cancel_label: str = '取消') -> ui.dialog:
    """Open a modal dialog: title, the lines that name what will happen, 取消 and 确定.
    on_confirm is the (already guarded) handler; the dialog closes before it runs."""
    running = False

    async def confirmed() -> None:
        # The handler runs in this button's slot: the dialog may only go once the handler is done
        # (deleted on 'hide' instead, a slow handler's notice would find its slot gone).
        nonlocal running
        running = True
        dialog.close()
        try:
            result = on_confirm()
            if hasattr(result, '__await__'):
                await result
        finally:
            _delete(dialog)

    def hidden() -> None:
        if not running:   # 取消, Esc or a click outside
            _delete(dialog)

    with ui.dialog().props(f'aria-label="{title}"') as dialog, \
            ui.card().classes('w-full max-w-md').props('role=alertdialog aria-modal=true') as card:
        title_element = heading(title, 2)
        card.props(f'aria-labelledby=c{title_element.id}')
        for i, line in enumerate(lines):
            ui.label(line).classes('break-all whitespace-pre-wrap' + (' font-medium' if i == 0 else ' text-grey-9'))
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button(cancel_label, on_click=dialog.close).props('flat color=grey-9')
            ui.button(confirm_label, on_click=confirmed).props(f'unelevated color={color}')
    dialog.on('hide', hidden)
    dialog.open()
    return dialog


def _delete(dialog: ui.dialog) -> None:
    if not dialog.is_deleted and not dialog.client.is_deleted:
        dialog.delete()
