"""The table's settings as pydantic fields, for the models that check routine scripts
(`routine.loader`) and profiles (`settings.profile`): each field's check, JSON Schema,
description and examples come from its `Setting`, so no key is declared twice."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from .table import Place, Setting, in_script


def _folder(info: ValidationInfo) -> Any:
    """The folder a sound file's path is relative to: the script's or the profile's."""
    return (info.context or {}).get("folder")


def value_type(s: Setting) -> Any:
    """A field type that takes what `s` takes, with `s`'s messages and schema."""

    def validate(value: object, info: ValidationInfo) -> Any:
        try:
            return s.check(value, _folder(info))
        except ValueError as exc:
            raise PydanticCustomError("setting", "{why}", {"why": str(exc)}) from None

    return Annotated[Any, PlainValidator(validate), WithJsonSchema(s.kind.json_schema())]


def per_step_type(s: Setting) -> Any:
    """A field type for a value for every step, or a mapping of step name or number to
    a value for single steps."""

    def validate(value: object, info: ValidationInfo) -> Any:
        try:
            if isinstance(value, dict):
                out = {}
                for key, item in value.items():
                    if not isinstance(key, str | int) or isinstance(key, bool):
                        raise PydanticCustomError("step_key", "keys must be step names or numbers")
                    out[str(key)] = s.check(item, _folder(info))
                return out
            return s.check(value, _folder(info))
        except ValueError as exc:
            raise PydanticCustomError("setting", "{why}", {"why": str(exc)}) from None

    one = s.kind.json_schema()
    schema = {"anyOf": [one, {"type": "object", "additionalProperties": one}]}
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def field_of(s: Setting, *, required: bool = False, per_step: bool = False) -> tuple[Any, Any]:
    """A (type, Field) pair for `pydantic.create_model`; not required: None when unset."""
    kind = per_step_type(s) if per_step else value_type(s)
    examples = list(s.examples) or None
    if required:
        return kind, Field(description=s.help_text() + ".", examples=examples)
    return kind | None, Field(None, description=s.help_text() + ".", examples=examples)


def script_fields(place: Place) -> dict[str, Any]:
    """The fields a routine script takes at `place`, in table order."""
    return {s.name: field_of(s, required=place in s.required) for s in in_script(place)}
