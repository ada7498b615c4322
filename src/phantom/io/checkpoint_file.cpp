#include "phantom/io/checkpoint_file.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>

#include "phantom/comm/first_error.hpp"
#include "phantom/io/hdf5_layout.hpp"
#include "phantom/io/hdf5_probe.hpp"

namespace phantom {
namespace {

constexpr const char* kFormat = "phantom-checkpoint";
constexpr std::int64_t kVersion = 1;

// Owns an HDF5 identifier and closes it with the right function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { reset(-1); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  void reset(hid_t id) {
    if (id_ >= 0) close_(id_);
    id_ = id;
  }
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset_unclosed() { id_ = -1; }  // closed by the caller

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Turns HDF5's automatic error printing off for the life of the object: we
// report errors ourselves, once, with the file name.
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CheckpointError("checkpoint " + path + ": " + what);
}

void check(herr_t status, const std::string& path, const std::string& what) {
  if (status < 0) fail(path, what);
}

// File access through MPI-IO on comm.
hid_t file_access(MPI_Comm comm) {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  return fapl;
}

void write_attribute(hid_t obj, const char* name, std::int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(attr, H5T_NATIVE_INT64, &value);
}

void write_attribute(hid_t obj, const char* name, std::uint64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, H5T_NATIVE_UINT64, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(attr, H5T_NATIVE_UINT64, &value);
}

void write_attribute(hid_t obj, const char* name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, std::max<std::size_t>(1, value.size()));
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(attr, type, value.empty() ? "" : value.data());
}

template <class T>
T read_number(hid_t obj, const char* name, const std::string& path, hid_t type) {
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) fail(path, std::string("missing attribute ") + name);
  T value{};
  check(H5Aread(attr, type, &value), path, std::string("cannot read attribute ") + name);
  return value;
}

std::string read_string(hid_t obj, const char* name, const std::string& path) {
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) fail(path, std::string("missing attribute ") + name);
  Handle type(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING)
    fail(path, std::string("attribute ") + name + " is not a string");
  std::string value(H5Tget_size(type), '\0');
  check(H5Aread(attr, type, value.data()), path, std::string("cannot read attribute ") + name);
  value.resize(std::strlen(value.c_str()));
  return value;
}

// Creates the groups along "a/b/c" (all but the last component).
hid_t ensure_groups(hid_t file, const std::string& dataset_path,
                    std::vector<std::unique_ptr<Handle>>& keep) {
  hid_t parent = file;
  std::size_t begin = 0;
  for (std::size_t slash; (slash = dataset_path.find('/', begin)) != std::string::npos;
       begin = slash + 1) {
    const std::string name = dataset_path.substr(0, slash);
    hid_t g = H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0
                  ? H5Gopen2(file, name.c_str(), H5P_DEFAULT)
                  : H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    keep.push_back(std::make_unique<Handle>(g, H5Gclose));
    parent = g;
  }
  return parent;
}

std::vector<hsize_t> to_hsize(const std::vector<std::size_t>& v) {
  return {v.begin(), v.end()};
}

// Every dataset is chunked and carries HDF5's Fletcher32 checksum on each
// chunk, so data that changed after writing fails its read. A chunk starts as
// rank 0's block (ranks' blocks are alike, so a chunk rarely spans two and
// rank 0 never writes part of a chunk that a later block completes: HDF5
// would read, unfilter and write it again) and is at most kChunkBytes (HDF5
// allows 4 GiB): its leading dimensions are halved until it fits. An empty
// dataset cannot be chunked: it stays contiguous.
constexpr hsize_t kChunkBytes = hsize_t(16) << 20;

hid_t checksummed_layout(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& block,
                         std::size_t scalar_bytes) {
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  std::vector<hsize_t> chunk = dims;
  for (std::size_t d = 0; d < dims.size() && block.size() == dims.size(); ++d)
    chunk[d] = block[d] > 0 ? block[d] : chunk[d];
  hsize_t bytes = scalar_bytes;
  for (hsize_t d : chunk) bytes *= d;
  if (dims.empty() || bytes == 0) return dcpl;
  for (std::size_t d = 0; d < chunk.size() && bytes > kChunkBytes; ++d)
    while (chunk[d] > 1 && bytes > kChunkBytes) {
      bytes = bytes / chunk[d] * ((chunk[d] + 1) / 2);
      chunk[d] = (chunk[d] + 1) / 2;
    }
  H5Pset_chunk(dcpl, int(chunk.size()), chunk.data());
  H5Pset_fletcher32(dcpl);
  return dcpl;
}

