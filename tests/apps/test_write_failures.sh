#!/usr/bin/env bash
# Writes that fail midway, injected by an LD_PRELOAD shim (tests/io/
# fail_writes.c: ENOSPC or EIO from the N-th write to a file): a checkpoint,
# the metrics CSV and the JSON summary. Each ends the run with a clear error
# naming the file and a non-zero status (3 for the checkpoint), leaves the
# previous checkpoint usable, and leaves no file that looks complete but is
# not (no checkpoint or summary under its final name, no temporary file).
#   test_write_failures.sh PHANTOM_TRAIN FAIL_WRITES_SO MPIEXEC [MPIEXEC_FLAGS...]
set -uo pipefail
source "$(dirname "$0")/harness.sh"
train=$1
shim=$2
shift 2
mpiexec=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

net=(--set model.width=48 --set model.depth=2 --set model.input_dim=8 --set model.output_dim=3
     --set data.samples=256 --set train.batch=16 --set train.log_every=1)

failing() {  # failing NP SUFFIX AFTER ERRNO ARGS...: phantom-train with writes to *SUFFIX failing
  local np=$1 suffix=$2 after=$3 errno=$4
  shift 4
  out=$(PHANTOM_FAIL_WRITE_PATH=$suffix PHANTOM_FAIL_WRITE_AFTER=$after PHANTOM_FAIL_WRITE_ERRNO=$errno \
        timeout 120 "${mpiexec[@]}" -x LD_PRELOAD="$shim" -x PHANTOM_FAIL_WRITE_PATH \
        -x PHANTOM_FAIL_WRITE_AFTER -x PHANTOM_FAIL_WRITE_ERRNO -n "$np" "$train" "${net[@]}" "$@" 2>&1)
  status=$?
}

# --- a checkpoint: the disk fills up at its first write, midway, near its end ---
# On one rank and on two: rank 0 writes the file, and the other rank must not
# be left waiting for it (with parallel HDF5 it was: docs/checkpoint.md).
for np in 1 2; do
  for after in 0 5 40; do
    for errno in ENOSPC EIO; do
      rm -rf ck && mkdir ck
      failing $np run.step00000008.h5.tmp $after $errno --set train.steps=8 --set checkpoint.every=4 \
              --set checkpoint.path=\"ck/run\"
      what="$np rank(s), checkpoint write failing after $after writes ($errno)"
      check "$what: exit status 3 (got $status)" test $status -eq 3
      check "$what: names the file" grep -qF "phantom-train: error: checkpoint ck/run.step00000008.h5.tmp: cannot" <<<"$out"
      check "$what: no checkpoint under its final name" test ! -e ck/run.step00000008.h5
      check "$what: no temporary file left" test ! -e ck/run.step00000008.h5.tmp
    done
  done
  out=$("${mpiexec[@]}" -n $np "$train" "${net[@]}" --set train.steps=8 --set checkpoint.restart=\"ck/run.step00000004.h5\" 2>&1)
  check "$np rank(s): the previous checkpoint restarts (status $?)" grep -qF "restarted from ck/run.step00000004.h5 at step 4" <<<"$out"
done

# --- the metrics CSV (written as the run goes; rank 0 alone) ---
failing 2 m.csv 3 ENOSPC --set train.steps=8 --set output.metrics=\"m.csv\"
check "metrics write failing: non-zero exit (got $status)" test $status -ne 0
check "metrics write failing: names the file and the error" \
      grep -qF 'output.metrics = "m.csv": write failed (No space left on device)' <<<"$out"

# --- the JSON summary (written at the end under a temporary name) ---
failing 2 s.json.tmp 0 EIO --set train.steps=4 --set output.summary=\"s.json\"
check "summary write failing: non-zero exit (got $status)" test $status -ne 0
check "summary write failing: names the file and the error" \
      grep -qF "cannot write s.json: writing s.json.tmp failed (Input/output error)" <<<"$out"
check "summary write failing: no summary, no temporary file" test ! -e s.json -a ! -e s.json.tmp

finish "write failures"
