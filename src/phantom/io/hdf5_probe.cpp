#include "phantom/io/hdf5_probe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "phantom/io/hdf5_layout.hpp"

namespace phantom {
namespace detail {
namespace {

// A damaged file may also make HDF5 loop: the child gets 60 s plus a second
// for each 20 MB of the file (it reads the values: a large checkpoint is
// no damaged one).
constexpr long kProbeSeconds = 60, kProbeBytesPerSecond = 20l << 20;

// Reads every value of a numeric dataset, a slab of leading rows at a time
// (at most kScratchBytes): HDF5's raw reads trust the metadata too (a damaged
// chunk index overflows its buffers; found by fuzz_checkpoint). Skipped when
// the values would exceed 64 times the file (plus the scratch size): beyond
// any likely compression, a damaged shape whose reads would only return fill
// values for a long time.
constexpr hsize_t kScratchBytes = hsize_t(64) << 20;

void read_all(hid_t dset, hid_t space, hid_t type, hsize_t file_bytes) {
  const H5T_class_t cls = H5Tget_class(type);
  const int nd = H5Sget_simple_extent_ndims(space);
  if ((cls != H5T_FLOAT && cls != H5T_INTEGER) || nd < 1) return;
  std::vector<hsize_t> dims(std::size_t(nd), 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  double values = 1;
  for (hsize_t d : dims) values *= double(d);
  hsize_t row = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) row *= dims[i];
  const hsize_t scratch_values = kScratchBytes / sizeof(double);
  if (values == 0 || row > scratch_values ||
      values * sizeof(double) > 64.0 * double(file_bytes) + double(kScratchBytes))
    return;
  const hsize_t rows = std::max<hsize_t>(1, scratch_values / row);
  std::vector<double> scratch(std::size_t(std::min(rows, dims[0]) * row));
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  for (hsize_t r = 0; r < dims[0]; r += rows) {
    start[0] = r;
    count[0] = std::min(rows, dims[0] - r);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    const hid_t mem = H5Screate_simple(nd, count.data(), nullptr);
    const herr_t read = H5Dread(dset, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, scratch.data());
    H5Sclose(mem);
    if (read < 0) return;
  }
}

// Opens one dataset with its dataspace, type, layout and chunk index, and
// reads its values.
void probe_dataset(hid_t dset, hsize_t file_bytes) {
  const hid_t space = H5Dget_space(dset), type = H5Dget_type(dset);
  if (hdf5_chunks_fit(dset) && space >= 0 && type >= 0) {
    hsize_t chunks = 0;
    H5Dget_num_chunks(dset, H5S_ALL, &chunks);  // walks the chunk index
    read_all(dset, space, type, file_bytes);
  }
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
}

[[noreturn]] void probe_in_child(const std::string& path, const std::vector<std::string>& datasets,
                                 const std::function<void(hid_t)>& extra) {
  const int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  try {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
      hsize_t file_bytes = 0;
      H5Fget_filesize(file, &file_bytes);
      for (const auto& name : datasets) {  // what the reader will read, values included
        if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) continue;
        const hid_t dset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
        if (dset < 0) continue;
        probe_dataset(dset, file_bytes);
        H5Dclose(dset);
      }
      if (extra) extra(file);
    }
  } catch (...) {  // an error, not a crash: the real reads report it
  }
  _exit(0);  // no exit handlers: they belong to the parent (MPI, leak checks)
}

}  // namespace

std::string hdf5_read_crash(const std::string& path, const std::vector<std::string>& datasets,
                            const std::function<void(hid_t file)>& extra) {
  const pid_t child = fork();
  if (child < 0) return "";
  if (child == 0) probe_in_child(path, datasets, extra);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  const long limit = kProbeSeconds + (ec ? 0 : long(bytes / kProbeBytesPerSecond));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit);
  auto pause = std::chrono::microseconds(200);
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) return "";
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return "no end after " + std::to_string(limit) + " s";
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace detail
}  // namespace phantom
