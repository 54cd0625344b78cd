"""Stage `train_lstm`: data/train.csv + data/val.csv -> models/lstm/ (model.pt, tokenizer.json, ngram.npz,
mixture.json), dvclive logs (their summary is the training's DVC metric), results/train.json,
results/ngram_orders.csv and results/mixture_weights.csv: the LSTM, the Kneser-Ney n-gram model and the weight
that mixes them.

dvc.yaml runs it as `torchrun --standalone --nproc_per_node=${train.nproc} stages/train_lstm.py`: every process
trains the LSTM on its share of the batches; rank 0 alone logs, writes, and then fits the n-gram model and the
mixture weight."""
import contextlib
from pathlib import Path

from dvclive import Live
from torch.distributed.elastic.multiprocessing.errors import record

from text_autocomplete.data_utils import DataConfig, read_texts
from text_autocomplete.distributed import device_for, join, leave, world_from_env
from text_autocomplete.evaluation import EvalConfig
from text_autocomplete.lstm_model import LSTMConfig, load_model
from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig, Trainer, train_share
from text_autocomplete.mixture import MixtureConfig, choose_ngram_weight, save_weight
from text_autocomplete.ngram import NgramConfig, fit_best_order
from text_autocomplete.params import load_config
from text_autocomplete.paths import (
    CHECKPOINT,
    LSTM_DIR,
    MIXTURE_FILE,
    MIXTURE_WEIGHTS,
    MODEL_FILE,
    NGRAM_FILE,
    NGRAM_ORDERS,
    TOKENIZER_FILE,
    TRAIN_CSV,
    TRAIN_LIVE_DIR,
    TRAIN_RECORD,
    VAL_CSV,
)
from text_autocomplete.records import write_json
from text_autocomplete.tokenizer import encode_texts, load_tokenizer

from _common import run_stage


@record  # a failing process's error is what torchrun reports, and it stops the other processes
def main() -> None:
    world = world_from_env()
    join(world, device_for(world))
    train = load_config(TrainConfig, "train")
    # All of train, or for a sweep at reduced cost its seeded share (the n-gram model counts the same texts).
    train_texts, val_texts = train_share(read_texts(TRAIN_CSV), train.max_texts, train.seed), read_texts(VAL_CSV)
    trainer = Trainer(train_texts, val_texts,
                      lstm=load_config(LSTMConfig, "lstm"), tok=load_config(TokenizerConfig, "tokenizer"),
                      train=train, eval_config=load_config(EvalConfig, "eval"),
                      cleaning=load_config(DataConfig, "data"), out_dir=LSTM_DIR, checkpoint_path=CHECKPOINT,
                      world=world)
    live = Live(TRAIN_LIVE_DIR, save_dvc_exp=False, dvcyaml=False) if world.is_main else contextlib.nullcontext()
    with live:
        summary = trainer.fit(live if world.is_main else None)
    leave()
    if not world.is_main:
        return
    write_json(TRAIN_RECORD, summary)
    print(", ".join(f"{k}={v}" for k, v in summary.items()))

    # The n-gram model counts the same words the LSTM reads (its vocabulary, <unk> for the rest).
    tokenizer = load_tokenizer(Path(LSTM_DIR) / TOKENIZER_FILE)
    train_ids, val_ids = (encode_texts(tokenizer, texts, add_bos=False, add_eos=False)
                          for texts in (train_texts, val_texts))
    print("Kneser-Ney n-gram orders on val:")
    ngram, orders = fit_best_order(train_ids, val_ids, load_config(NgramConfig, "ngram"), tokenizer.get_vocab_size())
    ngram.save(Path(LSTM_DIR) / NGRAM_FILE)
    orders.to_csv(NGRAM_ORDERS, index=False)

    # The shipped light model mixes the best epoch's LSTM (the saved one) with it; the weight is chosen on val.
    lstm = load_model(Path(LSTM_DIR) / MODEL_FILE, vocab=tokenizer.get_vocab())
    weight, weights = choose_ngram_weight(lstm, ngram, val_ids, load_config(MixtureConfig, "mixture"))
    save_weight(Path(LSTM_DIR) / MIXTURE_FILE, weight)
    weights.to_csv(MIXTURE_WEIGHTS, index=False)
    print(f"mixture: n-gram weight {weight} (val perplexity {weights['val_perplexity'].min()})")


if __name__ == "__main__":
    run_stage(main)
