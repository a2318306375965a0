"""`--set KEY=VALUE`: any model or optimizer argument by name, typed by its dataclass field."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from .errors import CliError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NONE = {"none", "null"}


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """['a=1', 'b=x'] -> {'a': '1', 'b': 'x'}; a later KEY wins."""
    result = {}
    for text in assignments:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--set expects KEY=VALUE, got {text!r}")
        result[key] = raw.strip()
    return result


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def convert(key: str, raw: str, annotation: Any) -> Any:
    """The text of a value as the field's type (bool, int, float, str, or X | None)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if raw.lower() in _NONE and len(options) < len(typing.get_args(annotation)):
            return None
        errors = []
        for option in options:
            try:
                return convert(key, raw, option)
            except CliError as err:
                errors.append(str(err))
        raise CliError(errors[0] if errors else f"{key}: cannot take {raw!r}")
    if annotation is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise CliError(f"{key} takes true or false, not {raw!r}")
    if annotation is int:
        try:
            return int(raw)
        except ValueError:
            raise CliError(f"{key} takes a whole number, not {raw!r}") from None
    if annotation is float:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise CliError(f"{key} takes a number, not {raw!r}")
        return value
    if annotation is str:
        return raw
    raise CliError(f"{key} cannot be set from the command line")


def split_overrides(values: dict[str, str], *classes: type) -> list[dict[str, Any]]:
    """Typed changes for each dataclass; a key both define (max_layers) goes to both."""
    types_per_class = [field_types(cls) for cls in classes]
    known = sorted(set().union(*types_per_class))
    unknown = [key for key in values if key not in known]
    if unknown:
        raise CliError(f"unknown setting {unknown[0]!r}; valid settings: {', '.join(known)}")
    changes: list[dict[str, Any]] = []
    for types_of in types_per_class:
        changes.append({key: convert(key, raw, types_of[key])
                        for key, raw in values.items() if key in types_of})
    return changes


def with_overrides(args: Any, changes: dict[str, Any]) -> Any:
    return dataclasses.replace(args, **changes) if changes else args
