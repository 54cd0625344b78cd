"""`autocomplete`: suggestions for a text given as an argument, or for each line typed on standard input.

    autocomplete "i can't wait to see"          # next words
    autocomplete "going to the bea"              # the word being typed first (beach), then the phrase
    autocomplete -n 5 -w 2 --model transformer "good morning"
    autocomplete --model lstm-int8 "i can't wait to see"   # the int8 phone model
    autocomplete                                 # interactive: one line, one set of suggestions

Exit codes: 0 suggestions printed; 1 the model cannot be loaded; 2 bad usage (an empty prompt).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from src.errors import UserError

EXIT_MODEL, EXIT_USAGE = 1, 2


def lstm_suggester(model_dir: Path, int8: bool = False) -> Callable[[str, int, int], list[str]]:
    """The trained LSTM, or with `int8` its phone version (src/mobile.py), made from it at load time."""
    from src.autocomplete import Autocompleter
    from src.data_utils import DataConfig
    from src.eval_lstm import LSTMCompleter
    from src.mobile import quantize_int8
    from src.params import PARAMS_FILE, load_config

    lstm = LSTMCompleter.from_dir(model_dir)
    cleaning = load_config(DataConfig, "data") if PARAMS_FILE.exists() else DataConfig()
    completer = Autocompleter(quantize_int8(lstm.model) if int8 else lstm.model, lstm.tokenizer, cleaning)
    return completer.suggest


def transformer_suggester(source: str) -> Callable[[str, int, int], list[str]]:
    """Beam search gives `n` different continuations; a text ending inside a word is continued from it."""
    import torch

    from src.autocomplete import split_partial_word
    from src.data_utils import DataConfig, clean_text
    from src.eval_transformer_pipeline import load_transformer

    model, tokenizer = load_transformer(source)
    cleaning = DataConfig()

    @torch.no_grad()
    def suggest(text: str, n_suggestions: int, n_words: int) -> list[str]:
        encoded = tokenizer(text, return_tensors="pt")
        output = model.generate(**encoded, max_new_tokens=4 * n_words + 2, num_beams=max(n_suggestions, 2),
                                num_return_sequences=n_suggestions, do_sample=False,
                                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        continuations = tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
        partial = split_partial_word(text)[1]
        return [" ".join(clean_text(partial + c, cleaning).split()[:n_words]) for c in continuations]

    return suggest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autocomplete", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?", help="the text typed so far; omit it to type lines interactively")
    parser.add_argument("-n", "--suggestions", type=int, default=3, help="how many suggestions (default 3)")
    parser.add_argument("-w", "--words", type=int, default=3, help="words per suggestion (default 3)")
    parser.add_argument("--model", choices=("lstm", "lstm-int8", "transformer"), default="lstm",
                        help="lstm-int8: the int8 phone model, about 4x faster per word on a CPU")
    parser.add_argument("--model-dir", type=Path, default=Path("models/lstm"), help="the trained LSTM")
    parser.add_argument("--transformer", default="distilgpt2", help="gpt2.model source for --model transformer")
    args = parser.parse_args(argv)
    if args.text is not None and not args.text.strip():
        print("autocomplete: the prompt is empty; type some words first", file=sys.stderr)
        return EXIT_USAGE
    if args.suggestions < 1 or args.words < 1:
        print("autocomplete: --suggestions and --words must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.model == "transformer":
            suggest = transformer_suggester(args.transformer)
        else:
            suggest = lstm_suggester(args.model_dir, int8=args.model == "lstm-int8")
    except UserError as exc:
        print(f"autocomplete: {exc}", file=sys.stderr)
        return EXIT_MODEL
    lines = [args.text] if args.text is not None else (line.rstrip("\n") for line in sys.stdin)
    for line in lines:
        if not line.strip():
            continue
        for suggestion in suggest(line, args.suggestions, args.words):
            print(suggestion)
        if args.text is None:
            print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
