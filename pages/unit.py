"""单位信息维护 (SPEC §3.2) and the unit's 首页 panel (state, next step, last 审核意见)."""
from nicegui import run, ui

from components import forms, frame
from components.auth import guarded, protected_page
from components.history import timeline
from db.models import ALLOCATIONS, UNIT_TYPES
from glrc_ui import workflow
from glrc_ui.services import files, orgs, units
from glrc_ui.services.audit import Actor
from glrc_ui.validators import FormErrors, ValidationError
from pages import home

PATH = '/unit/info'
STATE_COLORS = {'registered': 'grey', 'returned': 'orange', 'pending_org': 'blue', 'pending_center': 'blue',
                'active': 'positive', 'disabled': 'negative'}


def register() -> None:
    home.add_panel('unit', home_panel)
    home.add_panel('reviewer', staff_panel)
    home.add_panel('center', staff_panel)

    @protected_page(PATH, ('unit',), title='单位信息维护')
    async def unit_info(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        detail = await run.io_bound(units.my_unit, actor)
        org_lists = {kind: {o['id']: o['name'] for o in await run.io_bound(orgs.list_orgs, kind)} for kind in ALLOCATIONS}
        with frame.content('单位信息维护'):
            UnitForm(detail, org_lists)


async def home_panel(actor: Actor) -> None:
    detail = await run.io_bound(units.my_unit, actor)
    with ui.column().classes('w-full max-w-6xl mx-auto px-4 gap-4'):
        with ui.element('div').classes('glrc-card w-full'):
            ui.label('单位账号状态').classes('glrc-title mb-3')
            with ui.row().classes('items-center gap-3'):
                ui.label(detail['name']).classes('text-lg')
                ui.badge(detail['state_label'], color=STATE_COLORS.get(detail['state'], 'grey')).classes('text-sm')
            ui.label(detail['next_step']).classes('mt-2 text-base')
            if detail['last_opinion'] and detail['state'] in ('returned', 'registered'):
                ui.label(f'审核意见：{detail["last_opinion"]}').classes('mt-1 text-orange-10 whitespace-pre-wrap')
            if detail['state'] in ('registered', 'returned'):
                ui.button('去完善单位信息', on_click=lambda: ui.navigate.to(PATH)).props('unelevated color=red-9') \
                    .classes('mt-3')


async def staff_panel(actor: Actor) -> None:
    summary = await run.io_bound(units.pending_summary, actor)
    with ui.column().classes('w-full max-w-6xl mx-auto px-4 gap-4'):
        with ui.element('div').classes('glrc-card w-full'):
            ui.label('待办事项').classes('glrc-title mb-3')
            with ui.row().classes('items-center gap-6'):
                with ui.column().classes('gap-0'):
                    ui.label('待审核单位注册').classes('text-grey-7')
                    ui.label(str(summary['count'])).classes('text-3xl font-bold text-red-9')
                if summary['count']:
                    ui.label(f'最早提交：{summary["oldest"]}').classes('text-grey-7')
                ui.button('去审核', on_click=lambda: ui.navigate.to('/review/units')).props('unelevated color=red-9')


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
            with ui.grid(columns=2).classes('w-full gap-x-8 gap-y-3 glrc-form'):
                f = {}
                f['name'] = forms.text('单位名称', d['name'] or '', required=True)
                f['credit_code'] = forms.text('统一社会信用代码', d['credit_code'] or '', required=True)
                f['unit_type'] = forms.dropdown('单位类型', list(UNIT_TYPES), d['unit_type'], required=True)
                f['allocation'] = forms.dropdown('单位分配管理', ALLOCATIONS, d['allocation'], required=True)
                f['org_id'] = forms.dropdown('单位审核归属', self.org_lists.get(d['allocation'] or '', {}), d['org_id'],
                                           required=True)
                f['industry'] = forms.text('所属行业', d['industry'] or '')
                f['address'] = forms.text('单位地址', d['address'] or '', required=True)
                f['legal_rep'] = forms.text('法定代表人', d['legal_rep'] or '', required=True)
                f['contact_phone'] = forms.text('单位联系电话', d['contact_phone'] or '', required=True)
            f['intro'] = forms.textarea('单位简介', d['intro'] or '', max_length=2000)
            f['allocation'].props('hint="企业、中区直事业单位选择“城区”；市直机关事业单位选择“主管部门”"')
            f['org_id'].props('hint="城区：单位纳税所属县区；主管部门：本单位所属主管部门"')
            f['unit_type'].on_value_change(self._type_changed)
            f['allocation'].on_value_change(self._allocation_changed)
            for key, field in f.items():
                if key not in editable:
                    field.props('readonly').classes('glrc-locked')
            self.fields = f
            self._licence(d, editable)
            self.message = forms.error_line()
            self.errors = forms.ErrorBinder({units.LABELS[k]: v for k, v in f.items()} | {'营业执照': self.licence_hint},
                                            self.message)
            with ui.row().classes('gap-3 mt-2'):
                save = ui.button('保存', on_click=guarded(self.save, ('unit',))).props('unelevated color=red-9')
                submit = ui.button('提交审核', on_click=guarded(self.submit, ('unit',))).props('unelevated color=blue-8')
                if not editable:
                    save.disable()
                if d['state'] not in units.EDITABLE_STATES:
                    submit.disable()
            if d['history']:
                ui.label('审核记录').classes('glrc-title mt-4')
                timeline(d['history'])

    def _status(self, d: dict) -> None:
        with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
            ui.label('当前状态：')
            ui.badge(d['state_label'], color=STATE_COLORS.get(d['state'], 'grey')).classes('text-sm')
            ui.label(d['next_step']).classes('text-grey-8')
        if d['last_opinion'] and d['state'] == 'returned':
            ui.label(f'审核意见：{d["last_opinion"]}').classes('w-full p-3 rounded bg-orange-1 text-orange-10 '
                                                           'whitespace-pre-wrap')
        if d['state'] in ('pending_org', 'pending_center'):
            ui.label('单位信息正在审核中，暂不能修改。').classes('text-blue-9')

    def _licence(self, d: dict, editable: set) -> None:
        with ui.column().classes('w-full gap-2'):
            ui.label('营业执照（或法人证书） *').classes('text-grey-8')
            lic = d['licence']
            if lic:
                with ui.row().classes('items-center gap-3'):
                    ui.icon('description', color='grey-7')
                    ui.label(lic['name'])
                    ui.link('预览', f'/files/{lic["id"]}?inline=1', new_tab=True)
                    ui.link('下载', f'/files/{lic["id"]}')
            else:
                ui.label('尚未上传').classes('text-orange-9')
            self.licence_hint = ui.input().props('borderless dense readonly').classes('w-full')
            self.licence_hint.set_visibility(False)
            if 'name' in editable:
                ui.upload(label='上传营业执照（PDF/JPG/PNG，20 MB 以内）', auto_upload=True, max_file_size=files.MAX_FILE,
                          on_upload=guarded(self.upload, ('unit',)),
                          on_rejected=lambda: ui.notify('文件不能超过 20 MB', type='negative')) \
                    .props('accept=".pdf,.jpg,.jpeg,.png" flat bordered').classes('w-96')

    def _type_changed(self, e) -> None:
        wanted = units.PAIRING.get(e.value)
        if wanted and self.fields['allocation'].value != wanted:
            self.fields['allocation'].set_value(wanted)

    def _allocation_changed(self, e) -> None:
        org = self.fields['org_id']
        org.set_options(self.org_lists.get(e.value or '', {}), value=None)

    def values(self) -> dict:
        return {key: field.value for key, field in self.fields.items()}

    async def save(self, actor: Actor) -> None:
        self.errors.clear()
        try:
            detail = await run.io_bound(units.save_info, actor, self.values(), self.detail['version'])
        except (FormErrors, ValidationError) as exc:
            self.errors.show(exc)
            return
        ui.notify('保存成功', type='positive')  # before render: it deletes the clicked button and its slot
        self.render(detail)

    async def upload(self, actor: Actor, e) -> None:
        self.errors.clear()
        tmp = files.temp_path()
        try:
            if e.file.size() > files.MAX_FILE:  # refuse before copying anything
                raise ValidationError('营业执照', f'文件大小不能超过 {files.MAX_FILE // files.MB} MB')
            await e.file.save(tmp)  # streamed to disk, never whole in memory
            detail = await run.io_bound(units.upload_licence, actor, tmp, e.file.name, self.detail['version'])
        except ValidationError as exc:
            self.message.set_text(exc.message)
            self.message.set_visibility(True)
            ui.notify(exc.message, type='negative')
            return
        finally:
            tmp.unlink(missing_ok=True)
        ui.notify('营业执照已上传', type='positive')
        values = self.values()
        self.render(detail | {k: v for k, v in values.items() if k in detail['editable']})

    async def submit(self, actor: Actor) -> None:
        self.errors.clear()
        try:
            detail = await run.io_bound(units.save_info, actor, self.values(), self.detail['version'])
            await run.io_bound(units.submit, actor, detail['version'])
        except (FormErrors, ValidationError) as exc:
            self.errors.show(exc)
            return
        except workflow.WorkflowError as exc:
            self.message.set_text(str(exc))
            self.message.set_visibility(True)
            return
        detail = await run.io_bound(units.my_unit, actor)
        ui.notify('已提交审核', type='positive')
        self.render(detail)
