"""An editable form built from an entity's field schema (glrc_ui/schema.py): the same labels, required
marks, lengths and choices the service validates with, and every error shown next to its field."""
from collections.abc import Mapping
from typing import Any

from nicegui import ui

from components import forms
from glrc_ui.schema import Schema


class SchemaForm:
    """fields: name -> input; values(): what is typed now; binder: the ErrorBinder for guarded()."""

    def __init__(self, schema: Schema, values: Mapping[str, Any], *, editable: set[str] | frozenset[str],
                 options: Mapping[str, Any] | None = None, fallback: ui.label | None = None) -> None:
        self.schema = schema
        self.fields: dict[str, Any] = {}
        options = options or {}
        with ui.element('div').classes('glrc-form-grid w-full'):
            for spec in schema:
                if spec.wide:
                    continue
                self.fields[spec.name] = self._input(spec, values.get(spec.name), options.get(spec.name))
        self.marks: dict[str, Any] = {}   # where a field's error shows: the input, or a checkbox's own line
        for spec in schema:
            if spec.wide:
                self.fields[spec.name] = self._input(spec, values.get(spec.name), options.get(spec.name))
                if spec.kind == 'checkbox':
                    self.marks[spec.name] = forms.ErrorSlot()
        for name, field in self.fields.items():
            if schema[name].kind == 'checkbox':
                if name not in editable:
                    field.disable()
            elif name not in editable:
                field.props('readonly').classes('glrc-locked')
        self.binder = forms.ErrorBinder({schema[name].label: self.marks.get(name, field)
                                         for name, field in self.fields.items()}, fallback)
        self.saved = self.values()

    def on_change(self, callback) -> None:
        """callback() after any field's value changes (typing, choosing)."""
        for field in self.fields.values():
            field.on_value_change(lambda _: callback())

    def dirty(self) -> bool:
        """True while what is typed differs from what was last loaded or saved."""
        return self.values() != self.saved

    @staticmethod
    def _input(spec, value, choices):
        if spec.kind == 'select':
            options = choices if choices is not None else spec.choices or []
            options = dict(options) if isinstance(options, Mapping) else list(options)
            field = forms.dropdown(spec.label, options, value, required=spec.required)
        elif spec.kind == 'textarea':   # the box can be resized by dragging its corner (the manual)
            field = forms.textarea(spec.label, value or '', required=spec.required, max_length=spec.max_len,
                                   resizable=True)
        elif spec.kind == 'checkbox':
            field = ui.checkbox(spec.label + (' *' if spec.required else ''), value=value is True) \
                .props(f'aria-label="{spec.label}"')
        else:
            field = forms.text(spec.label, value or '', required=spec.required)
            if spec.kind == 'date':
                field.props('type=date')
        if spec.hint:
            field.props(f'hint="{spec.hint}"')
        return field

    def values(self) -> dict[str, Any]:
        return {name: field.value for name, field in self.fields.items()}
