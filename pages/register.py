"""单位注册 and 个人注册 (SPEC §3.1), public pages on one shell: the card, the form and 注册成功."""
from collections.abc import Awaitable, Callable

from nicegui import run, ui

from components import forms
from components.auth import PAGE_TIMEOUT, report_failure
from components.dialogs import heading
from components.frame import SYSTEM_NAME, add_style
from components.menu import registered_paths
from components.session import request_ip
from glrc_ui.errors import FormErrors, ValidationError
from glrc_ui.services import persons, units

UNIT_FIELDS = ('单位名称', '统一社会信用代码', '操作人姓名', '操作人手机号', '登录账号', '密码', '确认密码')
HINTS = {'单位名称': '请填写单位全称', '操作人姓名': '负责人才相关工作的工作人员',
         '登录账号': '字母开头，4-32 位字母、数字或下划线', '密码': '至少 8 位，含大写字母、小写字母、数字、符号中的 3 类'}
PASSWORD_LABELS = ('密码', '确认密码')


def register() -> None:
    registered_paths.update({'/register/unit', '/register/person'})

    @ui.page('/register/unit', title=f'单位注册 - {SYSTEM_NAME}', response_timeout=PAGE_TIMEOUT)
    def register_unit():
        def form(fields: dict, errors: forms.ErrorBinder) -> Callable[[], Awaitable[None]]:
            for label in UNIT_FIELDS:
                fields[label] = text_field(label)
            for label, hint in HINTS.items():
                fields[label].props(f'hint="{hint}"')

            async def submit() -> None:
                v = {label: field.value for label, field in fields.items()}
                await run.io_bound(units.register, v['单位名称'], v['统一社会信用代码'], v['操作人姓名'],
                                   v['操作人手机号'], v['登录账号'], v['密码'], v['确认密码'], request_ip())
            return submit

        registration_page('单位注册', '注册后请登录完善单位信息并上传营业执照，提交审核；经城区/主管部门和市人才服务中心'
                          '审核通过后即可使用。', '请使用登录账号和密码登录，完善单位信息后提交审核。', form)

    @ui.page('/register/person', title=f'个人注册 - {SYSTEM_NAME}', response_timeout=PAGE_TIMEOUT)
    def register_person():
        registration_page('个人注册', '请使用本人手机号注册，并选择您的工作单位（须为已通过审核的单位）。注册后请登录完善'
                          '个人信息，提交所在单位审核。', '请使用手机号和密码（或短信验证码）登录，完善个人信息后提交所在单位审核。',
                          _person_form)


def text_field(label: str):
    return forms.text(label, password=label in PASSWORD_LABELS, required=True,
                      autocomplete='new-password' if label in PASSWORD_LABELS else 'off')


def registration_page(title: str, intro: str, done_text: str,
                      build: Callable[[dict, forms.ErrorBinder], Callable[[], Awaitable[None]]]) -> None:
    """The shell: title (the page's h1), intro, the form that build() fills (it returns the submit
    coroutine, which raises FormErrors), 注册, and 注册成功 with the way to /login."""
    add_style()
    ui.query('.nicegui-content').classes('p-0')
    with ui.element('div').classes('glrc-auth-page plain'):
        ui.link(SYSTEM_NAME, '/login').classes('glrc-auth-title no-underline')
        with ui.card().classes('glrc-auth-card wide'):
            heading(title, 1).classes('mb-2')
            ui.label(intro).classes('text-grey-9 text-sm mb-2')
            done = ui.column().classes('w-full items-center gap-4 py-6')
            done.set_visibility(False)
            with ui.column().classes('w-full gap-3 glrc-form') as form:
                fields: dict = {}
                message = forms.error_line()
                errors = forms.ErrorBinder(fields, message)
                submit = build(fields, errors)
                message.move(target_index=-1)

                async def register_clicked() -> None:
                    errors.clear()
                    try:
                        await submit()
                    except (FormErrors, ValidationError) as exc:
                        errors.show(exc)
                        return
                    except Exception as exc:  # noqa: BLE001 - e.g. a read-only database: say so, log it
                        report_failure(exc, f'{title}', errors)
                        return
                    form.set_visibility(False)
                    done.set_visibility(True)

                ui.button('注册', on_click=register_clicked).props('unelevated color=red-9').classes('w-full mt-2')
                with ui.row().classes('w-full justify-center'):
                    ui.link('已有账号？返回登录', '/login')
            with done:
                ui.icon('check_circle', size='56px', color='positive').props('aria-hidden=true')
                ui.label('注册成功').classes('text-xl').props('role=status')
                ui.label(done_text).classes('text-grey-9 text-center')
                ui.button('前往登录', on_click=lambda: ui.navigate.to('/login?msg=registered')) \
                    .props('unelevated color=red-9')


def _person_form(fields: dict, errors: forms.ErrorBinder) -> Callable[[], Awaitable[None]]:
    fields['手机号'] = text_field('手机号').props('autocomplete=tel inputmode=numeric maxlength=11')
    with ui.row().classes('w-full no-wrap items-start gap-2'):
        fields['验证码'] = text_field('验证码').props('autocomplete=one-time-code inputmode=numeric maxlength=6')
        send = ui.button('获取验证码').props('outline color=red-9').classes('shrink-0 h-10')
    fields['姓名'] = text_field('姓名')
    fields['身份证号'] = text_field('身份证号').props('maxlength=18 hint="18 位居民身份证号码"')
    unit = forms.dropdown('所在单位', {}, required=True, with_input=True) \
        .props('hint="输入单位名称中的两个以上的字，从列表中选择" no-error-icon input-debounce=300')
    unit.add_slot('no-option', '<q-item><q-item-section class="text-grey-9">'
                  '没有找到已通过审核的单位，请输入单位名称中的两个以上的字，或换个关键字</q-item-section></q-item>')
    fields['所在单位'] = unit
    for label in PASSWORD_LABELS:
        fields[label] = text_field(label)
    fields['密码'].props(f'hint="{HINTS["密码"]}"')

    async def search(e) -> None:
        keyword = e.args if isinstance(e.args, str) else ''
        found = await run.io_bound(persons.search_units, keyword)
        chosen = {unit.value: unit.options[unit.value]} if unit.value in (unit.options or {}) else {}
        unit.set_options(chosen | {row['id']: row['name'] for row in found}, value=unit.value)

    unit.on('input-value', search)

    async def request_code() -> None:
        fields['手机号'].error = fields['验证码'].error = None
        try:
            await run.io_bound(persons.request_register_code, fields['手机号'].value, request_ip())
        except ValidationError as exc:
            errors.show(exc)
            return
        ui.notify('验证码已发送，请查看手机短信（5 分钟内有效）', type='positive')
        send.disable()
        ui.timer(60, send.enable, once=True)

    send.on_click(request_code)

    async def submit() -> None:
        v = {label: field.value for label, field in fields.items()}
        await run.io_bound(persons.register, v['手机号'], v['验证码'], v['姓名'], v['身份证号'], v['所在单位'],
                           v['密码'], v['确认密码'], request_ip())
    return submit
