"""Every model the project scores, listed once: its key, its label, whether it is a light model (a language model a
phone could run), the heavy transformer or the baseline, what it is built from, the files it ships, and which
models it is compared with.

The key names the model's files (paths.py: metrics/<key>.yml, results/<key>.json, results/<key>_examples.csv,
results/<key>_scores.csv) and a comparison's (metrics/<a>-<b>.yml). Keys before this registry: `lstm` was the
mixture (now `mix`), `lstm_int8` its int8 version (then `mix_int8`, an int8 word table on PyTorch, replaced by `phone`,
the ExecuTorch program and the pruned 8-bit n-gram); `lstm_alone`, `ngram`, `baseline` and `gpt2` kept their names.
"""
from __future__ import annotations

from dataclasses import dataclass

from text_autocomplete.paths import (
    LSTM_DIR,
    MIXTURE_FILE,
    MOBILE_DIR,
    MODEL_FILE,
    NGRAM_FILE,
    PHONE_FILES,
    TOKENIZER_FILE,
)

# What a model is, for what is measured of it: a light model is a language model (perplexities, the keyboard
# simulation, next-word rankings), scored by eval_lstm; the heavy one is the pretrained transformer, scored by
# eval_gpt2; the baseline answers the same words to every prompt.
LIGHT_KIND, HEAVY_KIND, BASELINE_KIND = "light", "heavy", "baseline"
# What a light model is built from (eval_lstm builds it): the trained LSTM, the n-gram model, or the phone's files
# (phone.py: the int8 LSTM step as an ExecuTorch program and the pruned 8-bit n-gram, mixed as the shipped model is).
LSTM_PART, NGRAM_PART, PHONE_PART = "lstm", "ngram", "phone"


@dataclass(frozen=True)
class Model:
    key: str
    label: str  # in tables and generated sentences
    kind: str  # LIGHT_KIND, HEAVY_KIND or BASELINE_KIND
    parts: tuple[str, ...] = ()  # a light model's parts; two parts are mixed word by word (mixture.py)
    files: tuple[str, ...] = ()  # the files it ships, relative to the project root (their bytes are its size)
    compare_with: tuple[str, ...] = ()  # the report compares it with these, text by text (this minus each)
    ships: bool = False  # the default light model: `autocomplete`, `serve`, the phone version's source (which
    # model a mobile team should ship is the report's decision, decision.py, over every model)
    phone_of: str = ""  # the fp32 light model this one is the phone version of

    @property
    def is_light(self) -> bool:
        return self.kind == LIGHT_KIND


def _light_files(*names: str) -> tuple[str, ...]:
    return tuple(f"{LSTM_DIR}/{name}" for name in names)


MIX, LSTM_ALONE, NGRAM, PHONE, GPT2, BASELINE = "mix", "lstm_alone", "ngram", "phone", "gpt2", "baseline"
MODELS: tuple[Model, ...] = (  # the order of the report's tables
    Model(MIX, "LSTM + n-gram", LIGHT_KIND, (LSTM_PART, NGRAM_PART),
          _light_files(MODEL_FILE, NGRAM_FILE, MIXTURE_FILE, TOKENIZER_FILE),
          compare_with=(GPT2, LSTM_ALONE, NGRAM, BASELINE), ships=True),
    Model(LSTM_ALONE, "LSTM alone", LIGHT_KIND, (LSTM_PART,), _light_files(MODEL_FILE, TOKENIZER_FILE),
          compare_with=(GPT2,)),
    Model(NGRAM, "n-gram", LIGHT_KIND, (NGRAM_PART,), _light_files(NGRAM_FILE, TOKENIZER_FILE), compare_with=(GPT2,)),
    Model(PHONE, "phone", LIGHT_KIND, (PHONE_PART,),
          tuple(f"{MOBILE_DIR}/{name}" for name in PHONE_FILES), compare_with=(MIX,), phone_of=MIX),
    Model(GPT2, "transformer", HEAVY_KIND, compare_with=(BASELINE,)),
    Model(BASELINE, "baseline", BASELINE_KIND),
)
LABELS = {model.key: model.label for model in MODELS}
LIGHT_MODELS = tuple(model.key for model in MODELS if model.is_light)
SHIPPED = next(model.key for model in MODELS if model.ships)  # the default light model (decision.py picks what ships)
TRANSFORMER = next(model.key for model in MODELS if model.kind == HEAVY_KIND)
PHONE_SOURCE = next(model.phone_of for model in MODELS if model.key == PHONE)  # the fp32 model the phone's is made of
# The paired comparisons the report writes (metrics/<a>-<b>.yml), a minus b: the pairs it shows (compare_with),
# then every other pair of models, which the decision rule may weigh (decision.py: every model that fits).
SHOWN_PAIRS = tuple((model.key, other) for model in MODELS for other in model.compare_with)
PAIRS = SHOWN_PAIRS + tuple((a.key, b.key) for i, a in enumerate(MODELS) for b in MODELS[i + 1:]
                            if not {(a.key, b.key), (b.key, a.key)} & set(SHOWN_PAIRS))

