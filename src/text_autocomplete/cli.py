"""`autocomplete`: suggestions for a text given as an argument, or for each line typed on standard input.

    autocomplete "i can't wait to see"          # next words
    autocomplete "going to the bea"              # the word being typed first (beach), then the phrase
    autocomplete -n 5 -w 2 --model transformer "good morning"
    autocomplete --model phone "i can't wait to see"      # the phone model (ExecuTorch program, 8-bit n-gram)
    autocomplete                                 # interactive: one line, one set of suggestions
    autocomplete serve                           # a web page and an HTTP API at http://127.0.0.1:8000/

`autocomplete serve --help` lists the server's options; to complete the word "serve" itself, type
`autocomplete -- serve`.

`lstm` (the default) is the default light model: the LSTM mixed with the n-gram model saved beside it; `phone` is
its phone version, the files of models/mobile run as an app runs them (phone.py), which `autocomplete serve` uses.
The project (params.yaml, models/) is --project, else, as git and dvc find theirs, the working folder or
the first folder above it holding params.yaml and dvc.yaml, else $AUTOCOMPLETE_PROJECT, else the checkout
this command was installed from; the model's folder is --model-dir, else $AUTOCOMPLETE_MODEL_DIR, else the
project's models/lstm (for `phone`: $AUTOCOMPLETE_PHONE_DIR, else models/mobile). Errors and `autocomplete serve` name the project used. Only the last
`autocomplete.context_words` words of a text are read.

Exit codes: 0 suggestions printed; 1 the model or params.yaml cannot be loaded; 2 bad usage (an empty prompt);
3 a line of standard input was not UTF-8 (reported on standard error, the other lines are answered).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from text_autocomplete.errors import UserError
from text_autocomplete.paths import DVC_FILE, LSTM_DIR, MOBILE_DIR, PARAMS_FILE

if TYPE_CHECKING:
    from text_autocomplete.autocomplete import Autocompleter
    from text_autocomplete.data_utils import DataConfig

EXIT_MODEL, EXIT_USAGE, EXIT_INPUT = 1, 2, 3
MODEL_DIR_ENV, PHONE_DIR_ENV = "AUTOCOMPLETE_MODEL_DIR", "AUTOCOMPLETE_PHONE_DIR"
# Where the project lives: like git and dvc, the folder the command runs in or the first one above it that holds
# params.yaml and dvc.yaml; outside any project, $AUTOCOMPLETE_PROJECT, else the checkout the package was
# installed from (pip install -e .). Here and not in paths.py, which every stage imports: the command's lookup is
# no stage's concern.
PROJECT_ENV = "AUTOCOMPLETE_PROJECT"
Suggest = Callable[[str, int, int], list[str]]
PHONE = "phone"
MODEL_FOLDERS = {"lstm": LSTM_DIR, PHONE: MOBILE_DIR}  # each light model's folder in the project, by --model
FOLDER_ENVS = {"lstm": MODEL_DIR_ENV, PHONE: PHONE_DIR_ENV}  # ... and the variable that may name it elsewhere


def light_autocompleter(model_dir: Path, cleaning: DataConfig, phone: bool = False) -> Autocompleter:
    """The shipped light model (the LSTM mixed with the n-gram model) from its folder, or with `phone` the phone
    model's files (phone.py: the ExecuTorch program through ExecuTorch's runtime, the memory-mapped n-gram)."""
    if phone:
        from text_autocomplete.phone import PhoneAutocompleter, PhoneModel

        return PhoneAutocompleter(PhoneModel(model_dir), cleaning)
    from text_autocomplete.autocomplete import Autocompleter
    from text_autocomplete.light_model import load_light_model

    model, tokenizer = load_light_model(model_dir)
    return Autocompleter(model, tokenizer, cleaning)


def transformer_suggester(source: str, cleaning: DataConfig, max_tokens_per_word: int) -> Suggest:
    """Beam search gives `n` different continuations; a text ending inside a word is continued from it; at most
    `max_tokens_per_word` tokens per asked word (+ 2), the cap eval_gpt2 uses."""
    import torch

    from text_autocomplete.autocomplete import split_partial_word
    from text_autocomplete.data_utils import clean_text
    from text_autocomplete.eval_transformer_pipeline import load_transformer

    model, tokenizer = load_transformer(source)

    @torch.no_grad()
    def suggest(text: str, n_suggestions: int, n_words: int) -> list[str]:
        encoded = tokenizer(text, return_tensors="pt")
        output = model.generate(**encoded, max_new_tokens=max_tokens_per_word * n_words + 2, num_beams=max(n_suggestions, 2),
                                num_return_sequences=n_suggestions, do_sample=False,
                                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        continuations = tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
        partial = split_partial_word(text)[1]
        return [" ".join(clean_text(partial + c, cleaning).split()[:n_words]) for c in continuations]

    return suggest


def stdin_lines() -> Iterator[str | None]:
    """Each line of standard input; None for a line that is not UTF-8 (reported on standard error)."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            print(f"autocomplete: standard input line {number} is not UTF-8 ({exc.reason} at byte {exc.start}: "
                  f"{raw[exc.start:exc.start + 1]!r}); skipped", file=sys.stderr)
            yield None


