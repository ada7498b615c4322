#!/usr/bin/env bash
# The sanitizer configuration of scripts/test.sh: Phantom built with clang,
# AddressSanitizer + UndefinedBehaviorSanitizer (-fno-sanitize-recover: the
# first report ends the program) and libFuzzer coverage, on Debian's Serial
# Kokkos. Then
#   1. the test suite under the sanitizers, leaks checked, Open MPI's own
#      suppressed (tests/sanitize/lsan.supp): every GoogleTest program at 1-4
#      ranks, the fuzzers' regression inputs and the shorter end-to-end runs
#      (failed writes, a dying rank, phantom-plan). Left to the other
#      configurations: the install tests (examples built with plain flags)
#      and the three longest end-to-end scripts (phantom-train, phantom-cost,
#      session against phantom-train: 9 min here under the sanitizers, and
#      the library code they run is the unit tests');
#   2. every fuzzer (tests/fuzz) for PHANTOM_FUZZ_SECONDS (default 60) from
#      its seed corpus; a crash, hang (> 10 s on one input; 30 s for the HDF5
#      readers, which fork a child per input), leak or sanitizer
#      report fails, and the input is kept under build-sanitize/fuzz-findings.
#   scripts/sanitize.sh               # build, suite, fuzzers
#   scripts/sanitize.sh suite         # build and suite only
#   scripts/sanitize.sh fuzz          # build and fuzzers only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PHANTOM_JOBS:-2}
seconds=${PHANTOM_FUZZ_SECONDS:-60}
what=${1:-all}
case "$what" in
  all | suite | fuzz) ;;
  *) echo "sanitize.sh: unknown argument '$what' (suite, fuzz, or none for both)" >&2; exit 2 ;;
esac
root=$PWD

CC=clang CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DPHANTOM_SANITIZE=address,undefined -DPHANTOM_ENABLE_FUZZERS=ON \
  -DPHANTOM_ENABLE_FORTRAN=OFF -DPHANTOM_ENABLE_BENCHMARKS=OFF >/dev/null
cmake --build build-sanitize -j"$jobs"

# Full stacks for allocations: Open MPI has no frame pointers, and the
# suppressions must see the Open MPI calls below its unloaded components.
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:check_initialization_order=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0
if [ "$what" != fuzz ]; then
  ctest --test-dir build-sanitize --output-on-failure -j"$jobs" \
    -E '^(phantom-train.end-to-end|phantom-cost.end-to-end|session-matches-phantom-train)$'
fi

[ "$what" != suite ] && [ "$seconds" -gt 0 ] || exit 0
findings=$root/build-sanitize/fuzz-findings
mkdir -p "$findings"
failed=()
for fuzzer in $(ls tests/fuzz/corpus); do
  corpus=build-sanitize/fuzz-corpus/$fuzzer  # grows here, not in the source tree
  mkdir -p "$corpus"
  echo "--- $fuzzer: ${seconds} s"
  supp=lsan.supp limits=() timeout=10
  # HDF5 may allocate what damaged metadata says: only memory used counts.
  # And it leaks on damaged files, all of it suppressed: a leak check after
  # each such input only symbolized HDF5's stacks (over 10 s for one input),
  # so these two fuzz without it (their replay tests, and the unit suite,
  # still check leaks at exit). Each of their inputs forks a child that reads
  # the file first (io/hdf5_probe.hpp): 30 s before an input counts as a hang.
  case "$fuzzer" in
    fuzz_dataset | fuzz_checkpoint)
      supp=lsan-hdf5-fuzz.supp limits=(-malloc_limit_mb=1048576 -detect_leaks=0) timeout=30 ;;
  esac
  if ! (cd build-sanitize/tests/fuzz &&
        export LSAN_OPTIONS=suppressions=$root/tests/sanitize/$supp:print_suppressions=0 &&
        ./"$fuzzer" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 "${limits[@]}" \
          -print_final_stats=1 -artifact_prefix="$findings/$fuzzer-" \
          "$root/$corpus" "$root/tests/fuzz/corpus/$fuzzer" >"$findings/$fuzzer.log" 2>&1); then
    tail -n 60 "$findings/$fuzzer.log"
    echo "sanitize: $fuzzer found a failing input (kept in $findings); add it to" \
         "tests/fuzz/regressions/$fuzzer with the fix" >&2
    failed+=("$fuzzer")
    continue
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added)" "$findings/$fuzzer.log" | tr '\n' ' '
  echo
done
[ ${#failed[@]} -eq 0 ] || { echo "sanitize: failing fuzzers: ${failed[*]}" >&2; exit 1; }
