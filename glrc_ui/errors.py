"""The one family of errors a user may see. Services raise them; the event guard (components/auth.py)
catches UserError once and shows it next to its field or as a notice. Anything else is a bug: it is
logged, and the user gets a plain 「操作未能完成」."""


class UserError(Exception):
    """Something the user can fix or must know. `message` is shown as it is; `field` names a form
    label when the error belongs next to one."""
    default = '操作未能完成'

    def __init__(self, message: str | None = None, field: str | None = None) -> None:
        self.message = message or self.default
        self.field = field
        super().__init__(self.message)


class ValidationError(UserError):
    """Bad input on one field: `field` names the form label, `message` is shown next to it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field or None)
        self.field = field


class FormErrors(UserError):
    """Several bad fields at once: {label: message}. Shown next to each field."""

    def __init__(self, errors: dict[str, str], summary: str | None = None) -> None:
        super().__init__('；'.join(f'{k}：{v}' for k, v in errors.items()))
        self.errors = errors
        self.summary = summary   # shown above the buttons besides the marks (e.g. what 提交审核 misses)


class PermissionDenied(UserError):
    default = '该事项不存在或不在您的权限范围内'


class NotFound(UserError):
    default = '事项不存在'


class WorkflowError(UserError):
    """A transition that may not happen now."""


class ConflictError(WorkflowError):
    """Someone else changed the item first (optimistic lock)."""
    default = '已被他人处理，请刷新后查看最新状态'


STORAGE_FAILED = '系统暂时无法保存，请稍后再试或联系管理员'
_STORAGE_MARKERS = ('readonly database', 'read-only', 'disk is full', 'disk i/o error', 'no space left',
                    'database or disk is full', 'unable to open database file', 'could not extend file',
                    'could not write')


def is_storage_failure(exc: BaseException) -> bool:
    """The database or the disk refuses to write (read-only file, full disk, I/O error): not a bug,
    and not the user's fault. The user gets STORAGE_FAILED; the operator log gets the exception."""
    import errno

    from sqlalchemy.exc import DBAPIError
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:   # look through wrapped causes
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO):
            return True
        if isinstance(current, DBAPIError) and any(m in str(current.orig).lower() for m in _STORAGE_MARKERS):
            return True
        current = current.__cause__ or current.__context__
    return False