def is_utf8(text: str) -> bool:
    """False for a command-line argument that held bytes that are not UTF-8 (Python keeps them as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def add_location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, default=None,
                        help=f"the project folder (params.yaml, models/); default: the one around the working folder, "
                             f"else ${PROJECT_ENV}, else the checkout autocomplete was installed from")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help=f"the light model's folder; default ${MODEL_DIR_ENV}, else PROJECT/{LSTM_DIR} (for "
                             f"--model {PHONE}: ${PHONE_DIR_ENV}, else PROJECT/{MOBILE_DIR})")


def enclosing_project(folder: Path | str) -> Path | None:
    """`folder` or the first folder above it holding params.yaml and dvc.yaml; None when there is none."""
    folder = Path(folder).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / PARAMS_FILE).is_file() and (candidate / DVC_FILE).is_file():
            return candidate
    return None


def project_root(cwd: Path | str = ".") -> tuple[Path, str]:
    """The project a command run in `cwd` uses, and how it was found (for its messages): the enclosing project,
    else $AUTOCOMPLETE_PROJECT, else the install checkout, else `cwd` itself."""
    enclosing = enclosing_project(cwd)
    if enclosing is not None:
        return enclosing, "the project around the working folder"
    if os.environ.get(PROJECT_ENV):
        return Path(os.environ[PROJECT_ENV]), f"${PROJECT_ENV}"
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / PARAMS_FILE).is_file():
        return checkout, "the checkout autocomplete was installed from"
    return Path(cwd).resolve(), "the working folder (no project found)"


@dataclass(frozen=True)
class Locations:
    """Where a command reads params.yaml and the light model, and how its project was found (said in messages)."""

    project: Path
    found_by: str
    params_file: Path
    model_dir: Path

    def describe(self) -> str:
        return f"project {self.project} ({self.found_by})"


def locations(args: argparse.Namespace) -> Locations:
    """params.yaml and the light model's folder: --project, else the project around the working folder, else
    the environment, else this checkout (project_root); the model's folder may be set apart."""
    project, found_by = (args.project, "--project") if args.project else project_root()
    model = args.model if args.model in MODEL_FOLDERS else "lstm"  # the transformer reads no folder
    model_dir = args.model_dir or Path(os.environ.get(FOLDER_ENVS[model]) or project / MODEL_FOLDERS[model])
    return Locations(project, found_by, project / PARAMS_FILE, model_dir)


