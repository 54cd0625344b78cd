"""The DVC surface as users meet it, on the committed run: the README's `dvc exp show` command fits 120 columns
and its narrow `dvc metrics show metrics` 132 (one row per model and per paired comparison) with the models'
ROUGE-1/2 first, declared metric files hold numbers only, and
`dvc plots show|diff` draw the learning curves and the model comparison. Each rule is also broken once in a
tiny repository, to show that its check fails."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from text_autocomplete.paths import METRICS_DIR, TRAIN_LIVE_SUMMARY, TRAIN_RECORD, metrics_file
from text_autocomplete.registry import LABELS, SHIPPED, TRANSFORMER
from text_autocomplete.report import comparison_table

from conftest import ROOT, sh
from dvc_graph import dvc_stages, entries

# The headline: the light model's and the transformer's ROUGE-1 and ROUGE-2, as `dvc exp show` names them.
LSTM, GPT2 = SHIPPED, TRANSFORMER
HEADLINE = [f"{metrics_file(model).as_posix()}:{key}" for model in (LSTM, GPT2) for key in ("rouge1", "rouge2")]
# Columns of `dvc exp show --csv` that describe the row, not a metric or a parameter.
ROW_COLUMNS = {"Experiment", "rev", "typ", "Created", "parent", "State", "Executor"}
WIDTH = 120
# `dvc metrics show metrics` (the narrow view): DVC sizes a column by its header, so the width is the names: the
# longest pair file (metrics/lstm_alone-baseline.yml: every pair of models is compared, for the decision) widens
# the first column by 10 over the models' files, and keystroke savings (keys_saved) add a column; one row per file
# fits 132 columns.
METRICS_SHOW_WIDTH = 132


def declared_metrics(root: Path) -> list[str]:
    """Every file dvc.yaml declares as metrics: the top-level list, then any stage's `metrics`."""
    dvc_yaml = yaml.safe_load((root / "dvc.yaml").read_text())
    stage_metrics = [p for stage in dvc_stages(root).values() for p in entries(stage.get("metrics"))]
    return [*dvc_yaml.get("metrics", []), *stage_metrics]


def non_numbers(root: Path) -> list[str]:
    """`file: key` for every value in a declared metrics file that is not a number (a string, a list, a bool)."""
    def walk(value, key: str):
        if isinstance(value, dict):
            for name, inner in value.items():
                yield from walk(inner, f"{key}.{name}" if key else name)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            yield key

    return [f"{path}: {key}" for path in declared_metrics(root)
            for key in walk(yaml.safe_load((root / path).read_text()), "")]


def readme_command(prefix: str) -> list[str]:
    """The command the README documents, the line of a code block that starts with `prefix`."""
    lines = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()
             if line.strip().startswith(prefix)]
    assert len(lines) == 1, f"README.md: expected one line starting with {prefix!r}, found {lines}"
    return shlex.split(lines[0], comments=True)  # the line's `# ...` explains it to the reader


EXP_SHOW = readme_command("dvc exp show")


def metric_columns(root: Path, command: list[str]) -> list[str]:
    """The columns `command` (a `dvc exp show ...`) shows after the row's own, read from its --csv form."""
    output = sh([*command, "--csv"], root)
    header = next(line for line in output.splitlines() if line.split(",")[0] in ROW_COLUMNS)
    return [name for name in header.split(",") if name not in ROW_COLUMNS]


def tiny_repository(root: Path, top_level_metrics: list[str], files: dict[str, dict]) -> Path:
    """A git + DVC repository with one stage that writes nothing new, and these metric files committed."""
    root.mkdir(parents=True, exist_ok=True)
    sh(["git", "init", "-q"], root)
    sh(["dvc", "init", "-q"], root)
    (root / "params.yaml").write_text("lstm:\n  hidden_dim: 128\n")
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(json.dumps(data))
    dvc_yaml = {"stages": {"train": {"cmd": "true", "params": ["lstm.hidden_dim"],
                                     "outs": [{path: {"cache": False}} for path in files]}},
                "metrics": top_level_metrics}
    (root / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml, sort_keys=False))
    sh(["git", "add", "-A"], root)
    sh(["git", "commit", "-qm", "tiny"], root)
    return root


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """A clone of the committed repository: what a new user gets, without this checkout's local experiments
    (their rows would widen `dvc exp show`) or uncommitted changes."""
    clone = tmp_path_factory.mktemp("committed") / "repo"
    sh(["git", "clone", "-q", str(ROOT), str(clone)], ROOT)
    return clone


MODEL_FILES = {metrics_file(m).as_posix(): {"rouge1": 0.1, "rouge2": 0.02, "rougeL": 0.09, "size_mb": 1.0}
               for m in (LSTM, GPT2)}
TRAIN_FILE = {TRAIN_LIVE_SUMMARY: {"val_loss": 5.0, "val_perplexity": 148.4}}


