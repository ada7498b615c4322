#!/usr/bin/env bash
# The same deck trained by phantom-train and by examples/session_train (the
# library's session alone) gives identical checkpoints: every dataset bitwise
# and every attribute equal, for pp and tp, in float and double, with a
# schedule, clipping, weight decay, shuffling and held-out data; a restart
# from the session's checkpoint continues as phantom-train's straight run.
#   test_session_matches_phantom_train.sh SESSION_TRAIN PHANTOM_TRAIN DECK MPIEXEC [FLAGS...]
set -uo pipefail
source "$(dirname "$0")/harness.sh"
session=$1
train=$2
deck=$3
shift 3
mpiexec=("$@")
python=${PHANTOM_TEST_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
out=""

same_checkpoints() {  # same_checkpoints A B [ATTRIBUTE...]: datasets bitwise, attributes equal but those named
  $python - "$@" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
skip = set(sys.argv[3:])
def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out
ia, ib = items(a), items(b)
assert ia.keys() == ib.keys(), set(ia) ^ set(ib)
assert dict(a.attrs) .keys() == dict(b.attrs).keys()
for k in set(a.attrs) - skip:
    assert np.array_equal(a.attrs[k], b.attrs[k]), k
for name, obj in ia.items():
    if isinstance(obj, h5py.Dataset):
        x, y = obj[...], ib[name][...]
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    for k in set(obj.attrs) - skip:
        assert np.array_equal(obj.attrs[k], ib[name].attrs[k]), (name, k)
print(len(ia), "objects equal")
PY
}

both() {  # both NAME SETTINGS...: the deck through each program, 2 ranks, each in its folder
  local name=$1
  shift
  mkdir -p "pt_$name" "s_$name"
  local sets=(--set checkpoint.path=ck --set train.weight_decay=0.01 "$@")
  out=$(cd "pt_$name" && "${mpiexec[@]}" -n 2 "$train" "$deck" "${sets[@]}" 2>&1)
  check "$name: phantom-train exits 0" test $? -eq 0
  local args=(checkpoint.path=ck train.weight_decay=0.01)
  for s in "$@"; do [ "$s" != --set ] && args+=("$s"); done
  out=$(cd "s_$name" && "${mpiexec[@]}" -n 2 "$session" "$deck" "${args[@]}" 2>&1)
  check "$name: session_train exits 0 (loss fell 4x)" test $? -eq 0
  check "$name: identical checkpoints" \
    same_checkpoints "pt_$name/ck.step00000200.h5" "s_$name/ck.step00000200.h5"
}

both pp
both tp --set model.strategy=tp --set train.schedule=step --set train.step_every=50
both pp-double --set train.precision=double --set train.optimizer=sgd --set train.momentum=0.9 \
  --set train.learning_rate=0.05

# Restart: the session from phantom-train's step-100 checkpoint to step 200.
out=$("${mpiexec[@]}" -n 2 "$train" "$deck" --set checkpoint.path=half --set checkpoint.every=100 --set checkpoint.keep=3 2>&1)
check "checkpoint every 100 steps" test -f half.step00000100.h5
out=$("${mpiexec[@]}" -n 2 "$session" "$deck" checkpoint.path=resumed checkpoint.restart=half.step00000100.h5 2>&1)
status=$?  # 1 only says the second half's loss did not fall 4x
check "session restarts from phantom-train's checkpoint (exit $status)" test $status -le 1
# The decks differ (checkpoint.path, checkpoint.restart): so do their text and hash.
check "restarted session ends where the straight run does" \
  same_checkpoints half.step00000200.h5 resumed.step00000200.h5 deck deck_hash

finish session-matches-phantom-train
