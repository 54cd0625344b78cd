"""dvc.yaml says what each stage runs, reads, writes and which params it reads; these tests derive the same
from the code (its imports) and from a traced run (the files it opened, the params keys it looked at)."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, sh
from dvc_graph import (
    declared_outputs,
    declared_params,
    dvc_stages,
    entries,
    read_trace,
    stage_code,
)

STAGES = ["prepare", "split", "train_lstm", "eval_lstm", "eval_gpt2", "report"]
# Files a stage may touch that are not its data: params (declared per key), DVC's and git's own files.
NOT_DATA = re.compile(r"^(params\.yaml|\.git/.*|\.dvc/.*|\.gitignore|\.dvcignore|.*\.py|.*\.pyc)$")


def test_the_stages_are_the_course_pipeline():
    assert list(dvc_stages()) == STAGES


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_declares_exactly_the_code_it_runs(stage):
    declared = {p for p in entries(dvc_stages()[stage]["deps"]) if p.endswith(".py")}
    imported = stage_code(stage)
    assert not imported - declared, f"dvc.yaml {stage}: missing deps {sorted(imported - declared)}"
    assert not declared - imported, f"dvc.yaml {stage}: deps it does not import {sorted(declared - imported)}"


def _resolve(path: str, params: dict) -> str:
    """`${section.key}` in a dvc.yaml path, filled in from params."""
    return re.sub(r"\$\{(\w+)\.(\w+)\}", lambda m: str(params[m.group(1)][m.group(2)]), path)


def _covered(path: str, declared: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in declared)


def _project_path(path: str | Path, root: Path) -> str:
    """`path` with links resolved: relative to the project root when inside it, else absolute (`../shared` may
    be a link, and the trace records paths as the stage opened them)."""
    resolved = Path(root, path).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(resolved)


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_declares_exactly_the_files_it_reads_and_writes(pipeline, stage):
    trace = read_trace(pipeline.parent / "trace", stage)
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    spec = dvc_stages(pipeline)[stage]
    root = pipeline.resolve()
    deps = [_project_path(_resolve(p, params), root) for p in entries(spec["deps"]) if not p.endswith(".py")]
    outs = declared_outputs(spec)

    def data_files(paths: list[str]) -> set[str]:
        """The project's data files among `paths`, and the declared deps outside it (e.g. data.raw)."""
        found = {_project_path(p, root) for p in paths}
        return {p for p in found if (not Path(p).is_absolute() and not NOT_DATA.match(p)) or p in deps}

    read, written = data_files(trace["read"]), data_files(trace["write"])
    assert not [p for p in read if not _covered(p, deps + outs)], f"{stage} reads undeclared files"
    assert not [d for d in deps if not any(_covered(p, [d]) for p in read)], f"{stage} declares deps it never reads"
    assert not [p for p in written if not _covered(p, outs)], f"{stage} writes undeclared files"
    assert not [o for o in outs if not any(_covered(p, [o]) for p in written)], f"{stage} declares outs it never writes"


def _params_read(trace: dict) -> set[str]:
    """Keys as dvc.yaml names them: a decoding candidate's fields count as the `candidates` key."""
    return {re.sub(r"\[\d+\].*$", "", key) for key in trace["params"]}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_declares_exactly_the_params_it_reads(synthetic_pipeline, stage):
    read = _params_read(read_trace(synthetic_pipeline.parent / "trace", stage))
    declared = declared_params(dvc_stages()[stage])
    assert not read - declared, f"dvc.yaml {stage}: params read but not declared {sorted(read - declared)}"
    assert not declared - read, f"dvc.yaml {stage}: params declared but never read {sorted(declared - read)}"


def test_every_parameter_is_read_somewhere(synthetic_pipeline):
    """Each key of params.yaml is read by a stage, by the `autocomplete` command or by its server, so none is dead."""
    from text_autocomplete import cli, params
    from text_autocomplete.serve import ServeConfig, create_app

    from tiny_light_model import tiny_autocompleter

    read = set().union(*(_params_read(read_trace(synthetic_pipeline.parent / "trace", s)) for s in STAGES))
    cli_reads = params.trace_reads()
    try:
        assert cli.main(["--project", str(synthetic_pipeline), "i love the"]) == 0
        create_app(tiny_autocompleter(), "tiny", params.load_config(ServeConfig, "serve", ROOT / "params.yaml"), 40)
    finally:
        params._reads = None
    everything = {f"{name}.{key}" for name, section in yaml.safe_load((ROOT / "params.yaml").read_text()).items()
                  for key in section}
    assert everything - read - cli_reads == set()


