#!/usr/bin/env bash
# Phantom's tp training step against the same step in PyTorch (perf/pytorch_tp_step.py),
# run alternately so that the ratio comes from one state of the machine:
#   bash perf/compare_pytorch.sh [build] [rounds]
# Prints each run's tp step time and the ratio of the medians. Skips (exit 0)
# without python3-torch.
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "compare_pytorch: python3-torch is not installed; skipped (apt-get install python3-torch)"
  exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
phantom=() torch=()
for ((i = 0; i < rounds; i++)); do
  # The training-step table's tp row: strategy, sgemm, step (ms), ...
  t=$(mpiexec -n 2 --oversubscribe "$build/perf/bench_parallel_layers" 10 | awk '$1 == "tp" && $5 ~ /x$/ {print $3}')
  p=$(/usr/bin/python3 "$here/pytorch_tp_step.py" --ranks 2 --steps 10 | sed -n 's/.*Adam: \([0-9.]*\) ms.*/\1/p')
  echo "round $((i + 1)): phantom tp step ${t} ms, pytorch ${p} ms"
  phantom+=("$t") torch+=("$p")
done
/usr/bin/python3 - "${phantom[*]}" "${torch[*]}" <<'PY'
import statistics, sys
ph = [float(v) for v in sys.argv[1].split()]
pt = [float(v) for v in sys.argv[2].split()]
a, b = statistics.median(ph), statistics.median(pt)
print(f"medians: phantom tp {a:.2f} ms, pytorch {b:.2f} ms: phantom is {b / a:.2f}x faster")
PY