# --------------------------------------------------------------------------- metric files hold numbers
def test_declared_metric_files_hold_numbers_only():
    assert declared_metrics(ROOT), "dvc.yaml declares no metrics"
    assert non_numbers(ROOT) == []


def test_a_string_in_a_metrics_file_is_caught(tmp_path):
    train = TRAIN_LIVE_SUMMARY
    files = {**MODEL_FILES, train: {"val_loss": 5.0, "model": "word LSTM", "ci": [0.1, 0.2]}}
    repo = tiny_repository(tmp_path, list(files), files)
    assert non_numbers(repo) == [f"{train}: model", f"{train}: ci"]


# --------------------------------------------------------------------------- dvc exp show
def test_the_documented_exp_show_lists_the_headline_first(committed):
    assert EXP_SHOW[:3] == ["dvc", "exp", "show"]
    assert metric_columns(committed, EXP_SHOW)[:len(HEADLINE)] == HEADLINE
    assert metric_columns(committed, ["dvc", "exp", "show"])[:2] == HEADLINE[:2]  # plain: the LSTM's first


def test_exp_show_with_the_headline_elsewhere_is_caught(tmp_path):
    """A run that changed the LSTM and its training: with the training metrics declared before the models, plain
    `dvc exp show` lists them first and the check says so; declared after, the LSTM's ROUGE-1/2 come first. (The
    README's command drops dvclive's columns by name, so there the order of the files cannot show.)"""
    files = {**TRAIN_FILE, **MODEL_FILES}

    def columns(name: str, order: list[str]) -> list[str]:
        repo = tiny_repository(tmp_path / name, order, files)
        (repo / TRAIN_LIVE_SUMMARY).write_text(json.dumps({"val_loss": 4.9, "val_perplexity": 134.3}))
        metrics_file(LSTM, repo).write_text(json.dumps({"rouge1": 0.11, "rouge2": 0.03, "rougeL": 0.1}))
        return metric_columns(repo, ["dvc", "exp", "show"])

    assert columns("good", [*MODEL_FILES, *TRAIN_FILE])[:2] == HEADLINE[:2]
    assert columns("bad", list(files))[:2] != HEADLINE[:2]


def test_the_documented_exp_show_fits_120_columns(committed):
    """Rendered for a 120-column terminal (no pager), every headline column is there in full, none folded."""
    output = sh([*EXP_SHOW, "--no-pager"], committed, COLUMNS=str(WIDTH))
    lines = [line for line in output.splitlines() if line.startswith(" ")]  # the table, not a warning
    assert lines and max(map(len, lines)) <= WIDTH
    header = next(line for line in lines if "Experiment" in line)
    assert header.split() == ["Experiment", *HEADLINE]
    values = [line.split() for line in lines if line.split()[0] in ("workspace", "main", "master")]
    assert values and all(len(row) == 1 + len(HEADLINE) for row in values), lines


# --------------------------------------------------------------------------- dvc metrics show / diff
METRICS_SHOW = readme_command("dvc metrics show metrics")  # the narrow view: dvclive's training columns left out


def test_the_documented_narrow_metrics_show_is_one_row_per_model_within_132_columns(committed):
    output = sh(METRICS_SHOW, committed)
    lines = output[output.index("Path "):].splitlines()
    assert max(map(len, lines)) <= METRICS_SHOW_WIDTH, output
    columns = lines[0].split()
    assert columns[0] == "Path" and {"rouge1", "rouge2"} <= set(columns)
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:] if line.strip()}
    assert set(rows) == {path for path in declared_metrics(committed) if path.startswith(f"{METRICS_DIR}/")}
    assert set(declared_metrics(committed)) - set(rows) == {TRAIN_LIVE_SUMMARY}  # shown by plain `dvc metrics show`
    for path in HEADLINE:  # each headline model has its ROUGE-1/2 under those two columns
        file, key = path.split(":")
        value = yaml.safe_load((committed / file).read_text())[key]
        assert float(rows[file][columns.index(key) - 1]) == pytest.approx(value)


def test_metrics_diff_lists_a_models_rouge_first(tmp_path):
    """A changed run: `dvc metrics diff` is one line per changed number, sorted by name within a file, so that
    ROUGE-1/2 lead a model's lines (DVC orders the files themselves as it likes)."""
    repo = tiny_repository(tmp_path, [*MODEL_FILES, *TRAIN_FILE], {**MODEL_FILES, **TRAIN_FILE})
    changed = {**MODEL_FILES[metrics_file(LSTM).as_posix()], "rouge1": 0.12, "rouge2": 0.03, "rougeL": 0.1}
    metrics_file(LSTM, repo).write_text(json.dumps(changed))
    output = sh(["dvc", "metrics", "diff"], repo)
    rows = [line.split() for line in output[output.index("Path "):].splitlines()[1:] if line.strip()]
    assert [row[:2] for row in rows] == [[metrics_file(LSTM).as_posix(), k] for k in ("rouge1", "rouge2", "rougeL")]


