// A check on a dataset's storage before HDF5 reads it. HDF5 1.10 trusts the
// chunk dimensions stored in a file: a damaged one (a chunk larger than its
// dataset) makes H5Dread copy out of bounds and crash (found by
// tests/fuzz/fuzz_checkpoint). Used by the checkpoint and data-set readers.
#pragma once

#include <hdf5.h>

#include <vector>

namespace phantom {
namespace detail {

// False when the dataset is chunked and a chunk dimension is zero or larger
// than the dataset's maximum in that dimension (HDF5 never writes such a
// chunk; an unlimited dimension allows any), or when the layout is unreadable.
inline bool hdf5_chunks_fit(hid_t dataset) {
  const hid_t dcpl = H5Dget_create_plist(dataset);
  const hid_t space = H5Dget_space(dataset);
  bool fit = dcpl >= 0 && space >= 0;
  if (fit && H5Pget_layout(dcpl) == H5D_CHUNKED) {
    const int nd = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(nd > 0 ? std::size_t(nd) : 0), max(dims.size()), chunk(dims.size());
    fit = nd >= 0 && H5Sget_simple_extent_dims(space, dims.data(), max.data()) == nd &&
          H5Pget_chunk(dcpl, nd, chunk.data()) == nd;
    for (std::size_t i = 0; fit && i < dims.size(); ++i)
      fit = chunk[i] >= 1 && (max[i] == H5S_UNLIMITED || chunk[i] <= max[i]);
  } else if (fit && H5Pget_layout(dcpl) < 0) {
    fit = false;
  }
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  return fit;
}

}  // namespace detail
}  // namespace phantom
