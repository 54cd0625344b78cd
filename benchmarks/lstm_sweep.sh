#!/usr/bin/env bash
# LSTM hyper-parameter sweep: one DVC experiment per setting, queued, trained up to `train_lstm`,
# compared on the best epoch's val loss and perplexity (metrics/train.yml).
#
#   bash benchmarks/lstm_sweep.sh            # EPOCHS=2 by default: a ranking, not final models
#
# Writes reports/lstm_sweep.csv, which the report stage shows. Run it from the project root,
# in the activated virtual environment, after `dvc repro split`.
set -euo pipefail
EPOCHS=${EPOCHS:-2}
# Queued experiments run in a temporary copy of the repository: a raw file outside it needs an absolute path.
RAW=$(python -c "import yaml, os; print(os.path.abspath(yaml.safe_load(open('params.yaml'))['data']['raw']))")
common=(-S "data.raw=${RAW}" -S "train.epochs=${EPOCHS}" -S "train.patience=${EPOCHS}")

queue() { dvc exp run train_lstm --queue "${common[@]}" "$@"; }
queue --name base
queue --name hidden512 -S lstm.hidden_dim=512
queue --name vocab20k -S tokenizer.vocab_size=20000
queue --name lr0.006 -S train.lr=0.006
queue --name dropout0.1 -S lstm.dropout=0.1

dvc queue start --jobs 1
until status=$(dvc queue status) && ! grep -Eq "Queued|Running" <<< "$status"; do sleep 20; done
dvc queue status

python benchmarks/sweep_table.py > reports/lstm_sweep.csv
cat reports/lstm_sweep.csv
