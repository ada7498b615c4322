// The C API (phantom/phantom.h) over phantom::run::Session. Every entry point
// catches everything: exceptions become a return code and a message for
// phantom_last_error(); nothing throws across the C boundary.
#include <Kokkos_Core.hpp>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#include "phantom/comm/first_error.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/io/checkpoint_file.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/phantom.h"
#include "phantom/run/deck_config.hpp"
#include "phantom/run/session.hpp"

#if defined(KOKKOS_ENABLE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace {

thread_local std::string last_error;
bool kokkos_started_here = false;
int live_models = 0;

// An error with its C return code.
struct ApiError {
  int code;
  std::string message;
};

[[noreturn]] void fail(int code, const std::string& message) {
  throw ApiError{code, message};
}

void require(bool ok, const std::string& message) {
  if (!ok) fail(PHANTOM_ERR_ARGUMENT, message);
}

// Runs f, turning every exception into a code and last_error.
template <class F>
int guarded(const char* function, F&& f) {
  try {
    f();
    return PHANTOM_OK;  // the last error stays readable, as errno does
  } catch (const ApiError& e) {
    last_error = std::string(function) + ": " + e.message;
    return e.code;
  } catch (const phantom::CheckpointError& e) {
    last_error = std::string(function) + ": " + e.what();
    return PHANTOM_ERR_CHECKPOINT;
  } catch (const phantom::InvalidArgument& e) {  // decks, data, meters, shapes
    last_error = std::string(function) + ": " + e.what();
    return PHANTOM_ERR_DECK;
  } catch (const std::exception& e) {
    last_error = std::string(function) + ": " + e.what();
    return PHANTOM_ERR_INTERNAL;
  } catch (...) {
    last_error = std::string(function) + ": unknown error";
    return PHANTOM_ERR_INTERNAL;
  }
}

}  // namespace

namespace phantom::c_api::detail {

// True where p points into device memory that the host cannot read.
inline bool is_device_pointer(const void* p) {
#if defined(KOKKOS_ENABLE_CUDA)
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    (void)cudaGetLastError();  // an ordinary host pointer on old runtimes
    return false;
  }
  return a.type == cudaMemoryTypeDevice;
#else
  (void)p;
  return false;
#endif
}

// Row-major rows of T at p (host or device) -> the LayoutLeft matrix m, through
// its host mirror h where p is on the host.
template <class T, class M>
void rows_to_matrix(const T* p, const M& m, const typename M::HostMirror& h) {
  const std::size_t rows = m.extent(0), cols = m.extent(1);
  using Space = typename M::execution_space;
  using Scalar = typename M::non_const_value_type;
  if (is_device_pointer(p)) {
    Kokkos::View<const T**, Kokkos::LayoutRight, typename M::memory_space,
                 Kokkos::MemoryTraits<Kokkos::Unmanaged>>
        src(p, rows, cols);
    Kokkos::parallel_for(
        "phantom_c::rows_to_matrix",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>({0, 0}, {rows, cols}),
        KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { m(i, j) = Scalar(src(i, j)); });
    return;
  }
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) h(i, j) = Scalar(p[i * cols + j]);
  Kokkos::deep_copy(m, h);
}

// The LayoutLeft matrix m -> row-major rows of T at p (host or device), through
// the host mirror h (of m's shape) where p is on the host.
template <class T, class M>
void matrix_to_rows(const M& m, const typename M::HostMirror& h, T* p) {
  const std::size_t rows = m.extent(0), cols = m.extent(1);
  using Space = typename M::execution_space;
  if (is_device_pointer(p)) {
    Kokkos::View<T**, Kokkos::LayoutRight, typename M::memory_space,
                 Kokkos::MemoryTraits<Kokkos::Unmanaged>>
        dst(p, rows, cols);
    Kokkos::parallel_for(
        "phantom_c::matrix_to_rows",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>({0, 0}, {rows, cols}),
        KOKKOS_LAMBDA(const std::size_t i, const std::size_t j) { dst(i, j) = T(m(i, j)); });
    Kokkos::fence();
    return;
  }
  Kokkos::deep_copy(h, m);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) p[i * cols + j] = T(h(i, j));
}

}  // namespace phantom::c_api::detail

namespace {

// The model behind the handle, of either precision.
class Model {
 public:
  virtual ~Model() = default;
  virtual double train_step(const void* x, const void* y, std::size_t batch, bool dp) = 0;
  virtual void predict(const void* x, void* y, std::size_t batch, bool dp) = 0;
  virtual void save(const std::string& path) = 0;
  virtual std::int64_t load(const std::string& path) = 0;
  virtual phantom_stats_t stats() const = 0;
  virtual phantom::FFNShape shape() const = 0;
};

template <class Scalar>
class TypedModel final : public Model {
 public:
  using Space = phantom::DefaultSpace;
  using M = phantom::Matrix<Scalar, Space>;

