"""The LSTM: shapes, the adaptive softmax, generation rules, overfitting, checkpoints and resume."""
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
import torch

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.lstm_model import (
    CheckpointError,
    GenerationConfig,
    LSTMConfig,
    LSTMLanguageModel,
    load_model,
    save_model,
)
from text_autocomplete.lstm_train import BEST_EPOCH_KEYS, TokenizerConfig, TrainConfig, Trainer
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID

from conftest import project_config

CONFIG = LSTMConfig(vocab_size=60, embedding_dim=16, hidden_dim=24, num_layers=2, dropout=0.0, tie_weights=True,
                    softmax_cutoffs=(20, 40))
PROMPTS = [[BOS_ID, 5, 6, 7], [BOS_ID, 8], [BOS_ID, 9, 10]]


def make_model(config: LSTMConfig = CONFIG, seed: int = 0) -> LSTMLanguageModel:
    torch.manual_seed(seed)
    return LSTMLanguageModel(config).eval()


def test_forward_shapes_and_normalised_scores():
    model = make_model()
    tokens = torch.randint(4, 60, (3, 7))
    log_probs, (h, c) = model(tokens)
    assert log_probs.shape == (3, 7, 60)
    assert h.shape == c.shape[:2] + (16,) and c.shape == (2, 3, 24)  # projected to the embedding size for tying
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(3, 7), atol=1e-5)


@pytest.mark.parametrize("cutoffs", [(20, 40), ()])
def test_adaptive_nll_equals_full_softmax(cutoffs):
    model = make_model(replace(CONFIG, softmax_cutoffs=cutoffs))
    hidden = torch.randn(50, 16)
    targets = torch.randint(0, 60, (50,))
    full = -model.log_probs(hidden).gather(1, targets[:, None]).squeeze(1)
    assert torch.allclose(model.token_nll(hidden, targets), full, atol=1e-5)


def test_weights_are_tied():
    model = make_model()
    assert model.output_vectors is None and model._word_vectors() is model.embedding.weight


def test_prompt_state_uses_each_prompts_last_real_token():
    model = make_model()
    batched, _ = model.prompt_state(PROMPTS)
    for row, prompt in enumerate(PROMPTS):
        alone, _ = model.prompt_state([prompt])
        assert torch.allclose(batched[row], alone[0], atol=1e-5)


def test_generate_never_emits_pad_unk_or_bos():
    model = make_model()
    with torch.no_grad():  # make the forbidden tokens the model's favourites
        model.output_bias[[PAD_ID, UNK_ID, BOS_ID]] = 50.0
    for generation in (GenerationConfig(), GenerationConfig(do_sample=True, seed=3)):
        for row in model.generate(PROMPTS, max_new_tokens=6, generation=generation):
            assert not {PAD_ID, UNK_ID, BOS_ID} & set(row)


def test_eos_stops_a_sequence_unless_held_back():
    model = make_model()
    with torch.no_grad():
        model.output_bias[EOS_ID] = 50.0
    assert model.generate(PROMPTS, max_new_tokens=5) == [[], [], []]
    held = model.generate(PROMPTS, max_new_tokens=[2, 4, 3], min_new_tokens=[2, 4, 3])
    assert [len(row) for row in held] == [2, 4, 3] and all(EOS_ID not in row for row in held)


def test_sampling_is_deterministic_with_a_seed():
    model = make_model()
    sample = GenerationConfig(do_sample=True, top_k=10, top_p=0.9, temperature=1.2, seed=7)
    first = model.generate(PROMPTS, max_new_tokens=8, min_new_tokens=8, generation=sample)
    assert first == model.generate(PROMPTS, max_new_tokens=8, min_new_tokens=8, generation=sample)
    other = model.generate(PROMPTS, max_new_tokens=8, min_new_tokens=8, generation=replace(sample, seed=8))
    assert first != other
    greedy = model.generate(PROMPTS, max_new_tokens=8, min_new_tokens=8)
    assert greedy == model.generate(PROMPTS, max_new_tokens=8, min_new_tokens=8)


def test_top_k_one_is_greedy():
    model = make_model()
    greedy = model.generate(PROMPTS, max_new_tokens=5, min_new_tokens=5)
    assert greedy == model.generate(PROMPTS, max_new_tokens=5, min_new_tokens=5,
                                    generation=GenerationConfig(do_sample=True, top_k=1, seed=1))


# --------------------------------------------------------------------------- beam search
def test_a_beam_of_one_is_greedy_decoding():
    model = make_model()
    budgets = [3, 1, 5]
    assert model.beam_search(PROMPTS, budgets, num_beams=1) == model.generate(PROMPTS, budgets, budgets)


