"""What each stage really depends on, derived from the code: the project modules it imports (transitively,
lazy imports inside functions included) and, from a traced run, the files it opened and the params it read."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

from conftest import ROOT

PACKAGE = "text_autocomplete"
PACKAGE_DIR = ROOT / "src" / PACKAGE
STAGES_DIR = ROOT / "stages"


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return names


def _module_file(name: str) -> Path | None:
    """The project file behind an imported name, or None for anything outside the project."""
    if name.startswith(PACKAGE + "."):
        candidate = PACKAGE_DIR / (name.split(".")[1] + ".py")
        return candidate if candidate.exists() else None
    if name == PACKAGE:
        return PACKAGE_DIR / "__init__.py"
    if "." not in name and (STAGES_DIR / f"{name}.py").exists():  # stages import their helper `_common`
        return STAGES_DIR / f"{name}.py"
    return None


def stage_code(stage: str) -> set[str]:
    """Repository-relative paths of the stage script and every project module it imports, transitively."""
    todo, seen = [STAGES_DIR / f"{stage}.py"], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [f for f in map(_module_file, _imported_names(path)) if f is not None]
    if any(p.parent == PACKAGE_DIR for p in seen):  # importing a submodule runs the package's __init__ first
        seen.add(PACKAGE_DIR / "__init__.py")
    return {p.relative_to(ROOT).as_posix() for p in seen}


def dvc_stages(root: Path = ROOT) -> dict[str, dict]:
    """dvc.yaml's stages with `${...}` left as written."""
    return yaml.safe_load((root / "dvc.yaml").read_text())["stages"]


def entries(items: list) -> list[str]:
    """Paths of a deps/outs/metrics/plots list whose items are strings or one-key mappings."""
    return [next(iter(item)) if isinstance(item, dict) else item for item in items or []]


def declared_outputs(stage: dict) -> list[str]:
    return [p for key in ("outs", "metrics", "plots") for p in entries(stage.get(key))]


def declared_params(stage: dict) -> set[str]:
    return set(entries(stage.get("params")))


def read_trace(folder: Path, stage: str) -> dict:
    return json.loads((folder / f"{stage}.json").read_text())
