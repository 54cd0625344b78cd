"""The transformer path on a tiny random GPT-2 saved locally: loading, padding, batching, word budgets."""
from __future__ import annotations

from functools import partial

import pytest
import torch
from transformers import LogitsProcessorList, StoppingCriteriaList

from text_autocomplete.data_utils import DataConfig, clean_text
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
    word_continuing_token_ids,
    word_growing_token_ids,
)
from text_autocomplete.evaluation import EvalConfig, Example, evaluate

from conftest import project_config
from tiny_gpt2 import save_tiny_gpt2

PROMPTS = ["i can't wait to see", "going to the beach today with my best", "so tired", "good morning everyone have"]

CLEANING = project_config(DataConfig, "data")
# The completer with the project's token cap per word (gpt2.max_tokens_per_word), as eval_gpt2 makes it.
Completer = partial(TransformerCompleter, max_tokens_per_word=project_config(GPT2Config, "gpt2").max_tokens_per_word)


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
    completer = Completer(model, tokenizer, CLEANING)
    budgets = [2, 3, 1, 2]
    assert completer.complete(PROMPTS, budgets) == [completer.complete([p], [b])[0] for p, b in zip(PROMPTS, budgets)]


@pytest.mark.parametrize("settings", [{}, {"repetition_penalty": 1.3, "no_repeat_ngram_size": 2}])
def test_decoding_that_retires_rows_equals_model_generate(tiny, settings):
    """The project's loop drops finished rows from the batch and its cache; the words must not change."""
    _, model, tokenizer = tiny
    completer = Completer(model, tokenizer, CLEANING, settings)
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
    completer = Completer(model, tokenizer, CLEANING)
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
        return Completer(model, tokenizer, CLEANING, settings, seed=seed).complete(PROMPTS, budgets)

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


# --------------------------------------------------------------------------- how the prompt reaches the model
TYPED = ["I can't WAIT to see,", "Going to the Beach! today with my best", "so tired...", "Good morning everyone, have"]
SETTINGS = [{}, {"num_beams": 3}, {"do_sample": True, "top_k": 20}]


def test_word_continuing_tokens_are_those_without_a_leading_space(tiny):
    _, _, tokenizer = tiny
    banned = set(word_continuing_token_ids(tokenizer))
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    assert not any(pieces[i].startswith("Ġ") for i in banned)  # byte-level BPE spells a leading space Ġ
    assert all(i in banned for i, piece in enumerate(pieces) if piece[0].isascii() and piece[0].isalnum())
    assert tokenizer.convert_tokens_to_ids("Ġ") not in banned


@pytest.mark.parametrize("settings", SETTINGS)
def test_the_first_new_token_begins_a_new_word(tiny, settings):
    """With the rule, no completion continues the prompt's last word, so the prompt's words and the completion's
    words are the words of prompt + completion; without it this random model continues words (the rule matters)."""
    _, model, tokenizer = tiny
    prompts, budgets = (PROMPTS + TYPED) * 2, [1, 2, 3, 4] * 4

    def complete(rule: bool) -> list[str]:
        return Completer(model, tokenizer, CLEANING, settings, new_word_first=rule).complete(prompts,
                                                                                                      budgets)

    with_rule, without = complete(True), complete(False)
    assert all(c[:1] in (" ", "\t") for c in with_rule)
    for prompt, completion in zip(prompts, with_rule):
        words = clean_text(prompt + completion, CLEANING).split()
        assert words == clean_text(prompt, CLEANING).split() + clean_text(completion, CLEANING).split()
    assert not all(c[:1] in (" ", "\t") for c in without)


@pytest.mark.parametrize("settings", SETTINGS[:2])
def test_a_rows_completion_does_not_depend_on_its_batch_with_typed_prompts_and_the_rule(tiny, settings):
    _, model, tokenizer = tiny
    completer = Completer(model, tokenizer, CLEANING, settings, prompt_form="raw", new_word_first=True)
    budgets = [2, 3, 1, 2]
    assert completer.complete(TYPED, budgets) == [completer.complete([p], [b])[0] for p, b in zip(TYPED, budgets)]


@pytest.mark.parametrize("form, expected", [("raw", "Going to the BEACH,"), ("cleaned", "going to the beach")])
def test_the_prompt_form_is_what_reaches_the_model(tiny, form, expected):
    _, model, tokenizer = tiny
    seen: list[torch.Tensor] = []
    hook = model.register_forward_pre_hook(lambda module, args, kwargs: seen.append(kwargs["input_ids"]),
                                           with_kwargs=True)
    try:
        evaluate(Completer(model, tokenizer, CLEANING, prompt_form=form),
                 [Example("going to the beach", "today", "Going to the BEACH,")],
                 project_config(EvalConfig, "eval"), 4, CLEANING, intervals=False)
    finally:
        hook.remove()
    assert tokenizer.decode(seen[0][0]) == expected


