"""Account actions: SMS login, staff creation, account settings (SPEC §3.1, §3.4, §8)."""
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.engine import read_scope, session_scope
from db.models import Org, User, person_phone, saved_id
from glrc_ui import security, validators
from glrc_ui.actor import Actor
from glrc_ui.errors import PermissionDenied, ValidationError
from glrc_ui.security import LoginError
from glrc_ui.services import audit, files, notifications, sms


def request_login_code(phone: str, ip: str | None) -> None:
    """获取验证码 on the login tab. Answers alike for known and unknown phones."""
    phone = (phone or '').strip()
    error = validators.phone_error(phone)
    if error:
        raise ValidationError('手机号', error)
    if security.sms_ip_limit.hit(ip):
        raise ValidationError('验证码', security.BUSY)
    with session_scope() as s:
        exists = s.exec(select(User.id).where(person_phone(phone))).first() is not None
    try:
        sms.issue_code(phone, 'login', deliver=exists)
    except sms.SmsError as exc:
        raise ValidationError('验证码', str(exc)) from None


def login_code(phone: str, code: str, ip: str | None) -> tuple[str, Actor]:
    """Person login with phone + SMS code."""
    if security.ip_throttle.blocked(ip):
        raise LoginError(security.LOGIN_THROTTLED)
    error = None
    with session_scope() as s:
        ok = sms.check_code(s, phone, 'login', code)
        user = s.exec(select(User).where(person_phone(phone))).first()
        if not ok or user is None:
            security.ip_throttle.fail(ip)
            audit.record(s, 'login_failed', ip=ip, account=phone, result='bad_code')  # masked, or a token
            error = sms.CODE_INVALID
        elif user.locked_until and user.locked_until > security.clock.now():
            audit.record(s, 'login_locked', actor=security.actor_of(user, ip), obj=f'user:{user.id}', result='denied')
            error = security.LOGIN_LOCKED
        elif user.status == 'disabled':
            audit.record(s, 'login_failed', actor=security.actor_of(user, ip), obj=f'user:{user.id}', result='disabled')
            error = security.LOGIN_DISABLED
        else:
            return security.start_session(s, user, ip, 'sms_code')
    raise LoginError(error)


def create_staff(role: str, account: str, password: str, name: str, org_name: str | None = None,
                 is_admin: bool = False, actor: Actor | None = None, must_change: bool = False) -> int:
    """Create a reviewer or center account. Raises ValidationError (field, message) on bad input."""
    account, name = check_staff_input(role, account, password, name, org_name, is_admin)
    password_hash = security.hash_password(password)
    with session_scope() as s:  # one transaction: a refusal below leaves no row
        org_id = check_staff_in(s, role, account, org_name)
        user = User(role=role, account=account, display_name=name, password_hash=password_hash,
                    org_id=org_id, is_admin=is_admin, must_change_password=must_change)
        s.add(user)
        s.flush()
        audit.record(s, 'staff_created', actor=actor, obj=f'user:{user.id}', detail=f'role={role}')
        return saved_id(user)


def check_staff_input(role: str, account: str, password: str, name: str, org_name: str | None = None,
                      is_admin: bool = False) -> tuple[str, str]:
    """The checks of create_staff that need no database (the CLI runs them before it creates the data
    dir). Returns (account, name) stripped; raises ValidationError."""
    if role not in ('center', 'reviewer'):
        raise ValidationError('角色', '角色只能是 center 或 reviewer')
    account = (account or '').strip()
    name = (name or '').strip()
    if error := validators.account_error(account):
        raise ValidationError('登录账号', error)
    if not name or len(name) > 50:
        raise ValidationError('姓名', '请输入姓名（最多 50 字）')
    if error := validators.password_error(password, account=account):
        raise ValidationError('密码', error)
    if is_admin and role != 'center':
        raise ValidationError('管理员', '只有市人才服务中心人员可以是系统管理员')
    if role == 'reviewer' and not (org_name or '').strip():
        raise ValidationError('所属机构', '审核人员必须指定所属审核机构（--org）')
    if role == 'center' and org_name:
        raise ValidationError('所属机构', '市人才服务中心人员不属于城区/主管部门，请不要指定 --org')
    return account, name


def check_staff_in(s: Session, role: str, account: str, org_name: str | None) -> int | None:
    """The checks of create_staff against the database: the reviewer's organisation exists and is
    enabled, the account is free. Returns the org id (None for center staff); raises ValidationError."""
    org_id = None
    if role == 'reviewer':
        org = s.exec(select(Org).where(Org.name == (org_name or '').strip())).first()
        if org is None or not org.enabled:
            raise ValidationError('所属机构', f'审核机构不存在或已停用：{org_name}')
        org_id = org.id
    if _account_taken(s, account.strip()):
        raise ValidationError('登录账号', '该登录账号已被使用')
    return org_id


