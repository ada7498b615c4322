// Flips one bit of a dataset's stored data in an HDF5 file, as a disk or a
// network might: the tests of the checkpoints' checksums. The dataset must be
// chunked (as every checkpoint dataset is); its first chunk is changed.
#pragma once

#include <hdf5.h>

#include <fstream>
#include <stdexcept>
#include <string>

namespace phantom_test {

inline void flip_bit_in_dataset(const std::string& file, const std::string& dataset) {
  haddr_t address = HADDR_UNDEF;
  hsize_t size = 0;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = f >= 0 ? H5Dopen2(f, dataset.c_str(), H5P_DEFAULT) : -1;
  if (d >= 0) {
    const hid_t space = H5Dget_space(d);
    H5Dget_chunk_info(d, space, 0, nullptr, nullptr, &address, &size);
    H5Sclose(space);
    H5Dclose(d);
  }
  if (f >= 0) H5Fclose(f);
  if (address == HADDR_UNDEF || size < 8)
    throw std::runtime_error("flip_bit_in_dataset: no chunk of " + dataset + " in " + file);
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(std::streamoff(address + 5));
  const char byte = char(io.get() ^ 0x10);
  io.seekp(std::streamoff(address + 5));
  io.put(byte);
}

}  // namespace phantom_test
