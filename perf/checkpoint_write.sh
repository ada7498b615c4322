#!/usr/bin/env bash
# Time to write one checkpoint: phantom-train (2 ranks, tp, width 4096, depth
# 4, Adam, float: an 808 MB file) run with and without a checkpoint at its
# end, REPEATS times; the write time is the difference. With a second
# phantom-train (another build, e.g. an older writer) both are timed in the
# same run, alternating, for a ratio.
#   perf/checkpoint_write.sh build/apps/phantom-train [OTHER_PHANTOM_TRAIN] [REPEATS]
# Environment: MPIEXEC (default "mpiexec --oversubscribe"), DIR (default a
# temporary directory: the file system whose speed is measured).
set -euo pipefail
train=$1
other=${2:-}
repeats=${3:-3}
mpiexec=(${MPIEXEC:-mpiexec --oversubscribe})
dir=${DIR:-$(mktemp -d)}
mkdir -p "$dir"
cleanup() { rm -f "$dir"/bench.step*.h5; }
trap cleanup EXIT
args=(--set model.strategy=\"tp\" --set model.width=4096 --set model.depth=4
      --set model.input_dim=64 --set model.output_dim=16 --set train.optimizer=\"adam\"
      --set train.steps=2 --set train.batch=64 --set data.samples=256)
seconds() {  # seconds BINARY EXTRA...: wall time of one run
  local bin=$1 start end
  shift
  start=$(date +%s.%N)
  "${mpiexec[@]}" -n 2 "$bin" "${args[@]}" "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
write_time() {  # write_time BINARY: one checkpoint's write, seconds
  local without with
  without=$(seconds "$1")
  with=$(seconds "$1" --set checkpoint.path=\""$dir/bench"\")
  cleanup
  echo "$with - $without" | bc
}
echo "checkpoint write, 2 ranks, 808 MB (seconds; one line per repeat)"
for ((i = 1; i <= repeats; ++i)); do
  line="$(printf '%-40s %6.2f' "$train" "$(write_time "$train")")"
  [ -z "$other" ] || line+="$(printf '   %-40s %6.2f' "$other" "$(write_time "$other")")"
  echo "$line"
done
