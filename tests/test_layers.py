"""The package's imports run one way, foundations -> data -> models -> protocol -> training -> evaluation -> apps: a
module imports only modules of its own layer or of a lower one (lazy imports inside functions count too). Since
dvc.yaml makes each stage depend on the code it imports, this is what keeps an edit to decoding, the report, the
command or the server from retraining the LSTM (tests/test_dvc_graph.py holds dvc.yaml to the imports)."""
from __future__ import annotations

import ast

import pytest

from conftest import ROOT

PACKAGE = "text_autocomplete"
PACKAGE_DIR = ROOT / "src" / PACKAGE
# Each module's layer, lowest first; a new module must be placed here.
LAYERS = {
    "foundations": ["errors", "paths", "params", "records", "progress", "distributed", "measures", "registry"],
    "data": ["data_utils", "tokenizer", "next_token_dataset"],
    "models": ["lstm_model", "ngram", "phone_ngram", "mixture", "light_model", "autocomplete", "phone"],
    "protocol": ["evaluation"],  # the one evaluation protocol: training scores val ROUGE with it every epoch
    "training": ["lstm_train"],
    "evaluation": ["eval_lstm", "eval_transformer_pipeline", "selection", "keyboard", "comparison", "decision"],
    "apps": ["report", "cli", "serve"],
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
NAMES = list(LAYERS)


def imported_modules(source: str) -> set[str]:
    """The package's modules that `source` imports, anywhere in it (top level or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names] if node.module == PACKAGE else [])
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith(PACKAGE + ".")}
    return found


def upward_imports(modules: dict[str, str]) -> list[str]:
    """`a (layer) imports b (higher layer)` for every import against the direction, given module sources."""
    return [f"{name} ({NAMES[RANK[name]]}) imports {other} ({NAMES[RANK[other]]})"
            for name, source in sorted(modules.items()) for other in sorted(imported_modules(source))
            if RANK[other] > RANK[name]]


def package_sources() -> dict[str, str]:
    return {p.stem: p.read_text() for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__"}


def test_every_module_has_a_layer():
    assert sorted(package_sources()) == sorted(RANK), "place each module of the package in LAYERS"


def test_imports_run_one_way():
    assert upward_imports(package_sources()) == []


@pytest.mark.parametrize("module, line", [
    ("evaluation", "from text_autocomplete.report import fmt\n"),  # the protocol reaching for the report
    ("lstm_train", "def f():\n    from text_autocomplete.eval_lstm import DecodingCompleter\n"),  # a lazy one
])
def test_an_upward_import_is_caught(module, line):
    sources = package_sources()
    sources[module] += line
    assert len(upward_imports(sources)) == 1


def test_imports_are_absolute():
    """The direction test reads `text_autocomplete.x` imports; a relative one (`from .x import y`) would hide."""
    relative = [name for name, source in package_sources().items() for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.level > 0]
    assert relative == []
