"""高层次人才认定申报 (SPEC §3.6) for persons: the list with its row actions, the form (新增 / 编辑) and the
附件 page (evidence per material type, 线下提交纸质材料). Every action is checked again by the service."""
from pathlib import Path

from nicegui import context, run, ui

from components import forms, frame
from components.auth import guarded, protected_page
from components.detail_sheet import detail_sheet
from components.dialogs import confirm, heading
from components.history import timeline
from components.paged_table import PagedTable
from components.schema_form import SchemaForm
from components.upload import upload_field
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied
from glrc_ui.services import applications, catalogue
from pages import home
from pages.files import row_id

PATH = '/person/applications'
ROLES = ('person',)
COLUMNS = [
    {'name': 'number', 'label': '申报编号', 'field': 'number', 'align': 'left'},
    {'name': 'level', 'label': '申报层次', 'field': 'level_label', 'align': 'left', 'sortable': True},
    {'name': 'state', 'label': '状态', 'field': 'state_label', 'align': 'left', 'sortable': True},
    {'name': 'created_at', 'label': '保存/提交时间', 'field': 'times', 'align': 'left', 'sortable': True,
     'classes': 'whitespace-pre-line'},
]
NOT_FOUND = '该申报不存在或不属于您'
EXAMPLE_BADGE = '示例'


def register() -> None:
    home.add_panel('person', home_panel)

    @protected_page(PATH, ROLES, title='高层次人才认定申报', active_only=True)
    async def list_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        with frame.content('高层次人才认定申报'):
            with ui.row().classes('w-full items-center gap-3'):
                ui.label('填写申报信息并保存后，在「附件」上传佐证材料，最后点击「提交」。提交后由所在单位、'
                         '主管部门/城区、市人才服务中心依次审核。').classes('text-grey-9 text-sm flex-1 min-w-0')
                ui.button('新增', icon='add', on_click=frame.go_to(PATH + '/new')).props('unelevated color=red-9')
            await MyApplications.create(actor)

    @protected_page(PATH + '/new', ROLES, title='高层次人才认定申报', active_only=True)
    async def new_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        d = await run.io_bound(applications.new_form, actor)
        options = await run.io_bound(catalogue.options)
        with frame.content('高层次人才认定申报 · 新增'):
            ApplicationForm(d, options)

    @protected_page(PATH + '/{app_id}', ROLES, title='高层次人才认定申报', active_only=True)
    async def edit_page(actor: Actor, app_id: str):
        await frame.header_and_menu(actor, PATH)
        d = await _load(actor, app_id, applications.my_application)
        if d is None:
            return
        options = await run.io_bound(catalogue.options)
        with frame.content('高层次人才认定申报 · ' + ('编辑' if d['editable'] else '查看')):
            ApplicationForm(d, options)

    @protected_page(PATH + '/{app_id}/files', ROLES, title='高层次人才认定申报 · 附件', active_only=True)
    async def files_page(actor: Actor, app_id: str):
        await frame.header_and_menu(actor, PATH)
        d = await _load(actor, app_id, applications.evidence)
        if d is None:
            return
        with frame.content('高层次人才认定申报 · 附件'):
            EvidencePage(d)


async def _load(actor: Actor, app_id: str, service) -> dict | None:
    """The application for this person, or the refusal panel (404 for what is not an id)."""
    try:
        number = row_id(app_id)
        if number is None:
            context.client.status_code = 404
            raise PermissionDenied(NOT_FOUND)
        return await run.io_bound(service, actor, number)
    except PermissionDenied as exc:
        with frame.content('高层次人才认定申报'):
            ui.label(exc.message).classes('text-negative')
            ui.button('返回列表', on_click=frame.go_to(PATH)).props('flat color=primary')
        return None


