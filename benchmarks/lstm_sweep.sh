#!/usr/bin/env bash
# LSTM hyper-parameter sweeps: one DVC experiment per setting, queued, trained up to `train_lstm`,
# compared on the best epoch's val loss and perplexity (dvclive's summary, results/train_lstm/metrics.json: `best.`),
# which compare runs of one vocabulary only: runs of different vocabularies compare on val ROUGE-1 (the report says so).
#
#   bash benchmarks/lstm_sweep.sh short   # 2 epochs each, a ranking of sizes and rates -> reports/lstm_sweep.csv
#   bash benchmarks/lstm_sweep.sh long    # 10 epochs: does longer training pay, and a keyboard-shaped model
#                                         #  -> reports/lstm_sweep_long.csv
#
# The report stage shows both tables. Run it from the project root, in the activated virtual environment,
# after `dvc repro split`.
set -euo pipefail
SWEEP=${1:-short}
# Queued experiments run in a temporary copy of the repository: a raw file outside it needs an absolute path.
RAW=$(python -c "import yaml, os; print(os.path.abspath(yaml.safe_load(open('params.yaml'))['data']['raw']))")
names=()
queue() {  # queue NAME [-S key=value ...]
  names+=("$1")
  dvc exp run train_lstm --queue --name "$@" -S "data.raw=${RAW}" "${common[@]}"
}
case "$SWEEP" in
  short)
    common=(-S train.epochs=2 -S train.patience=2)
    out=reports/lstm_sweep.csv
    queue base
    queue hidden512 -S lstm.hidden_dim=512
    queue vocab20k -S tokenizer.vocab_size=20000
    queue lr0.006 -S train.lr=0.006
    queue dropout0.1 -S lstm.dropout=0.1
    ;;
  long)
    common=(-S train.epochs=10 -S train.patience=3)
    out=reports/lstm_sweep_long.csv
    queue ep10
    queue ep10_dropout0.1 -S lstm.dropout=0.1
    # Gboard's shape (Hard et al. 2018): ~670 LSTM units projected to 96, the 96-wide embedding tied to the output.
    keyboard=(-S lstm.embedding_dim=96 -S lstm.hidden_dim=670 -S lstm.num_layers=1)
    queue keyboard_ep10 "${keyboard[@]}" -S lstm.dropout=0.1
    queue keyboard_ep10_dropout0.3 "${keyboard[@]}"
    ;;
  *) echo "usage: bash benchmarks/lstm_sweep.sh short|long" >&2; exit 2 ;;
esac

dvc queue start --jobs 1
until status=$(dvc queue status) && ! grep -Eq "Queued|Running" <<< "$status"; do sleep 20; done
dvc queue status

python benchmarks/sweep_table.py "${names[@]}" > "$out"
cat "$out"
