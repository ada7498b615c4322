// HDF5 checkpoint files (schema in docs/checkpoint.md). Every rank reads its
// own block of each global tensor (parallel HDF5, independent reads); rank 0
// writes the file, receiving the other ranks' blocks one tensor at a time, so
// a failed write cannot leave a rank waiting inside HDF5. Writes go to
// PATH.tmp, which rank 0 renames to PATH only after every rank's data is in
// it, so a checkpoint is never half-written. Every dataset is checksummed
// (Fletcher32): data changed after writing is refused on reading. Errors are
// CheckpointError with the file name and what is wrong.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"
#include "phantom/core/parameter.hpp"

namespace phantom {

class CheckpointError : public Error {
 public:
  using Error::Error;
};

// The attributes of /model and /train.
struct CheckpointInfo {
  std::string strategy, activation, precision, optimizer;
  std::int64_t ranks = 0, ghost = 0, input_dim = 0, width = 0, depth = 0, output_dim = 0;
  // The process grid that wrote it: `ranks` model-parallel ranks (p) in each
  // of data_parallel replicas (1 in files from before data parallelism).
  std::int64_t data_parallel = 1;
  std::int64_t step = 0;                       // the next step to train (steps done)
  std::int64_t optimizer_steps = 0;            // updates the optimizer has made (Adam's t)
  std::int64_t train_seed = 0, data_seed = 0;  // all random numbers derive from these
  std::uint64_t deck_hash = 0;                 // FNV-1a of the resolved deck
  std::string deck;                            // the resolved deck, TOML
  // Every dataset carries a checksum (HDF5 Fletcher32; false in files
  // written before Phantom added them, whose data cannot be verified).
  bool checksummed = true;
  // TopK error-feedback state (io/feedback_checkpoint.hpp): streams per rank
  // and the padded length of a rank's values; 0 when the file has none.
  std::int64_t feedback_streams = 0, feedback_width = 0;
};

// One tensor: its dataset path ("model/layer_001/local") and this rank's block
// of it, row-major, in the order of placement.count.
struct CheckpointTensor {
  std::string path;
  Placement placement;
  std::vector<double> block;
  // Stored as double even in a single-precision file (counts, which float
  // would round beyond 2^24).
  bool always_double = false;
};

// Writes `path` (through path.tmp and a rename). Tensors are stored as float
// when single_precision (exact for float models), else double. Collective.
void write_checkpoint_file(const std::string& path, MPI_Comm comm, const CheckpointInfo& info,
                           const std::vector<CheckpointTensor>& tensors, bool single_precision);

// Reads the attributes. Collective. A missing, truncated or foreign file is a
// CheckpointError.
CheckpointInfo read_checkpoint_info(const std::string& path, MPI_Comm comm);

// Fills each tensor's block from the file, given its path and placement.
// A missing dataset, one whose dimensions differ or one whose data does not
// match its checksum ("checkpoint F is corrupt: dataset /D does not match its
// checksum") is a CheckpointError.
void read_checkpoint_tensors(const std::string& path, MPI_Comm comm,
                             std::vector<CheckpointTensor>& tensors);

// Whether HDF5 still holds a file open: after a checkpoint whose close failed
// (a full or failing disk). HDF5 1.10 then crashes in MPI_Finalize, closing it
// again; a program that sees this should end with MPI_Abort instead (as
// phantom-train does, with the checkpoint's exit status 3).
bool hdf5_file_left_open();

// 64-bit FNV-1a of a string.
std::uint64_t fnv1a(const std::string& text);

}  // namespace phantom