  TypedModel(MPI_Comm comm, const phantom::Deck& deck)
      : comm_(comm), session_(comm_, comm, phantom::run::session_config(deck, comm_.size())) {
    if (!deck.checkpoint.restart.empty())
      session_.load(deck.checkpoint.restart, "checkpoint.restart");
  }

  double train_step(const void* x, const void* y, std::size_t batch, bool dp) override {
    const auto replicas = std::size_t(session_.data_parallel());
    if (batch % replicas != 0)
      fail(PHANTOM_ERR_ARGUMENT, "phantom_train_step: batch " + std::to_string(batch) +
                                     " is not divisible by the deck's parallel.data = " +
                                     std::to_string(replicas));
    reshape(batch);
    dp ? load_rows<double>(x, x_, hx_) : load_rows<float>(x, x_, hx_);
    dp ? load_rows<double>(y, y_, hy_) : load_rows<float>(y, y_, hy_);
    const auto& st = session_.train_step(x_, y_);
    batch_ = batch;
    session_.save_if_due(false);
    return st.loss;
  }

  void predict(const void* x, void* y, std::size_t batch, bool dp) override {
    reshape(batch);
    dp ? load_rows<double>(x, x_, hx_) : load_rows<float>(x, x_, hx_);
    const M out = session_.predict(x_);
    if (dp)
      phantom::c_api::detail::matrix_to_rows(out, hy_, static_cast<double*>(y));
    else
      phantom::c_api::detail::matrix_to_rows(out, hy_, static_cast<float*>(y));
  }

  void save(const std::string& path) override { session_.save(path); }
  std::int64_t load(const std::string& path) override {
    try {
      return std::int64_t(session_.load(path, "checkpoint"));
    } catch (const phantom::DeckError& e) {  // a checkpoint of another model
      fail(PHANTOM_ERR_CHECKPOINT, e.what());
    }
  }

  phantom::FFNShape shape() const override { return session_.config().network.shape; }

  phantom_stats_t stats() const override {
    const auto& s = session_;
    phantom_stats_t out{};
    const auto& last = s.last_step();
    out.step = std::int64_t(s.step());
    out.loss = last.loss;
    out.parameters = std::int64_t(s.network().global_parameter_count());
    out.bytes_per_step = batch_ ? s.bytes_per_step(batch_) : 0.0;
    out.bytes_last_step = last.bytes;
    out.step_seconds = last.seconds;
    out.comm_seconds = last.issue_seconds + last.wait_seconds;
    out.energy_j = s.energy_joules();
    out.energy_measured = s.energy() && s.energy()->measured() ? 1 : 0;
    return out;
  }

 private:
  void reshape(std::size_t batch) {  // steady state: no allocation per call
    if (x_.extent(0) == batch) return;
    const auto& shape = session_.config().network.shape;
    x_ = M("phantom_c::x", batch, shape.input_dim);
    y_ = M("phantom_c::y", batch, shape.output_dim);
    hx_ = Kokkos::create_mirror_view(x_);
    hy_ = Kokkos::create_mirror_view(y_);
  }

  template <class T>
  void load_rows(const void* p, const M& m, const typename M::HostMirror& h) {
    phantom::c_api::detail::rows_to_matrix(static_cast<const T*>(p), m, h);
  }

  phantom::MpiCommunicator comm_;
  phantom::run::Session<Scalar, Space> session_;
  M x_, y_;
  typename M::HostMirror hx_, hy_;
  std::size_t batch_ = 0;
};

}  // namespace

struct phantom_model {
  MPI_Comm comm = MPI_COMM_NULL;  // Phantom's own duplicate of the caller's
  std::unique_ptr<Model> impl;
};

namespace {

phantom_model& checked(phantom_model_t model) {
  require(model != nullptr, "the model is NULL (phantom_create failed or was not called)");
  require(model->impl != nullptr, "the model has been destroyed");
  return *model;
}

void check_rows(const void* x, const char* name, std::int64_t batch, int dtype) {
  require(x != nullptr, std::string(name) + " is NULL");
  require(batch > 0, "batch = " + std::to_string(batch) + " (must be at least 1)");
  require(dtype == PHANTOM_FLOAT || dtype == PHANTOM_DOUBLE,
          "dtype = " + std::to_string(dtype) + " (PHANTOM_FLOAT or PHANTOM_DOUBLE)");
}

}  // namespace

