// The HDF5 data-set reader (data.path): the bytes of a small valid file
// (seeds in corpus/fuzz_dataset, written
// by `fuzz_dataset -write_seed=PATH`), mutated. A malformed file must end in a
// DataError naming it, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_input.hpp"
#include "phantom/io/hdf5_dataset.hpp"

PHANTOM_FUZZ_HDF5_ALLOCATOR_OPTIONS()

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  phantom_fuzz::init_mpi_and_kokkos(argc, argv);
  for (int i = 1; i < *argc; ++i)  // -write_seed=PATH: write a valid data set and stop
    if (std::strncmp((*argv)[i], "-write_seed=", 12) == 0) {
      phantom::HostDataset d;
      d.rows = 4, d.x_cols = 3, d.y_cols = 2;
      for (int k = 0; k < 12; ++k) d.x.push_back(0.25 * k - 1);
      for (int k = 0; k < 8; ++k) d.y.push_back(0.5 * k);
      phantom::write_hdf5_dataset((*argv)[i] + 12, d);
      std::exit(0);
    }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = phantom_fuzz::write_input(data, size, "data.h5");
  try {
    const auto d = phantom::read_hdf5_dataset(path, 3, 2);
    if (d.x.size() != d.rows * 3 || d.y.size() != d.rows * 2) __builtin_trap();
  } catch (const phantom::Error&) {
  }
  return 0;
}