# --------------------------------------------------------------------------- dvc plots
def plots_json(root: Path, *args: str) -> dict[str, list[dict]]:
    output = sh(["dvc", "plots", *args, "--json"], root)
    return json.loads(output[output.index("{"):])["data"]


def plot_rows(plot: list[dict]) -> list[dict]:
    return [row for entry in plot for row in entry["content"]["data"]["values"]]


def test_plots_show_draws_learning_curves_and_the_model_comparison(committed):
    plots = plots_json(committed, "show")
    assert set(plots) == {"loss", "val_rouge", "model_comparison"}
    epochs = json.loads((committed / TRAIN_RECORD).read_text())["epochs_run"]
    loss = plot_rows(plots["loss"])
    assert sorted({row["filename::field"] for row in loss}) == ["train_loss.tsv::train_loss", "val_loss.tsv::val_loss"]
    assert sorted(int(row["step"]) for row in loss if row["filename::field"].startswith("val_")) == list(
        range(1, epochs + 1))
    comparison = plot_rows(plots["model_comparison"])
    assert {(row["model"], row["metric"]) for row in comparison} == {
        (model, kind) for model in LABELS.values() for kind in ("rouge1", "rouge2", "rougeL")}
    assert all(float(row["low"]) <= float(row["value"]) <= float(row["high"]) for row in comparison)
    spec = plots["model_comparison"][0]["content"]
    assert spec["spec"]["encoding"]["y"]["field"] == "model" and "<DVC_METRIC" not in json.dumps(spec)


def test_plots_diff_compares_two_revisions(tmp_path):
    """The project's plot definitions and template over two commits of made-up runs (3 epochs, then 2):
    `dvc plots diff` draws every plot with both, told apart by `rev`."""
    repo = tiny_repository(tmp_path, [*MODEL_FILES], MODEL_FILES)
    project = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    dvc_yaml = yaml.safe_load((repo / "dvc.yaml").read_text())
    (repo / "dvc.yaml").write_text(yaml.safe_dump({**dvc_yaml, "plots": project["plots"]}, sort_keys=False))
    templates = {spec["template"] for plot in project["plots"] for spec in plot.values() if "template" in spec}
    for template in templates:
        (repo / template).parent.mkdir(parents=True, exist_ok=True)
        (repo / template).write_text((ROOT / template).read_text())
    for version, epochs in enumerate((3, 2)):
        for plot in project["plots"]:
            for path, field in next(iter(plot.values()))["y"].items():
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                if path.endswith(".tsv"):  # dvclive's layout: step, value
                    rows = "".join(f"{e}\t{5 - e / 10 - version / 100}\n" for e in range(1, epochs + 1))
                    (repo / path).write_text(f"step\t{field}\n{rows}")
                else:
                    (repo / path).write_text(comparison_table(MADE_UP_RECORDS).to_csv(index=False))
        sh(["git", "add", "-A"], repo)
        sh(["git", "commit", "-qm", f"run {version}"], repo)
    plots = plots_json(repo, "diff", "HEAD~1", "HEAD")
    assert set(plots) == {next(iter(plot)) for plot in project["plots"]}
    for name, plot in plots.items():
        assert {row["rev"] for row in plot_rows(plot)} == {"HEAD~1", "HEAD"}, name
    loss = plot_rows(plots["loss"])
    assert sorted((row["rev"], row["step"]) for row in loss if "val_loss" in row) == [
        ("HEAD", "1"), ("HEAD", "2"), ("HEAD~1", "1"), ("HEAD~1", "2"), ("HEAD~1", "3")]


MADE_UP_RECORDS = {key: {**{kind: 0.1 for kind in ("rouge1", "rouge2", "rougeL")},
                         **{f"{kind}_ci": [0.05, 0.15] for kind in ("rouge1", "rouge2", "rougeL")}}
                   for key in LABELS}


def test_every_plot_declared_in_dvc_yaml_reads_committed_files():
    """The plots' data are committed outputs (cache: false), so `dvc plots diff` works on any two commits."""
    dvc_yaml = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    uncached = {p for stage in dvc_stages(ROOT).values() for item in stage.get("outs", [])
                if isinstance(item, dict) for p, opts in item.items() if opts.get("cache") is False}
    for plot in dvc_yaml["plots"]:
        (name, spec), = plot.items()
        for path in spec["y"]:
            assert any(path == out or path.startswith(out + "/") for out in uncached), (name, path)
        if "template" in spec:
            assert (ROOT / spec["template"]).is_file() and re.search(r"<DVC_METRIC_DATA>",
                                                                     (ROOT / spec["template"]).read_text())
