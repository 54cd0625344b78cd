"""The LSTM: shapes, the adaptive softmax, generation rules, overfitting, checkpoints and resume."""
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
import torch

from text_autocomplete.data_utils import DataConfig
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.lstm_model import (
    LEVERS_OFF,
    CheckpointError,
    GenerationConfig,
    LSTMConfig,
    LSTMLanguageModel,
    load_model,
    save_model,
)
from text_autocomplete.lstm_train import BEST_EPOCH_KEYS, TokenizerConfig, TrainConfig, Trainer, train_share
from text_autocomplete.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID

from conftest import project_config

CONFIG = LSTMConfig(vocab_size=60, embedding_dim=16, hidden_dim=24, num_layers=2, dropout=0.0, tie_weights=True, **LEVERS_OFF,
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
    small = LSTMConfig(vocab_size=12, embedding_dim=8, hidden_dim=12, num_layers=2, dropout=0.0, tie_weights=True, **LEVERS_OFF,
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
    # The whole final beam is the n-best list: with nothing pruned before the last step, the most probable
    # sequences in order (the first five of each prompt here; a word alone for the prompt of budget 1).
    n_best = model.beam_hypotheses(prompts, budgets, num_beams=len(words) ** 2)
    for found, p, b in zip(n_best, prompts, budgets):
        ranked = sorted(itertools.product(words, repeat=b), key=lambda seq: -score(p, seq))
        assert found[:5] == [list(seq) for seq in ranked[:5]]
        assert len(found) == min(len(words) ** 2, len(words) ** b)


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


def make_trainer(tmp_path, epochs: int = 3, levers: dict | None = None, **train) -> Trainer:
    """A tiny run; `levers` sets the LSTM's regularisers (off by default), `train` overrides the train section."""
    train = {"ema_decay": 0.0, **train}
    return Trainer(TRAIN_TEXTS, VAL_TEXTS, replace(CONFIG, vocab_size=0, softmax_cutoffs=(8,), **(levers or {})),
                   TokenizerConfig(vocab_size=100, min_frequency=1),
                   project_config(TrainConfig, "train", epochs=epochs, batch_size=8, lr=0.01, warmup_steps=2, patience=5,
                                  val_rouge_texts=2, show_examples=1, num_threads=0, **train),
                   project_config(EvalConfig, "eval"), project_config(DataConfig, "data"), tmp_path / "out",
                   tmp_path / "ckpt" / "train.pt")


ALL_LEVERS = {"dropout": 0.3, "embedding_dropout": 0.2, "locked_dropout": True, "weight_drop": 0.4}


@pytest.mark.parametrize("levers, train", [({}, {}), (ALL_LEVERS, {"ema_decay": 0.9})], ids=["plain", "awd_levers"])
def test_trainer_is_deterministic_and_resumes_after_interruption(tmp_path, monkeypatch, levers, train):
    straight = make_trainer(tmp_path / "a", levers=levers, **train)
    straight_live = FakeLive()
    summary = straight.fit(straight_live)
    assert summary["epochs_run"] == 3 and len(straight_live.rows) == 3
    # dvclive's summary keeps the best epoch's figures beside the last epoch's: those of the lowest val loss
    best_epoch = min(range(3), key=lambda i: straight_live.rows[i]["val_loss"])
    assert straight_live.summary["best"] == {"epoch": best_epoch + 1, **{
        key: straight_live.rows[best_epoch][key] for key in BEST_EPOCH_KEYS if key != "epoch"}}
    assert summary["epochs_run"] == 3
    assert not (tmp_path / "a" / "ckpt" / "train.pt").exists()  # a finished run leaves nothing to resume

    interrupted = make_trainer(tmp_path / "b", levers=levers, **train)
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

    resumed = make_trainer(tmp_path / "b", levers=levers, **train)
    resumed_live = FakeLive()
    resumed.fit(resumed_live)
    assert len(resumed_live.rows) == 3  # the first epoch is re-logged from the checkpoint
    for name, tensor in straight.model.state_dict().items():
        assert torch.allclose(tensor, resumed.model.state_dict()[name], atol=1e-6), name
    assert straight_live.rows[-1]["val_loss"] == resumed_live.rows[-1]["val_loss"]


# --------------------------------------------------------------------------- AWD-LSTM's regularisers
def test_with_the_regularisers_off_training_is_what_it_was_before_they_existed(tmp_path, monkeypatch):
    """The model before the regularisers, rebuilt: the embedding's output and the LSTM's through nn.Dropout, the
    LSTM called whole, no average. Turned off, the regularisers must not change a bit of training (2 layers and
    dropout 0.3, so that dropout's random stream counts: not even the random numbers drawn may differ)."""
    with_levers_off = make_trainer(tmp_path / "off", epochs=2, levers={"dropout": 0.3})
    with_levers_off.fit(FakeLive())
    assert with_levers_off.average is None
    monkeypatch.setattr(LSTMLanguageModel, "_embed", lambda self, tokens: self.embedding(tokens))
    monkeypatch.setattr(LSTMLanguageModel, "_drop", lambda self, x: self.dropout(x))
    monkeypatch.setattr(LSTMLanguageModel, "_recur", lambda self, x, state: self.lstm(x, state))
    before = make_trainer(tmp_path / "before", epochs=2, levers={"dropout": 0.3})
    before.fit(FakeLive())
    for name, tensor in before.model.state_dict().items():
        assert torch.equal(tensor, with_levers_off.model.state_dict()[name]), name


def test_weight_drop_changes_training_only():
    plain = make_model(replace(CONFIG, dropout=0.0))
    dropping = make_model(replace(CONFIG, dropout=0.0, weight_drop=0.5))
    dropping.load_state_dict(plain.state_dict())
    tokens = torch.randint(4, 60, (3, 7))
    assert torch.equal(plain(tokens)[0], dropping(tokens)[0])  # eval: the whole weights
    assert plain.generate(PROMPTS, 4, 4) == dropping.generate(PROMPTS, 4, 4)
    mask = torch.ones_like(tokens, dtype=torch.bool)
    plain.train(), dropping.train()
    torch.manual_seed(1)
    dropped_loss = dropping.loss(tokens[:, :-1], tokens[:, 1:], mask[:, 1:])
    assert not torch.equal(dropped_loss, plain.loss(tokens[:, :-1], tokens[:, 1:], mask[:, 1:]))
    dropped_loss.backward()  # the mask's gradient reaches the recurrent weights themselves
    assert dropping.lstm.weight_hh_l0.grad is not None and dropping.lstm.weight_hh_l0.grad.abs().sum() > 0
    for name, weight in dropping.lstm.named_parameters():  # and the weights are left whole
        assert torch.equal(weight, plain.state_dict()[f"lstm.{name}"]), name


def test_embedding_dropout_drops_whole_words_and_only_in_training():
    model = make_model(replace(CONFIG, embedding_dropout=0.5))
    tokens = torch.arange(4, 60).repeat(3, 2)  # every word, several times in each row
    assert torch.equal(model._embed(tokens), model.embedding(tokens))  # eval: untouched
    model.train()
    torch.manual_seed(3)
    ratio = model._embed(tokens) / model.embedding(tokens)
    kept = set()
    for word in range(4, 60):  # every use of a word in the batch is kept (scaled by 2) or dropped together
        values = ratio[tokens == word].unique()
        assert len(values) == 1 and values.item() in (0.0, 2.0), word
        kept.add(values.item())
    assert kept == {0.0, 2.0}  # some words dropped, some kept


def test_locked_dropout_keeps_one_mask_per_sequence():
    model = make_model(replace(CONFIG, dropout=0.5, locked_dropout=True))
    x = torch.ones(4, 9, 16)
    assert torch.equal(model._drop(x), x)
    model.train()
    dropped = model._drop(x)
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # the same units at every step
    assert set(dropped.unique().tolist()) == {0.0, 2.0}
    assert not torch.equal(dropped[0], dropped[1])  # a mask of its own for each sequence


def test_the_averaged_weights_equal_a_hand_computation(tmp_path, monkeypatch):
    """train.ema_decay: after every optimiser step a <- d a + (1 - d) w with d = min(decay, (1 + t) / (10 + t)),
    from the initial weights; the weights validated and saved are the average, the model trains on its own."""
    decay = 0.4  # reached after a few steps of the warm-up, so both branches of the min() are taken
    trainer = make_trainer(tmp_path, epochs=2, ema_decay=decay)
    seen = []  # the model's own weights before each step, i.e. after the previous one
    monkeypatch.setattr(trainer, "before_step",
                        lambda step: seen.append([p.detach().double().clone() for p in trainer.model.parameters()]))
    live = FakeLive()
    trainer.fit(live)
    steps = [*seen[1:], [p.detach().double() for p in trainer.model.parameters()]]  # weights after step t
    averaged = seen[0]
    by_step, capped = [], 0
    for t, weights in enumerate(steps, start=1):
        d = min(decay, (1 + t) / (10 + t))
        capped += d == decay
        averaged = [d * a + (1 - d) * w for a, w in zip(averaged, weights)]
        by_step.append(averaged)
    assert 0 < capped < len(steps)
    for mine, hand in zip(trainer.average.averaged, by_step[-1]):
        assert torch.allclose(mine.double(), hand, atol=1e-6)
    best = min(range(2), key=lambda i: live.rows[i]["val_loss"])
    saved = load_model(tmp_path / "out" / "model.pt")
    per_epoch = len(steps) // 2
    for (name, tensor), hand in zip(saved.named_parameters(), by_step[(best + 1) * per_epoch - 1]):
        assert torch.allclose(tensor.double(), hand, atol=1e-6), name
    for own, mine in zip(trainer.model.parameters(), trainer.average.averaged):  # it trained on its own weights
        assert not torch.allclose(own, mine)


def test_a_share_of_train_is_a_seeded_nested_sample():
    texts = [f"text {i}" for i in range(100)]
    assert train_share(texts, 0, 1) == texts and train_share(texts, 500, 1) == texts
    half, quarter = train_share(texts, 50, 1), train_share(texts, 25, 1)
    assert len(set(half)) == 50 and half[:25] == quarter and half == train_share(texts, 50, 1)
    assert half != train_share(texts, 50, 2)


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
    for decoding in (LSTMDecoding(), LSTMDecoding(mbr_samples=4, seed=1), LSTMDecoding(do_sample=True, top_p=0.5),
                     LSTMDecoding(num_beams=4), LSTMDecoding(num_beams=4, mbr_beams=True)):
        completer = DecodingCompleter(model, tokenizer, decoding)
        completions = completer.complete(prompts, budgets)
        assert [len(c.split()) for c in completions] == budgets
        assert completions == completer.complete(prompts, budgets)  # seeded


def test_mbr_over_the_beam_picks_the_n_best_hypothesis_the_others_agree_with(monkeypatch):
    from text_autocomplete.eval_lstm import DecodingCompleter, LSTMDecoding
    from text_autocomplete.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(TRAIN_TEXTS, vocab_size=100, min_frequency=1)
    model = make_model(replace(CONFIG, vocab_size=tokenizer.get_vocab_size(), softmax_cutoffs=(8,)))
    cats, dogs, tea, rain = (tokenizer.token_to_id(w) for w in ("cats", "dogs", "tea", "rain"))
    # The most probable hypothesis shares no word with the others, which share both of theirs (unigram F1 totals
    # 1, 2, 2: the earlier of the tie).
    n_best = [[dogs, rain], [cats, tea], [tea, cats]]
    monkeypatch.setattr(model, "beam_hypotheses", lambda *args, **kwargs: [n_best])
    assert DecodingCompleter(model, tokenizer, LSTMDecoding(num_beams=3, mbr_beams=True)).complete(
        ["i like"], [2]) == ["cats tea"]
    assert DecodingCompleter(model, tokenizer, LSTMDecoding(num_beams=3)).complete(["i like"], [2]) == ["dogs rain"]


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