def test_prompt_settings_are_checked():
    with pytest.raises(UserError, match=r"gpt2.prompt_forms=\['typed'\]"):
        project_config(GPT2Config, "gpt2", prompt_forms=["typed"])
    with pytest.raises(UserError, match="gpt2.new_word_first"):
        project_config(GPT2Config, "gpt2", new_word_first=[])


# --------------------------------------------------------------------------- whole next words, like the light models
def reference_next_words(model, tokenizer, prompt: str, beams: int, max_tokens: int, k: int) -> list[str]:
    """TransformerCompleter.next_words written the slow way: one prompt, no cache, every forward from scratch."""
    continuing, growing = set(word_continuing_token_ids(tokenizer)), set(word_growing_token_ids(tokenizer))
    line_breaks = {i for i in range(len(tokenizer)) if {"\n", "\r"} & set(tokenizer.decode([i]))}
    banned = continuing | set(tokenizer.all_special_ids) | line_breaks  # a word begins with a space
    prompt_ids = tokenizer(prompt)["input_ids"]

    def log_probs(ids: list[int]) -> torch.Tensor:
        with torch.no_grad():
            return model(input_ids=torch.tensor([ids])).logits[0, -1].float().log_softmax(-1)

    first = log_probs(prompt_ids)
    allowed = [i for i in first.argsort(descending=True).tolist() if i not in banned][:beams]
    scored: dict[str, float] = {}
    for token in allowed:
        word, score = [token], float(first[token])
        while True:
            after = log_probs(prompt_ids + word)
            best = int(after.argmax())
            if best in growing and len(word) < max_tokens:
                word.append(best)
                score += float(after[best])
                continue
            score += float(torch.logsumexp(after[[i for i in range(len(after)) if i not in growing]], 0))
            break
        cleaned = clean_text(tokenizer.decode(word), CLEANING).split()
        if cleaned and score > scored.get(cleaned[0], float("-inf")):
            scored[cleaned[0]] = score
    return sorted(scored, key=lambda w: -scored[w])[:k]


@pytest.mark.parametrize("form, continuing_bias", [("cleaned", 0.0), ("raw", 0.0), ("cleaned", 4.0)])
def test_next_words_are_beams_over_the_first_word(tiny, form, continuing_bias):
    """Batched with the cache = the slow reference, prompt by prompt; each a new whole word, at most k. The random
    model rarely grows a word past its first token, so one case raises the scores of word-continuing tokens (a hook
    on the output layer) to make words of several tokens."""
    _, model, tokenizer = tiny
    bias = torch.zeros(model.lm_head.out_features)
    bias[word_growing_token_ids(tokenizer)] = continuing_bias
    hook = model.lm_head.register_forward_hook(lambda module, args, output: output + bias)
    try:
        completer = Completer(model, tokenizer, CLEANING, next_word_beams=5, prompt_form=form)
        prompts = PROMPTS + TYPED
        ranked = completer.next_words(prompts, 3)
        expected = [reference_next_words(model, tokenizer, p, 5, completer.max_tokens_per_word, 3) for p in prompts]
        alone = [completer.next_words([p], 3)[0] for p in prompts]
    finally:
        hook.remove()
    assert ranked == expected
    assert ranked == alone  # a row does not depend on its batch
    assert all(1 <= len(words) <= 3 and len(set(words)) == len(words) for words in ranked)
    pieces = [len(tokenizer(" " + w, add_special_tokens=False)["input_ids"]) for words in ranked for w in words]
    assert (max(pieces) > 1) == (continuing_bias > 0)


def test_a_word_grows_by_letters_and_ends_at_a_space_a_mark_or_the_end_of_text(tiny):
    _, _, tokenizer = tiny
    growing = set(word_growing_token_ids(tokenizer))
    ids = {piece: tokenizer.convert_tokens_to_ids(piece) for piece in ("s", "ing", "Ġthe", "!", ".", ",", "'")}
    assert {ids["s"], ids["ing"]} <= growing
    assert not {ids["Ġthe"], ids["!"], ids["."], ids[","], ids["'"], tokenizer.eos_token_id} & growing
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    assert all(i in growing for i, piece in enumerate(pieces) if piece[0].isascii() and piece[0].isalnum())


def test_next_word_beams_are_checked():
    with pytest.raises(UserError, match="gpt2.next_word_beams=2"):
        project_config(GPT2Config, "gpt2", next_word_beams=2)
