#!/usr/bin/env bash
# Installs Phantom from BUILD_DIR into a temporary prefix, then configures,
# builds and runs examples/EXAMPLE on 2 ranks against that installation, as a
# downstream project would (c_train: a project whose only language is C, run
# in its own folder with its deck).
#   test_install_example.sh SOURCE_DIR BUILD_DIR EXAMPLE MPIEXEC [MPIEXEC_FLAGS...]
set -euo pipefail
source_dir=$1
build_dir=$2
example=$3
shift 3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix/install" > "$prefix/install.log"
test -f "$prefix/install/lib/cmake/Phantom/PhantomConfig.cmake"
test -f "$prefix/install/include/phantom/phantom.hpp"
test -f "$prefix/install/include/phantom/phantom.h"
cmake -S "$source_dir/examples/$example" -B "$prefix/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix/install" > "$prefix/configure.log" || {
  cat "$prefix/configure.log"
  exit 1
}
cmake --build "$prefix/build" > "$prefix/build.log" || {
  cat "$prefix/build.log"
  exit 1
}
cd "$prefix/build"
if [ -f "$source_dir/examples/$example/deck.toml" ]; then
  "$@" -n 2 "./$example" "$source_dir/examples/$example/deck.toml"
else
  "$@" -n 2 "./$example"
fi
