"""Read params.yaml and turn its sections into typed configs, naming any bad parameter."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from src.errors import UserError

T = TypeVar("T")
PARAMS_FILE = Path("params.yaml")


class ParamsError(UserError):
    """A parameter that is unknown or has the wrong type; the message names it."""


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    if not Path(path).exists():
        raise ParamsError(f"{path} not found: run the stages from the project root")
    with open(path) as f:
        params = yaml.safe_load(f) or {}
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections")
    return params


def section(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name, {}) or {}
    if not isinstance(value, dict):
        raise ParamsError(f"params.yaml {name}: expected a mapping, got {value!r}")
    return value


def build_config(cls: type[T], values: dict[str, Any], section_name: str) -> T:
    """`cls(**values)`, where an unknown key or a value of the wrong type is reported as `section.key`."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise ParamsError(f"params.yaml {section_name}.{key}: unknown parameter; known: {', '.join(fields)}")
        default = fields[key].default
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if default is not None and not isinstance(default, dataclasses._MISSING_TYPE) and (
            type(value) is not type(default)
        ):
            raise ParamsError(f"params.yaml {section_name}.{key}={value!r}: expected {type(default).__name__}")
        kwargs[key] = value
    return cls(**kwargs)  # type: ignore[call-arg]


def load_config(cls: type[T], section_name: str, path: Path = PARAMS_FILE) -> T:
    return build_config(cls, section(load_params(path), section_name), section_name)
