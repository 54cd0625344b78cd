"""Read params.yaml and turn its sections into typed configs, naming any bad, missing or unknown parameter.

params.yaml is the only place a value lives: the config classes declare names and types, never defaults,
so a section or key missing from params.yaml is an error here rather than a silent fallback. (A field with
`metadata={"derived": ...}` is filled by code, e.g. the vocabulary size from the tokenizer.)

With `trace_reads()` on, every config remembers which of its keys the code actually looked at; the stages
write that list out when asked (stages/_common.py), and tests/test_dvc_graph.py compares it with dvc.yaml.
"""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from text_autocomplete.errors import UserError
from text_autocomplete.paths import PARAMS_FILE

T = TypeVar("T")


class ParamsError(UserError):
    """A parameter that is unknown, missing or has the wrong type; the message names it."""


def load_params(path: Path | str = PARAMS_FILE) -> dict[str, Any]:
    if not Path(path).exists():
        raise ParamsError(f"{path} not found: run the stages from the project root")
    with open(path) as f:
        params = yaml.safe_load(f) or {}
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections")
    return params


def section(params: dict[str, Any], name: str, path: Path | str = PARAMS_FILE) -> dict[str, Any]:
    if name not in params:
        raise ParamsError(f"{path}: section {name!r} is missing")
    value = params[name]
    if not isinstance(value, dict):
        raise ParamsError(f"{path} {name}: expected a mapping, got {value!r}")
    return value


def param_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of `cls` that params.yaml must hold (all but the derived ones)."""
    return [f for f in dataclasses.fields(cls) if "derived" not in f.metadata]


def _check_type(value: Any, expected: Any, where: str) -> Any:
    """`value` as the annotated type: ints are accepted for floats, lists for tuples; anything else is an error."""
    origin = typing.get_origin(expected) or expected
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    ok = isinstance(value, origin) and not (origin is int and isinstance(value, bool))
    if not ok:
        raise ParamsError(f"{where}={value!r}: expected {getattr(origin, '__name__', origin)}")
    return value


def build_config(cls: type[T], values: dict[str, Any], section_name: str, path: Path | str = PARAMS_FILE) -> T:
    """`cls(**values)` where an unknown key, a missing key or a value of the wrong type is named `section.key`."""
    fields = param_fields(cls)
    names = [f.name for f in fields]
    for key in values:
        if key not in names:
            raise ParamsError(f"{path} {section_name}.{key}: unknown parameter; known: {', '.join(names)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in fields:
        if f.name not in values:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ParamsError(f"{path} {section_name}.{f.name}: missing (params.yaml holds every value)")
            continue  # an optional override, e.g. a decoding candidate that names only what it changes
        kwargs[f.name] = _check_type(values[f.name], hints[f.name], f"{path} {section_name}.{f.name}")
    config = _traced_class(cls, section_name)(**kwargs) if _reads is not None else cls(**kwargs)
    return config  # type: ignore[return-value]


def load_config(cls: type[T], section_name: str, path: Path | str = PARAMS_FILE) -> T:
    return build_config(cls, section(load_params(path), section_name, path), section_name, path)


# --------------------------------------------------------------------------- which keys the code reads
_reads: set[str] | None = None
_suspended = 0


def trace_reads() -> set[str]:
    """From now on configs record each key read as 'section.key' into the returned set."""
    global _reads
    _reads = set()
    return _reads


def _traced_class(cls: type, section_name: str) -> type:
    """A subclass of `cls` whose field reads are recorded (validation in __post_init__ is not a read)."""
    names = {f.name for f in param_fields(cls)}

    class Traced(cls):  # type: ignore[valid-type, misc]
        def __getattribute__(self, name: str) -> Any:
            if name in names and not _suspended and _reads is not None:
                _reads.add(f"{section_name}.{name}")
            return super().__getattribute__(name)

        def __post_init__(self) -> None:
            global _suspended
            _suspended += 1
            try:
                if hasattr(cls, "__post_init__"):
                    cls.__post_init__(self)
            finally:
                _suspended -= 1

    Traced.__name__ = Traced.__qualname__ = cls.__name__
    return Traced
