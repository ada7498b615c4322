#!/usr/bin/env bash
# phantom-plan end to end: the table and the choice, the CSV (the chosen row
# has the least energy; a slow rank gives plan (a) a saving without a longer
# step), the frontier CSV and PNG (gnuplot), a time bound, bad input (exit 2).
#   test_phantom_plan.sh PHANTOM_PLAN
set -uo pipefail
source "$(dirname "$0")/harness.sh"
plan=$1
python=${PHANTOM_TEST_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

net=(--set model.width=4096 --set model.depth=2 --set train.batch=256)
out=$("$plan" "${net[@]}" --ranks 2,4,8 --ghosts 8,16 --slow-rank 1.2 --csv plan.csv \
      --frontier-csv frontier.csv --png frontier.png 2>&1)
status=$?
check "runs (status $status)" test $status -eq 0
check "says it is modelled" grep -qF "phantom-plan (modelled: cost model + clock model" <<<"$out"
check "names the choice" grep -qE "^least energy: (pp|tp|megatron)" <<<"$out"
check "prints the slow rank's clocks" grep -qF "clocks of the slow rank (1 rank)" <<<"$out"
check "PNG written" bash -c "head -c 8 frontier.png | od -An -c | grep -q 'P   N   G'"
out=$($python - <<'PY' 2>&1
import csv
rows = list(csv.DictReader(open("plan.csv")))
assert len(rows) == 2 * 3 + 3 + 3, len(rows)
best = [r for r in rows if r["least_energy"] == "1"]
assert len(best) == 1, best
assert all(float(best[0]["plan_a_energy_j"]) <= float(r["plan_a_energy_j"]) for r in rows)
for r in rows:
    assert r["source"] == "model"
    assert float(r["plan_a_saving_j"]) > 0, r          # the slow rank leaves slack
    # not longer, up to the planner's 1 ns time tolerance per composed phase
    assert float(r["plan_a_time_s"]) <= float(r["step_s"]) * (1 + 1e-5), r
front = list(csv.DictReader(open("frontier.csv")))
t = [float(r["time_s"]) for r in front]
assert len(t) > 1 and t == sorted(t), "frontier not sorted by time"
print("ok")
PY
)
check "CSV: least energy chosen, savings without a longer step, frontier sorted" test "$out" = ok

out=$("$plan" "${net[@]}" --ranks 2 --strategies tp --time-bound-ms 1e6 --csv bound.csv 2>&1)
check "time bound: runs" test $? -eq 0
out=$($python -c "
import csv; r = next(csv.DictReader(open('bound.csv')))
print('ok' if float(r['plan_b_energy_j']) < float(r['plan_a_energy_j']) else r)")
check "a looser bound costs less energy" test "$out" = ok
out=$("$plan" "${net[@]}" --ranks 2 --time-bound-ms 1e-6 2>&1)
check "an unreachable bound says so" grep -qF "no candidate fits the memory and the time bound" <<<"$out"

# Data parallelism: D replicas of the p ranks; with a slow rank in replica 0
# the other replica slows down to it (grid_plan.hpp).
out=$("$plan" "${net[@]}" --set parallel.data=2 --ranks 2 --strategies pp --slow-rank 1.2 2>&1)
check "D x p: runs" test $? -eq 0
check "D x p: replica 0's clocks" grep -qF "clocks of the slow rank (1 rank of replica 0)" <<<"$out"
check "D x p: the other replica's clocks" grep -qF "clocks of the ranks (2 ranks of the other replica)" <<<"$out"
check "D x p: named as such" grep -qF "on 2 x 2 ranks" <<<"$out"
out=$("$plan" "${net[@]}" --gpus 8 --strategies pp,tp --slow-rank 1.2 --csv gpus.csv 2>&1)
check "--gpus: runs" test $? -eq 0
out=$($python - <<'PY' 2>&1
import csv
rows = list(csv.DictReader(open("gpus.csv")))
shapes = sorted((r["strategy"], int(r["data_parallel"]), int(r["ranks"])) for r in rows)
assert shapes == sorted((s, 8 // p, p) for s in ("pp", "tp") for p in (1, 2, 4, 8)), shapes
for r in rows:
    assert int(r["gpus"]) == 8, r
    assert float(r["plan_a_saving_j"]) > 0, r   # the slow rank leaves slack everywhere
print("ok")
PY
)
check "--gpus: every D x p = 8 for each strategy" test "$out" = ok

expect_error() {  # expect_error NAME MESSAGE ARGS...
  local name=$1 message=$2
  shift 2
  out=$("$plan" "$@" 2>&1)
  local status=$?
  check "$name: exit status 2 (got $status)" test $status -eq 2
  check "$name: message '$message'" grep -qF -- "$message" <<<"$out"
}
expect_error "slow rank below 1" "--slow-rank: '0.5' is not a number >= 1" --slow-rank 0.5
expect_error "bad rank list" "--ranks: 'x' is not an integer from 1 to 2147483647" --ranks 2,x
expect_error "rank count past int" "--ranks: '3000000000' is not an integer from 1 to 2147483647" --ranks 3000000000
expect_error "unknown profile" "device profile 'v100' is neither a built-in profile" --profile v100
expect_error "unknown strategy" "unknown strategy 'zero'" --strategies zero
expect_error "missing value" "--csv needs a value" --csv
expect_error "ranks and gpus" "--ranks and --gpus both given" --ranks 2 --gpus 8
expect_error "bad gpu count" "--gpus: '0' is not an integer from 1" --gpus 0

finish phantom-plan
