"""单位注册 (SPEC §3.1), public."""
from nicegui import run, ui

from components import forms
from components.dialogs import heading
from components.frame import SYSTEM_NAME, add_style
from components.menu import registered_paths
from components.session import request_ip
from glrc_ui.errors import FormErrors
from glrc_ui.services import units

UNIT_FIELDS = ('单位名称', '统一社会信用代码', '操作人姓名', '操作人手机号', '登录账号', '密码', '确认密码')
HINTS = {'单位名称': '请填写单位全称', '操作人姓名': '负责人才相关工作的工作人员',
         '登录账号': '字母开头，4-32 位字母、数字或下划线', '密码': '至少 8 位，含大写字母、小写字母、数字、符号中的 3 类'}


def register() -> None:
    registered_paths.add('/register/unit')

    @ui.page('/register/unit', title=f'单位注册 - {SYSTEM_NAME}')
    def register_unit():
        add_style()
        ui.query('.nicegui-content').classes('p-0')
        with ui.element('div').classes('glrc-auth-page plain'):
            ui.link(SYSTEM_NAME, '/login').classes('glrc-auth-title no-underline')
            with ui.card().classes('glrc-auth-card wide'):
                heading('单位注册', 1).classes('mb-2')
                ui.label('注册后请登录完善单位信息并上传营业执照，提交审核；经城区/主管部门和市人才服务中心审核通过后即可使用。') \
                    .classes('text-grey-9 text-sm mb-2')
                done = ui.column().classes('w-full items-center gap-4 py-6')
                done.set_visibility(False)
                with ui.column().classes('w-full gap-3 glrc-form') as form:
                    fields = {label: forms.text(label, password=label in ('密码', '确认密码'), required=True,
                                                autocomplete='new-password' if '密码' in label else 'off')
                              for label in UNIT_FIELDS}
                    for label, hint in HINTS.items():
                        fields[label].props(f'hint="{hint}"')
                    message = forms.error_line()
                    errors = forms.ErrorBinder(fields, message)

                    async def submit() -> None:
                        errors.clear()
                        v = {label: field.value for label, field in fields.items()}
                        try:
                            await run.io_bound(units.register, v['单位名称'], v['统一社会信用代码'], v['操作人姓名'],
                                               v['操作人手机号'], v['登录账号'], v['密码'], v['确认密码'], request_ip())
                        except FormErrors as exc:
                            errors.show(exc)
                            return
                        form.set_visibility(False)
                        done.set_visibility(True)

                    ui.button('注册', on_click=submit).props('unelevated color=red-9').classes('w-full mt-2')
                    with ui.row().classes('w-full justify-center'):
                        ui.link('已有账号？返回登录', '/login')
                with done:
                    ui.icon('check_circle', size='56px', color='positive')
                    ui.label('注册成功').classes('text-xl')
                    ui.label('请使用登录账号和密码登录，完善单位信息后提交审核。').classes('text-grey-9')
                    ui.button('前往登录', on_click=lambda: ui.navigate.to('/login?msg=registered')) \
                        .props('unelevated color=red-9')
