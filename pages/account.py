"""账号信息设置 for every role (SPEC §3.4)."""
import functools

from nicegui import run, ui

from components import forms, frame, upload
from components.auth import guarded, protected_page
from components.dialogs import heading
from components.upload import upload_field
from glrc_ui.actor import Actor
from glrc_ui.services import accounts, files

PATH = '/account/settings'
RELOGIN = '修改成功，请重新登录'


def register() -> None:
    @protected_page(PATH, title='账号信息设置')
    async def settings_page(actor: Actor):
        await frame.header_and_menu(actor, PATH)
        info = await run.io_bound(accounts.profile, actor.user_id)
        with frame.content('账号信息设置'):
            if info['must_change_password']:
                with ui.row().classes('w-full items-center bg-orange-1 text-orange-10 p-3 rounded mb-2'):
                    ui.icon('warning')
                    ui.label('您的密码为初始密码或已被重置，请先修改密码后再使用系统。')
            with ui.row().classes('w-full gap-10 items-start'):
                _avatar_block(info)
                _form(actor, info)
                if info['role'] == 'person':
                    _phone_form()


def _avatar_block(info: dict) -> None:
    with ui.column().classes('items-center gap-2 w-full sm:w-56'):
        ui.label('头像').classes('text-grey-10 font-medium')
        with ui.element('div').classes('w-28 h-28 rounded-full bg-grey-3 overflow-hidden flex items-center justify-center'):
            placeholder = ui.icon('person', size='64px', color='grey-8').props('aria-hidden=true')
            avatar = ui.image('').classes('w-28 h-28').props(f'alt="{info["display_name"]}的头像" fit=cover no-spinner')
        if info['avatar_file_id']:
            avatar.set_source(f'/files/{int(info["avatar_file_id"])}?inline=1')
            placeholder.set_visibility(False)
        else:
            avatar.set_visibility(False)

        def saved(actor: Actor, stored: dict) -> None:
            avatar.set_source(f'/files/{int(stored["id"])}?inline=1')
            avatar.set_visibility(True)
            placeholder.set_visibility(False)
            ui.notify('头像已更新', type='positive')

        upload_field('上传头像', accounts.set_avatar, field='头像', on_saved=saved, max_size=files.MAX_AVATAR,
                     accept=upload.IMAGES, password_gate=False)


def _form(actor: Actor, info: dict) -> None:
    is_unit = info['role'] == 'unit'
    with ui.column().classes('glrc-form gap-3 w-full max-w-md'):
        name = forms.text('操作人姓名' if is_unit else '姓名', info['display_name'], required=True)
        phone = forms.text('操作人手机号', info['phone'] or '', required=True) if is_unit else None
        account = forms.text('登录账号', info['account'])
        if info['role'] == 'person':
            name.props('readonly hint="姓名请在「个人信息维护」中修改"')
            account.value = info['phone'] or info['account']
            account.props('readonly hint="个人用户的登录账号为本人手机号，可在下方「更换手机号」中更换"')
        ui.separator()
        ui.label('修改密码或登录账号需要输入原密码，修改后需重新登录。').classes('text-grey-9 text-sm')
        old = forms.text('原密码', password=True, autocomplete='current-password')
        new = forms.text('新密码', password=True, autocomplete='new-password')
        confirm = forms.text('确认新密码', password=True, autocomplete='new-password')
        fields = {'操作人姓名': name, '姓名': name, '登录账号': account, '原密码': old, '新密码': new, '确认新密码': confirm}
        if phone is not None:
            fields['操作人手机号'] = phone
        message = forms.error_line()
        errors = forms.ErrorBinder(fields, message)

        async def save(actor: Actor) -> None:
            wants_account = info['role'] != 'person' and account.value.strip() != info['account']
            phone_value = phone.value if phone else None
            if new.value or wants_account:  # profile, account and password together, after the old password
                await run.io_bound(functools.partial(
                    accounts.change_credentials, actor, old.value, account.value if wants_account else None,
                    new.value, confirm.value, display_name=name.value, phone=phone_value))
                app_logout_and_leave()
                return
            await run.io_bound(accounts.update_profile, actor, name.value, phone_value)
            ui.notify('保存成功', type='positive')

        ui.button('保存', on_click=guarded(save, password_gate=False, errors=errors)).props('unelevated color=red-9').classes('w-32')


def _phone_form() -> None:
    """更换手机号 (a person's login): a code sent to the NEW phone and the current password; afterwards
    every session ends, as after a password change."""
    with ui.element('section').classes('glrc-form flex flex-col gap-3 w-full max-w-md'):
        heading('更换手机号', 2).classes('text-base')
        ui.label('验证码将发送到新手机号；更换后请使用新手机号重新登录。').classes('text-grey-9 text-sm')
        new_phone = forms.text('新手机号', autocomplete='tel').props('inputmode=numeric maxlength=11')
        with ui.row().classes('w-full no-wrap items-start gap-2'):
            code = forms.text('验证码', autocomplete='one-time-code').props('inputmode=numeric maxlength=6')
            send = ui.button('获取验证码').props('outline color=red-9').classes('shrink-0 h-10')
        current = forms.text('当前密码', password=True, autocomplete='current-password')
        message = forms.error_line()
        errors = forms.ErrorBinder({'新手机号': new_phone, '验证码': code, '当前密码': current, '原密码': current}, message)

        async def request_code(actor: Actor) -> None:
            await run.io_bound(accounts.request_phone_change_code, actor, new_phone.value)
            ui.notify('验证码已发送到新手机号（5 分钟内有效）', type='positive')
            send.disable()
            ui.timer(60, send.enable, once=True)

        async def change(actor: Actor) -> None:
            await run.io_bound(accounts.change_phone, actor, current.value, new_phone.value, code.value)
            app_logout_and_leave()

        send.on_click(guarded(request_code, ('person',), password_gate=False, errors=errors))
        ui.button('更换手机号', on_click=guarded(change, ('person',), password_gate=False, errors=errors)) \
            .props('unelevated color=red-9').classes('w-32')


def app_logout_and_leave() -> None:
    from components.session import forget_token
    forget_token()
    ui.navigate.to('/login?msg=relogin')
