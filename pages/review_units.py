"""单位注册审核 (SPEC §3.7) for reviewers (their org) and the center (its stage)."""
from datetime import date

from nicegui import run, ui

from components import forms, frame
from components.auth import guarded, protected_page
from components.history import timeline
from components.paged_table import PagedTable
from glrc_ui import workflow
from glrc_ui.services import units
from glrc_ui.services.audit import Actor

PATH = '/review/units'
ROLES = ('reviewer', 'center')
STATUS = {'pending': '待审核', 'done': '已审核', 'all': '全部'}
COLUMNS = [
    {'name': 'name', 'label': '单位名称', 'field': 'name', 'align': 'left', 'sortable': True},
    {'name': 'credit_code', 'label': '统一社会信用代码', 'field': 'credit_code', 'align': 'left'},
    {'name': 'unit_type', 'label': '单位类型', 'field': 'unit_type', 'align': 'left'},
    {'name': 'org_name', 'label': '单位审核归属', 'field': 'org_name', 'align': 'left'},
    {'name': 'state', 'label': '状态', 'field': 'state_label', 'align': 'left', 'sortable': True},
    {'name': 'submitted_at', 'label': '提交时间', 'field': 'submitted_at', 'align': 'left', 'sortable': True},
]


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def register() -> None:
    @protected_page(PATH, ROLES, title='单位注册审核')
    async def queue_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        with frame.content('单位注册审核'):
            with ui.row().classes('w-full items-center gap-3'):
                status = ui.toggle(STATUS, value='pending').props('unelevated toggle-color=red-9 no-caps')
                keyword = forms.text('关键字', placeholder='单位名称或统一社会信用代码').classes('w-64', remove='w-full')
                start = forms.text('开始日期').props('type=date').classes('w-44', remove='w-full')
                end = forms.text('结束日期').props('type=date').classes('w-44', remove='w-full')
                search = ui.button('查询', icon='search').props('unelevated color=red-9')

            async def fetch(**paging):
                current = await _still_allowed()
                if current is None:
                    return [], 0
                return await run.io_bound(units.queue, current, status.value, keyword.value,
                                          _parse_date(start.value), _parse_date(end.value), **paging)

            table = await PagedTable.create(COLUMNS, fetch, {
                '审核': (lambda unit_id: _open(unit_id, review=True), 'can_review'),
                '详情': (lambda unit_id: _open(unit_id, review=False), None),
            }, selection='multiple')

            async def approve_selected(actor: Actor) -> None:
                items = [(row['id'], row['version']) for row in table.table.selected if row.get('can_review')]
                if not items:
                    ui.notify('请先勾选待审核的单位', type='warning')
                    return
                result = await run.io_bound(units.review_many, actor, items)
                if result is None:  # the app is shutting down
                    return
                text = f'已通过 {result["done"]} 家单位'
                if result['failed']:
                    text += f'；{len(result["failed"])} 家未处理：' + '；'.join(m for _, m in result['failed'][:3])
                ui.notify(text, type='positive' if not result['failed'] else 'warning', multi_line=True)
                await table.load()

            with ui.row().classes('w-full items-center gap-3'):
                ui.button('批量通过', icon='done_all', on_click=guarded(approve_selected, ROLES)) \
                    .props('outline color=positive')
                ui.label('勾选多家待审核单位后可一次通过（退回修改须逐家填写审核意见）').classes('text-grey-6 text-sm')
            search.on_click(lambda: table.load(first_page=True))
            status.on_value_change(lambda: table.load(first_page=True))
            keyword.on('keydown.enter', lambda: table.load(first_page=True))

    @protected_page(PATH + '/{unit_id}', ROLES, title='单位注册审核')
    async def review_page(actor: Actor, unit_id: int, mode: str = 'view'):
        await frame.header_and_menu(actor, PATH)
        try:
            d = await run.io_bound(units.detail_for_review, actor, unit_id)
        except units.PermissionDenied:
            with frame.content('单位注册审核'):
                ui.label('该单位不存在或不在您的审核范围内').classes('text-negative')
                ui.button('返回列表', on_click=lambda: ui.navigate.to(PATH)).props('flat color=primary')
            return
        reviewing = any(a['action'] in ('approve', 'return_') for a in d['actions'])
        with frame.content('单位注册审核 · ' + ('审核' if reviewing else '详情')):
            unit_detail(d)
            if d['actions']:
                _review_box(d)
            ui.label('审核记录').classes('glrc-title mt-6 mb-2')
            timeline(d['history'])
            ui.button('返回列表', icon='arrow_back', on_click=lambda: ui.navigate.to(PATH)).props('flat color=primary') \
                .classes('mt-4')