def config_reader(params_file: Path):
    """A function giving the typed config of one params.yaml section, read once and checked as the stages check it."""
    from text_autocomplete.params import build_config, load_params, section

    params = load_params(params_file)

    def config(cls, name: str):
        return build_config(cls, section(params, name, params_file), name, params_file)

    return config


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="autocomplete", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?", help="the text typed so far; omit it to type lines interactively")
    parser.add_argument("-n", "--suggestions", type=int, default=3, help="how many suggestions (default 3)")
    parser.add_argument("-w", "--words", type=int, default=3, help="words per suggestion (default 3)")
    parser.add_argument("--model", choices=("lstm", PHONE, "transformer"), default="lstm",
                        help=f"{PHONE}: the phone model (an int8 ExecuTorch program and an 8-bit n-gram)")
    add_location_options(parser)
    parser.add_argument("--transformer", default=None, help="a gpt2.model source; default: params.yaml gpt2.model")
    return parser.parse_args(argv)


def serve_main(argv: list[str]) -> int:
    """`autocomplete serve`: load the light model once and answer the web page and the API until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="autocomplete serve",
                                     description="A web page and an HTTP API (POST /api/suggest, GET /api/health, "
                                                 "/docs) answered by the light model.")
    parser.add_argument("--model", choices=("lstm", PHONE), default=PHONE,
                        help=f"{PHONE} (default): the phone model, what a phone runs; lstm: the fp32 model it is made from")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="default 8000; 0 takes a free port")
    add_location_options(parser)
    args = parser.parse_args(argv)
    where = locations(args)
    try:
        from text_autocomplete.autocomplete import AutocompleteConfig
        from text_autocomplete.data_utils import DataConfig
        from text_autocomplete.serve import ServeConfig, create_app, run

        config = config_reader(where.params_file)
        serve_config = config(ServeConfig, "serve")
        context_words = config(AutocompleteConfig, "autocomplete").context_words
        completer = light_autocompleter(where.model_dir, config(DataConfig, "data"), phone=args.model == PHONE)
    except UserError as exc:
        print(f"autocomplete: {exc} ({where.describe()})", file=sys.stderr)
        return EXIT_MODEL
    print(f"autocomplete: {where.describe()}, model {where.model_dir}", flush=True)
    try:
        run(create_app(completer, args.model, serve_config, context_words), args.host, args.port, args.model)
    except OSError as exc:  # the address is taken or cannot be bound
        print(f"autocomplete serve: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    args = parse_arguments(argv)
    if args.text is not None and not args.text.strip():
        print("autocomplete: the prompt is empty; type some words first", file=sys.stderr)
        return EXIT_USAGE
    if args.text is not None and not is_utf8(args.text):
        print("autocomplete: the prompt is not valid UTF-8", file=sys.stderr)
        return EXIT_USAGE
    if args.suggestions < 1 or args.words < 1:
        print("autocomplete: --suggestions and --words must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    where = locations(args)
    try:
        from text_autocomplete.autocomplete import AutocompleteConfig, last_words
        from text_autocomplete.data_utils import DataConfig

        config = config_reader(where.params_file)
        cleaning, context_words = config(DataConfig, "data"), config(AutocompleteConfig, "autocomplete").context_words
        if args.model == "transformer":
            from text_autocomplete.eval_transformer_pipeline import GPT2Config

            gpt2 = config(GPT2Config, "gpt2")
            suggest = transformer_suggester(args.transformer or gpt2.model, cleaning, gpt2.max_tokens_per_word)
        else:
            suggest = light_autocompleter(where.model_dir, cleaning, phone=args.model == PHONE).suggest
    except UserError as exc:
        print(f"autocomplete: {exc} ({where.describe()})", file=sys.stderr)
        return EXIT_MODEL
    lines = [args.text] if args.text is not None else stdin_lines()
    status = 0
    for line in lines:
        if line is None:
            status = EXIT_INPUT
        elif line.strip():
            for suggestion in suggest(last_words(line, context_words), args.suggestions, args.words):
                print(suggestion)
        if args.text is None:
            print(flush=True)  # one blank line closes each answer, so a reading program stays in step
    return status


if __name__ == "__main__":
    sys.exit(main())
