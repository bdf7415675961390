"""单位信息维护 (SPEC §3.2) and the unit's 首页 panel (state, next step, last 审核意见)."""
from pathlib import Path

from nicegui import run, ui

from components import forms, frame, home_panels
from components.auth import protected_page
from components.info_form import InfoForm
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
    home_panels.state_panel('单位账号状态', await run.io_bound(units.my_unit, actor),
                            editable_states=units.EDITABLE_STATES, button='去完善单位信息', path=PATH)


async def staff_panel(actor: Actor) -> None:
    home_panels.pending_panel('待办事项', '待审核单位注册', await run.io_bound(unit_review.pending_summary, actor),
                              '/review/units')


class UnitForm:
    """单位信息维护 on the shared InfoForm, plus the licence: an upload redraws only the licence, so
    typed and unsaved fields stay as they are and still count as unsaved."""

    def __init__(self, detail: dict, org_lists: dict[str, dict[int, str]]) -> None:
        self.org_lists = org_lists
        # the service functions looked up at each call (so a stub in a test replaces them)
        self.info = InfoForm(detail, schema=units.SCHEMA, roles=('unit',), noun='单位信息',
                             save=lambda *args: units.save_info(*args), submit=lambda *args: units.submit(*args),
                             reload=lambda actor: units.my_unit(actor), editable_states=units.EDITABLE_STATES,
                             submit_question=self._question,
                             options=lambda d: {'org_id': self.org_lists.get(d['allocation'] or '', {})},
                             after_fields=self._after_fields)

    @staticmethod
    def _question(values: dict) -> list[str]:
        name = (values.get('name') or values['_detail']['name'] or '').strip() or '本单位'
        return [f'确定提交「{name}」的单位信息审核吗？',
                '提交后将依次由城区/主管部门和市人才服务中心审核，审核期间不能修改单位信息。']

    def _after_fields(self, info: InfoForm, d: dict) -> None:
        info.form.fields['unit_type'].on_value_change(self._type_changed)
        info.form.fields['allocation'].on_value_change(self._allocation_changed)
        with ui.column().classes('w-full gap-2'):
            ui.label('营业执照（或法人证书） *').classes('text-grey-10 font-medium')
            self.licence_box = ui.column().classes('w-full gap-2')
            self.licence_error = forms.ErrorSlot()
        info.form.binder.fields[units.LICENCE] = self.licence_error
        self._licence(d, set(d['editable']))

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
        return units.upload_licence(actor, path, name, self.info.detail['version'])

    def _licence_saved(self, actor: Actor, detail: dict) -> None:
        """Only the licence and the version change: typed fields stay, and stay unsaved."""
        info = self.info
        info.detail = info.detail | {'version': detail['version'], 'licence': detail['licence']}
        self.licence_error.error = None
        self._licence(info.detail, set(info.detail['editable']))
        if info.form.dirty():
            ui.notify('营业执照已上传。其他修改尚未保存，请点击「保存」', type='warning', multi_line=True)
        else:
            ui.notify('营业执照已上传', type='positive')

    def _type_changed(self, e) -> None:
        wanted = units.PAIRING.get(e.value)
        if wanted and self.info.form.fields['allocation'].value != wanted:
            self.info.form.fields['allocation'].set_value(wanted)

    def _allocation_changed(self, e) -> None:
        self.info.form.fields['org_id'].set_options(self.org_lists.get(e.value or '', {}), value=None)
