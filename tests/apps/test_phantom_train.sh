#!/usr/bin/env bash
# End-to-end tests of phantom-train: bad decks and data (each error message
# checked, nothing written), metrics and summary, checkpoints read with h5py,
# bitwise restart, corrupt restart files, HDF5 data input, a tp checkpoint
# restarted at another rank count, and compressed tp and megatron runs.
#   test_phantom_train.sh PHANTOM_TRAIN MPIEXEC [MPIEXEC_FLAGS...]
set -uo pipefail
source "$(dirname "$0")/harness.sh"
train=$1
shift
mpiexec=("$@")
python=${PHANTOM_TEST_PYTHON:-/usr/bin/python3}  # Debian's, with h5py (PHANTOM_TEST_PYTHON: another)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Small and fast: a few steps of a narrow network.
small=(--set model.width=48 --set model.depth=2 --set model.input_dim=8 --set model.output_dim=3
       --set data.samples=256 --set train.batch=16 --set train.log_every=2)

run() {  # run NP ARGS...: phantom-train on NP ranks, output in $out, status in $status
  local np=$1
  shift
  out=$("${mpiexec[@]}" -n "$np" "$train" "$@" 2>&1)
  status=$?
}

expect_error() {  # expect_error NAME STATUS MESSAGE NP ARGS...
  local name=$1 want=$2 message=$3 np=$4
  shift 4
  rm -f summary.json metrics.csv
  run "$np" "$@" --set output.summary=summary.json --set output.metrics=metrics.csv
  check "$name: exit status $want (got $status)" test "$status" -eq "$want"
  check "$name: message '$message'" grep -qF -- "$message" <<<"$out"
  check "$name: nothing written" test ! -e summary.json -a ! -e metrics.csv
}

# --- bad decks and data --------------------------------------------------------
printf '[model]\nwidht = 64\n' > typo.toml
expect_error "misspelt key" 2 "typo.toml: unknown key 'model.widht' (did you mean 'model.width'?)" 2 typo.toml
expect_error "width not divisible" 2 "model.width = 50 is not divisible by the rank count 3" 3 "${small[@]}" --set model.width=50
expect_error "wrong type" 2 "default deck: train.batch = \"big\": must be an integer" 1 --set 'train.batch="big"'
expect_error "missing deck" 2 "nope.toml: cannot open the deck" 1 nope.toml
expect_error "missing data file" 2 'data.path = "absent.h5": no such file' 1 "${small[@]}" --set data.source=hdf5 --set data.path=absent.h5
$python - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(0)
with h5py.File("wrong.h5", "w") as f:
    f["X"] = rng.standard_normal((64, 7))
    f["Y"] = rng.standard_normal((64, 3))
x = rng.uniform(-1, 1, (200, 8))
with h5py.File("good.h5", "w") as f:
    f["X"] = x
    f["Y"] = np.tanh(x[:, :3] - x[:, 3:6])
PY
expect_error "data of the wrong shape" 2 'data.path = "wrong.h5": dataset /X is 64 x 7 but model.input_dim = 8' 1 "${small[@]}" --set data.source=hdf5 --set data.path=wrong.h5
expect_error "dense on two ranks" 2 'model.strategy = "dense" runs on 1 rank, not 2' 2 "${small[@]}" --set model.strategy=dense
expect_error "missing output directory" 2 'checkpoint.path = "no/such/dir/ck": directory no/such/dir does not exist' 1 "${small[@]}" --set checkpoint.path=no/such/dir/ck

# --- a normal run: progress, metrics, summary, checkpoint readable by h5py --------
mkdir -p ck
run 2 "${small[@]}" --set train.steps=6 --set output.metrics=m.csv --set output.summary=s.json \
  --set checkpoint.path=ck/pp --set checkpoint.every=2 --set checkpoint.keep=2
check "normal run exits 0" test "$status" -eq 0
check "progress lines with ETA" grep -q "ETA" <<<"$out"
check "metrics: header + rows" test "$(wc -l < m.csv)" -ge 4
check "keep = 2 leaves the newest two" test "$(ls ck)" = "$(printf 'pp.step00000004.h5\npp.step00000006.h5')"
$python - <<'PY' > py.out 2>&1
import h5py, json
s = json.load(open("s.json"))
for key in ["deck", "ranks", "parameters", "bytes_per_step", "flops_per_step",
            "step_time_median_s", "final_loss"]:
    assert key in s, key
