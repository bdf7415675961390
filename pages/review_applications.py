"""高层次人才认定审核 (SPEC §3.7) for the unit (its persons), reviewers (their org) and the center; 人才认定
情况查询 (SPEC §3.8) for every role with 导出Excel; and 审核结果 (the result and every stage)."""
from fastapi import Request
from fastapi.responses import FileResponse
from nicegui import app, context, run, ui
from starlette.background import BackgroundTask

from components import frame, home_panels
from components.auth import guarded, protected_page
from components.detail_sheet import detail_sheet, file_preview, long_text
from components.dialogs import heading
from components.errors import refusal
from components.history import timeline
from components.queue import Queue
from components.review_box import review_box
from glrc_ui import security
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied
from glrc_ui.http import client_ip
from glrc_ui.services import application_review as review
from glrc_ui.services import catalogue
from glrc_ui.services.applications import SCHEMA
from pages import home
from pages.applications import example_note
from pages.files import row_id

PATH = '/review/applications'
QUERY_PATH = '/query/applications'
ROLES = review.REVIEW_ROLES
QUERY_ROLES = review.QUERY_ROLES
COLUMNS = [
    {'name': 'name', 'label': '姓名', 'field': 'name', 'align': 'left', 'sortable': True},
    {'name': 'number', 'label': '申报编号', 'field': 'number', 'align': 'left', 'sortable': True},
    {'name': 'unit_name', 'label': '所在单位', 'field': 'unit_name', 'align': 'left'},
    {'name': 'level', 'label': '申报层次', 'field': 'level_label', 'align': 'left', 'sortable': True},
    {'name': 'state', 'label': '状态', 'field': 'state_label', 'align': 'left', 'sortable': True},
    {'name': 'submitted_at', 'label': '提交时间', 'field': 'submitted_at', 'align': 'left', 'sortable': True},
]
QUERY_COLUMNS = COLUMNS + [
    {'name': 'granted_level', 'label': '认定层次', 'field': 'granted_level', 'align': 'left'},
    {'name': 'certificate_no', 'label': '证书编号', 'field': 'certificate_no', 'align': 'left'},
]
LEVELS = {'level': ('申报层次', catalogue.LEVEL_LABELS)}
DONE = {'approve': '已通过', 'return_': '已退回修改', 'reject': '已不予通过'}


def register() -> None:
    for role in ROLES:
        home.add_panel(role, home_panel)

    @protected_page(PATH, ROLES, title='高层次人才认定审核', active_only=True)
    async def queue_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        with frame.content('高层次人才认定审核'):
            batch = ('批量通过', review.review_many) if actor.role != 'center' else None
            if actor.role == 'center':
                ui.label('市人才服务中心通过时须逐条确定认定层次，因此不提供批量通过。').classes('text-grey-9 text-sm')
            await Queue.create(actor, review.queue_page, COLUMNS, {
                '审核': (_opener(PATH), 'can_review'),
                '详情': (_opener(PATH), None),
            }, roles=ROLES, keyword_hint='姓名，或完整的申报编号/身份证号', batch=batch, noun='条', item='申报',
                selects=LEVELS)

    @protected_page(PATH + '/{app_id}', ROLES, title='高层次人才认定审核', active_only=True)
    async def review_page(actor: Actor, app_id: str):
        await frame.header_and_menu(actor, PATH)
        d = await _load(actor, app_id, review.detail_for_review, PATH, '高层次人才认定审核')
        if d is None:
            return
        reviewing = any(a['action'] in ('approve', 'return_', 'reject') for a in d['actions'])
        with frame.content('高层次人才认定审核 · ' + ('审核' if reviewing else '详情')):
            application_detail(d)
            if d['actions']:
                review_box(f'{d["name"]}（{d["number"]}）', d['actions'], _decider(d), roles=ROLES,
                           defaults={'granted_level': d['values'].get('level')})
            heading('审核记录', 2).classes('mt-6 mb-2')
            timeline(d['history'])
            ui.button('返回列表', icon='arrow_back', on_click=frame.go_to(PATH)).props('flat color=primary').classes('mt-4')

    @protected_page(QUERY_PATH, QUERY_ROLES, title='人才认定情况查询', active_only=True)
    async def query_page(actor: Actor):
        await frame.header_and_menu(actor, QUERY_PATH)
        with frame.content('人才认定情况查询'):
            await Queue.create(actor, review.query_page, QUERY_COLUMNS, {
                '审核结果': (_result_opener(), 'can_result'),
            }, roles=QUERY_ROLES, keyword_hint='姓名，或完整的申报编号/身份证号', statuses=review.QUERY_STATUS,
                selects=LEVELS, descending=True, tools=_export_tools if actor.role in review.EXPORT_ROLES else None)

    @protected_page('/applications/{app_id}/result', QUERY_ROLES, title='审核结果', active_only=True)
    async def result_page(actor: Actor, app_id: str):
        await frame.header_and_menu(actor, QUERY_PATH)
        d = await _load(actor, app_id, review.result, QUERY_PATH, '审核结果')
        if d is None:
            return
        with frame.content('审核结果'):
            result_view(d)
            with ui.row().classes('gap-3 mt-4'):
                if actor.role == 'person' and d['editable']:
                    ui.button('修改申报', on_click=frame.go_to(f'/person/applications/{d["id"]}')) \
                        .props('unelevated color=red-9')
                back = '/person/applications' if actor.role == 'person' else QUERY_PATH
                ui.button('返回列表', icon='arrow_back', on_click=frame.go_to(back)).props('flat color=primary')

    @app.get('/exports/{token}', include_in_schema=False)
    async def download_export(token: str, request: Request):
        actor = await run.io_bound(security.resolve_session, app.storage.user.get('token'), ip=client_ip(request))
        if actor is None:
            return refusal(request, 401, '请先登录', link=('前往登录', '/login'))
        found = review.take_export(actor, token[:64])
        if found is None:
            return refusal(request, 404, '导出文件不存在或已过期，请重新导出')
        path, name = found
        return FileResponse(path, filename=name, media_type='application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                            headers={'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store'},
                            background=BackgroundTask(path.unlink, missing_ok=True))


