"""单位注册审核 (SPEC §3.7) for reviewers (their org) and the center (its stage)."""
from nicegui import context, run, ui

from components import frame
from components.auth import protected_page
from components.detail_sheet import detail_sheet, file_preview, long_text
from components.dialogs import heading
from components.history import timeline
from components.queue import Queue
from components.review_box import review_box
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied
from glrc_ui.services import unit_review
from pages.files import row_id

PATH = '/review/units'
ROLES = unit_review.REVIEW_ROLES
COLUMNS = [
    {'name': 'name', 'label': '单位名称', 'field': 'name', 'align': 'left', 'sortable': True},
    {'name': 'credit_code', 'label': '统一社会信用代码', 'field': 'credit_code', 'align': 'left'},
    {'name': 'unit_type', 'label': '单位类型', 'field': 'unit_type', 'align': 'left'},
    {'name': 'org_name', 'label': '单位审核归属', 'field': 'org_name', 'align': 'left'},
    {'name': 'state', 'label': '状态', 'field': 'state_label', 'align': 'left', 'sortable': True},
    {'name': 'submitted_at', 'label': '提交时间', 'field': 'submitted_at', 'align': 'left', 'sortable': True},
]
NOT_FOUND = '该单位不存在或不在您的审核范围内'  # as the service answers an id outside the actor's scope
DONE = {'approve': '已通过', 'return_': '已退回修改', 'disable': '单位已停用', 'enable': '单位已启用'}


def register() -> None:
    @protected_page(PATH, ROLES, title='单位注册审核')
    async def queue_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        with frame.content('单位注册审核'):
            await Queue.create(actor, unit_review.queue_page, COLUMNS, {
                '审核': (_opener(review=True), 'can_review'),
                '详情': (_opener(review=False), None),
            }, roles=ROLES, keyword_hint='单位名称或统一社会信用代码',
                batch=('批量通过', unit_review.review_many), noun='家单位', item='单位')

    @protected_page(PATH + '/{unit_id}', ROLES, title='单位注册审核')
    async def review_page(actor: Actor, unit_id: str, mode: str = 'view'):
        # unit_id as text: an int annotation answers /review/units/abc with FastAPI's 422 JSON
        await frame.header_and_menu(actor, PATH)
        try:
            number = row_id(unit_id)
            if number is None:   # not an id at all: the same panel, answered as 404
                context.client.status_code = 404
                raise PermissionDenied(NOT_FOUND)
            d = await run.io_bound(unit_review.detail_for_review, actor, number)
        except PermissionDenied as exc:
            with frame.content('单位注册审核'):
                ui.label(exc.message).classes('text-negative')
                ui.button('返回列表', on_click=frame.go_to(PATH)).props('flat color=primary')
            return
        reviewing = any(a['action'] in ('approve', 'return_') for a in d['actions'])
        with frame.content('单位注册审核 · ' + ('审核' if reviewing else '详情')):
            unit_detail(d)
            if d['actions']:
                review_box(d['name'], d['actions'], _decider(d), roles=ROLES, title='审核' if reviewing else '账号管理')
            heading('审核记录', 2).classes('mt-6 mb-2')
            timeline(d['history'])
            ui.button('返回列表', icon='arrow_back', on_click=frame.go_to(PATH)).props('flat color=primary') \
                .classes('mt-4')


def _opener(review: bool):
    async def open_unit(actor: Actor, unit_id: int) -> None:
        ui.navigate.to(f'{PATH}/{unit_id}' + ('?mode=review' if review else ''))
    return open_unit


def unit_detail(d: dict) -> None:
    """All the unit's info as a read-only sheet, with the licence preview."""
    detail_sheet(d['sheet'])
    long_text('单位简介', d['intro'])
    file_preview(d['licence'], '营业执照')


def _decider(d: dict):
    async def decide(actor: Actor, action: str, opinion: str | None, data: dict) -> None:
        await run.io_bound(unit_review.review, actor, d['id'], action, d['version'], opinion, data)
        frame.flash('操作完成：' + DONE.get(action, '已处理'))
        ui.navigate.to(PATH)
    return decide