extern "C" {

int phantom_create(phantom_model_t* model, const char* deck_path, MPI_Comm comm) {
  return guarded("phantom_create", [&] {
    require(model != nullptr, "the model pointer is NULL");
    *model = nullptr;
    require(deck_path != nullptr, "deck_path is NULL");
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
      fail(PHANTOM_ERR_MPI, "MPI is not initialised (call MPI_Init before phantom_create)");
    require(comm != MPI_COMM_NULL, "comm is MPI_COMM_NULL");
    if (!Kokkos::is_initialized()) {
#if KOKKOS_VERSION >= 40000
      if (Kokkos::is_finalized())
        fail(PHANTOM_ERR_DEVICE, "Kokkos was finalised and cannot start again in this process");
#endif
      Kokkos::initialize();
      kokkos_started_here = true;
    }
    auto m = std::make_unique<phantom_model>();
    if (MPI_Comm_dup(comm, &m->comm) != MPI_SUCCESS)
      fail(PHANTOM_ERR_MPI, "MPI_Comm_dup of the communicator failed");
    // A deck one rank cannot read fails on every rank, with the lowest
    // failing rank's message (else the others would wait in the next call).
    std::string error;
    phantom::Deck deck;
    try {
      deck = phantom::load_deck(deck_path);
    } catch (const std::exception& e) {
      error = e.what();
    }
    error = phantom::first_error(m->comm, error);
    if (!error.empty()) {
      MPI_Comm_free(&m->comm);
      fail(PHANTOM_ERR_DECK, error);
    }
    try {
      if (deck.train.precision == "double")
        m->impl = std::make_unique<TypedModel<double>>(m->comm, deck);
      else
        m->impl = std::make_unique<TypedModel<float>>(m->comm, deck);
    } catch (...) {
      MPI_Comm_free(&m->comm);
      throw;
    }
    *model = m.release();
    ++live_models;
  });
}

int phantom_create_f(phantom_model_t* model, const char* deck_path, MPI_Fint comm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) return phantom_create(model, deck_path, MPI_COMM_NULL);
  return phantom_create(model, deck_path, MPI_Comm_f2c(comm));
}

int phantom_train_step(phantom_model_t model, const void* x, const void* y, int64_t batch,
                       phantom_dtype_t dtype, double* loss) {
  return guarded("phantom_train_step", [&] {
    auto& m = checked(model);
    check_rows(x, "x", batch, dtype);
    require(y != nullptr, "y is NULL");
    const double l = m.impl->train_step(x, y, std::size_t(batch), dtype == PHANTOM_DOUBLE);
    if (loss) *loss = l;
  });
}

int phantom_predict(phantom_model_t model, const void* x, void* y, int64_t batch,
                    phantom_dtype_t dtype) {
  return guarded("phantom_predict", [&] {
    auto& m = checked(model);
    check_rows(x, "x", batch, dtype);
    require(y != nullptr, "y is NULL");
    m.impl->predict(x, y, std::size_t(batch), dtype == PHANTOM_DOUBLE);
  });
}

int phantom_save(phantom_model_t model, const char* path) {
  return guarded("phantom_save", [&] {
    auto& m = checked(model);
    require(path != nullptr && *path, "path is NULL or empty");
    m.impl->save(path);
  });
}

int phantom_load(phantom_model_t model, const char* path, int64_t* step) {
  return guarded("phantom_load", [&] {
    auto& m = checked(model);
    require(path != nullptr && *path, "path is NULL or empty");
    const std::int64_t s = m.impl->load(path);
    if (step) *step = s;
  });
}

int phantom_get_stats(phantom_model_t model, phantom_stats_t* stats) {
  return guarded("phantom_get_stats", [&] {
    auto& m = checked(model);
    require(stats != nullptr, "stats is NULL");
    *stats = m.impl->stats();
  });
}

int phantom_get_dims(phantom_model_t model, int64_t* input_dim, int64_t* output_dim) {
  return guarded("phantom_get_dims", [&] {
    auto& m = checked(model);
    const phantom::FFNShape shape = m.impl->shape();
    if (input_dim) *input_dim = std::int64_t(shape.input_dim);
    if (output_dim) *output_dim = std::int64_t(shape.output_dim);
  });
}

// Not in phantom.h: the Fortran module reports the shape errors it finds
// (arrays carry their shapes there) through the same last error.
int phantom_internal_argument_error(const char* function, const char* message) {
  return guarded(function, [&] { fail(PHANTOM_ERR_ARGUMENT, message); });
}

int phantom_destroy(phantom_model_t model) {
  return guarded("phantom_destroy", [&] {
    auto& m = checked(model);
    m.impl.reset();  // before its communicator goes
    MPI_Comm_free(&m.comm);
    delete model;
    --live_models;
  });
}

const char* phantom_last_error(void) {
  return last_error.c_str();
}

int phantom_finalize(void) {
  return guarded("phantom_finalize", [&] {
    if (live_models > 0)
      fail(PHANTOM_ERR_ARGUMENT,
           std::to_string(live_models) + " model(s) still exist: phantom_destroy them first");
    if (kokkos_started_here && Kokkos::is_initialized()) Kokkos::finalize();
    kokkos_started_here = false;
  });
}

}  // extern "C"
