"""The issue's last lever: two LSTMs of the shipped recipe, trained alike but from different seeds, averaged word by
word and mixed with the n-gram model, against one of them alone, on val:

    P(w | h) = (1 - lambda) * mean_k P_LSTM_k(w | h) + lambda * P_KN(w | h)

Both runs are `dvc exp` experiments of train_lstm (bash benchmarks/lstm_sweep.sh ensemble queues the second seed; the
first is the vocabulary arm's base10k, the recipe trained afresh). They share the tokenizer and the n-gram model
(each learnt from train alone, without a seed; both checked), so their distributions average word for word. The
ensemble's lambda is chosen on val perplexity among mixture.ngram_weights, as train_lstm chooses each model's (an
average of two LSTMs is smoother than one, so it may want another); the other seed alone is mixed at the base's.

Scored like the sweep tables (sweep_table.py --task), on the same val texts, the mixture each time:
next-word top-3 at the cut (eval.max_texts texts) and keystroke savings (the first lstm_eval.sweep_texts of them),
the ensemble and the other seed alone each paired against the base (seeded bootstrap, eval.bootstrap_samples,
eval.confidence) -- the other seed's difference is the yardstick of what a seed alone moves. Val perplexity of the
LSTMs alone (one vocabulary, so it compares). Writes reports/benchmarks/seed_ensemble.json.

    python benchmarks/seed_ensemble.py                   # base10k and seed43
    python benchmarks/seed_ensemble.py BASE OTHER         # any two finished experiments of one vocabulary
"""
from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import yaml

from text_autocomplete.data_utils import read_texts
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.light_model import LSTMCompleter, load_light_model
from text_autocomplete.lstm_model import LSTMLanguageModel
from text_autocomplete.mixture import (
    LSTMDistributions,
    LSTMWithNgram,
    MixtureConfig,
    NgramDistributions,
    event_probabilities,
    events_perplexity,
)
from text_autocomplete.ngram import KneserNey
from text_autocomplete.params import load_config
from text_autocomplete.paths import NGRAM_FILE, VAL_CSV
from text_autocomplete.report import SEED_ENSEMBLE
from text_autocomplete.tokenizer import encode_texts

from _results import RESULTS_DIR, write_results
from sweep_table import (check_pairs, experiments, flatten, git_show, model_folder, model_scores, rounded, task_differences,
                         task_means, val_task_texts)

assert Path(SEED_ENSEMBLE).parent == RESULTS_DIR, "the report reads the file this benchmark writes"
DEFAULT_RUNS = ("base10k", "seed43")
# What two runs of an ensemble of seeds may differ in: the seed, and what leaves the recipe alone (where the raw file
# is read from; the thread count, which changes only float rounding and time)
SEED_ONLY = {"train.seed", "data.raw", "train.num_threads"}


class LSTMEnsemble:
    """Several LSTMs of one vocabulary averaged in probability, then mixed with the n-gram model like
    `LSTMWithNgram` (an ngram_weight of 0 leaves the averaged LSTMs alone). A keyboard model (`text_distributions`)
    and, through `LSTMCompleter`, a next-word ranker (`prompt_state`)."""

    def __init__(self, lstms: Sequence[LSTMLanguageModel], ngram: KneserNey, ngram_weight: float,
                 name: str = "LSTM ensemble + n-gram"):
        if not lstms:
            raise ValueError("an ensemble needs at least one LSTM")
        self.lstms, self.name = [m.eval() for m in lstms], name
        self.mixture = LSTMWithNgram(self.lstms[0], ngram, ngram_weight)  # its mix and mix_in; its LSTM unused

    def eval(self) -> LSTMEnsemble:
        return self

    def text_distributions(self, texts: Sequence[Sequence[int]]) -> list[np.ndarray]:
        each = [LSTMDistributions(m).text_distributions(texts) for m in self.lstms]
        averaged = [np.mean(rows, axis=0) for rows in zip(*each)]
        if self.mixture.ngram_weight == 0:
            return averaged
        ngram = self.mixture.ngram
        return [self.mixture.mix(a, ngram.distributions([list(ids[:i]) for i in range(len(ids) + 1)]))
                for a, ids in zip(averaged, texts)]

    @torch.no_grad()
    def prompt_state(self, prompts: list[list[int]]) -> tuple[torch.Tensor, None]:
        """log of the ensemble's mixture after each prompt (<bos> first); no LSTM state (it ranks, never generates)."""
        probs = torch.stack([m.prompt_state(prompts)[0].exp() for m in self.lstms]).mean(dim=0)
        return self.mixture.mix_in(probs.log(), prompts), None


