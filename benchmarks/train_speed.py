"""Training throughput: the project's trainer against a plain baseline at equal model size, side by side.

    python benchmarks/train_speed.py [--batches 40] [--texts data/train.csv]

Project: length-bucketed batches, tied adaptive softmax, loss on real positions only.
Plain:   random batches padded to their longest text, one full softmax over the vocabulary at every
         position (padding included, ignored by the loss) - what a first implementation does.
Both use the sizes in params.yaml (`lstm`, `tokenizer`, `train.batch_size`) and print real target tokens/s.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from text_autocomplete.data_utils import read_texts
from text_autocomplete.lstm_model import LSTMConfig, LSTMLanguageModel
from text_autocomplete.lstm_train import TokenizerConfig, TrainConfig
from text_autocomplete.next_token_dataset import NextTokenDataset, make_loader
from text_autocomplete.params import load_config
from text_autocomplete.paths import TRAIN_CSV
from text_autocomplete.tokenizer import PAD_ID, encode_texts, train_tokenizer

from _results import write_results


def project_loss(model: LSTMLanguageModel, batch) -> torch.Tensor:
    return model.loss(batch.inputs, batch.targets, batch.mask)


def plain_loss(model: LSTMLanguageModel, batch) -> torch.Tensor:
    log_probs, _ = model(batch.inputs)
    return F.nll_loss(log_probs.flatten(0, 1), batch.targets.flatten(), ignore_index=PAD_ID)


def tokens_per_second(model: LSTMLanguageModel, loader, loss_fn, n_batches: int) -> tuple[float, float]:
    """(real target tokens per second, share of padded positions) over `n_batches` training steps."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = [b for _, b in zip(range(n_batches + 3), loader)]
    for batch in batches[:3]:  # warm-up
        loss_fn(model, batch).backward()
    tokens = positions = 0
    start = time.perf_counter()
    for batch in batches[3:]:
        loss = loss_fn(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tokens += int(batch.mask.sum())
        positions += batch.mask.numel()
    return tokens / (time.perf_counter() - start), 1 - tokens / positions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--texts", default=TRAIN_CSV)
    args = parser.parse_args()
    lstm, tok, train = load_config(LSTMConfig, "lstm"), load_config(TokenizerConfig, "tokenizer"), \
        load_config(TrainConfig, "train")
    texts = read_texts(args.texts)
    tokenizer = train_tokenizer(texts, tok.vocab_size, tok.min_frequency)
    dataset = NextTokenDataset(encode_texts(tokenizer, texts), train.max_len)
    config = replace(lstm, vocab_size=tokenizer.get_vocab_size(), dropout=0.0)
    print(f"{len(texts):,} texts, vocab {config.vocab_size:,}, emb {config.embedding_dim}, hidden {config.hidden_dim}, "
          f"layers {config.num_layers}, batch {train.batch_size}, {torch.get_num_threads()} threads, "
          f"{args.batches} steps")
    results, padding_share = {}, {}
    for name, cutoffs, bucket, loss_fn in (("project", config.softmax_cutoffs, True, project_loss),
                                           ("plain", (), False, plain_loss)):
        torch.manual_seed(0)
        model = LSTMLanguageModel(replace(config, softmax_cutoffs=cutoffs)).train()
        loader = make_loader(dataset, train.batch_size, seed=0, bucket=bucket)
        speed, padding = tokens_per_second(model, loader, loss_fn, args.batches)
        results[name], padding_share[name] = speed, padding
        print(f"{name:8s} {speed:10,.0f} target tokens/s   padding {padding:5.1%}   "
              f"{model.parameter_count():,} parameters")
    print(f"speed-up: {results['project'] / results['plain']:.1f}x")
    write_results("train_speed", {
        "steps": args.batches, "batch_size": train.batch_size,
        "project_tokens_per_s": round(results["project"]), "plain_tokens_per_s": round(results["plain"]),
        "speedup": round(results["project"] / results["plain"], 1),
        "project_padding": round(padding_share["project"], 3), "plain_padding": round(padding_share["plain"], 3)})


if __name__ == "__main__":
    main()