async def home_panel(actor: Actor) -> None:
    if actor.status != 'active':
        return
    summary = await run.io_bound(applications.my_summary, actor)
    with frame.section('高层次人才认定申报'):
        if summary['total']:
            with ui.row().classes('items-center gap-4'):
                for label, count in summary['states']:
                    with ui.column().classes('gap-0 items-center'):
                        ui.label(str(count)).classes('text-2xl font-bold text-red-9')
                        ui.label(label).classes('text-grey-9 text-sm')
        else:
            ui.label('个人信息已审核通过，可以发起高层次人才认定申报。').classes('text-base')
        with ui.row().classes('gap-3 mt-3'):
            ui.button('新增申报', icon='add', on_click=frame.go_to(PATH + '/new')).props('unelevated color=red-9')
            if summary['total']:
                ui.button('查看我的申报', on_click=frame.go_to(PATH)).props('outline color=primary')


# ---- the list ---------------------------------------------------------------------------------------
class MyApplications:
    @classmethod
    async def create(cls, actor: Actor) -> 'MyApplications':
        self = cls()
        self.table = await PagedTable.create(actor, COLUMNS, self._fetch, {
            '编辑': (self._open(''), 'can_edit'),
            '附件': (self._open('/files'), 'can_files'),
            '提交': (self._submit, 'can_submit'),
            '撤回': (self._withdraw, 'can_withdraw'),
            '删除': (self._delete, 'can_delete'),
            '审核结果': (self._result, 'can_result'),
        }, roles=ROLES, sort_by='created_at', descending=True)
        return self

    async def _fetch(self, actor: Actor, **paging):
        return await run.io_bound(applications.my_applications, actor, **paging)

    def _row(self, app_id: int) -> dict | None:
        return next((row for row in self.table.table.rows if row['id'] == app_id), None)

    @staticmethod
    def _open(suffix: str):
        async def open_app(actor: Actor, app_id: int) -> None:
            ui.navigate.to(f'{PATH}/{app_id}{suffix}')
        return open_app

    @staticmethod
    async def _result(actor: Actor, app_id: int) -> None:
        ui.navigate.to(f'/applications/{app_id}/result')

    async def _reload(self, actor: Actor) -> None:
        await self.table.load(actor)

    async def _submit(self, actor: Actor, app_id: int) -> None:
        row = self._row(app_id)
        if row is not None:
            await ask_submit(actor, app_id, row['version'], row['number'], self._reload)

    async def _withdraw(self, actor: Actor, app_id: int) -> None:
        self._confirmed(app_id, applications.withdraw, '撤回', '撤回后申报回到“已保存”状态，需重新提交才会进入审核。',
                        '已撤回，申报回到“已保存”状态，可修改后重新提交', 'deep-orange-10')

    async def _delete(self, actor: Actor, app_id: int) -> None:
        self._confirmed(app_id, applications.delete, '删除', '删除后申报信息和已上传的附件都不能恢复。',
                        '申报已删除', 'red-9')

    def _confirmed(self, app_id: int, service, verb: str, consequence: str, done: str, color: str) -> None:
        """A row action that asks first (naming the application), then calls service(actor, id, version)."""
        row = self._row(app_id)
        if row is None:
            return

        async def act(actor: Actor) -> None:
            await run.io_bound(service, actor, app_id, row['version'])
            ui.notify(done, type='positive')
            await self._reload(actor)
        confirm(f'确认{verb}', [f'确定{verb}申报「{row["number"]}」吗？', consequence],
                guarded(act, ROLES, active_only=True), color=color)


async def ask_submit(actor: Actor, app_id: int, version: int, number: str, done) -> None:
    """提交: first what is missing (fields and material types, by name, with the way to fix it);
    when nothing is, a confirmation; then the service submits (and checks everything again)."""
    missing = await run.io_bound(applications.missing, actor, app_id)
    if missing is None:
        return
    if missing:
        with ui.dialog().props('aria-label="尚不能提交"') as dialog, ui.card().classes('w-full max-w-lg'):
            heading('尚不能提交', 2)
            ui.label('以下信息或材料未填写、未上传，请补充后再提交：').classes('text-grey-10')
            with ui.element('ul').classes('list-disc pl-6 text-deep-orange-10'):
                for label, message in missing.items():
                    with ui.element('li').classes('py-0.5'):
                        ui.label(f'{label}：{message}' if message else label)
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('关闭', on_click=dialog.close).props('flat color=grey-9')
                ui.button('填写申报信息', on_click=lambda: ui.navigate.to(f'{PATH}/{app_id}')).props('outline color=primary')
                ui.button('上传附件', on_click=lambda: ui.navigate.to(f'{PATH}/{app_id}/files')) \
                    .props('unelevated color=red-9')
        dialog.on('hide', dialog.delete)
        dialog.open()
        return

    async def submit(actor: Actor) -> None:
        await run.io_bound(applications.submit, actor, app_id, version)
        ui.notify('已提交，等待所在单位审核', type='positive')
        await done(actor)
    confirm('确认提交', [f'确定提交申报「{number}」吗？',
                       '提交后由所在单位、主管部门/城区、市人才服务中心依次审核，审核期间不能修改申报信息和附件。'],
            guarded(submit, ROLES, active_only=True), color='blue-9')