def test_a_beam_as_wide_as_all_shorter_sequences_finds_the_most_probable_completion():
    """With 8 words and a beam of 64 = 8 x 8, nothing is pruned before the last of up to 3 steps: beam search
    must return the most probable sequence, found here by scoring every sequence with `forward` (teacher
    forcing). The prompts have different budgets in one batch, so a prompt that is done must stay as it was."""
    small = LSTMConfig(vocab_size=12, embedding_dim=8, hidden_dim=12, num_layers=2, dropout=0.0, tie_weights=True,
                       softmax_cutoffs=())
    model = make_model(small, seed=0)
    with torch.no_grad():  # sharper weights: the words before matter more, so a beam that loses track shows
        for parameter in model.parameters():
            parameter.mul_(4)
    words = [w for w in range(small.vocab_size) if w not in (PAD_ID, UNK_ID, BOS_ID, EOS_ID)]
    prompts, budgets = [[BOS_ID, 5, 6], [BOS_ID, 7], [BOS_ID, 4, 9, 10], [BOS_ID, 8, 11]], [3, 1, 3, 3]

    def score(prompt: list[int], sequence: tuple[int, ...]) -> float:
        with torch.no_grad():
            log_probs = model(torch.tensor([prompt + list(sequence[:-1])]))[0][0]
        return sum(log_probs[len(prompt) - 1 + i, w].item() for i, w in enumerate(sequence))

    expected = [list(max(itertools.product(words, repeat=b), key=lambda seq: score(p, seq)))
                for p, b in zip(prompts, budgets)]
    assert model.beam_search(prompts, budgets, num_beams=len(words) ** 2) == expected


def test_beam_search_gives_each_prompt_its_budget_and_never_a_special_token():
    model = make_model()
    with torch.no_grad():  # make the forbidden tokens and <eos> the model's favourites
        model.output_bias[[PAD_ID, UNK_ID, BOS_ID, EOS_ID]] = 50.0
    budgets = [4, 1, 6]
    rows = model.beam_search(PROMPTS, budgets, num_beams=4)
    assert [len(row) for row in rows] == budgets
    assert not any({PAD_ID, UNK_ID, BOS_ID, EOS_ID} & set(row) for row in rows)


def test_beam_search_of_a_batch_equals_one_prompt_at_a_time():
    model = make_model(seed=1)
    budgets = [2, 5, 3]
    batched = model.beam_search(PROMPTS, budgets, num_beams=3)
    assert batched == [model.beam_search([p], [b], num_beams=3)[0] for p, b in zip(PROMPTS, budgets)]