assert s["ranks"] == 2 and s["deck"]["model"]["strategy"] == "pp"
# modelled energy, docs/energy.md: per rank 4 W computing, 1.4 W in the
# communicator, over the rank's own step window (a few us wider than rank 0's timer)
assert s["energy_source"] == "model" and s["energy_measured"] is False
assert s["energy_meter_selection"].endswith("-> model"), s["energy_meter_selection"]
import csv
rows = list(csv.DictReader(open("m.csv")))
assert rows and all(r["energy_source"] == "model" for r in rows)
# Each rank meters its own window, which a rank descheduled for tens of us
# (2 ranks, or 2 x 2 threads, on 2 cores, beside other tests) stretches well
# past a 0.1 ms step of rank 0's timer, on any step (CI saw the median step at
# 10.5 W): the bounds hold for the steps the scheduler left alone, so the
# least and the most power of the logged steps must be inside them.
watts = sorted(float(r["energy_j"]) / float(r["step_time_s"]) for r in rows)
assert watts[0] <= 2 * 4.0 * 1.05 and watts[-1] >= 2 * 1.4 * 0.98, watts
assert 0 < s["energy_per_step_j"] <= 2 * 4.0 * max(float(r["step_time_s"]) for r in rows) * 1.05 + 1e-4
# pp hidden: 2(p-1) k B s per layer, output layer 2(p-1)/p o B s (float)
k, B, o, depth = 16, 16, 3, 2
assert s["bytes_per_step"] == depth * 2 * 1 * k * B * 4 + 2 * 1 / 2 * o * B * 4, s["bytes_per_step"]
with h5py.File("ck/pp.step00000006.h5", "r") as f:
    assert f["train"].attrs["step"] == 6
    assert f["model"].attrs["strategy"] == b"pp" or f["model"].attrs["strategy"] == "pp"
    assert f["model/layer_001/local"].shape == (2, 24, 24)
    assert f["model/layer_001/ghost"].shape == (2, 16, 24)
    d = f["model/layer_001/decompress"][...]
    assert d.shape == (2, 2, 24, 16) and abs(d[0, 0]).max() == 0 and abs(d[0, 1]).max() > 0
    assert f["model/layer_000/weight"].shape == (48, 8)
    assert f["model/layer_003/weight"].shape == (3, 48)
    assert "optimizer/first/layer_001/local" in f and "optimizer/second/layer_003/bias" in f
print("ok")
PY
out=$(cat py.out)
check "summary and checkpoint schema read with h5py" grep -qx ok py.out

# --- restart is exact ---------------------------------------------------------------
run 2 "${small[@]}" --set train.steps=8 --set output.summary=straight.json
run 2 "${small[@]}" --set train.steps=4 --set checkpoint.path=half --set output.metrics=resumed.csv
run 2 "${small[@]}" --set train.steps=8 --set checkpoint.restart=half.step00000004.h5 --set output.summary=resumed.json --set output.metrics=resumed.csv
check "restart run exits 0" test "$status" -eq 0
check "restart says where it resumed" grep -q "restarted from half.step00000004.h5 at step 4" <<<"$out"
final() { $python -c "import json,sys; print(repr(json.load(open(sys.argv[1]))['final_loss']))" "$1"; }
check "N steps == N/2 + N/2 (bitwise final loss)" test "$(final straight.json)" = "$(final resumed.json)"
check "restart appends to the metrics (one header, steps 0-7)" test "$(grep -c '^step,' resumed.csv)-$(cut -d, -f1 resumed.csv | tail -1)" = "1-7"

# --- restart with a schedule, clipping and weight decay is exact ------------------------
sched=(--set train.schedule=cosine --set train.warmup_steps=2 --set train.decay_steps=6 --set train.min_learning_rate=1e-4
       --set train.clip_norm=0.05 --set train.weight_decay=0.01)
