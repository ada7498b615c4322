// User data sets in HDF5: datasets /X (N x input_dim) and /Y (N x output_dim),
// any floating-point type, read whole by every rank (the inputs are
// replicated). Errors are DataError naming the file, the dataset and what is
// wrong (missing, wrong rank, wrong shape, not a number type).
#pragma once

#include <string>
#include <vector>

#include "phantom/core/error.hpp"

namespace phantom {

class DataError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

struct HostDataset {
  std::size_t rows = 0, x_cols = 0, y_cols = 0;
  std::vector<double> x, y;  // row-major, as in the file
};

// Reads /X and /Y and checks their shapes against input_dim and output_dim.
HostDataset read_hdf5_dataset(const std::string& path, std::size_t input_dim,
                              std::size_t output_dim);

// Writes /X and /Y (double); for tests and for users preparing data.
void write_hdf5_dataset(const std::string& path, const HostDataset& data);

}  // namespace phantom
