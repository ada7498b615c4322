# Sourced by the end-to-end test scripts: check NAME CONDITION... counts a
# passed or failed check (showing the tail of $out on failure); finish NAME
# prints the counts and fails the script if any check failed.
failures=0
passed=0

check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failures=$((failures + 1))
    echo "FAILED: $name"
    echo "$out" | tail -20 | sed 's/^/    /'
  fi
}

finish() {  # finish NAME
  echo "$1: $passed checks passed, $failures failed"
  test $failures -eq 0
}
