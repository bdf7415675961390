"""个人信息维护 (SPEC §3.3) and the person's 首页 panel (state, next step, last 审核意见)."""
from nicegui import run, ui

from components import frame, home_panels
from components.auth import protected_page
from components.info_form import InfoForm
from glrc_ui.actor import Actor
from glrc_ui.services import persons
from pages import home

PATH = '/person/info'
ACTIVE_NOTE = ('个人信息已审核通过：姓名、身份证号、性别、出生日期和所在单位不能再修改（如有误请联系所在单位）；'
               '其他信息仍可修改。今后的申报将复制修改后的信息，已提交的申报不受影响。')


def register() -> None:
    home.add_panel('person', home_panel)

    @protected_page(PATH, ('person',), title='个人信息维护')
    async def person_info(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        detail = await run.io_bound(persons.my_person, actor)
        with frame.content('个人信息维护'):
            InfoForm(detail, schema=persons.SCHEMA, roles=('person',), noun='个人信息',
                     save=lambda *args: persons.save_info(*args), submit=lambda *args: persons.submit(*args),
                     reload=lambda actor: persons.my_person(actor), editable_states=persons.EDITABLE_STATES,
                     submit_question=_question, before_fields=_fixed_facts)


def _question(values: dict) -> list[str]:
    d = values['_detail']
    return [f'确定将「{(values.get("name") or d["name"]).strip()}」的个人信息提交「{d["unit_name"]}」审核吗？',
            '提交后由所在单位审核，审核期间不能修改个人信息。']


def _fixed_facts(info: InfoForm, d: dict) -> None:
    """What the person cannot change here: the login phone and the unit (and, once active, the identity)."""
    with ui.element('div').classes('glrc-sheet w-full'):
        for label, value, why in (('手机号', d['phone'], '即登录账号'),
                                  ('所在单位', d['unit_name'], '注册时选择，如需变更请联系市人才服务中心')):
            with ui.element('div').classes('glrc-sheet-row'):
                ui.label(label).classes('glrc-sheet-label')
                with ui.column().classes('gap-0 min-w-0'):
                    ui.label(value or '—').classes('break-words')
                    ui.label(why).classes('text-grey-9 text-xs')
    if d['state'] == 'active':
        ui.label(ACTIVE_NOTE).classes('w-full p-3 rounded bg-blue-1 text-blue-10').props('role=note')


async def home_panel(actor: Actor) -> None:
    d = await run.io_bound(persons.my_person, actor)
    home_panels.state_panel('个人账号状态', d, editable_states=persons.EDITABLE_STATES, button='去完善个人信息',
                            path=PATH, extra=d['unit_name'])
