"""The review box: 审核意见, the fields a transition asks for (e.g. 认定层次), one button per action the
workflow allows this actor now, and a confirmation that names the item before anything happens."""
from collections.abc import Awaitable, Callable

from nicegui import ui

from components import forms
from components.auth import guarded
from glrc_ui.actor import Actor

COLORS = {'approve': 'green-9', 'enable': 'green-9', 'disable': 'red-9', 'reject': 'red-9', 'return_': 'orange-10'}
Decide = Callable[[Actor, str, str | None, dict], Awaitable[None]]


def review_box(item_name: str, actions: list[dict], decide: Decide, *, roles: tuple[str, ...],
               title: str = '审核') -> None:
    """actions: [{'action', 'label', 'needs_opinion', 'fields': [{'name', 'label', 'choices'}]}] from
    the service (the transitions the engine allows). decide(actor, action, opinion, data) calls the
    service; a UserError it raises is shown next to its field."""
    with ui.column().classes('w-full gap-2 mt-6 p-4 rounded bg-grey-2 glrc-form'):
        ui.label(title).classes('glrc-title')
        opinion = forms.textarea('审核意见', max_length=1000)
        extra: dict[str, dict] = {}
        for action in actions:
            for f in action.get('fields', []):
                if f['name'] not in extra:
                    extra[f['name']] = {'label': f['label'],
                                        'input': forms.dropdown(f['label'], f['choices'], required=True)}
        message = forms.error_line()
        binder = forms.ErrorBinder({'审核意见': opinion} | {f['label']: f['input'] for f in extra.values()}, message)
        with ui.row().classes('gap-3'):
            for action in actions:
                ui.button(action['label'], on_click=_asker(item_name, action, opinion, extra, binder, decide, roles)) \
                    .props(f'unelevated color={COLORS.get(action["action"], "primary")}')


def _asker(item_name: str, action: dict, opinion, extra: dict, binder: forms.ErrorBinder, decide: Decide,
           roles: tuple[str, ...]):
    """First the checks the page can make (an opinion where it is required, the transition's
    fields), then the confirmation; the service checks everything again."""
    def ask() -> None:
        binder.clear()
        if action['needs_opinion'] and not (opinion.value or '').strip():
            binder.show(f'请填写审核意见（{action["label"]}时必填）', '审核意见')
            return
        for f in action.get('fields', []):
            if not extra[f['name']]['input'].value:
                binder.show(f'请选择{f["label"]}', f['label'])
                return
        data = {f['name']: extra[f['name']]['input'].value for f in action.get('fields', [])}

        async def confirmed(actor: Actor) -> None:
            dialog.close()
            await decide(actor, action['action'], opinion.value, data)

        with ui.dialog() as dialog, ui.card().classes('w-full max-w-md'):
            ui.label(f'确认{action["label"]}').classes('glrc-title')
            ui.label(f'确定对「{item_name}」执行“{action["label"]}”吗？此操作提交后不能撤销。').classes('break-all')
            if (text := (opinion.value or '').strip()):
                ui.label(f'审核意见：{text}').classes('text-grey-8 whitespace-pre-wrap break-all')
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('取消', on_click=dialog.close).props('flat color=grey-9')
                ui.button('确定', on_click=guarded(confirmed, roles, errors=binder)).props('unelevated color=red-9')
        dialog.on('hide', dialog.delete)
        dialog.open()
    return ask