# ---- the form ---------------------------------------------------------------------------------------
def example_note(options_or_detail: dict) -> None:
    """The seeded catalogue is an example: said wherever its clauses are shown."""
    if options_or_detail.get('is_example') or options_or_detail.get('catalogue_example'):
        with ui.row().classes('w-full items-center gap-2 p-2 rounded bg-amber-1').props('role=note'):
            ui.badge(EXAMPLE_BADGE, color='deep-orange-10').classes('text-sm')
            ui.label(catalogue.EXAMPLE_NOTE).classes('text-grey-10 text-sm flex-1 min-w-0')


def person_block(d: dict, note: str) -> None:
    heading('申报人信息', 2)
    ui.label(note).classes('text-grey-9 text-sm')
    detail_sheet(d['info_sheet'])


class ApplicationForm:
    """新增 / 编辑: the person's information read-only, the application's fields, 保存 (a draft even when
    incomplete). A new application gets its id at the first 保存; the page stays and its URL follows."""

    def __init__(self, d: dict, options: dict) -> None:
        self.options = options
        self.container = ui.column().classes('w-full gap-4')
        frame.watch_unsaved(self.dirty)
        self.render(d)

    def dirty(self) -> bool:
        return self.form.dirty()

    def render(self, d: dict) -> None:
        self.detail = d
        self.container.clear()
        editable = d['editable']
        with self.container:
            with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
                if d['number']:
                    ui.label(f'申报编号：{d["number"]}')
                ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
                ui.label(d['next_step']).classes('text-grey-10')
            if d['last_opinion'] and d['state'] == 'returned':
                ui.label(f'审核意见：{d["last_opinion"]}').classes('w-full p-3 rounded bg-orange-1 text-deep-orange-10 '
                                                               'whitespace-pre-wrap')
            if not editable:
                ui.label('申报已提交，审核期间不能修改。').classes('text-blue-9')
            person_block(d, '以下信息取自「个人信息维护」，提交时一并保存到申报中；如需修改请先到个人信息维护修改。'
                         if editable else '提交时的申报人信息。')
            heading('申报信息', 2).classes('mt-2')
            example_note(self.options)
            self.message = forms.error_line()
            values = dict(d['values'])
            level = values.get('level')
            self.form = SchemaForm(applications.SCHEMA, values, editable=set(applications.FIELDS) if editable else set(),
                                   fallback=self.message,
                                   options={'level': self.options['levels'],
                                            'clause_id': self._clauses(level, values.get('clause_id'))})
            self.form.fields['clause_id'].classes('glrc-wrap-select')
            self.materials = ui.label('').classes('text-grey-9 text-sm')
            self._show_materials(values.get('clause_id'))
            self.form.fields['level'].on_value_change(self._level_changed)
            self.form.fields['clause_id'].on_value_change(lambda e: self._show_materials(e.value))
            self.message.move(target_index=-1)
            self.unsaved = ui.label('有尚未保存的修改').classes('text-deep-orange-10 text-sm').props('role=status')
            self.unsaved.set_visibility(False)
            with ui.row().classes('gap-3 mt-2'):
                if editable:
                    ui.button('保存', on_click=guarded(self.save, ROLES, active_only=True, errors=self.binder)) \
                        .props('unelevated color=red-9')
                if d['id']:
                    ui.button('附件', icon='attach_file', on_click=frame.go_to(f'{PATH}/{d["id"]}/files')) \
                        .props('outline color=primary')
                ui.button('返回列表', on_click=frame.go_to(PATH)).props('flat color=primary')
            if d['history']:
                heading('审核记录', 2).classes('mt-4')
                timeline(d['history'])
        self.form.on_change(self.changed)
        frame.mark_unsaved(False, self.container.client)

    def binder(self) -> forms.ErrorBinder:
        return self.form.binder

    def _clauses(self, level: str | None, current) -> dict:
        clauses = dict(self.options['clauses'].get(level or '', {}))
        if current and current not in clauses and self.detail.get('values', {}).get('clause_id') == current:
            clauses[current] = self.detail.get('clause') or str(current)   # filed under an earlier catalogue version
        return clauses

    def _level_changed(self, e) -> None:
        self.form.fields['clause_id'].set_options(self._clauses(e.value, None), value=None)
        self._show_materials(None)

    def _show_materials(self, clause_id) -> None:
        wanted = self.options['materials'].get(clause_id) if clause_id else None
        if wanted is None and clause_id and clause_id == self.detail['values'].get('clause_id'):
            wanted = [m['key'] for m in self.detail.get('materials', []) if m['required']]
        text = ('该认定依据需提供的附件：' + '、'.join(applications.MATERIAL_TYPES[m] for m in wanted)) if wanted else \
            '请选择申报层次和认定依据，系统将列出需提供的附件。'
        self.materials.set_text(text)

    def changed(self) -> None:
        dirty = self.form.dirty()
        self.unsaved.set_visibility(dirty)
        frame.mark_unsaved(dirty, self.container.client)

    async def save(self, actor: Actor) -> None:
        d = await run.io_bound(applications.save, actor, self.detail['id'], self.form.values(), self.detail['version'])
        if d is None:
            return
        new = self.detail['id'] is None
        ui.notify('保存成功' + ('，请在「附件」上传佐证材料后提交' if new else ''), type='positive')
        if new:   # before render: it deletes the clicked button (and the slot this event runs in)
            ui.run_javascript(f"history.replaceState(null, '', '{PATH}/{int(d['id'])}')")
        self.render(d)


