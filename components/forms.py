"""Form helpers: labelled inputs and showing a service's ValidationError next to its field."""
from nicegui import ui
from nicegui.elements.select import Select

from glrc_ui.errors import FormErrors, UserError


def text(label: str, value: str = '', *, password: bool = False, required: bool = False,
         autocomplete: str | None = None, **kwargs) -> ui.input:
    """`autocomplete` is the HTML attribute (username, current-password, …). NiceGUI's own
    `ui.input(autocomplete=…)` is a suggestion list: a string there breaks the field in the browser."""
    field = ui.input(label=label + (' *' if required else ''), value=value, password=password,
                     password_toggle_button=password, **kwargs).props('outlined dense stack-label').classes('w-full')
    field.props(f'aria-label="{label}"')
    if autocomplete:
        field.props(f'autocomplete="{autocomplete}"')
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

    def show(self, error: UserError | str, field: str | None = None) -> None:
        """A FormErrors next to each of its fields; a UserError next to its field, or in the fallback
        line (or as a notice) when it names none that this form has."""
        if isinstance(error, FormErrors):
            for label, message in error.errors.items():
                self.show(message, label)
            if error.summary and self.fallback is not None:
                self.fallback.set_text(error.summary)
                self.fallback.set_visibility(True)
            scroll_to_first_error()
            return
        if isinstance(error, UserError):
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
        if target is not None and self.fallback is not None and not self.fallback.visible:
            self.fallback.set_text('请检查标红的项目')
            self.fallback.set_visibility(True)


def scroll_to_first_error() -> None:
    """Bring the first marked field into view (after Vue has drawn the marks)."""
    ui.run_javascript("setTimeout(() => { const el = document.querySelector("
                      "'.q-field--error, .glrc-error-slot:not(.hidden)'); "
                      "if (el) { el.scrollIntoView({block: 'center'}); "
                      "const input = el.querySelector('input, textarea'); if (input) input.focus({preventScroll: true}); } }, 150);")


class ErrorSlot:
    """An error mark for something that is not an input (e.g. a required upload): quacks like an
    input's `error` for ErrorBinder."""

    def __init__(self) -> None:
        self.label = ui.label('').classes('glrc-error-slot text-negative text-sm').props('role=alert')
        self.label.set_visibility(False)

    @property
    def error(self) -> str | None:
        return self.label.text or None

    @error.setter
    def error(self, message: str | None) -> None:
        self.label.set_text(message or '')
        self.label.set_visibility(bool(message))


def dropdown(label: str, options, value=None, *, required: bool = False, **kwargs) -> Select:
    field = Select(options, value=value, label=label + (' *' if required else ''), **kwargs) \
        .props('outlined dense stack-label').classes('w-full')
    field.props(f'aria-label="{label}"')
    return field


def textarea(label: str, value: str = '', *, required: bool = False, max_length: int | None = None,
             resizable: bool = False) -> ui.textarea:
    """resizable: a fixed height the user drags bigger at the corner (long texts); else it grows."""
    field = ui.textarea(label=label + (' *' if required else ''), value=value) \
        .props('outlined dense stack-label ' + ('rows=6' if resizable else 'autogrow')).classes('w-full')
    if resizable:
        field.classes('glrc-resizable')
    if max_length:
        field.props(f'maxlength={max_length} counter')
    field.props(f'aria-label="{label}"')
    return field


def error_line() -> ui.label:
    line = ui.label('').classes('text-negative text-sm').props('role=alert')
    line.set_visibility(False)
    return line
