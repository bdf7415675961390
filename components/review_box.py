"""The review box: 审核意见 (or what the action calls it, e.g. 停用原因), the fields a transition asks
for (e.g. 认定层次), one button per action the workflow allows this actor now, and a confirmation
that names the item before anything happens."""
from collections.abc import Awaitable, Callable

from nicegui import ui

from components import forms
from components.auth import guarded
from components.dialogs import confirm, heading
from glrc_ui.actor import Actor

# white text on each at ≥ 4.5:1 (WCAG AA): green-9 5.1, deep-orange-10 5.6, red-9 5.6
COLORS = {'approve': 'green-9', 'enable': 'green-9', 'disable': 'red-9', 'reject': 'red-9',
          'return_': 'deep-orange-10'}
Decide = Callable[[Actor, str, str | None, dict], Awaitable[None]]


def review_box(item_name: str, actions: list[dict], decide: Decide, *, roles: tuple[str, ...],
               title: str = '审核', defaults: dict | None = None) -> None:
    """actions: [{'action', 'label', 'needs_opinion', 'opinion_label', 'fields': [{'name', 'label', 'choices'}]}]
    from the service (the transitions the engine allows). decide(actor, action, opinion, data) calls
    the service; a UserError it raises is shown next to its field. defaults: a field's preselected
    value (e.g. 认定层次 = the 申报层次), which the reviewer may change."""
    labels = {a.get('opinion_label', '审核意见') for a in actions}
    opinion_label = labels.pop() if len(labels) == 1 else '审核意见'
    with ui.element('section').classes('w-full flex flex-col gap-2 mt-6 p-4 rounded bg-grey-2 glrc-form'):
        heading(title, 2)
        needed = [a['label'] for a in actions if a['needs_opinion']]
        opinion = forms.textarea(opinion_label, max_length=1000)
        if needed and opinion_label == '审核意见':
            opinion.props(f'hint="{"、".join(needed)}时必填"')
        extra: dict[str, dict] = {}
        for action in actions:
            for f in action.get('fields', []):
                if f['name'] not in extra:
                    value = (defaults or {}).get(f['name'])
                    extra[f['name']] = {'label': f['label'], 'choices': f['choices'],
                                        'input': forms.dropdown(f['label'], f['choices'],
                                                                value if value in f['choices'] else None,
                                                                required=True)}
        message = forms.error_line()
        binder = forms.ErrorBinder({opinion_label: opinion} | {f['label']: f['input'] for f in extra.values()}, message)
        with ui.row().classes('gap-3'):
            for action in actions:
                ui.button(action['label'], on_click=_asker(item_name, action, opinion, opinion_label, extra, binder,
                                                          decide, roles)) \
                    .props(f'unelevated color={COLORS.get(action["action"], "primary")}')


def _asker(item_name: str, action: dict, opinion, opinion_label: str, extra: dict, binder: forms.ErrorBinder,
           decide: Decide, roles: tuple[str, ...]):
    """First the checks the page can make (an opinion where it is required, the transition's
    fields), then the confirmation; the service checks everything again."""
    def ask() -> None:
        binder.clear()
        label = action.get('opinion_label', '审核意见')
        if action['needs_opinion'] and not (opinion.value or '').strip():
            binder.show(f'请填写审核意见（{action["label"]}时必填）' if label == '审核意见' else f'请填写{label}',
                        opinion_label)
            return
        for f in action.get('fields', []):
            if not extra[f['name']]['input'].value:
                binder.show(f'请选择{f["label"]}', f['label'])
                return
        data = {f['name']: extra[f['name']]['input'].value for f in action.get('fields', [])}

        async def confirmed(actor: Actor) -> None:
            await decide(actor, action['action'], opinion.value, data)

        lines = [f'确定对「{item_name}」执行“{action["label"]}”吗？此操作提交后不能撤销。']
        if text := (opinion.value or '').strip():
            lines.append(f'{opinion_label}：{text}')
        lines += [f'{f["label"]}：{_shown(f["choices"], data[f["name"]])}' for f in action.get('fields', [])]
        confirm(f'确认{action["label"]}', lines, guarded(confirmed, roles, errors=binder),
                color=COLORS.get(action['action'], 'primary'))
    return ask


def _shown(choices, value) -> str:
    return str(choices.get(value, value)) if isinstance(choices, dict) else str(value)
