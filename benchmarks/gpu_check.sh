#!/usr/bin/env bash
# The GPU checks, in one run of about nine minutes on a lent GPU machine (the device tool; each machine starts bare):
#
#   bash benchmarks/gpu_check.sh OUT
#
# one training epoch at the full corpus's size (benchmarks/full_corpus_epoch.py, bf16 on CUDA) and the capacity arm's
# widest LSTM trained on all of train and paired with its CPU run (benchmarks/capacity_cuda.py), each under a time
# limit, so that a slow first part cannot leave the second unrun. Their JSON files and logs are copied to OUT; commit
# the JSON files into reports/benchmarks/, never the logs (the trainer prints val tweets with its completions). Needs data/train.csv and data/val.csv (`dvc repro split`) and, where the
# machine lacks the project's pure-Python requirements (dvclive, rouge-score, ...), their wheels in .whl/ (the
# device tool's notes say how to download them for its Python).
set -uo pipefail
out=${1:?usage: bash benchmarks/gpu_check.sh OUT}
export PYTHONUNBUFFERED=1 PYTHONPATH=src:benchmarks TQDM_DISABLE=1
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
failed=0
check() {  # check SECONDS NAME SCRIPT: one benchmark under a time limit; its figures go to OUT only when it succeeded
  local figures=reports/benchmarks/$2.json
  rm -f "$figures"  # the committed figures travel with the tree: never hand them back as this run's
  if timeout "$1" python3 "$3" 2>&1 | tee "$out/$2.log"; then
    cp "$figures" "$out/"
  else
    echo "gpu_check: $3 failed or ran past $1 s (log: $out/$2.log)" >&2
    failed=1
  fi
}
check 200 full_corpus_epoch_cuda benchmarks/full_corpus_epoch.py
check 330 capacity_cuda benchmarks/capacity_cuda.py
exit $failed