def main() -> None:
    names = sys.argv[1:] or list(DEFAULT_RUNS)
    if len(names) != 2:
        sys.exit("usage: python benchmarks/seed_ensemble.py [BASE OTHER]  (two finished dvc experiments)")
    config = load_config(EvalConfig, "eval")
    examples, keyboard_texts = val_task_texts()
    rows = experiments(names)
    with tempfile.TemporaryDirectory() as tmp:
        (base, tokenizer), (other, other_tokenizer) = (
            load_light_model(model_folder(row["rev"], Path(tmp) / row["experiment"])) for row in rows)
        same_ngram = (Path(tmp) / rows[0]["experiment"] / NGRAM_FILE).read_bytes() == (
            Path(tmp) / rows[1]["experiment"] / NGRAM_FILE).read_bytes()
    if tokenizer.get_vocab() != other_tokenizer.get_vocab() or not same_ngram:
        sys.exit(f"{names[0]} and {names[1]}: their tokenizers or n-gram models differ; an ensemble of seeds shares "
                 f"both")
    params = [flatten(yaml.safe_load(git_show(row["rev"], "params.yaml"))) for row in rows]
    differ = sorted(k for k in params[0].keys() | params[1].keys() if params[0].get(k) != params[1].get(k))
    if set(differ) - SEED_ONLY:
        sys.exit(f"{names[0]} and {names[1]}: they differ in {', '.join(differ)}; a seed ensemble differs in "
                 f"{', '.join(sorted(SEED_ONLY))} alone")
    seeds = {key: p["train.seed"] for key, p in zip(("base", "other"), params)}

    # The LSTMs' val perplexity (one vocabulary, so it compares), and the ensemble's n-gram weight from the same events
    val_ids = encode_texts(tokenizer, read_texts(VAL_CSV), add_bos=False, add_eos=False)
    events = {key: event_probabilities(model, val_ids) for key, model in (
        ("base", LSTMDistributions(base.lstm)), ("other", LSTMDistributions(other.lstm)),
        ("ensemble", LSTMEnsemble([base.lstm, other.lstm], base.ngram, 0.0)))}
    ngram_events = event_probabilities(NgramDistributions(base.ngram), val_ids)
    weight_perplexity = {w: round(events_perplexity((1 - w) * events["ensemble"] + w * ngram_events), 3)
                         for w in load_config(MixtureConfig, "mixture").ngram_weights}
    ensemble_weight = min(weight_perplexity, key=weight_perplexity.get)

    ensemble = LSTMEnsemble([base.lstm, other.lstm], base.ngram, ensemble_weight)
    other_mixture = LSTMWithNgram(other.lstm, base.ngram, base.ngram_weight)  # the other seed in the base's mixture
    scores = {}
    for key, model in (("base", base), ("other", other_mixture), ("ensemble", ensemble)):
        print(f"scoring {key} on val", file=sys.stderr, flush=True)
        scores[key] = model_scores(LSTMCompleter(model, tokenizer), model, tokenizer, examples, keyboard_texts)
        check_pairs(key, scores[key], scores["base"])
    write_results(Path(SEED_ENSEMBLE).stem, {
        "runs": {"base": names[0], "other": names[1]}, "seeds": seeds,
        "parameters_each": base.lstm.parameter_count(),
        "ngram_weights": {"base": base.ngram_weight, "other": other.ngram_weight, "ensemble": ensemble_weight},
        "ensemble_weight_val_perplexity": {str(w): p for w, p in weight_perplexity.items()},
        "val_texts_top3": len(examples), "val_texts_keyboard": len(keyboard_texts),
        "mixture_val": {key: rounded(task_means(s)) for key, s in scores.items()},
        "ensemble_vs_base": rounded(task_differences(scores["ensemble"], scores["base"], config)),
        "other_seed_vs_base": rounded(task_differences(scores["other"], scores["base"], config)),
        "lstm_alone_val_perplexity": {key: round(events_perplexity(p), 2) for key, p in events.items()},
        "confidence": config.confidence, "bootstrap_samples": config.bootstrap_samples})


if __name__ == "__main__":
    main()