# ---- 附件 -------------------------------------------------------------------------------------------
class EvidencePage:
    """Per material type: the files (预览, 下载, 删除 while editable), the upload, and 线下提交纸质材料."""

    def __init__(self, d: dict) -> None:
        self.d = d
        with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
            ui.label(f'申报编号：{d["number"]}')
            ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
            ui.label(f'申报层次：{d["level_label"] or "未选择"}')
        ui.label(f'认定依据：{d["clause"] or "未选择"}').classes('text-grey-10 whitespace-pre-wrap')
        if d['editable']:
            ui.label('每类材料可上传多个 PDF/JPG/PNG 文件（每个 20 MB 以内）。涉密或不适宜网络传输的材料，可勾选'
                     '「线下提交纸质材料」并简要说明，再将纸质材料交市人才服务中心。').classes('text-grey-9 text-sm')
        else:
            ui.label('申报已提交，审核期间不能修改附件。').classes('text-blue-9')
        self.boxes: dict[str, ui.element] = {}
        for m in d['materials']:
            self.boxes[m['key']] = ui.element('section').classes('w-full p-3 border rounded flex flex-col gap-2')
            self._material(m)
        with ui.row().classes('gap-3 mt-2'):
            if d['editable']:
                ui.button('提交', on_click=guarded(self._submit, ROLES, active_only=True)).props('unelevated color=blue-9')
                ui.button('编辑申报信息', on_click=frame.go_to(f'{PATH}/{d["id"]}')).props('outline color=primary')
            ui.button('返回列表', on_click=frame.go_to(PATH)).props('flat color=primary')

    def _material(self, m: dict) -> None:
        box = self.boxes[m['key']]
        box.clear()
        editable = self.d['editable']
        with box:
            with ui.row().classes('items-center gap-2'):
                heading(m['label'], 3).classes('text-base font-medium')
                if m['required']:
                    ui.badge('必需', color='red-9')
                else:
                    ui.label('（选填）').classes('text-grey-9 text-sm')
            if not m['files']:
                ui.label('尚未上传' + ('，已选择线下提交纸质材料' if m['offline'] else '')).classes(
                    'text-deep-orange-10' if m['required'] and not m['offline'] else 'text-grey-9')
            for f in m['files']:
                with ui.row().classes('items-center gap-3 w-full'):
                    ui.icon('picture_as_pdf' if f['mime'] == 'application/pdf' else 'image', color='grey-8') \
                        .props('aria-hidden=true')
                    ui.label(f['name']).classes('break-all min-w-0')
                    ui.label(f'{max(1, f["size"] // 1024)} KB').classes('text-grey-9 text-sm')
                    ui.link('预览', f'/files/{int(f["id"])}?inline=1', new_tab=True) \
                        .props(f'aria-label="预览 {f["name"]}"')
                    ui.link('下载', f'/files/{int(f["id"])}').props(f'aria-label="下载 {f["name"]}"')
                    if editable:
                        ui.button('删除', on_click=guarded(self._deleter(m, f), ROLES, active_only=True)) \
                            .props(f'flat dense color=red-9 aria-label="删除 {f["name"]}"')
            if editable:
                upload_field(f'上传{m["label"]}', self._saver(m['key']), field=m['label'],
                             on_saved=lambda actor, _r, key=m['key']: self._refresh(actor, key), roles=ROLES)
                self._offline(m)
            elif m['offline']:
                ui.label(f'线下提交纸质材料：{m["offline_note"]}').classes('text-grey-10 whitespace-pre-wrap')

    def _offline(self, m: dict) -> None:
        check = ui.checkbox('线下提交纸质材料', value=m['offline']).props(f'aria-label="{m["label"]}：线下提交纸质材料"')
        with ui.row().classes('w-full items-start gap-2') as row:
            note = forms.text(f'{m["label"]}线下提交说明', m['offline_note'],
                              placeholder='如：涉密材料，不适宜网络传输').classes('flex-1 min-w-0', remove='w-full')
            note.props('maxlength=200')
            save = ui.button('保存说明').props('outline color=primary').classes('h-10')
        row.set_visibility(m['offline'])
        binder = forms.ErrorBinder({f'{m["label"]}线下提交说明': note}, None)

        async def store(actor: Actor) -> None:
            result = await run.io_bound(applications.set_offline, actor, self.d['id'], m['key'], bool(check.value),
                                        note.value)
            if result is None:
                return
            ui.notify('已保存：线下提交纸质材料' if check.value else '已取消线下提交', type='positive')
            await self._refresh(actor, m['key'])

        async def toggled(actor: Actor) -> None:
            row.set_visibility(bool(check.value))
            if not check.value and m['offline']:
                await store(actor)
        check.on_value_change(guarded(toggled, ROLES, active_only=True))
        save.on_click(guarded(store, ROLES, active_only=True, errors=binder))

    def _saver(self, key: str):
        def save(actor: Actor, path: Path, name: str) -> dict:
            return applications.upload_evidence(actor, self.d['id'], key, path, name)
        return save

    def _deleter(self, m: dict, f: dict):
        async def ask(actor: Actor) -> None:
            async def delete(actor: Actor) -> None:
                await run.io_bound(applications.delete_evidence, actor, self.d['id'], f['id'])
                ui.notify('文件已删除', type='positive')
                await self._refresh(actor, m['key'])
            confirm('确认删除文件', [f'确定删除{m["label"]}「{f["name"]}」吗？删除后不能恢复。'],
                    guarded(delete, ROLES, active_only=True), color='red-9')
        return ask

    async def _refresh(self, actor: Actor, key: str) -> None:
        d = await run.io_bound(applications.evidence, actor, self.d['id'])
        if d is None:
            return
        self.d = d
        self._material(next(m for m in d['materials'] if m['key'] == key))

    async def _submit(self, actor: Actor) -> None:
        async def done(actor: Actor) -> None:
            ui.navigate.to(PATH)
        await ask_submit(actor, self.d['id'], self.d['version'], self.d['number'], done)
