"""The transformer path on a tiny random GPT-2 saved locally: loading, padding, batching, word budgets."""
from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessorList, StoppingCriteriaList

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.errors import UserError
from text_autocomplete.eval_transformer_pipeline import (
    BudgetReached,
    GPT2Config,
    HoldStopTokens,
    ModelLoadError,
    TransformerCompleter,
    WordBudget,
    load_transformer,
    model_size_mb,
    resolve_source,
)

from conftest import project_config
from tiny_gpt2 import save_tiny_gpt2

PROMPTS = ["i can't wait to see", "going to the beach today with my best", "so tired", "good morning everyone have"]

CLEANING = project_config(DataConfig, "data")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    directory = save_tiny_gpt2(tmp_path_factory.mktemp("tiny") / "gpt2")
    model, tokenizer = load_transformer(str(directory))
    return directory, model, tokenizer


def test_left_padding_gives_the_same_logits_as_no_padding(tiny):
    _, model, tokenizer = tiny
    tokenizer.padding_side = "left"
    tokenizer.pad_token = tokenizer.eos_token
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    assert (batch["attention_mask"][:, 0] == 0).any()  # some rows are padded
    position_ids = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        padded = model(**batch, position_ids=position_ids).logits[:, -1]
        for row, prompt in enumerate(PROMPTS):
            alone = model(**tokenizer([prompt], return_tensors="pt")).logits[0, -1]
            assert torch.allclose(padded[row], alone, atol=1e-4)


def test_batched_and_one_at_a_time_greedy_completions_are_identical(tiny):
    _, model, tokenizer = tiny
    completer = TransformerCompleter(model, tokenizer, CLEANING)
    budgets = [2, 3, 1, 2]
    assert completer.complete(PROMPTS, budgets) == [completer.complete([p], [b])[0] for p, b in zip(PROMPTS, budgets)]


@pytest.mark.parametrize("settings", [{}, {"repetition_penalty": 1.3, "no_repeat_ngram_size": 2}])
def test_decoding_that_retires_rows_equals_model_generate(tiny, settings):
    """The project's loop drops finished rows from the batch and its cache; the words must not change."""
    _, model, tokenizer = tiny
    completer = TransformerCompleter(model, tokenizer, CLEANING, settings)
    prompts, budgets = PROMPTS * 2, [1, 4, 2, 3, 3, 1, 4, 2]  # rows finish at different steps
    encoded = tokenizer(prompts, return_tensors="pt", padding=True)
    budget = WordBudget(tokenizer, encoded["input_ids"].shape[1], CLEANING, budgets, 4)
    reference = model.generate(**encoded, max_new_tokens=int(budget.token_caps.max()), do_sample=False,
                               pad_token_id=tokenizer.pad_token_id, **settings,
                               logits_processor=LogitsProcessorList([HoldStopTokens(budget, completer.stop_ids,
                                                                                    completer.always_banned)]),
                               stopping_criteria=StoppingCriteriaList([BudgetReached(budget)]))
    expected = tokenizer.batch_decode(reference[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
    assert completer.complete(prompts, budgets) == expected


def test_no_newline_or_end_of_text_before_the_budget(tiny):
    _, model, tokenizer = tiny
    completer = TransformerCompleter(model, tokenizer, CLEANING)
    with torch.no_grad():  # make end-of-text and newline the model's favourite tokens
        model.lm_head.weight.data[completer.stop_ids] *= 0
        bias = torch.zeros(model.lm_head.weight.shape[0])
        bias[completer.stop_ids] = 100.0
        model.lm_head.bias = torch.nn.Parameter(bias)
    try:
        completions = completer.complete(PROMPTS, [3, 3, 3, 3])
    finally:
        model.lm_head.bias = None
    assert all("\n" not in c and c.strip() for c in completions)


def test_sampling_is_seeded_and_really_samples(tiny):
    """The same seed gives the same words; another seed gives other words (so sampling is not ignored);
    top_k=1 leaves one candidate per step, so sampling then equals greedy decoding."""
    _, model, tokenizer = tiny
    budgets = [4] * len(PROMPTS)

    def complete(settings: dict, seed: int) -> list[str]:
        return TransformerCompleter(model, tokenizer, CLEANING, settings, seed=seed).complete(PROMPTS, budgets)

    sample = {"do_sample": True, "top_k": 20, "temperature": 0.9}
    assert complete(sample, 5) == complete(sample, 5)
    assert complete(sample, 5) != complete(sample, 6)
    assert complete({"do_sample": True, "top_k": 1}, 5) == complete({}, 5) == complete({}, 6)


def test_model_size_is_the_weight_files(tiny):
    directory, model, _ = tiny
    expected = sum(p.stat().st_size for p in directory.glob("*.safetensors")) / 1e6
    assert model_size_mb(str(directory), model) == pytest.approx(expected, abs=1e-3)


def test_unreachable_hub_id_gives_an_actionable_message(monkeypatch):
    import huggingface_hub.constants

    # What a machine without network sees, without waiting for the connection to time out.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelLoadError, match="gpt2.model: models/distilgpt2"):
        load_transformer("distilgpt2")


def test_missing_gguf_and_package_are_named(tmp_path):
    with pytest.raises(ModelLoadError, match="GGUF file not found"):
        resolve_source(str(tmp_path / "model.gguf"))
    with pytest.raises(ModelLoadError, match="not installed"):
        resolve_source("pypi:no_such_model_package")


def test_generation_candidates_are_checked():
    with pytest.raises(UserError, match=r"gpt2.candidates\[0\]"):
        project_config(GPT2Config, "gpt2", candidates=[{"name": "x", "beams": 3}])
