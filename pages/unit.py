"""单位信息维护 (SPEC §3.2) and the unit's 首页 panel (state, next step, last 审核意见)."""
from pathlib import Path

from nicegui import run, ui

from components import forms, frame
from components.auth import guarded, protected_page
from components.dialogs import confirm, heading
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
    with frame.section('单位账号状态'):
        with ui.row().classes('items-center gap-3'):
            ui.label(detail['name']).classes('text-lg')
            ui.badge(detail['state_label'], color=detail['state_color']).classes('text-sm')
        ui.label(detail['next_step']).classes('mt-2 text-base')
        if detail['last_opinion'] and detail['state'] in units.EDITABLE_STATES:
            ui.label(f'审核意见：{detail["last_opinion"]}').classes('mt-1 text-deep-orange-10 whitespace-pre-wrap')
        if detail['state'] in units.EDITABLE_STATES:
            ui.button('去完善单位信息', on_click=frame.go_to(PATH)).props('unelevated color=red-9').classes('mt-3')


async def staff_panel(actor: Actor) -> None:
    summary = await run.io_bound(unit_review.pending_summary, actor)
    with frame.section('待办事项'):
        with ui.row().classes('items-center gap-6'):
            with ui.column().classes('gap-0'):
                ui.label('待审核单位注册').classes('text-grey-9')
                ui.label(str(summary['count'])).classes('text-3xl font-bold text-red-9')
            if summary['count']:
                ui.label(f'最早提交：{summary["oldest"]}').classes('text-grey-9')
            ui.button('去审核', on_click=frame.go_to('/review/units')).props('unelevated color=red-9')


class UnitForm:
    """The form. Saving or submitting rebuilds it from the service's answer; a licence upload only
    redraws the licence, so typed and unsaved fields stay as they are and still count as unsaved."""

    def __init__(self, detail: dict, org_lists: dict[str, dict[int, str]]) -> None:
        self.org_lists = org_lists
        self.container = ui.column().classes('w-full gap-4')
        frame.watch_unsaved(self.dirty)
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
            with ui.column().classes('w-full gap-2'):
                ui.label('营业执照（或法人证书） *').classes('text-grey-10 font-medium')
                self.licence_box = ui.column().classes('w-full gap-2')
                self.licence_error = forms.ErrorSlot()
            self.form.binder.fields[units.LICENCE] = self.licence_error
            self._licence(d, editable)
            self.message.move(target_index=-1)
            self.unsaved = ui.label('有尚未保存的修改').classes('text-deep-orange-10 text-sm').props('role=status')
            self.unsaved.set_visibility(False)
            with ui.row().classes('gap-3 mt-2'):
                save = ui.button('保存', on_click=guarded(self.save, ('unit',), errors=self._binder)) \
                    .props('unelevated color=red-9')
                submit = ui.button('提交审核', on_click=guarded(self.ask_submit, ('unit',), errors=self._binder)) \
                    .props('unelevated color=blue-9')
                if not editable:
                    save.disable()
                if d['state'] not in units.EDITABLE_STATES:
                    submit.disable()
            if d['history']:
                heading('审核记录', 2).classes('mt-4')
                timeline(d['history'])
        self.form.on_change(self._changed)
        frame.mark_unsaved(False, self.container.client)

    def dirty(self) -> bool:
        return self.form.dirty()

    def _changed(self) -> None:
        dirty = self.form.dirty()
        self.unsaved.set_visibility(dirty)
        frame.mark_unsaved(dirty, self.container.client)

    def _binder(self) -> forms.ErrorBinder:
        return self.form.binder

    def _status(self, d: dict) -> None:
        with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
            ui.label('当前状态：')
            ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
            ui.label(d['next_step']).classes('text-grey-10')
        if d['last_opinion'] and d['state'] == 'returned':
            ui.label(f'审核意见：{d["last_opinion"]}').classes('w-full p-3 rounded bg-orange-1 text-deep-orange-10 '
                                                           'whitespace-pre-wrap')
        if not d['editable']:
            ui.label('单位信息正在审核中，暂不能修改。').classes('text-blue-9')

    def _licence(self, d: dict, editable: set) -> None:
        self.licence_box.clear()
        with self.licence_box:
            lic = d['licence']
            if lic:
                with ui.row().classes('items-center gap-3'):
                    ui.icon('description', color='grey-8').props('aria-hidden=true')
                    ui.label(lic['name']).classes('break-all')
                    ui.link('预览', f'/files/{lic["id"]}?inline=1', new_tab=True) \
                        .props(f'aria-label="预览营业执照 {lic["name"]}"')
                    ui.link('下载', f'/files/{lic["id"]}').props(f'aria-label="下载营业执照 {lic["name"]}"')
            else:
                ui.label('尚未上传').classes('text-deep-orange-10')
            if 'name' in editable:
                upload_field('上传营业执照（PDF/JPG/PNG，20 MB 以内）', self._store_licence, field='营业执照',
                             on_saved=self._licence_saved, roles=('unit',))

    def _store_licence(self, actor: Actor, path: Path, name: str) -> dict:
        return units.upload_licence(actor, path, name, self.detail['version'])

    def _licence_saved(self, actor: Actor, detail: dict) -> None:
        """Only the licence and the version change: typed fields stay, and stay unsaved."""
        self.detail = self.detail | {'version': detail['version'], 'licence': detail['licence']}
        self.licence_error.error = None
        self._licence(self.detail, set(self.detail['editable']))
        if self.form.dirty():
            ui.notify('营业执照已上传。其他修改尚未保存，请点击「保存」', type='warning', multi_line=True)
        else:
            ui.notify('营业执照已上传', type='positive')

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

    def ask_submit(self, actor: Actor) -> None:
        """提交审核 asks first: after it the unit cannot change its information until it is reviewed."""
        name = (self.form.values().get('name') or self.detail['name'] or '').strip() or '本单位'
        confirm('确认提交审核', [f'确定提交「{name}」的单位信息审核吗？',
                                 '提交后将依次由城区/主管部门和市人才服务中心审核，审核期间不能修改单位信息。'
                                 + ('未保存的修改将一并保存。' if self.form.dirty() else '')],
                guarded(self.submit, ('unit',), errors=self._binder), color='blue-9')

    async def submit(self, actor: Actor) -> None:
        detail = await run.io_bound(units.save_info, actor, self.form.values(), self.detail['version'])
        self.detail = detail
        self.form.saved = self.form.values()   # saved: only what 提交审核 lacks remains to say
        self._changed()
        await run.io_bound(units.submit, actor, detail['version'])
        detail = await run.io_bound(units.my_unit, actor)
        ui.notify('已提交审核', type='positive')
        self.render(detail)