async def _load(actor: Actor, app_id: str, service, back: str, title: str) -> dict | None:
    try:
        number = row_id(app_id)
        if number is None:
            context.client.status_code = 404
            raise PermissionDenied(review.NOT_FOUND)
        return await run.io_bound(service, actor, number)
    except PermissionDenied as exc:
        with frame.content(title):
            ui.label(exc.message).classes('text-negative')
            ui.button('返回列表', on_click=frame.go_to(back)).props('flat color=primary')
        return None


def _opener(path: str):
    async def open_app(actor: Actor, app_id: int) -> None:
        ui.navigate.to(f'{path}/{app_id}')
    return open_app


def _result_opener():
    async def open_result(actor: Actor, app_id: int) -> None:
        ui.navigate.to(f'/applications/{app_id}/result')
    return open_result


def _decider(d: dict):
    async def decide(actor: Actor, action: str, opinion: str | None, data: dict) -> None:
        await run.io_bound(review.review, actor, d['id'], action, d['version'], opinion, data)
        frame.flash('操作完成：' + DONE.get(action, '已处理'))
        ui.navigate.to(PATH)
    return decide


def _export_tools(queue: Queue) -> None:
    async def export(actor: Actor) -> None:
        if queue.date_error():
            return
        status, keyword, start, end, chosen = queue.filters()
        result = await run.io_bound(review.export, actor, status, keyword, start, end, **chosen)
        if result is None:
            return
        ui.notify(f'已导出 {result["rows"]} 条记录', type='positive')
        ui.download.from_url(f'/exports/{result["token"]}', filename=result['name'])

    with ui.row().classes('w-full items-center gap-3'):
        ui.button('导出Excel', icon='download', on_click=guarded(export, review.EXPORT_ROLES, active_only=True)) \
            .props('outline no-caps color=green-9')
        ui.label(f'导出当前筛选条件下的全部记录（最多 {review.EXPORT_MAX:,} 条）').classes('text-grey-9 text-sm')


# ---- the views --------------------------------------------------------------------------------------
def application_detail(d: dict) -> None:
    """Everything the applicant entered, every file (previewed), hints and what changed."""
    with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
        ui.label(f'申报编号：{d["number"]}')
        ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
        ui.label(f'提交时间：{d["submitted_at"]}').classes('text-grey-10')
    if d.get('hints'):
        with ui.element('section').classes('w-full p-3 rounded bg-amber-1 flex flex-col gap-1').props('role=note'):
            heading('核对提示', 2).classes('text-base')
            for hint in d['hints']:
                ui.label(hint).classes('text-grey-10')
    if d.get('changes'):
        changes_box(d['changes'])
    heading('申报人信息', 2)
    detail_sheet(d['info_sheet'])
    heading('申报信息', 2).classes('mt-4')
    if d['catalogue']:
        ui.label(f'认定目录：{d["catalogue"]}').classes('text-grey-9 text-sm')
    example_note(d)
    values = d['values']
    detail_sheet([('申报层次', d['level_label']), ('认定依据', d['clause']),
                  (SCHEMA['specialty'].label, values.get('specialty') or ''),
                  (SCHEMA['pledge'].label, SCHEMA['pledge'].display(values.get('pledge')))])
    for key in ('achievements', 'honors', 'other_notes'):
        long_text(SCHEMA[key].label, values.get(key))
    heading('附件', 2).classes('mt-4')
    evidence_viewer(d['materials'])