run 2 "${small[@]}" "${sched[@]}" --set train.steps=8 --set output.summary=sched_straight.json
run 2 "${small[@]}" "${sched[@]}" --set train.steps=4 --set checkpoint.path=sched
run 2 "${small[@]}" "${sched[@]}" --set train.steps=8 --set checkpoint.restart=sched.step00000004.h5 --set output.summary=sched_resumed.json
check "schedule + clipping + weight decay: N steps == N/2 + N/2 (bitwise)" test "$(final sched_straight.json)" = "$(final sched_resumed.json)"
check "schedule changes the trajectory" test "$(final sched_straight.json)" != "$(final straight.json)"
expect_error "step schedule with a factor of 0" 2 "train.step_factor" 1 "${small[@]}" --set train.schedule=step --set train.step_factor=0

# --- held-out validation ----------------------------------------------------------------
run 2 "${small[@]}" --set train.steps=6 --set data.validation_fraction=0.25 --set output.metrics=val.csv --set output.summary=val.json
check "validation run exits 0" test "$status" -eq 0
check "progress line shows the validation loss" grep -q "  val [0-9]" <<<"$out"
check "metrics: validation_loss column, filled on logged rows" $python -c "
import csv; rows = list(csv.DictReader(open('val.csv')))
assert rows and all(float(r['validation_loss']) > 0 for r in rows), rows
assert all(float(r['learning_rate']) == 1e-3 for r in rows), rows"
check "summary: final_validation_loss" $python -c "import json; assert json.load(open('val.json'))['final_validation_loss'] > 0"
run 2 "${small[@]}" --set train.steps=4 --set data.validation_path=good.h5 --set output.summary=valfile.json
check "validation from a second HDF5 file" $python -c "import json; assert json.load(open('valfile.json'))['final_validation_loss'] > 0"
expect_error "validation fraction holding out nothing" 2 "data.validation_fraction = 0.001000 holds out 0 of the 256 samples" 2 "${small[@]}" --set data.validation_fraction=0.001
expect_error "two held-out sets" 2 "data.validation_fraction and data.validation_path both hold out data" 1 "${small[@]}" --set data.validation_fraction=0.1 --set data.validation_path=good.h5

# --- inference from a checkpoint ------------------------------------------------------
run 2 "${small[@]}" --infer half.step00000004.h5 --set output.summary=infer.json
check "inference exits 0" test "$status" -eq 0
check "inference reports loss and samples/s" grep -q "samples/s" <<<"$out"
check "inference summary" $python -c "import json; s = json.load(open('infer.json')); assert s['samples'] == 256 and s['loss'] > 0 and s['samples_per_second'] > 0"
run 2 "${small[@]}" --infer half.step00000004.h5 --set data.source=hdf5 --set data.path=good.h5 --set output.summary=infer_h5.json --set output.predictions=pred.h5
check "inference with predictions exits 0" test "$status" -eq 0
check "predictions: the data's inputs, and outputs whose mse is the loss printed" $python -c "
import json, h5py, numpy as np
s = json.load(open('infer_h5.json'))
with h5py.File('good.h5') as f: x, t = f['X'][...], f['Y'][...]
with h5py.File('pred.h5') as f: px, py = f['X'][...], f['Y'][...]
assert px.shape == (200, 8) and py.shape == (200, 3), (px.shape, py.shape)
assert np.allclose(px, x, rtol=1e-6, atol=1e-7)
mse = float(np.mean((py - t) ** 2))
assert abs(mse - s['loss']) <= 1e-5 * s['loss'], (mse, s['loss'])"
check "predictions: no temporary file left" test ! -e pred.h5.tmp
expect_error "predictions into a missing directory" 2 'output.predictions = "no/dir/p.h5": directory no/dir does not exist' 1 "${small[@]}" --infer half.step00000004.h5 --set output.predictions=no/dir/p.h5

# --- bad restart files ---------------------------------------------------------------
head -c 2000 half.step00000004.h5 > cut.h5
expect_error "truncated restart" 3 "checkpoint cut.h5:" 2 "${small[@]}" --set train.steps=8 --set checkpoint.restart=cut.h5
# A byte of a weight flipped after writing: refused by its checksum (exit 3),
# for a restart and for --infer. A checkpoint from before checksums (the
# same data, unfiltered, no "checksums" attribute) still loads, and says so.
check "a flipped and an unchecked copy of a checkpoint" $python - <<'PY'
import shutil, h5py
shutil.copy("half.step00000004.h5", "flipped.h5")
with h5py.File("flipped.h5", "r") as f:
    info = f["model/layer_000/weight"].id.get_chunk_info(0)
