#!/usr/bin/env bash
# phantom-cost against phantom-train: for pp, tp and Megatron at 2 ranks, and
# with data parallelism (2 replicas of 1 and of 2 ranks), the cost model's
# parameters, bytes and GEMM FLOPs per step equal what the running mini-app
# reports in its JSON summary; then bad input exits with 2
# and a message, calibration writes a profile that --profile reads back.
#   test_phantom_cost.sh PHANTOM_COST PHANTOM_TRAIN MPIEXEC [MPIEXEC_FLAGS...]
set -uo pipefail
source "$(dirname "$0")/harness.sh"
cost=$1
train=$2
shift 2
mpiexec=("$@")
python=${PHANTOM_TEST_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

net=(--set model.width=48 --set model.depth=2 --set model.input_dim=8 --set model.output_dim=3
     --set model.ghost=3 --set data.samples=64 --set train.batch=16 --set train.steps=2
     --set train.log_every=1)
for case in "pp 2 1" "tp 2 1" "megatron 2 1" "pp 2 2" "tp 4 2" "megatron 4 2"; do
  read -r strategy np replicas <<<"$case"
  name=$strategy-$np-$replicas
  out=$("${mpiexec[@]}" -n $np "$train" "${net[@]}" --set model.strategy=$strategy \
        --set parallel.data=$replicas --set output.summary=$name.json 2>&1)
  check "$name: phantom-train ran" test -s $name.json
  out=$("$cost" "${net[@]}" --set model.strategy=$strategy --set parallel.data=$replicas \
        --ranks $((np / replicas)) --csv $name.csv 2>&1)
  check "$name: phantom-cost ran" test -s $name.csv
  out=$($python - "$name" <<'PY' 2>&1
import csv, json, sys
s = sys.argv[1]
summary = json.load(open(s + ".json"))
row = next(csv.DictReader(open(s + ".csv")))
for key, col in [("parameters", "parameters"), ("bytes_per_step", "bytes_per_step"),
                 ("flops_per_step", "flops_per_step")]:
    if float(summary[key]) != float(row[col]):
        print(f"{key}: phantom-train {summary[key]} != phantom-cost {row[col]}")
        sys.exit(1)
if row["energy_source"] != "model":
    sys.exit("energy not labelled model")
print("equal")
PY
)
  check "$name: parameters, bytes and FLOPs equal phantom-train's" test "$out" = equal
done

out=$("$cost" --ranks 1,2,4,3 --strategies pp,tp,megatron,dense --set model.depth=3 2>&1)
status=$?
check "sweep runs" test $status -eq 0
check "sweep skips megatron with odd depth" grep -qF "skipped megatron p=1: strategy 'megatron' needs an even depth, got 3" <<<"$out"
check "sweep skips dense on 2 ranks" grep -qF "skipped dense p=2: strategy 'dense' runs on 1 rank only, not 2" <<<"$out"
check "sweep skips width 1024 on 3 ranks" grep -qF "skipped pp k=16 p=3: width 1024 is not divisible by the rank count 3" <<<"$out"

expect_error() {  # expect_error NAME MESSAGE ARGS...
  local name=$1 message=$2
  shift 2
  out=$("$cost" "$@" 2>&1)
  local status=$?
  check "$name: exit status 2 (got $status)" test $status -eq 2
  check "$name: message '$message'" grep -qF -- "$message" <<<"$out"
}
expect_error "unknown profile" "device profile 'b200' is neither a built-in profile" --profile b200
expect_error "bad rank list" "--ranks: 'two' is not a positive integer" --ranks 1,two
expect_error "rank count past int" "--ranks: '3000000000' is not a positive integer (at most 2147483647)" --ranks 3000000000
expect_error "unknown strategy" "unknown strategy 'fsdp' (allowed: dense, pp, tp, megatron)" --strategies pp,fsdp
expect_error "bad deck key" "unknown key 'model.widht' (did you mean 'model.width'?)" --set model.widht=3
expect_error "unknown option" "unknown option --rank" --rank 2

out=$("${mpiexec[@]}" -n 2 "$cost" --calibrate cpu.toml 2>&1)
check "calibration writes a profile" test -s cpu.toml
out=$("$cost" --profile cpu.toml --ranks 2 2>&1)
check "the calibrated profile is used" grep -qF "calibrated with 2 rank(s) busy" <<<"$out"

finish phantom-cost
