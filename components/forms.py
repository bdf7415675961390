"""Form helpers: labelled inputs and showing a service's ValidationError next to its field."""
from nicegui import ui

from glrc_ui.validators import ValidationError


def text(label: str, value: str = '', *, password: bool = False, required: bool = False, **kwargs) -> ui.input:
    field = ui.input(label=label + (' *' if required else ''), value=value, password=password,
                     password_toggle_button=password, **kwargs).props('outlined dense stack-label').classes('w-full')
    field.props(f'aria-label="{label}"')
    return field


class ErrorBinder:
    """Maps a field label to its input so a service error lands next to what caused it."""

    def __init__(self, fields: dict[str, ui.input], fallback: ui.label | None = None) -> None:
        self.fields = fields
        self.fallback = fallback

    def clear(self) -> None:
        for field in self.fields.values():
            field.error = None
        if self.fallback is not None:
            self.fallback.set_text('')
            self.fallback.set_visibility(False)

    def show(self, error: ValidationError | str, field: str | None = None) -> None:
        if isinstance(error, ValidationError):
            field, message = error.field, error.message
        else:
            message = error
        target = self.fields.get(field) if field else None
        if target is not None:
            target.error = message
        elif self.fallback is not None:
            self.fallback.set_text(message)
            self.fallback.set_visibility(True)
        else:
            ui.notify(message, type='negative')


def error_line() -> ui.label:
    line = ui.label('').classes('text-negative text-sm').props('role=alert')
    line.set_visibility(False)
    return line