def _account_taken(s: Session, account: str, exclude_id: int | None = None) -> bool:
    query = select(User.id).where(User.account == account)
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    return s.exec(query).first() is not None


def profile(user_id: int) -> dict:
    with read_scope() as s:
        user = security.user_row(s, user_id)
        org = s.get(Org, user.org_id) if user.org_id else None
        return {'id': user.id, 'role': user.role, 'account': user.account, 'phone': user.phone,
                'display_name': user.display_name, 'avatar_file_id': user.avatar_file_id,
                'org_name': org.name if org else None, 'is_admin': user.is_admin,
                'must_change_password': user.must_change_password, 'status': user.status}


def header_info(user_id: int) -> dict:
    """What the page header shows: unread messages and the avatar, in one read."""
    with read_scope() as s:
        user = security.user_row(s, user_id)
        return {'unread': notifications.unread_count(user_id), 'avatar_file_id': user.avatar_file_id}


def update_profile(actor: Actor, display_name: str, phone: str | None = None) -> None:
    """Display name (unit: 操作人姓名 and 操作人手机号). Does not end sessions."""
    name, phone = _checked_profile(actor, display_name, phone)
    with session_scope() as s:
        _apply_profile(s, actor, name, phone)


def _checked_profile(actor: Actor, display_name: str, phone: str | None) -> tuple[str, str | None]:
    display_name = (display_name or '').strip()
    label = '操作人姓名' if actor.role == 'unit' else '姓名'
    if not display_name or len(display_name) > 50:
        raise ValidationError(label, f'请输入{label}（最多 50 字）')
    if actor.role != 'unit':
        return display_name, None
    phone = (phone or '').strip()
    if error := validators.phone_error(phone):
        raise ValidationError('操作人手机号', error)
    return display_name, phone


PERSON_NAME_ELSEWHERE = '个人用户的姓名请在「个人信息维护」中修改（审核通过后由所在单位核对）'


def _apply_profile(s: Session, actor: Actor, name: str, phone: str | None) -> None:
    user = security.own_user(s, actor)
    if user.display_name == name and (phone is None or user.phone == phone):
        return
    if user.role == 'person':   # a person's name is part of the reviewed 个人信息, not a free display name
        raise ValidationError('姓名', PERSON_NAME_ELSEWHERE)
    user.display_name = name
    if phone is not None:
        user.phone = phone
    s.add(user)
    audit.record(s, 'profile_changed', actor=actor, obj=f'user:{user.id}')


def change_credentials(actor: Actor, old_password: str, new_account: str | None, new_password: str | None,
                       confirm: str | None, *, display_name: str | None = None, phone: str | None = None) -> bool:
    """Change login account and/or password (and the profile with them); needs the old password and
    ends every session. Nothing is saved unless the old password is right. A wrong old password
    counts like a failed login: the 5th locks the account and ends its sessions.

    Returns True when something changed (the caller sends the user back to /login)."""
    new_account = (new_account or '').strip() or None
    new_password = new_password or None
    profile = _checked_profile(actor, display_name, phone) if display_name is not None else None
    if not old_password:
        raise ValidationError('原密码', '请输入原密码')
    user_id = security.user_id_of(actor)
    with session_scope() as s:
        user = security.user_row(s, user_id)
        # the new login account, when it really changes (a person logs in with the phone: no account)
        renamed_to = new_account if new_account != user.account and user.role != 'person' else None
        if renamed_to is None and not new_password:
            raise ValidationError('新密码', '请输入新密码，或修改登录账号')
        if renamed_to is not None:
            if error := validators.account_error(renamed_to):
                raise ValidationError('登录账号', error)
            if _account_taken(s, renamed_to, exclude_id=user_id):
                raise ValidationError('登录账号', '该登录账号已被使用')
        if new_password:
            if new_password != (confirm or ''):
                raise ValidationError('确认新密码', '两次输入的新密码不一致')
            if error := validators.password_error(new_password, account=new_account or user.account,
                                                  phone=user.phone):
                raise ValidationError('新密码', error)
        old_hash = user.password_hash
    _check_old_password(actor, user_id, old_password, old_hash)
    new_hash = security.hash_password(new_password) if new_password else None
    with session_scope() as s:
        user = security.lock_user(s, user_id)
        if renamed_to is not None and _account_taken(s, renamed_to, exclude_id=user_id):
            taken = True
        else:
            taken = False
            if profile is not None:
                _apply_profile(s, actor, *profile)
            if renamed_to is not None:
                user.account = renamed_to
                audit.record(s, 'account_renamed', actor=actor, obj=f'user:{user.id}')
            if new_hash:
                user.password_hash = new_hash
                user.must_change_password = False
                audit.record(s, 'password_change', actor=actor, obj=f'user:{user.id}')
            user.failed_logins = 0
            user.version += 1
            s.add(user)
            security.end_all_sessions(s, user_id, 'credentials_changed')
    if taken:
        raise ValidationError('登录账号', '该登录账号已被使用')
    return True