def evidence_viewer(materials: list[dict]) -> None:
    """Every file by material type (with 线下提交 notes and what is missing), and one preview pane:
    「查看」 shows a file in the page (PDF in the browser's viewer, images as images)."""
    shown = [f | {'material': m['label']} for m in materials for f in m['files']]
    with ui.element('div').classes('w-full flex flex-col lg:flex-row gap-4'):
        with ui.element('div').classes('w-full lg:w-80 shrink-0 flex flex-col gap-2'):
            for m in materials:
                if not (m['files'] or m['offline'] or m['required']):
                    continue
                with ui.element('section').classes('w-full p-2 border rounded flex flex-col gap-1'):
                    ui.label(m['label'] + ('（必需）' if m['required'] else '')).classes('font-medium')
                    if m['offline']:
                        ui.label(f'线下提交纸质材料：{m["offline_note"]}').classes('text-grey-10 whitespace-pre-wrap')
                    if not m['files'] and not m['offline']:
                        ui.label('未上传').classes('text-deep-orange-10')
                    for f in m['files']:
                        with ui.row().classes('items-center gap-2 w-full no-wrap'):
                            ui.label(f['name']).classes('break-all min-w-0 flex-1 text-sm')
                            ui.button('查看', on_click=lambda f=f, m=m: show(f, m['label'])) \
                                .props(f'flat dense no-caps color=primary aria-label="查看 {m["label"]} {f["name"]}"')
                            ui.link('下载', f'/files/{int(f["id"])}').props(f'aria-label="下载 {f["name"]}"') \
                                .classes('text-sm')
        pane = ui.element('div').classes('w-full min-w-0 flex-1')

    def show(f: dict, label: str) -> None:
        pane.clear()
        with pane:
            file_preview(f, f'{label}：{f["name"]}', level=3)

    if shown:
        show(shown[0], shown[0]['material'])
    else:
        with pane:
            ui.label('未上传附件').classes('text-grey-9')


def changes_box(c: dict) -> None:
    with ui.element('section').classes('w-full p-3 rounded bg-blue-1 flex flex-col gap-1'):
        heading(f'退回后修改情况（与 {c["since"]} 的提交相比）', 2).classes('text-base')
        if not (c['fields'] or c['added'] or c['removed']):
            ui.label('重新提交的内容与上次提交相同。').classes('text-grey-10')
        for item in c['fields']:
            ui.label(f'{item["label"]}：{item["old"] or "（空）"} → {item["new"] or "（空）"}') \
                .classes('text-grey-10 whitespace-pre-wrap break-words')
        for name in c['added']:
            ui.label(f'新增附件：{name}').classes('text-green-10 break-all')
        for name in c['removed']:
            ui.label(f'删除附件：{name}').classes('text-red-10 break-all')


def result_view(d: dict) -> None:
    """审核结果: final state, 认定层次, 证书编号 and every stage."""
    with ui.row().classes('w-full items-center gap-3 p-3 rounded bg-grey-2'):
        ui.label(f'申报编号：{d["number"]}')
        ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
        ui.label(d['next_step'] if not d['final'] else '审核已办结').classes('text-grey-10')
    rows = [('申报人', d['name']), ('所在单位', d['unit_name']), ('申报层次', d['level_label']),
            ('认定依据', d['clause']), ('审核结果', d['state_label']), ('提交时间', d['submitted_at'])]
    if d['state'] == 'approved':
        rows += [('认定层次', d['granted_level']), ('证书编号', d['certificate_no']), ('认定时间', d['decided_at'])]
    elif d['state'] == 'rejected':
        rows += [('办结时间', d['decided_at'])]
    detail_sheet(rows)
    if d['last_opinion'] and d['state'] in ('returned', 'rejected'):
        ui.label(f'审核意见：{d["last_opinion"]}').classes('w-full p-3 rounded bg-orange-1 text-deep-orange-10 '
                                                       'whitespace-pre-wrap')
    example_note(d)
    heading('审核过程', 2).classes('mt-4 mb-2')
    timeline(d['history'])


async def home_panel(actor: Actor) -> None:
    if actor.role == 'unit' and actor.status != 'active':
        return
    home_panels.pending_panel('待审核的人才认定申报', '待本级审核的申报', await run.io_bound(review.pending_summary, actor), PATH,
                              button='去审核申报')
