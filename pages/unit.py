"""单位信息维护 (SPEC §3.2) and the unit's 首页 panel (state, next step, last 审核意见)."""
from pathlib import Path

from nicegui import run, ui

from components import forms, frame
from components.auth import guarded, protected_page
from components.history import timeline
from components.schema_form import SchemaForm
from components.upload import upload_field
from glrc_ui.actor import Actor
from glrc_ui.services import unit_review, units
from pages import home

PATH = '/unit/info'


def register() -> None:
    home.add_panel('unit', home_panel)
    home.add_panel('reviewer', staff_panel)
    home.add_panel('center', staff_panel)

    @protected_page(PATH, ('unit',), title='单位信息维护')
    async def unit_info(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        detail = await run.io_bound(units.my_unit, actor)
        org_lists = await run.io_bound(units.org_choices)
        with frame.content('单位信息维护'):
            UnitForm(detail, org_lists)


async def home_panel(actor: Actor) -> None:
    detail = await run.io_bound(units.my_unit, actor)
    with ui.column().classes('w-full max-w-6xl mx-auto px-4 gap-4'):
        with ui.element('div').classes('glrc-card w-full'):
            ui.label('单位账号状态').classes('glrc-title mb-3')
            with ui.row().classes('items-center gap-3'):
                ui.label(detail['name']).classes('text-lg')
                ui.badge(detail['state_label'], color=detail['state_color']).classes('text-sm')
            ui.label(detail['next_step']).classes('mt-2 text-base')
            if detail['last_opinion'] and detail['state'] in units.EDITABLE_STATES:
                ui.label(f'审核意见：{detail["last_opinion"]}').classes('mt-1 text-orange-10 whitespace-pre-wrap')
            if detail['state'] in units.EDITABLE_STATES:
                ui.button('去完善单位信息', on_click=frame.go_to(PATH)).props('unelevated color=red-9').classes('mt-3')


async def staff_panel(actor: Actor) -> None:
    summary = await run.io_bound(unit_review.pending_summary, actor)
    with ui.column().classes('w-full max-w-6xl mx-auto px-4 gap-4'):
        with ui.element('div').classes('glrc-card w-full'):
            ui.label('待办事项').classes('glrc-title mb-3')
            with ui.row().classes('items-center gap-6'):
                with ui.column().classes('gap-0'):
                    ui.label('待审核单位注册').classes('text-grey-7')
                    ui.label(str(summary['count'])).classes('text-3xl font-bold text-red-9')
                if summary['count']:
                    ui.label(f'最早提交：{summary["oldest"]}').classes('text-grey-7')
                ui.button('去审核', on_click=frame.go_to('/review/units')).props('unelevated color=red-9')


class UnitForm:
    """The form; rebuilt from the service's answer after every save, upload or submit."""

    def __init__(self, detail: dict, org_lists: dict[str, dict[int, str]]) -> None:
        self.org_lists = org_lists
        self.container = ui.column().classes('w-full gap-4')
        self.render(detail)

    def render(self, d: dict) -> None:
        self.detail = d
        self.container.clear()
        editable = set(d['editable'])
        with self.container:
            self._status(d)
            self.message = forms.error_line()
            self.form = SchemaForm(units.SCHEMA, d, editable=editable, fallback=self.message,
                                   options={'org_id': self.org_lists.get(d['allocation'] or '', {})})
            self.form.fields['unit_type'].on_value_change(self._type_changed)
            self.form.fields['allocation'].on_value_change(self._allocation_changed)
            self._licence(d, editable)
            self.message.move(target_index=-1)
            with ui.row().classes('gap-3 mt-2'):
                save = ui.button('保存', on_click=guarded(self.save, ('unit',), errors=self._binder)) \
                    .props('unelevated color=red-9')
                submit = ui.button('提交审核', on_click=guarded(self.submit, ('unit',), errors=self._binder)) \
                    .props('unelevated color=blue-9')
                if not editable:
                    save.disable()
                if d['state'] not in units.EDITABLE_STATES:
                    submit.disable()
            if d['history']:
                ui.label('审核记录').classes('glrc-title mt-4')
                timeline(d['history'])

    def _binder(self) -> forms.ErrorBinder:
        return self.form.binder

    def _status(self, d: dict) -> None:
        with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
            ui.label('当前状态：')
            ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
            ui.label(d['next_step']).classes('text-grey-9')
        if d['last_opinion'] and d['state'] == 'returned':
            ui.label(f'审核意见：{d["last_opinion"]}').classes('w-full p-3 rounded bg-orange-1 text-orange-10 '
                                                           'whitespace-pre-wrap')
        if not d['editable']:
            ui.label('单位信息正在审核中，暂不能修改。').classes('text-blue-9')

    def _licence(self, d: dict, editable: set) -> None:
        with ui.column().classes('w-full gap-2'):
            ui.label('营业执照（或法人证书） *').classes('text-grey-9')
            lic = d['licence']
            if lic:
                with ui.row().classes('items-center gap-3'):
                    ui.icon('description', color='grey-7')
                    ui.label(lic['name'])
                    ui.link('预览', f'/files/{lic["id"]}?inline=1', new_tab=True)
                    ui.link('下载', f'/files/{lic["id"]}')
            else:
                ui.label('尚未上传').classes('text-orange-10')
            if 'name' in editable:
                upload_field('上传营业执照（PDF/JPG/PNG，20 MB 以内）', self._store_licence, field='营业执照',
                             on_saved=self._licence_saved, roles=('unit',))

    def _store_licence(self, actor: Actor, path: Path, name: str) -> dict:
        return units.upload_licence(actor, path, name, self.detail['version'])

    def _licence_saved(self, actor: Actor, detail: dict) -> None:
        ui.notify('营业执照已上传', type='positive')
        values = self.form.values()
        self.render(detail | {k: v for k, v in values.items() if k in detail['editable']})

    def _type_changed(self, e) -> None:
        wanted = units.PAIRING.get(e.value)
        if wanted and self.form.fields['allocation'].value != wanted:
            self.form.fields['allocation'].set_value(wanted)

    def _allocation_changed(self, e) -> None:
        self.form.fields['org_id'].set_options(self.org_lists.get(e.value or '', {}), value=None)

    async def save(self, actor: Actor) -> None:
        detail = await run.io_bound(units.save_info, actor, self.form.values(), self.detail['version'])
        ui.notify('保存成功', type='positive')  # before render: it deletes the clicked button and its slot
        self.render(detail)

    async def submit(self, actor: Actor) -> None:
        detail = await run.io_bound(units.save_info, actor, self.form.values(), self.detail['version'])
        self.detail = detail
        await run.io_bound(units.submit, actor, detail['version'])
        detail = await run.io_bound(units.my_unit, actor)
        ui.notify('已提交审核', type='positive')
        self.render(detail)
