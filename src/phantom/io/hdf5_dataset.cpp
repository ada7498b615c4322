#include "phantom/io/hdf5_dataset.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "phantom/io/hdf5_layout.hpp"
#include "phantom/io/hdf5_probe.hpp"

namespace phantom {
namespace {

struct Closer {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Closer() {
    if (id >= 0) close(id);
  }
};

// Physical memory of this machine, bytes.
double memory_bytes() {
  return double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
}

std::vector<double> read_matrix(hid_t file, const std::string& path, const char* name,
                                std::size_t cols, const char* cols_key, std::size_t* rows) {
  auto fail = [&](const std::string& why) {
    throw DataError("data.path = \"" + path + "\": dataset /" + name + " " + why);
  };
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) fail("is missing");
  Closer dset{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
  if (dset.id < 0) fail("cannot be opened");
  Closer type{H5Dget_type(dset.id), H5Tclose};
  const H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail("is not numeric");
  Closer space{H5Dget_space(dset.id), H5Sclose};
  const int nd = H5Sget_simple_extent_ndims(space.id);
  if (nd != 2) fail("has " + std::to_string(nd) + " dimensions, expected 2 (N x " + cols_key + ")");
  hsize_t dims[2];
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  if (dims[1] != cols)
    fail("is " + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) + " but " + cols_key +
         " = " + std::to_string(cols));
  if (dims[0] == 0) fail("has no rows");
  // The file says how much to allocate: a damaged or hostile one must not
  // make that a crash (found by tests/fuzz/fuzz_dataset; compressed data
  // may legitimately be larger than its file, but not than memory).
  const double bytes = double(dims[0]) * double(dims[1]) * sizeof(double);
  if (bytes > memory_bytes())
    fail("is " + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) + " (" +
         std::to_string(bytes / 1073741824.0) + " GiB as double), more than this machine's " +
         std::to_string(memory_bytes() / 1073741824.0) + " GiB of memory (a damaged file?)");
  // Without filters (compression) the values are stored as they are, so a
  // dataset cannot hold more bytes than the whole file: a damaged shape
  // must not make a large allocation (found by tests/fuzz/fuzz_dataset).
  Closer dcpl{H5Dget_create_plist(dset.id), H5Pclose};
  hsize_t file_bytes = 0;
  const double stored = double(dims[0]) * double(dims[1]) * double(H5Tget_size(type.id));
  if (dcpl.id >= 0 && H5Pget_nfilters(dcpl.id) == 0 && H5Fget_filesize(file, &file_bytes) >= 0 &&
      stored > double(file_bytes))
    fail("is " + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) + " (" +
         std::to_string(std::uint64_t(stored)) + " bytes, uncompressed) but the file has only " +
         std::to_string(file_bytes) + " bytes (truncated or damaged?)");
  if (!detail::hdf5_chunks_fit(dset.id)) fail("has a damaged chunk layout (corrupt?)");
  *rows = dims[0];
  std::vector<double> out(dims[0] * dims[1]);
  if (H5Dread(dset.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail("cannot be read (truncated or corrupt?)");
  return out;
}

}  // namespace

HostDataset read_hdf5_dataset(const std::string& path, std::size_t input_dim,
                              std::size_t output_dim) {
  H5E_auto2_t func = nullptr;
  void* client = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &func, &client);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // our messages, not HDF5's stack dump
  struct Restore {
    H5E_auto2_t f;
    void* c;
    ~Restore() { H5Eset_auto2(H5E_DEFAULT, f, c); }
  } restore{func, client};

  if (!std::filesystem::exists(path)) throw DataError("data.path = \"" + path + "\": no such file");
  // HDF5 crashes on some damaged files instead of failing: read them in a
  // child process first (io/hdf5_probe.hpp).
  const std::string died = detail::hdf5_read_crash(path, {"X", "Y"});
  if (!died.empty())
    throw DataError("data.path = \"" + path + "\": HDF5 cannot read the file (the " +
                    "reader ended with " + died + "): the file is damaged");
  Closer file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (file.id < 0) throw DataError("data.path = \"" + path + "\": not a readable HDF5 file");
  HostDataset d;
  std::size_t y_rows = 0;
  d.x = read_matrix(file.id, path, "X", input_dim, "model.input_dim", &d.rows);
  d.y = read_matrix(file.id, path, "Y", output_dim, "model.output_dim", &y_rows);
  if (y_rows != d.rows)
    throw DataError("data.path = \"" + path + "\": /X has " + std::to_string(d.rows) +
                    " rows but /Y has " + std::to_string(y_rows));
  d.x_cols = input_dim;
  d.y_cols = output_dim;
  return d;
}

void write_hdf5_dataset(const std::string& path, const HostDataset& data) {
  // Written under a temporary name and renamed, so a failed write never
  // leaves a file that looks complete.
  const std::string tmp = path + ".tmp";
  try {
    Closer file{H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    if (file.id < 0) throw DataError(path + ": cannot create " + tmp);
    auto write = [&](const char* name, const std::vector<double>& values, std::size_t cols) {
      const hsize_t dims[2] = {data.rows, cols};
      Closer space{H5Screate_simple(2, dims, nullptr), H5Sclose};
      Closer dset{H5Dcreate2(file.id, name, H5T_IEEE_F64LE, space.id, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  H5Dclose};
      if (dset.id < 0 ||
          H5Dwrite(dset.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        throw DataError(path + ": cannot write /" + name);
    };
    write("X", data.x, data.x_cols);
    write("Y", data.y, data.y_cols);
    if (H5Fflush(file.id, H5F_SCOPE_GLOBAL) < 0) throw DataError(path + ": cannot flush");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw DataError(path + ": cannot rename " + tmp + " to it");
  }
}

}  // namespace phantom
