"""Field schemas: one declaration per entity drives validation, the editable form and the read-only
detail sheet, so every label is written once (SPEC: labels are part of the contract)."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ('text', 'select', 'textarea', 'date', 'checkbox')


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str = 'text'
    required: bool = False                      # needed to submit (保存 accepts a draft)
    max_len: int | None = None
    choices: tuple[str, ...] | Mapping[str, str] | None = None   # static choices; dynamic ones come from the page
    hint: str = ''
    check: Callable[[Any], str | None] | None = None            # format check of a filled value
    upper: bool = False                         # stored upper-case (codes)
    wide: bool = False                          # a whole row in the form

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f'{self.name}: unknown kind {self.kind}')

    def empty_message(self) -> str:
        if self.kind == 'checkbox':
            return f'请勾选「{self.label}」'
        return f'请选择{self.label}' if self.kind in ('select', 'date') else f'请填写{self.label}'

    def display(self, value: Any) -> str:
        if self.kind == 'checkbox':
            return '是' if value is True else '否'
        if value in (None, ''):
            return ''
        if isinstance(self.choices, Mapping):
            return str(self.choices.get(value, value))
        return str(value)


class Schema:
    def __init__(self, *fields: FieldSpec) -> None:
        self.fields: dict[str, FieldSpec] = {f.name: f for f in fields}
        if len(self.fields) != len(fields):
            raise ValueError('duplicate field names')

    def __getitem__(self, name: str) -> FieldSpec:
        return self.fields[name]

    def __iter__(self):
        return iter(self.fields.values())

    @property
    def labels(self) -> dict[str, str]:
        return {f.name: f.label for f in self}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self if f.required)

    def clean(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Only the schema's fields; strings stripped, empty strings as None, codes upper-cased."""
        values = {}
        for f in self:
            value = data.get(f.name)
            if isinstance(value, str):
                value = value.strip() or None
                if value and f.upper:
                    value = value.upper()
            values[f.name] = value
        return values

    def errors(self, values: Mapping[str, Any], *, complete: bool, always: tuple[str, ...] = ()) -> dict[str, str]:
        """{label: message} for the field rules alone. complete=True (提交) needs every required field;
        `always` names fields that may never be empty (e.g. NOT NULL columns, even in a draft)."""
        errors: dict[str, str] = {}
        for f in self:
            value = values.get(f.name)
            if value in (None, '') or (f.kind == 'checkbox' and value is not True):
                if f.name in always or (complete and f.required):
                    errors[f.label] = f.empty_message()
                continue
            if f.max_len and isinstance(value, str) and len(value) > f.max_len:
                errors[f.label] = f'{f.label}最多 {f.max_len} 字'
            elif f.choices is not None and value not in f.choices:
                errors[f.label] = f'{f.label}不正确，请从列表中选择'
            elif f.check and (problem := f.check(value)):
                errors[f.label] = problem
        return errors

    def sheet(self, values: Mapping[str, Any], display: Mapping[str, str] | None = None,
              only: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
        """(label, shown value) rows for the read-only detail sheet; `display` overrides a value's text
        (e.g. an org id shown by its name)."""
        display = display or {}
        return [(f.label, display[f.name] if f.name in display else f.display(values.get(f.name)))
                for f in self if only is None or f.name in only]