with open("flipped.h5", "r+b") as f:
    f.seek(info.byte_offset + 6)
    b = f.read(1)
    f.seek(info.byte_offset + 6)
    f.write(bytes([b[0] ^ 0x04]))
with h5py.File("half.step00000004.h5", "r") as src, h5py.File("unchecked.h5", "w") as dst:
    for k, v in src.attrs.items():
        if k != "checksums":
            dst.attrs[k] = v
    def copy(name, obj):
        if isinstance(obj, h5py.Group):
            g = dst.require_group(name)
        else:
            g = dst.create_dataset(name, data=obj[()])  # contiguous, no filter
        for k, v in obj.attrs.items():
            g.attrs[k] = v
    src.visititems(copy)
PY
expect_error "flipped byte in a restart file" 3 "checkpoint flipped.h5 is corrupt: dataset /model/layer_000/weight does not match its checksum" 2 "${small[@]}" --set train.steps=8 --set checkpoint.restart=flipped.h5
expect_error "flipped byte under --infer" 3 "checkpoint flipped.h5 is corrupt: dataset /model/layer_000/weight does not match its checksum" 2 "${small[@]}" --infer flipped.h5
run 2 "${small[@]}" --set train.steps=8 --set checkpoint.restart=unchecked.h5 --set output.summary=unchecked.json
check "a checkpoint without checksums restarts" test "$status" -eq 0
check "... and says it is not verified" grep -qF "note: checkpoint unchecked.h5 carries no checksums" <<<"$out"
check "... ending where the checksummed one does" $python -c "
import json; a = json.load(open('unchecked.json'))['final_loss']; b = json.load(open('resumed.json'))['final_loss']
assert a == b, (a, b)"
expect_error "restart at another p (pp)" 2 "the model-parallel size (pp) is 2 in the checkpoint but 3 here" 3 "${small[@]}" --set train.steps=8 --set checkpoint.restart=half.step00000004.h5
expect_error "restart with another width" 2 "model.width is 48 in the checkpoint but 96 here" 2 "${small[@]}" --set model.width=96 --set train.steps=8 --set checkpoint.restart=half.step00000004.h5

# --- data parallelism: decks, and a pp restart with replicas ----------------------------
expect_error "parallel.data not dividing the ranks" 2 "parallel.data = 2 does not divide the 3 ranks" 3 "${small[@]}" --set parallel.data=2
expect_error "batch not divisible by parallel.data" 2 "train.batch = 16 is not divisible by parallel.data = 3" 3 "${small[@]}" --set parallel.data=3
expect_error "width not divisible by the model-parallel size" 2 "model.width = 51 is not divisible by the model-parallel size 2 (4 ranks / parallel.data = 2)" 4 "${small[@]}" --set parallel.data=2 --set model.width=51
expect_error "pp restart at another model-parallel size" 2 "the model-parallel size (pp) is 2 in the checkpoint but 1 here" 2 "${small[@]}" --set parallel.data=2 --set train.steps=8 --set checkpoint.restart=half.step00000004.h5
run 4 "${small[@]}" --set parallel.data=2 --set train.steps=8 --set checkpoint.restart=half.step00000004.h5 --set output.summary=replicas.json --set checkpoint.path=replicas
check "pp restart on 2 replicas of its 2 ranks exits 0" test "$status" -eq 0
check "... ends with the loss of the 2-rank run" $python -c "
import json; a = json.load(open('replicas.json'))['final_loss']; b = json.load(open('resumed.json'))['final_loss']
assert abs(a - b) <= 1e-5 * b, (a, b)"
check "... writes its checkpoint once, with the grid's shape" $python -c "
import h5py; f = h5py.File('replicas.step00000008.h5'); m = f['model'].attrs
assert m['p'] == 2 and m['data_parallel'] == 2, dict(m)"