async def _still_allowed() -> Actor | None:
    from components.auth import current_actor
    actor = await current_actor()
    if actor is None or actor.role not in ROLES:
        ui.navigate.to('/login')
        return None
    return actor


async def _open(unit_id: int, review: bool) -> None:
    if await _still_allowed() is not None:
        ui.navigate.to(f'{PATH}/{unit_id}' + ('?mode=review' if review else ''))


def unit_detail(d: dict) -> None:
    """All the unit's info as a read-only sheet, with the licence preview."""
    rows = [('单位名称', d['name']), ('统一社会信用代码', d['credit_code']), ('单位类型', d['unit_type']),
            ('单位分配管理', d['allocation_label']), ('单位审核归属', d['org_name']), ('所属行业', d['industry']),
            ('单位地址', d['address']), ('法定代表人', d['legal_rep']), ('单位联系电话', d['contact_phone']),
            ('操作人姓名', d['operator_name']), ('操作人手机号', d['operator_phone']), ('状态', d['state_label']),
            ('提交时间', d['submitted_at']), ('注册时间', d['created_at'])]
    with ui.grid(columns='max-content 1fr max-content 1fr').classes('w-full gap-x-6 gap-y-2 items-baseline'):
        for label, value in rows:
            ui.label(label).classes('text-grey-7 text-right')
            ui.label(value or '—').classes('break-all')
    ui.label('单位简介').classes('text-grey-7 mt-3')
    ui.label(d['intro'] or '—').classes('whitespace-pre-wrap')
    ui.label('营业执照').classes('glrc-title mt-6 mb-2')
    lic = d['licence']
    if not lic:
        ui.label('未上传').classes('text-orange-9')
        return
    with ui.row().classes('items-center gap-4 mb-2'):
        ui.label(lic['name'])
        ui.link('新窗口预览', f'/files/{int(lic["id"])}?inline=1', new_tab=True)
        ui.link('下载', f'/files/{int(lic["id"])}')
    source = f'/files/{int(lic["id"])}?inline=1'
    if lic['mime'] == 'application/pdf':
        ui.element('iframe').props(f'src="{source}" title="营业执照预览"').classes('w-full h-[640px] border rounded')
    else:
        ui.image(source).classes('max-w-3xl border rounded')


def _review_box(d: dict) -> None:
    with ui.column().classes('w-full gap-2 mt-6 p-4 rounded bg-grey-2 glrc-form'):
        ui.label('审核' if any(a['action'] in ('approve', 'return_') for a in d['actions']) else '账号管理') \
            .classes('glrc-title')
        opinion = forms.textarea('审核意见', max_length=1000)
        message = forms.error_line()
        with ui.row().classes('gap-3'):
            for action in d['actions']:
                color = {'approve': 'positive', 'enable': 'positive', 'disable': 'negative'}.get(action['action'], 'orange-9')
                ui.button(action['label'], on_click=guarded(_decide(d, action['action'], opinion, message), ROLES)) \
                    .props(f'unelevated color={color}')


def _decide(d: dict, action: str, opinion, message):
    async def decide(actor: Actor) -> None:
        message.set_visibility(False)
        try:
            await run.io_bound(units.review, actor, d['id'], action, d['version'], opinion.value)
        except units.PermissionDenied:
            message.set_text('该单位不在您的审核范围内')
            message.set_visibility(True)
            return
        except workflow.WorkflowError as exc:
            message.set_text(str(exc))
            message.set_visibility(True)
            return
        done = {'approve': '已通过', 'return_': '已退回修改', 'disable': '单位已停用', 'enable': '单位已启用'}[action]
        ui.notify('操作完成：' + done, type='positive')
        ui.navigate.to(PATH)
    return decide