def test_loss_falls_when_overfitting_50_texts():
    torch.manual_seed(0)
    sequences = torch.randint(4, 60, (50, 12))
    sequences[:, 0] = BOS_ID
    inputs, targets = sequences[:, :-1], sequences[:, 1:]
    mask = torch.ones_like(targets, dtype=torch.bool)
    model = make_model(replace(CONFIG, embedding_dim=64, hidden_dim=128)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    first = model.loss(inputs, targets, mask).item()
    for _ in range(200):
        loss = model.loss(inputs, targets, mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.3 * first


# --------------------------------------------------------------------------- checkpoints
VOCAB = {f"w{i}": i for i in range(60)}


def test_checkpoint_round_trip(tmp_path):
    model = make_model()
    save_model(model, tmp_path / "model.pt", VOCAB)
    loaded = load_model(tmp_path / "model.pt", vocab=VOCAB)
    tokens = torch.randint(4, 60, (2, 5))
    assert torch.equal(model(tokens)[0], loaded(tokens)[0])
    assert model.generate(PROMPTS, 4, 4) == loaded.generate(PROMPTS, 4, 4)


def test_bad_checkpoints_give_clear_messages(tmp_path):
    with pytest.raises(CheckpointError, match="model file not found.*dvc repro train_lstm"):
        load_model(tmp_path / "missing.pt")
    save_model(make_model(), tmp_path / "model.pt", VOCAB)
    data = (tmp_path / "model.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated.pt: not a readable LSTM checkpoint"):
        load_model(tmp_path / "truncated.pt")
    other_vocab = {**VOCAB, "w5": 61}
    with pytest.raises(CheckpointError, match="another vocabulary"):
        load_model(tmp_path / "model.pt", vocab=other_vocab)


# --------------------------------------------------------------------------- the trainer
TRAIN_TEXTS = [f"i like {w} and {v} a lot today"
               for w in ("cats", "dogs", "tea", "rain") for v in ("you", "me", "it")] * 5
VAL_TEXTS = ["i like cats and you a lot today", "i like tea and me a lot today"]


class FakeLive:
    """Records what the trainer logs, like dvclive.Live."""

    def __init__(self):
        self.rows, self.current, self.summary = [], {}, {}

    def log_metric(self, name, value):
        self.current[name] = value

    def next_step(self):
        self.rows.append(self.current)
        self.current = {}


def make_trainer(tmp_path, epochs: int = 3) -> Trainer:
    return Trainer(TRAIN_TEXTS, VAL_TEXTS, replace(CONFIG, vocab_size=0, softmax_cutoffs=(8,)),
                   TokenizerConfig(vocab_size=100, min_frequency=1),
                   project_config(TrainConfig, "train", epochs=epochs, batch_size=8, lr=0.01, warmup_steps=2, patience=5,
                                  val_rouge_texts=2, show_examples=1, num_threads=0),
                   project_config(EvalConfig, "eval"), project_config(DataConfig, "data"), tmp_path / "out",
                   tmp_path / "ckpt" / "train.pt")


def test_trainer_is_deterministic_and_resumes_after_interruption(tmp_path, monkeypatch):
    straight = make_trainer(tmp_path / "a")
    straight_live = FakeLive()
    summary = straight.fit(straight_live)
    assert summary["epochs_run"] == 3 and len(straight_live.rows) == 3
    # dvclive's summary keeps the best epoch's figures beside the last epoch's: those of the lowest val loss
    best_epoch = min(range(3), key=lambda i: straight_live.rows[i]["val_loss"])
    assert straight_live.summary["best"] == {"epoch": best_epoch + 1, **{
        key: straight_live.rows[best_epoch][key] for key in BEST_EPOCH_KEYS if key != "epoch"}}
    assert summary["epochs_run"] == 3
    assert not (tmp_path / "a" / "ckpt" / "train.pt").exists()  # a finished run leaves nothing to resume

    interrupted = make_trainer(tmp_path / "b")
    calls = {"n": 0}
    original = Trainer.train_epoch

    def crash_in_second_epoch(self, epoch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(FakeLive())
    monkeypatch.setattr(Trainer, "train_epoch", original)
    assert (tmp_path / "b" / "ckpt" / "train.pt").exists()

    resumed = make_trainer(tmp_path / "b")
    resumed_live = FakeLive()
    resumed.fit(resumed_live)
    assert len(resumed_live.rows) == 3  # the first epoch is re-logged from the checkpoint
    for name, tensor in straight.model.state_dict().items():
        assert torch.allclose(tensor, resumed.model.state_dict()[name], atol=1e-6), name
    assert straight_live.rows[-1]["val_loss"] == resumed_live.rows[-1]["val_loss"]


# --------------------------------------------------------------------------- decoding for the evaluation
def test_consensus_picks_the_completion_the_samples_agree_with():
    from text_autocomplete.eval_lstm import consensus

    samples = [[5, 6, 7], [5, 6, 9], [5, 8, 7], [4, 6, 7]]
    assert consensus([[9, 9, 9], [5, 6, 7], [4, 4, 4]], samples) == [5, 6, 7]
    assert consensus([[1], [2]], samples) == [1]  # a tie keeps the earliest (the greedy one comes first)


def test_completer_gives_exactly_the_budget_in_every_decoding():
    from text_autocomplete.eval_lstm import DecodingCompleter, LSTMDecoding
    from text_autocomplete.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(TRAIN_TEXTS, vocab_size=100, min_frequency=1)
    model = make_model(replace(CONFIG, vocab_size=tokenizer.get_vocab_size(), softmax_cutoffs=(8,)))
    prompts, budgets = ["i like cats", "i like tea and me a"], [3, 1]
    for decoding in (LSTMDecoding(), LSTMDecoding(mbr_samples=4, seed=1), LSTMDecoding(do_sample=True, top_p=0.5)):
        completer = DecodingCompleter(model, tokenizer, decoding)
        completions = completer.complete(prompts, budgets)
        assert [len(c.split()) for c in completions] == budgets
        assert completions == completer.complete(prompts, budgets)  # seeded


def test_next_words_are_the_top_k_of_one_text_read_alone():
    """next_words (batched, padded) equals the k best real words of `forward` over each prompt read alone."""
    from text_autocomplete.evaluation import Example, next_word_candidates
    from text_autocomplete.light_model import LSTMCompleter
    from text_autocomplete.tokenizer import encode_texts, train_tokenizer

    tokenizer = train_tokenizer(TRAIN_TEXTS, vocab_size=100, min_frequency=1)
    model = make_model(replace(CONFIG, vocab_size=tokenizer.get_vocab_size(), softmax_cutoffs=(8,)))
    completer = LSTMCompleter(model, tokenizer)
    prompts = ["i like cats", "i like tea and me a", "cats"]
    for k in (1, 3):
        expected = []
        for ids in encode_texts(tokenizer, prompts, add_bos=True, add_eos=False):
            with torch.no_grad():
                scores = model(torch.tensor([ids]))[0][0, -1]
            ranked = [tokenizer.id_to_token(i) for i in scores.argsort(descending=True).tolist()
                      if i not in (PAD_ID, UNK_ID, BOS_ID, EOS_ID)]
            expected.append(ranked[:k])
        assert completer.next_words(prompts, k) == expected
        examples = [Example(p, "x") for p in prompts]
        assert next_word_candidates(completer, examples, k=k, batch_size=2) == expected