# --- tp restarts at another rank count ------------------------------------------------
run 2 "${small[@]}" --set model.strategy=tp --set train.steps=4 --set checkpoint.path=tp --set train.precision=double
run 3 "${small[@]}" --set model.strategy=tp --set train.steps=6 --set checkpoint.restart=tp.step00000004.h5 --set train.precision=double
check "tp checkpoint from 2 ranks restarts on 3" test "$status" -eq 0

# --- HDF5 data input -------------------------------------------------------------------
run 2 "${small[@]}" --set data.source=hdf5 --set data.path=good.h5 --set train.steps=30 --set output.summary=h5.json
check "trains on an HDF5 data set" test "$status" -eq 0

# --- energy meters and the modelled clock plan (docs/energy.md, docs/phantom-plan.md) ---
run 1 "${small[@]}" --set train.steps=5 --set output.metrics=one.csv
check "one rank: modelled energy is 4 W computing + 1.4 W in the communicator" $python -c "
import csv
for r in csv.DictReader(open('one.csv')):
    t, e = float(r['step_time_s']), float(r['energy_j'])
    comm = float(r['comm_issue_s']) + float(r['comm_wait_s'])
    assert abs(e - (4.0 * (t - comm) + 1.4 * comm)) <= 0.05 * e + 2e-5, (t, comm, e)"
expect_error "meter absent" 2 'energy.meter = "rapl": ' 1 "${small[@]}" --set energy.meter=rapl
mkdir -p powercap/intel-rapl:0
echo package-0 > powercap/intel-rapl:0/name
echo 123456 > powercap/intel-rapl:0/energy_uj
echo 262143328850 > powercap/intel-rapl:0/max_energy_range_uj
out=$(PHANTOM_POWERCAP_ROOT=$PWD/powercap "${mpiexec[@]}" -n 2 "$train" "${small[@]}" --set train.steps=3 --set energy.meter=auto --set output.summary=rapl.json 2>&1)
check "auto picks RAPL from a powercap tree (the fake counter stands still: 0 J)" $python -c "
import json; s = json.load(open('rapl.json'))
assert s['energy_source'] == 'rapl' and s['energy_measured'] is True and s['energy_j'] == 0, s"
run 2 "${small[@]}" --set train.steps=3 --set energy.regions=true --set plan.profile=h100-sxm --set plan.slow_rank=1.2 --set output.summary=plan.json
check "energy by region in the summary" grep -qE "^  communication +[0-9.e+-]+ +[0-9.e+-]+ +[0-9]+" <<<"$out"
check "planned clocks: a modelled saving with a slow rank" $python -c "
import json; p = json.load(open('plan.json'))['plan']
assert p['source'] == 'model' and p['profile'] == 'h100-sxm' and p['saving_per_step_j'] > 0, p"
# Two replicas of one rank: the slow rank's replica sets the step, the other
# slows down to it (grid_plan.hpp); the plan covers both replicas. Width
# 4096: on an H100 the small network's phases are a few ns, at the planner's
# 1 ns tolerance.
wide=(--set model.width=4096 --set train.batch=256 --set data.samples=512)
run 2 "${small[@]}" "${wide[@]}" --set train.steps=1 --set parallel.data=2 --set plan.profile=h100-sxm --set plan.slow_rank=1.2 --set output.summary=plan_dp.json
check "planned clocks, 2 replicas: a modelled saving without a longer step" $python -c "
import json; p = json.load(open('plan_dp.json'))['plan']
assert p['saving_per_step_j'] > 0 and p['step_s'] <= p['baseline_step_s'] * (1 + 1e-5), p
assert p['energy_per_step_j'] < p['baseline_energy_per_step_j'], p"
expect_error "plan.measure with replicas" 2 "plan.measure measures one model-parallel group: run it with parallel.data = 1, not 2" 2 "${small[@]}" --set parallel.data=2 --set plan.profile=h100-sxm --set plan.measure=m.csv
expect_error "unknown plan profile" 2 "device profile 'h300' is neither a built-in profile" 1 "${small[@]}" --set plan.profile=h300
expect_error "plan.apply without a profile" 2 "plan.apply = true needs plan.profile" 1 "${small[@]}" --set plan.apply=true
expect_error "plan.apply without NVML" 2 "plan.apply: libnvidia-ml.so.1 not found" 1 "${small[@]}" --set plan.profile=h100-sxm --set plan.apply=true
# The plan applied through the tests' fake NVML (2 GPUs), loaded by the same
# dlopen path: the clocks change per phase (the slow rank's critical GEMMs at
# the top clock, work off the critical path slower); every GPU ends reset.
if [ -n "${PHANTOM_TEST_FAKE_NVML:-}" ]; then
  rm -f nvml.log
  out=$(PHANTOM_NVML_LIBRARY=$PHANTOM_TEST_FAKE_NVML FAKE_NVML_EVENT_LOG=$PWD/nvml.log "${mpiexec[@]}" -n 2 "$train" "${small[@]}" \
        --set train.steps=3 --set plan.profile=h100-sxm --set plan.slow_rank=1.2 --set plan.apply=true 2>&1)
  check "plan.apply runs" test $? -eq 0
  check "plan.apply: the summary reports the applied plan" grep -qF "clock plan on rank 0:" <<<"$out"
  check "plan.apply: clocks set per phase, GPUs reset at the end" $python - <<'PY'