def test_every_config_field_is_a_parameter():
    from text_autocomplete.autocomplete import AutocompleteConfig
    from text_autocomplete.data_utils import DataConfig, SplitConfig
    from text_autocomplete.eval_lstm import LSTMEvalConfig
    from text_autocomplete.eval_transformer_pipeline import GPT2Config
    from text_autocomplete.evaluation import EvalConfig
    from text_autocomplete.lstm_model import LSTMConfig
    from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig
    from text_autocomplete.mixture import MixtureConfig
    from text_autocomplete.ngram import NgramConfig
    from text_autocomplete.params import param_fields
    from text_autocomplete.phone import PhoneConfig
    from text_autocomplete.report import ReportConfig
    from text_autocomplete.selection import BudgetConfig
    from text_autocomplete.serve import ServeConfig

    classes = {"data": DataConfig, "split": SplitConfig, "tokenizer": TokenizerConfig, "lstm": LSTMConfig,
               "train": TrainConfig, "eval": EvalConfig, "lstm_eval": LSTMEvalConfig, "gpt2": GPT2Config,
               "report": ReportConfig, "budget": BudgetConfig, "autocomplete": AutocompleteConfig, "ngram": NgramConfig,
               "mixture": MixtureConfig, "serve": ServeConfig, "phone": PhoneConfig}
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert set(params) == set(classes)
    for name, cls in classes.items():
        assert [f.name for f in param_fields(cls)] == list(params[name]), name


@pytest.mark.parametrize("stage, choice", [("eval_lstm", "results/lstm_decoding_sweep.csv"),
                                           ("eval_gpt2", "results/gpt2_generation_sweep.csv")])
def test_the_test_split_is_read_only_after_the_choice_on_val(synthetic_pipeline, stage, choice):
    order = [line.split(" ", 1) for line in read_trace(synthetic_pipeline.parent / "trace", stage)["order"]]
    position = {(kind, Path(path).relative_to(synthetic_pipeline).as_posix()): i
                for i, (kind, path) in reversed(list(enumerate(order))) if Path(path).is_relative_to(synthetic_pipeline)}
    assert position[("r", "data/val.csv")] < position[("w", choice)] < position[("r", "data/test.csv")]


def test_a_code_change_marks_every_stage_that_imports_it(synthetic_pipeline):
    module = synthetic_pipeline / "src" / "text_autocomplete" / "params.py"
    original = module.read_text()
    try:
        assert json.loads(sh(["dvc", "status", "--json"], synthetic_pipeline)) == {}
        module.write_text(original + "# a comment\n")
        changed = set(json.loads(sh(["dvc", "status", "--json"], synthetic_pipeline)))
    finally:
        module.write_text(original)
    assert changed == {s for s in STAGES if "src/text_autocomplete/params.py" in stage_code(s)} == set(STAGES)


@pytest.mark.parametrize("module, stages", [
    ("eval_lstm.py", {"eval_lstm"}),  # decoding: never the training
    ("selection.py", {"eval_lstm", "eval_gpt2", "report"}),  # the paired choice of decodings; the budgets
    ("decision.py", {"report"}),  # which model ships: the report alone
    ("comparison.py", {"report"}),
    ("report.py", {"report"}),  # report code re-runs the report alone
    ("cli.py", set()), ("serve.py", set()),  # the apps re-run nothing (web/index.html is no stage's code either)
    ("registry.py", {"eval_lstm", "eval_gpt2", "report"}),  # the model list: what is scored and compared
    ("lstm_model.py", {"train_lstm", "eval_lstm"}),  # the model (and its generate/beam_search) retrains
])
def test_an_edit_reruns_only_the_stages_that_use_it(module, stages):
    """With dvc.yaml holding each stage's imports (above), a module's stages are those whose code imports it."""
    assert {s for s in STAGES if f"src/text_autocomplete/{module}" in stage_code(s)} == stages


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_reads_top_to_bottom_in_short_functions(stage):
    """A stage is a `main()` over named helpers (the models to score come from registry.py), none over 60 lines."""
    tree = ast.parse((ROOT / "stages" / f"{stage}.py").read_text())
    lengths = {node.name: node.end_lineno - node.lineno + 1 for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert "main" in lengths and max(lengths.values()) <= 60, lengths