// Whether HDF5's error stack reports a failed checksum (the Fletcher32
// filter's "data error detected by Fletcher32 checksum").
bool checksum_failed() {
  bool found = false;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        if (e->desc && std::strstr(e->desc, "checksum")) *static_cast<bool*>(data) = true;
        return 0;
      },
      &found);
  return found;
}

// Selects this rank's block in the file and describes it in memory.
void select_block(hid_t file_space, const CheckpointTensor& t, Handle& mem_space) {
  const auto start = to_hsize(t.placement.start), count = to_hsize(t.placement.count);
  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  mem_space.reset(H5Screate_simple(int(count.size()), count.data(), nullptr));
}

// The file's attributes: format, model, optimizer and training state.
void write_info(hid_t file, const std::string& tmp, const CheckpointInfo& info) {
  write_attribute(file, "format", std::string(kFormat));
  write_attribute(file, "version", kVersion);
  write_attribute(file, "checksums", std::string("fletcher32"));
  Handle model(H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  Handle opt(H5Gcreate2(file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  Handle train(H5Gcreate2(file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!model.valid() || !opt.valid() || !train.valid())
    fail(tmp, "cannot create /model, /optimizer or /train");
  write_attribute(model, "strategy", info.strategy);
  write_attribute(model, "activation", info.activation);
  write_attribute(model, "precision", info.precision);
  write_attribute(model, "p", info.ranks);
  write_attribute(model, "data_parallel", info.data_parallel);
  write_attribute(model, "k", info.ghost);
  write_attribute(model, "input_dim", info.input_dim);
  write_attribute(model, "width", info.width);
  write_attribute(model, "depth", info.depth);
  write_attribute(model, "output_dim", info.output_dim);
  write_attribute(opt, "kind", info.optimizer);
  write_attribute(opt, "steps", info.optimizer_steps);
  write_attribute(train, "step", info.step);
  write_attribute(train, "train_seed", info.train_seed);
  write_attribute(train, "data_seed", info.data_seed);
  write_attribute(train, "rng",
                  std::string("counter-based: every draw is a function of the "
                              "seeds, the tensor and the step"));
  write_attribute(train, "deck_hash", info.deck_hash);
  write_attribute(train, "deck", info.deck);
  write_attribute(train, "feedback_streams", info.feedback_streams);
  write_attribute(train, "feedback_width", info.feedback_width);
}

// One rank's block of a tensor on its way to the file: where it goes and its
// values, already in the file's precision (a float file's blocks travel as
// float: half the bytes). Empty for a replicated tensor on a rank other than
// 0, which rank 0 writes.
struct Block {
  std::vector<hsize_t> start, count;
  std::vector<double> doubles;
  std::vector<float> floats;
  std::size_t size() const { return doubles.size() + floats.size(); }
};

Block own_block(const CheckpointTensor& t, bool as_float) {
  Block b{to_hsize(t.placement.start), to_hsize(t.placement.count), {}, {}};
  if (as_float)
    b.floats.assign(t.block.begin(), t.block.end());
  else
    b.doubles = t.block;
  return b;
}

// A block may hold more values than an MPI count (an int) can: it goes in pieces.
constexpr std::size_t kPiece = std::size_t(1) << 26;
constexpr int kHeaderTag = 7301, kValuesTag = 7302;

template <class T>
void send_values(const std::vector<T>& v, MPI_Datatype type, MPI_Comm comm) {
  for (std::size_t at = 0; at < v.size(); at += kPiece)
    MPI_Send(v.data() + at, int(std::min(kPiece, v.size() - at)), type, 0, kValuesTag, comm);
}

template <class T>
void receive_values(std::vector<T>& v, std::size_t n, MPI_Datatype type, int from, MPI_Comm comm) {
  v.resize(n);
  for (std::size_t at = 0; at < n; at += kPiece)
    MPI_Recv(v.data() + at, int(std::min(kPiece, n - at)), type, from, kValuesTag, comm,
             MPI_STATUS_IGNORE);
}

// The sending side of receive_block, on every rank but 0.
void send_block(const CheckpointTensor& t, bool as_float, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const bool none = t.placement.replicated && rank != 0;
  std::vector<unsigned long long> header = {none ? 0ull : (unsigned long long)t.block.size()};
  for (auto v : t.placement.start) header.push_back(none ? 0 : v);
  for (auto v : t.placement.count) header.push_back(none ? 0 : v);
  MPI_Send(header.data(), int(header.size()), MPI_UNSIGNED_LONG_LONG, 0, kHeaderTag, comm);
  if (none) return;
  if (as_float)
    send_values(std::vector<float>(t.block.begin(), t.block.end()), MPI_FLOAT, comm);
  else
    send_values(t.block, MPI_DOUBLE, comm);
}

Block receive_block(const CheckpointTensor& t, bool as_float, int from, MPI_Comm comm) {
  const std::size_t rank_of = t.placement.dims.size();
  std::vector<unsigned long long> header(1 + 2 * rank_of);
  MPI_Recv(header.data(), int(header.size()), MPI_UNSIGNED_LONG_LONG, from, kHeaderTag, comm,
           MPI_STATUS_IGNORE);
  Block b;
  b.start.assign(header.begin() + 1, header.begin() + 1 + std::ptrdiff_t(rank_of));
  b.count.assign(header.begin() + 1 + std::ptrdiff_t(rank_of), header.end());
  if (as_float)
    receive_values(b.floats, std::size_t(header[0]), MPI_FLOAT, from, comm);
  else
    receive_values(b.doubles, std::size_t(header[0]), MPI_DOUBLE, from, comm);
  return b;
}

// Writes one block into its place in the dataset.
bool write_block(hid_t dset, hid_t file_space, const Block& b) {
  if (b.size() == 0) return true;
  hsize_t n = 1;
  for (hsize_t c : b.count) n *= c;
  if (n != b.size() || dset < 0) return false;
  if (H5Sselect_hyperslab(file_space, H5S_SELECT_SET, b.start.data(), nullptr, b.count.data(),
                          nullptr) < 0)
    return false;
  Handle mem(H5Screate_simple(int(b.count.size()), b.count.data(), nullptr), H5Sclose);
  if (!b.floats.empty())
    return H5Dwrite(dset, H5T_NATIVE_FLOAT, mem, file_space, H5P_DEFAULT, b.floats.data()) >= 0;
  return H5Dwrite(dset, H5T_NATIVE_DOUBLE, mem, file_space, H5P_DEFAULT, b.doubles.data()) >= 0;
}

// Collective: if any rank has an error, every rank throws the error of the
// lowest such rank, so all ranks fail alike and rank 0 can report it.
void agree_on_error(MPI_Comm comm, const std::string& error) {
  const std::string first = first_error(comm, error);
  if (!first.empty()) throw CheckpointError(first);
}

}  // namespace

bool hdf5_file_left_open() {
  return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) > 0;
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

void write_checkpoint_file(const std::string& path, MPI_Comm comm, const CheckpointInfo& info,
                           const std::vector<CheckpointTensor>& tensors, bool single_precision) {
  QuietHdf5 quiet;
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const std::string tmp = path + ".tmp";
  std::string error;
  // Rank 0 writes the whole file with HDF5's serial driver, and the other
  // ranks send it their blocks, one tensor at a time. With parallel HDF5 a
  // failed write (a full disk, an I/O error) on the rank that writes the
  // metadata left the others waiting inside HDF5's own collective calls
  // forever; here no rank waits inside HDF5 on another. The ranks agree after
  // every tensor whether all went well, and all stop together at the first
  // failure.
  const auto all_well = [&] {
    int ok = error.empty() ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    return ok == 1;
  };
  const auto attempt = [&](const auto& step) {
    if (!error.empty()) return;
    try {
      step();
    } catch (const std::exception& e) {
      error = e.what();
    }
  };
  {
    Handle file(-1, H5Fclose);
    if (rank == 0) {
      file.reset(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      if (!file.valid()) error = "checkpoint " + tmp + ": cannot create the file";
      attempt([&] { write_info(file, tmp, info); });
    }
    for (const auto& t : tensors) {
      if (!all_well()) break;
      const bool as_float = single_precision && !t.always_double;
      if (rank != 0) {
        send_block(t, as_float, comm);
        continue;
      }
      const auto dims = to_hsize(t.placement.dims);
      std::vector<std::unique_ptr<Handle>> groups;
      Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
      Handle dset(-1, H5Dclose);
      attempt([&] {
        const hid_t parent = ensure_groups(file, t.path, groups);
        const std::string leaf = t.path.substr(t.path.rfind('/') + 1);
        Handle dcpl(checksummed_layout(dims, to_hsize(t.placement.count), as_float ? 4 : 8),
                    H5Pclose);
        dset.reset(H5Dcreate2(parent, leaf.c_str(), as_float ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                              space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
        if (!dset.valid()) fail(tmp, "cannot create dataset " + t.path);
        if (t.placement.order == Placement::Order::decompress)
          write_attribute(dset, "zero_blocks", std::string("r = s"));
      });
      // Every rank's block is received, even after a failure, so no sender waits.
      for (int from = 0; from < ranks; ++from) {
        const Block block =
            from == 0 ? own_block(t, as_float) : receive_block(t, as_float, from, comm);
        if (error.empty() && !write_block(dset, space, block))
          error = "checkpoint " + tmp + ": cannot write " + t.path;
      }
    }
    // Closing flushes what HDF5 still holds: that can fail too.
    if (file.valid() && H5Fclose(file) < 0 && error.empty())
      error = "checkpoint " + tmp + ": cannot write (closing the file failed)";
    file.reset_unclosed();
  }
  try {
    agree_on_error(comm, error);
  } catch (const CheckpointError&) {
    if (rank == 0) std::remove(tmp.c_str());
    throw;
  }
  // The file is closed and its data in it. Only now give it its name.
  int ok = 1;
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) ok = 0;
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (!ok) throw CheckpointError("checkpoint " + path + ": cannot rename " + tmp);
}

namespace {

// The attributes of an open checkpoint file.
CheckpointInfo read_info(hid_t file, const std::string& path) {
  if (read_string(file, "format", path) != kFormat) fail(path, "not a Phantom checkpoint");
  const auto version = read_number<std::int64_t>(file, "version", path, H5T_NATIVE_INT64);
  if (version != kVersion)
    fail(path, "format version " + std::to_string(version) + ", this Phantom reads " +
                   std::to_string(kVersion));
  CheckpointInfo info;
  Handle model(H5Gopen2(file, "model", H5P_DEFAULT), H5Gclose);
  Handle opt(H5Gopen2(file, "optimizer", H5P_DEFAULT), H5Gclose);
  Handle train(H5Gopen2(file, "train", H5P_DEFAULT), H5Gclose);
  if (!model.valid() || !opt.valid() || !train.valid())
    fail(path, "missing /model, /optimizer or /train");
  auto i64 = [&](hid_t g, const char* n) {
    return read_number<std::int64_t>(g, n, path, H5T_NATIVE_INT64);
  };
  info.strategy = read_string(model, "strategy", path);
  info.activation = read_string(model, "activation", path);
  info.precision = read_string(model, "precision", path);
  info.ranks = i64(model, "p");
  if (H5Aexists(model, "data_parallel") > 0) info.data_parallel = i64(model, "data_parallel");
  info.ghost = i64(model, "k");
  info.input_dim = i64(model, "input_dim");
  info.width = i64(model, "width");
  info.depth = i64(model, "depth");
  info.output_dim = i64(model, "output_dim");
  info.optimizer = read_string(opt, "kind", path);
  info.optimizer_steps = i64(opt, "steps");
  info.step = i64(train, "step");
  info.train_seed = i64(train, "train_seed");
  info.data_seed = i64(train, "data_seed");
  info.deck_hash = read_number<std::uint64_t>(train, "deck_hash", path, H5T_NATIVE_UINT64);
  info.deck = read_string(train, "deck", path);
  info.checksummed = H5Aexists(file, "checksums") > 0;
  if (H5Aexists(train, "feedback_streams") > 0) {  // files from before have none
    info.feedback_streams = i64(train, "feedback_streams");
    info.feedback_width = i64(train, "feedback_width");
  }
  return info;
}

// Rank 0 first reads the file in a child process (io/hdf5_probe.hpp): HDF5
// crashes on some damaged files instead of failing. `datasets` are read in
// full (every rank's blocks), `extra` runs on the open file. Every rank gets
// the verdict.
void refuse_if_hdf5_crashes(const std::string& path, MPI_Comm comm,
                            const std::vector<std::string>& datasets,
                            const std::function<void(hid_t)>& extra = {}) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error;
  if (rank == 0) {
    const std::string died = detail::hdf5_read_crash(path, datasets, extra);
    if (!died.empty())
      error = "checkpoint " + path + " is corrupt: HDF5 cannot read it (the reader ended with " +
              died + ")";
  }
  agree_on_error(comm, error);
}

}  // namespace

CheckpointInfo read_checkpoint_info(const std::string& path, MPI_Comm comm) {
  QuietHdf5 quiet;
  if (!std::filesystem::exists(path)) fail(path, "no such file");
  refuse_if_hdf5_crashes(path, comm, {}, [&](hid_t file) { read_info(file, path); });
  Handle fapl(file_access(comm), H5Pclose);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
  if (!file.valid()) fail(path, "not a readable HDF5 file (truncated or corrupt?)");
  return read_info(file, path);
}

void read_checkpoint_tensors(const std::string& path, MPI_Comm comm,
                             std::vector<CheckpointTensor>& tensors) {
  QuietHdf5 quiet;
  std::vector<std::string> paths;
  for (const auto& t : tensors) paths.push_back(t.path);
  refuse_if_hdf5_crashes(path, comm, paths);
  Handle fapl(file_access(comm), H5Pclose);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
  if (!file.valid()) fail(path, "not a readable HDF5 file (truncated or corrupt?)");
  // Independent reads: a rank that fails must not leave the others waiting in
  // a collective read. Failures are gathered once the loop is over.
  Handle xfer(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5Pset_dxpl_mpio(xfer, H5FD_MPIO_INDEPENDENT);
  std::string error;
  try {
    for (auto& t : tensors) {
      if (H5Oexists_by_name(file, t.path.c_str(), H5P_DEFAULT) <= 0)
        fail(path, "missing dataset /" + t.path);
      Handle dset(H5Dopen2(file, t.path.c_str(), H5P_DEFAULT), H5Dclose);
      if (!dset.valid()) fail(path, "cannot open dataset /" + t.path);
      Handle space(H5Dget_space(dset), H5Sclose);
      const int nd = H5Sget_simple_extent_ndims(space);
      std::vector<hsize_t> dims(nd > 0 ? nd : 0);
      H5Sget_simple_extent_dims(space, dims.data(), nullptr);
      if (dims != to_hsize(t.placement.dims)) {
        auto show = [](const auto& d) {
          std::string s;
          for (std::size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
          return s;
        };
        fail(path, "dataset /" + t.path + " is " + show(dims) + " but the model needs " +
                       show(t.placement.dims));
      }
      if (!detail::hdf5_chunks_fit(dset))
        throw CheckpointError("checkpoint " + path + " is corrupt: dataset /" + t.path +
                              " has a damaged chunk layout");
      Handle mem(-1, H5Sclose);
      select_block(space, t, mem);
      t.block.assign(std::accumulate(t.placement.count.begin(), t.placement.count.end(),
                                     std::size_t(1), std::multiplies<>()),
                     0.0);
      if (H5Dread(dset, H5T_NATIVE_DOUBLE, mem, space, xfer, t.block.data()) < 0) {
        if (checksum_failed())  // first: the next HDF5 call clears the error stack
          throw CheckpointError("checkpoint " + path + " is corrupt: dataset /" + t.path +
                                " does not match its checksum");
        fail(path, "cannot read /" + t.path + " (truncated or corrupt?)");
      }
    }
  } catch (const CheckpointError& e) {
    error = e.what();
  }
  agree_on_error(comm, error);
}

}  // namespace phantom