lines = [l.split() for l in open("nvml.log")]
clocks = {g: {int(l[2]) for l in lines if l[0] == "lock" and l[1] == g} for g in ("0", "1")}
assert 1980 in clocks["0"] and 1980 in clocks["1"], clocks  # the critical GEMMs
assert len(clocks["1"]) > 1 and min(clocks["1"]) < 1980, clocks
for g in ("0", "1"):
    assert [l for l in lines if l[1] == g][-1][0] == "reset", g
PY
  # Two replicas of one rank each: rank 0 is the slow one, rank 1's replica
  # follows the other replicas' plan and slows its GEMMs.
  rm -f nvml.log
  out=$(PHANTOM_NVML_LIBRARY=$PHANTOM_TEST_FAKE_NVML FAKE_NVML_EVENT_LOG=$PWD/nvml.log "${mpiexec[@]}" -n 2 "$train" "${small[@]}" \
        "${wide[@]}" --set train.steps=1 --set parallel.data=2 --set plan.profile=h100-sxm --set plan.slow_rank=1.2 --set plan.apply=true 2>&1)
  check "plan.apply, 2 replicas: runs" test $? -eq 0
  check "plan.apply, 2 replicas: the slow replica at the top clock, the other slower" $python - <<'PY'
lines = [l.split() for l in open("nvml.log")]
clocks = {g: {int(l[2]) for l in lines if l[0] == "lock" and l[1] == g} for g in ("0", "1")}
assert clocks["0"] == {1980}, clocks
assert min(clocks["1"]) < 1980, clocks
PY
  # The fake has 2 GPUs: on 3 ranks only rank 2 lacks one; every rank must
  # fail alike (exit 2, the lowest failing rank's reason), not hang.
  out=$(PHANTOM_NVML_LIBRARY=$PHANTOM_TEST_FAKE_NVML timeout 120 "${mpiexec[@]}" -n 3 "$train" "${small[@]}" --set energy.meter=nvml 2>&1)
  status=$?
  check "a meter missing on one rank: exit 2, not a hang (got $status)" test $status -eq 2
  check "a meter missing on one rank: its reason" grep -qF 'energy.meter = "nvml": NVML: GPU index 2 but' <<<"$out"
  out=$(PHANTOM_NVML_LIBRARY=$PHANTOM_TEST_FAKE_NVML timeout 120 "${mpiexec[@]}" -n 3 "$train" "${small[@]}" --set energy.meter=auto 2>&1)
  status=$?
  check "auto choosing different meters on different ranks: exit 2 (got $status)" test $status -eq 2
  check "auto choosing different meters: says which" grep -qF 'energy.meter = "auto" chose model on rank 2 but nvml on rank 0' <<<"$out"
  out=$(PHANTOM_NVML_LIBRARY=$PHANTOM_TEST_FAKE_NVML timeout 120 "${mpiexec[@]}" -n 3 "$train" "${small[@]}" --set plan.profile=h100-sxm --set plan.apply=true 2>&1)
  status=$?
  check "plan.apply with a GPU missing on one rank: exit 2, not a hang (got $status)" test $status -eq 2
  # A step profile measured through the fake NVML, whose energy counter
  # simulates a GPU (FAKE_NVML_BUSY_WATTS), then planned by phantom-plan.
  out=$(PHANTOM_NVML_LIBRARY=$PHANTOM_TEST_FAKE_NVML FAKE_NVML_BUSY_WATTS=300 "${mpiexec[@]}" -n 2 "$train" "${small[@]}" \
        --set plan.profile=h100-sxm --set plan.measure=measured.csv --set plan.measure_steps=2 --set output.summary=none.json 2>&1)
  check "plan.measure runs" test $? -eq 0
  check "plan.measure: reports a plan on the measured profile" grep -qF "measured step profile (nvml): 8 clocks x" <<<"$out"
  check "plan.measure: nothing else written" test ! -e none.json
  check "plan.measure: every option from nvml, power falls with the clock" $python - <<'PY'