def _check_old_password(actor: Actor, user_id: int, old_password: str, old_hash: str) -> None:
    """A wrong old password counts like a failed login: the 5th locks the account and ends its sessions."""
    if security.verify_password(old_password, old_hash):
        return
    with session_scope() as s:
        result = security.count_failure(s, security.lock_user(s, user_id), actor.ip, 'password_change',
                                        'wrong_old_password')
        if result == security.LOGIN_LOCKED:
            security.end_all_sessions(s, user_id, 'locked')
    security.ip_throttle.fail(actor.ip)
    raise ValidationError('原密码', '原密码不正确' if result != security.LOGIN_LOCKED else security.LOGIN_LOCKED)


# ---- a person's login is the phone: changing it proves the new phone (SPEC §3.4, issue 9) ----------
def _new_phone_error(s: Session, actor: Actor, new_phone: str) -> str | None:
    if error := validators.phone_error(new_phone):
        return error
    user = security.user_row(s, security.user_id_of(actor))
    if new_phone == user.phone:
        return '新手机号与当前手机号相同'
    if s.exec(select(User.id).where(person_phone(new_phone))).first() \
            or s.exec(select(User.id).where(User.account == new_phone)).first():
        return '该手机号已被其他账号使用'
    return None


def request_phone_change_code(actor: Actor, new_phone: str) -> None:
    """获取验证码 for 更换手机号: the code goes to the NEW phone."""
    if actor.role != 'person':
        raise PermissionDenied('只有个人用户以手机号登录')
    new_phone = (new_phone or '').strip()
    with read_scope() as s:
        if error := _new_phone_error(s, actor, new_phone):
            raise ValidationError('新手机号', error)
    if security.sms_ip_limit.hit(actor.ip):
        raise ValidationError('验证码', security.BUSY)
    try:
        sms.issue_code(new_phone, 'change_phone')
    except sms.SmsError as exc:
        raise ValidationError('验证码', str(exc)) from None


def change_phone(actor: Actor, old_password: str, new_phone: str, code: str) -> None:
    """更换手机号 (= the login): the old password and the code sent to the new phone; every session ends."""
    if actor.role != 'person':
        raise PermissionDenied('只有个人用户以手机号登录')
    new_phone = (new_phone or '').strip()
    if not old_password:
        raise ValidationError('原密码', '请输入原密码')
    if not (code or '').strip():
        raise ValidationError('验证码', '请输入验证码')
    user_id = security.user_id_of(actor)
    with read_scope() as s:
        if error := _new_phone_error(s, actor, new_phone):
            raise ValidationError('新手机号', error)
        old_hash = security.user_row(s, user_id).password_hash
    _check_old_password(actor, user_id, old_password, old_hash)
    problem = None
    try:
        with session_scope() as s:
            if not sms.check_code(s, new_phone, 'change_phone', code):
                problem = ValidationError('验证码', sms.CODE_INVALID)
            elif error := _new_phone_error(s, actor, new_phone):
                problem = ValidationError('新手机号', error)
            else:
                user = security.lock_user(s, user_id)
                user.phone = user.account = new_phone
                user.version += 1
                s.add(user)
                audit.record(s, 'phone_changed', actor=actor, obj=f'user:{user.id}')
                security.end_all_sessions(s, user_id, 'credentials_changed')
    except IntegrityError:   # another account took the phone in the meantime (unique index)
        raise ValidationError('新手机号', '该手机号已被其他账号使用') from None
    if problem is not None:
        raise problem   # after the scope: the wrong try of the code is kept


def set_avatar(actor: Actor, data, filename: str) -> dict:
    """头像: an image checked and re-encoded (no EXIF/GPS), kept and swapped in one transaction; the
    old one is soft-deleted. Returns the new file's public data."""
    accepted = files.accept(data, filename, allowed=files.IMAGE_TYPES, max_size=files.MAX_AVATAR, field='头像',
                            strip_images=True, actor=actor)
    with session_scope() as s:
        user = security.lock_user(s, security.user_id_of(actor))
        stored = files.record(s, accepted, kind='avatar', entity='avatar', entity_id=saved_id(user), actor=actor)
        files.discard(s, user.avatar_file_id)
        user.avatar_file_id = stored['id']
        s.add(user)
        audit.record(s, 'avatar_changed', actor=actor, obj=f'user:{user.id}')
        return stored


def has_any_login() -> bool:
    with read_scope() as s:
        return s.exec(select(User.id)).first() is not None
