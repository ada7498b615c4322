#!/usr/bin/env bash
# Installs Phantom from BUILD_DIR into a temporary prefix, then configures,
# builds and runs examples/pp_regression against that installation, as a
# downstream project would.
#   test_install_example.sh SOURCE_DIR BUILD_DIR MPIEXEC [MPIEXEC_FLAGS...]
set -euo pipefail
source_dir=$1
build_dir=$2
shift 2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix/install" > "$prefix/install.log"
test -f "$prefix/install/lib/cmake/Phantom/PhantomConfig.cmake"
test -f "$prefix/install/include/phantom/phantom.hpp"
cmake -S "$source_dir/examples/pp_regression" -B "$prefix/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix/install" > "$prefix/configure.log"
cmake --build "$prefix/build" > "$prefix/build.log"
"$@" -n 2 "$prefix/build/pp_regression"
