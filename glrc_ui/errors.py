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

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__('；'.join(f'{k}：{v}' for k, v in errors.items()))
        self.errors = errors


class PermissionDenied(UserError):
    default = '该事项不存在或不在您的权限范围内'


class NotFound(UserError):
    default = '事项不存在'


class WorkflowError(UserError):
    """A transition that may not happen now."""


class ConflictError(WorkflowError):
    """Someone else changed the item first (optimistic lock)."""
    default = '已被他人处理，请刷新后查看最新状态'
