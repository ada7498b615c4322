// Helpers for the libFuzzer targets: readers that take a path get the input
// written to a file of this process's own (one per target, rewritten for every
// input), and MPI/Kokkos are set up once for the targets that need them.
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "phantom/comm/mpi_defaults.hpp"

// For the HDF5 readers' targets: HDF5 allocates what a damaged file's
// metadata says and handles a failed malloc as an error, so AddressSanitizer
// returns NULL for sizes it cannot serve (over 1 TiB) instead of reporting
// them; a crash on the NULL would still be reported. (scripts/sanitize.sh
// and the replay tests also lift libFuzzer's malloc limit for these targets:
// only memory actually used counts.)
#define PHANTOM_FUZZ_HDF5_ALLOCATOR_OPTIONS()       \
  extern "C" const char* __asan_default_options() { \
    return "allocator_may_return_null=1";           \
  }

namespace phantom_fuzz {

// Writes the input to $TMPDIR/phantom-fuzz-<pid>-<name> and returns its path.
inline std::string write_input(const std::uint8_t* data, std::size_t size, const char* name) {
  const char* dir = std::getenv("TMPDIR");
  const std::string path = std::string(dir && *dir ? dir : "/tmp") + "/phantom-fuzz-" +
                           std::to_string(getpid()) + "-" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();  // the fuzzer's own scratch file: nothing to test without it
  }
  return path;
}

// MPI (one rank) and Kokkos, initialised once and never finalised: libFuzzer
// ends the process itself.
inline void init_mpi_and_kokkos(int* argc, char*** argv) {
  phantom::apply_mpi_defaults();
  MPI_Init(argc, argv);
  Kokkos::initialize(*argc, *argv);
}

}  // namespace phantom_fuzz
