"""单位人员账号设置 (SPEC §3.5): an active unit's persons (masked), the review of a pending person
(its full information, unmasked only here), 新增单位人员, and the unit's 首页 panel of persons waiting."""
from nicegui import context, run, ui

from components import forms, frame, home_panels
from components.auth import guarded, protected_page
from components.detail_sheet import detail_sheet
from components.dialogs import heading
from components.history import timeline
from components.queue import Queue
from components.review_box import review_box
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied
from glrc_ui.services import persons
from pages import home
from pages.files import row_id

PATH = '/unit/persons'
ROLES = persons.UNIT_ROLES
COLUMNS = [
    {'name': 'name', 'label': '姓名', 'field': 'name', 'align': 'left', 'sortable': True},
    {'name': 'phone', 'label': '手机号', 'field': 'phone', 'align': 'left'},
    {'name': 'id_number', 'label': '身份证号', 'field': 'id_number', 'align': 'left'},
    {'name': 'state', 'label': '状态', 'field': 'state_label', 'align': 'left', 'sortable': True},
    {'name': 'created_at', 'label': '注册时间', 'field': 'created_at', 'align': 'left', 'sortable': True},
]
STATUSES = {'pending': '待审核', 'all': '全部'}
NOT_FOUND = '该人员不存在或不属于本单位'
DONE = {'approve': '已通过', 'return_': '已退回修改'}


def register() -> None:
    home.add_panel('unit', home_panel)

    @protected_page(PATH, ROLES, title='单位人员账号设置', active_only=True)
    async def persons_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        with frame.content('单位人员账号设置'):
            with ui.row().classes('w-full items-center gap-3'):
                ui.label('本单位的个人用户：待审核的个人注册请点击「审核」；本单位人员也可由单位直接新增。') \
                    .classes('text-grey-9 text-sm')
                ui.space()
                ui.button('新增单位人员', icon='person_add', on_click=guarded(_new_person_dialog, ROLES, active_only=True)) \
                    .props('unelevated color=red-9')
            queue = await Queue.create(actor, persons.unit_queue, COLUMNS, {
                '审核': (_opener(), 'can_review'),
                '详情': (_opener(), None),
            }, roles=ROLES, keyword_hint='姓名，或完整的手机号/身份证号', statuses=STATUSES)
            context.client.glrc_person_queue = queue

    @protected_page(PATH + '/{person_id}', ROLES, title='单位人员账号设置', active_only=True)
    async def person_page(actor: Actor, person_id: str):
        await frame.header_and_menu(actor, PATH)
        try:
            number = row_id(person_id)
            if number is None:
                context.client.status_code = 404
                raise PermissionDenied(NOT_FOUND)
            d = await run.io_bound(persons.detail_for_unit, actor, number)
        except PermissionDenied as exc:
            with frame.content('单位人员账号设置'):
                ui.label(exc.message).classes('text-negative')
                ui.button('返回列表', on_click=frame.go_to(PATH)).props('flat color=primary')
            return
        reviewing = any(a['action'] in ('approve', 'return_') for a in d['actions'])
        with frame.content('个人信息审核' if reviewing else '单位人员详情'):
            with ui.row().classes('items-center gap-3 mb-2'):
                ui.label(d['name']).classes('text-lg font-medium')
                ui.badge(d['state_label'], color=d['state_color']).classes('text-sm')
                if d['created_by_unit']:
                    ui.label('（由单位新增）').classes('text-grey-9')
            detail_sheet(d['sheet'])
            if d['actions']:
                review_box(d['name'], d['actions'], _decider(d), roles=ROLES)
            heading('审核记录', 2).classes('mt-6 mb-2')
            timeline(d['history'])
            ui.button('返回列表', icon='arrow_back', on_click=frame.go_to(PATH)).props('flat color=primary') \
                .classes('mt-4')


def _opener():
    async def open_person(actor: Actor, person_id: int) -> None:
        ui.navigate.to(f'{PATH}/{person_id}')
    return open_person


def _decider(d: dict):
    async def decide(actor: Actor, action: str, opinion: str | None, data: dict) -> None:
        await run.io_bound(persons.review, actor, d['id'], action, d['version'], opinion)
        frame.flash('操作完成：' + DONE.get(action, '已处理'))
        ui.navigate.to(PATH)
    return decide


def _new_person_dialog(actor: Actor) -> None:
    """新增单位人员: 姓名, 手机号, 身份证号 → an active person; the initial password goes to the phone only."""
    # one dialog role: Quasar's (named here); the card inside is only its content
    with ui.dialog().props('aria-label="新增单位人员"') as dialog, ui.card().classes('w-full max-w-md glrc-form'):
        heading('新增单位人员', 2)
        ui.label('保存后系统将以短信把初始密码发送到该手机号，本人首次登录时须修改密码。').classes('text-grey-9 text-sm')
        fields = {label: forms.text(label, required=True) for label in ('姓名', '手机号', '身份证号')}
        message = forms.error_line()
        binder = forms.ErrorBinder(fields, message)

        async def save(actor: Actor) -> None:
            await run.io_bound(persons.create_by_unit, actor, fields['姓名'].value, fields['手机号'].value,
                               fields['身份证号'].value)
            ui.notify(f'已新增单位人员「{fields["姓名"].value.strip()}」，初始密码已通过短信发送', type='positive')
            dialog.close()
            queue = getattr(dialog.client, 'glrc_person_queue', None)
            if queue is not None:
                with dialog.client:
                    queue.status.set_value('all')

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('取消', on_click=dialog.close).props('flat color=grey-9')
            ui.button('保存', on_click=guarded(save, ROLES, active_only=True, errors=binder)).props('unelevated color=red-9')
    dialog.on('hide', dialog.delete)
    dialog.open()


async def home_panel(actor: Actor) -> None:
    if actor.status != 'active':
        return
    home_panels.pending_panel('待审核的个人注册', '待本单位审核的人员',
                              await run.io_bound(persons.pending_summary, actor), PATH)