import csv
rows = [r for r in csv.DictReader(open("measured.csv")) if r["phase"] != "idle"]
assert rows and all(r["source"] == "nvml" for r in rows)
power = {}
for r in rows:
    t, e = float(r["time_s"]), float(r["energy_j"])
    if t > 0:  # E = P(f) t is written exactly, so any measured phase will do
        power.setdefault((r["rank"], int(r["clock_mhz"])), []).append(e / t)
for (rank, clock), ps in power.items():
    assert max(ps) - min(ps) <= 1e-6 * max(ps), (rank, clock)   # one P(f) per rank and clock
for rank in ("0", "1"):
    p = {c: v[0] for (r, c), v in power.items() if r == rank}
    assert p[1980] > p[1530] > p[930] > 0, p
gemm = [float(r["time_s"]) for r in rows if r["phase"] == "layer_001.forward.gemm"]
assert gemm and min(gemm) > 0, gemm
PY
  out=$("$(dirname "$train")/phantom-plan" --step-profile measured.csv 2>&1)
  check "phantom-plan plans the measured profile" grep -qF "plan (a), fastest step:" <<<"$out"
else
  echo "note: PHANTOM_TEST_FAKE_NVML not set, plan.apply and plan.measure through the fake NVML not run"
fi
expect_error "plan.measure without a profile" 2 "plan.measure needs plan.profile" 1 "${small[@]}" --set plan.measure=m.csv
expect_error "plan.measure on a profile without clocks" 2 "plan.measure: profile 'this-cpu' lists no GPU clocks to measure" 1 "${small[@]}" --set plan.profile=this-cpu --set plan.measure=m.csv
expect_error "non-finite power" 2 "energy.idle_watts_per_rank = nan: must be a finite number" 1 "${small[@]}" --set energy.idle_watts_per_rank=nan

# --- activation compression (docs/compression.md) --------------------------------------
expect_error "ae needs megatron" 2 'compression.method = "ae" needs model.strategy = "megatron"' 1 "${small[@]}" --set model.strategy=tp --set compression.method=ae --set compression.messages=forward
run 2 "${small[@]}" --set model.strategy=tp --set compression.method=int8 --set train.steps=4 --set output.summary=int8.json
check "tp + int8 trains" test "$status" -eq 0
# 2 hidden layers x 2 messages x 24 columns x (16 codes + 4-byte scale), output all-reduce 3 x 16 x 4
check "tp + int8 bytes per step" $python -c "import json; b = json.load(open('int8.json'))['bytes_per_step']; assert b == 2*2*24*(16+4) + 3*16*4, b"
run 2 "${small[@]}" --set model.strategy=megatron --set compression.method=ae --set compression.ae_dim=8 --set compression.messages=forward --set train.steps=4 --set checkpoint.path=ae
check "megatron + ae trains and checkpoints" test "$status" -eq 0 -a -e ae.step00000004.h5
check "ae weights in the checkpoint" $python -c "import h5py; f = h5py.File('ae.step00000004.h5', 'r'); assert f['model/layer_001/ae_encoder'].shape == (16, 48) and f['model/layer_001/ae_decoder'].shape == (48, 8)"
expect_error "ae restart at another p" 2 "the rank count (ae encoders) is 2 in the checkpoint but 1 here" 1 "${small[@]}" --set model.strategy=megatron --set compression.method=ae --set compression.ae_dim=8 --set compression.messages=forward --set train.steps=8 --set checkpoint.restart=ae.step00000004.h5

finish phantom-train
