"""The owner's information form for an item under review (单位信息维护, 个人信息维护): state and next
step, the last opinion when returned, the schema's fields (locked as the service says), 保存 and
提交审核 (with a confirmation), the unsaved-input guard and the review history.

Pages give it the service's functions and, through hooks, what only they have (the unit's licence,
the person's read-only phone and unit). Saving or submitting rebuilds it from the service's answer."""
from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from components import forms, frame
from components.auth import guarded
from components.dialogs import confirm, heading
from components.history import timeline
from components.schema_form import SchemaForm
from glrc_ui.actor import Actor
from glrc_ui.schema import Schema


class InfoForm:
    """detail: the service's dict (state, state_label, state_color, next_step, last_opinion, editable,
    version, history and the field values). save(actor, values, version) -> detail,
    submit(actor, version), reload(actor) -> detail. noun: 单位信息 / 个人信息."""

    def __init__(self, detail: dict, *, schema: Schema, roles: tuple[str, ...], noun: str,
                 save: Callable[[Actor, dict, int], dict], submit: Callable[[Actor, int], Any],
                 reload: Callable[[Actor], dict], editable_states: tuple[str, ...],
                 submit_question: Callable[[dict], list[str]],
                 options: Callable[[dict], dict] | None = None,
                 before_fields: Callable[['InfoForm', dict], None] | None = None,
                 after_fields: Callable[['InfoForm', dict], None] | None = None) -> None:
        self.schema, self.roles, self.noun = schema, roles, noun
        self._save, self._submit, self._reload = save, submit, reload
        self.editable_states = editable_states
        self.submit_question = submit_question
        self.options = options or (lambda d: {})
        self.before_fields, self.after_fields = before_fields, after_fields
        self.container = ui.column().classes('w-full gap-4')
        frame.watch_unsaved(self.dirty)
        self.render(detail)

    def render(self, d: dict) -> None:
        self.detail = d
        self.container.clear()
        editable = set(d['editable'])
        with self.container:
            self._status(d)
            if self.before_fields:
                self.before_fields(self, d)
            self.message = forms.error_line()
            self.form = SchemaForm(self.schema, d, editable=editable, fallback=self.message, options=self.options(d))
            if self.after_fields:
                self.after_fields(self, d)
            self.message.move(target_index=-1)
            self.unsaved = ui.label('有尚未保存的修改').classes('text-deep-orange-10 text-sm').props('role=status')
            self.unsaved.set_visibility(False)
            with ui.row().classes('gap-3 mt-2'):
                save = ui.button('保存', on_click=guarded(self.save, self.roles, errors=self.binder)) \
                    .props('unelevated color=red-9')
                submit = ui.button('提交审核', on_click=guarded(self.ask_submit, self.roles, errors=self.binder)) \
                    .props('unelevated color=blue-9')
                if not editable:
                    save.disable()
                if d['state'] not in self.editable_states:
                    submit.disable()
            if d['history']:
                heading('审核记录', 2).classes('mt-4')
                timeline(d['history'])
        self.form.on_change(self.changed)
        frame.mark_unsaved(False, self.container.client)

    def binder(self) -> forms.ErrorBinder:
        return self.form.binder

    def dirty(self) -> bool:
        return self.form.dirty()

    def changed(self) -> None:
        dirty = self.form.dirty()
        self.unsaved.set_visibility(dirty)
        frame.mark_unsaved(dirty, self.container.client)

    def _status(self, d: dict) -> None:
        with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
            ui.label('当前状态：')
            ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
            ui.label(d['next_step']).classes('text-grey-10')
        if d['last_opinion'] and d['state'] == 'returned':
            ui.label(f'审核意见：{d["last_opinion"]}').classes('w-full p-3 rounded bg-orange-1 text-deep-orange-10 '
                                                           'whitespace-pre-wrap')
        if not d['editable']:
            ui.label(f'{self.noun}正在审核中，暂不能修改。').classes('text-blue-9')

    async def save(self, actor: Actor) -> None:
        detail = await run.io_bound(self._save, actor, self.form.values(), self.detail['version'])
        ui.notify('保存成功', type='positive')  # before render: it deletes the clicked button and its slot
        self.render(detail)

    def ask_submit(self, actor: Actor) -> None:
        """提交审核 asks first: afterwards the owner cannot change the information until it is reviewed."""
        lines = self.submit_question(self.form.values() | {'_detail': self.detail})
        if self.form.dirty():
            lines[-1] += '未保存的修改将一并保存。'
        confirm('确认提交审核', lines, guarded(self.submit, self.roles, errors=self.binder), color='blue-9')

    async def submit(self, actor: Actor) -> None:
        detail = await run.io_bound(self._save, actor, self.form.values(), self.detail['version'])
        self.detail = detail
        self.form.saved = self.form.values()   # saved: only what 提交审核 lacks remains to say
        self.changed()
        await run.io_bound(self._submit, actor, detail['version'])
        detail = await run.io_bound(self._reload, actor)
        ui.notify('已提交审核', type='positive')
        self.render(detail)
