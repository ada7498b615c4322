// A training session: what a program or a simulation code embedding Phantom
// needs to train a distributed FFN, with no deck and no app code. Built from
// plain config structs and a Communicator (with the MPI communicator spanning
// its ranks, for checkpoints and energy sums), it owns the network, the
// optimizer, the loss, optionally a data set and its sampling, the energy
// meter, and the step count; it reports each step's statistics and saves and
// restores checkpoints with the compatibility rules of checkpoint_policy.hpp.
//
//   phantom::run::Session<float> s(*comm, MPI_COMM_WORLD, config);
//   for (...) { const auto& st = s.train_step(x, y); ... st.loss ... }
//   s.save("model.h5");
//
// Every call is collective over the communicator's ranks, each passing the
// same batch (x: batch x input_dim, y: batch x output_dim, on Space).
//
// Data parallelism (config.data_parallel = D): the ranks form D replicas of a
// model-parallel network on size / D consecutive ranks (comm/process_grid.hpp);
// every rank still passes the global batch, replica d trains on its d-th
// contiguous share, the gradients are averaged across replicas in buckets
// overlapped with the backward pass (model/gradient_averaging.hpp), and the
// loss reported is the global mean. Checkpoints are written by replica 0.
#pragma once

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "phantom/comm/communicator.hpp"
#include "phantom/comm/first_error.hpp"
#include "phantom/comm/process_grid.hpp"
#include "phantom/core/loss.hpp"
#include "phantom/core/lr_schedule.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/data/batch_sampler.hpp"
#include "phantom/io/checkpoint.hpp"
#include "phantom/io/feedback_checkpoint.hpp"
#include "phantom/model/distributed_ffn.hpp"
#include "phantom/model/gradient_averaging.hpp"
#include "phantom/run/checkpoint_policy.hpp"
#include "phantom/run/gradient_clipping.hpp"
#include "phantom/run/step_energy.hpp"
#include "phantom/run/step_stats.hpp"

namespace phantom::run {

struct SessionConfig {
  NetworkConfig network;
  OptimizerConfig optimizer;      // its learning_rate is the schedule's base rate
  LearningRateSchedule schedule;  // of the step count, so a restart continues it
  double clip_norm = 0;           // > 0: clip gradients to this global norm
  Loss loss = Loss::mse;
  std::uint64_t seed = 0;       // initial weights (train.seed)
  std::uint64_t data_seed = 0;  // recorded in checkpoints (data.seed)
  int data_parallel = 1;        // D replicas; the model-parallel size is ranks / D
  double bucket_mb = 25;        // data-parallel all-reduce buckets, MiB (PyTorch DDP's default)
  bool meter_energy = true;     // false: no meter is opened (e.g. a profiling run)
  EnergyConfig energy;
  CheckpointPolicy checkpoint;
  // The configuration as text (phantom-train: the resolved deck, TOML),
  // stored in checkpoints with its hash.
  std::string description;
};

template <class Scalar, class Space = DefaultSpace>
class Session {
 public:
  using M = Matrix<Scalar, Space>;

  // Builds and initialises the network (collective; a configuration that does
  // not fit comm's rank count, or an energy meter that is not there, throws an
  // InvalidArgument naming it on every rank).
  Session(Communicator& comm, MPI_Comm world, SessionConfig config, const Space& space = Space())
      : comm_(comm), world_(world), config_(std::move(config)), space_(space) {
    const int D = config_.data_parallel;
    require(D >= 1 && comm_.size() % D == 0, "data_parallel = " + std::to_string(D) +
                                                 " does not divide the " +
                                                 std::to_string(comm_.size()) + " ranks");
    require(config_.bucket_mb > 0,
            "bucket_mb must be > 0, got " + std::to_string(config_.bucket_mb));
    validate(config_.network, comm_.size() / D);
    validate(config_.schedule);
    if (!(config_.clip_norm >= 0))
      throw InvalidArgument("clip_norm must be >= 0, got " + std::to_string(config_.clip_norm));
    if (D > 1)  // replicas of consecutive ranks: the grid's model groups
      grid_ = std::make_unique<ProcessGrid>(comm_, world_, comm_.size() / D);
    net_ = std::make_unique<DistributedFFN<Scalar, Space>>(model_comm(), config_.network, space_);
    net_->initialize(config_.seed);
    if (D > 1) {
      const auto bucket = std::size_t(config_.bucket_mb * 1048576.0 / sizeof(Scalar));
      averager_ = std::make_unique<GradientAverager<Scalar, Space>>(
          grid_->data(), net_->storage(), std::max<std::size_t>(1, bucket), space_);
      net_->set_after_layer_backward([this](std::size_t l) { averager_->layer_done(l); });
    }
    opt_ = std::make_unique<Optimizer<Scalar, Space>>(config_.optimizer, space_);
    if (config_.meter_energy) energy_ = std::make_unique<StepEnergy>(config_.energy, comm_, world_);
    // The gradients are the same in every replica: the norm is one replica's.
    if (config_.clip_norm > 0) MPI_Comm_dup(model_world(), &norm_comm_);
  }
  ~Session() {
    if (norm_comm_ != MPI_COMM_NULL) MPI_Comm_free(&norm_comm_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Training data owned by the session: train_step() then draws step s's
  // batch from it (BatchSampler: the same rows for the same step and seed).
  void set_data(Dataset<Scalar, Space> data, std::size_t batch, bool shuffle, std::uint64_t seed) {
    require_divisible_batch(batch, "set_data");
    data_ = std::move(data);
    sampler_.emplace(data_.size(), batch, shuffle, seed);
    const std::size_t share = batch / std::size_t(config_.data_parallel);
    xb_ = M("phantom::session::x", share, config_.network.shape.input_dim);
    yb_ = M("phantom::session::y", share, config_.network.shape.output_dim);
  }

  // Held-out data for validation_loss().
  void set_validation(Dataset<Scalar, Space> data, std::size_t batch) {
    require(data.size() > 0, "set_validation: the held-out set is empty");
    validation_ = std::move(data);
    validation_batch_ = batch;
  }
  bool has_validation() const { return validation_batch_ > 0; }

  // The mean loss over the held-out set (forward passes only, in batches of
  // set_validation's size, the last one partial; the model is unchanged).
  // Collective. Also recorded in last_step().
  double validation_loss() {
    require(has_validation(), "validation_loss(): the session has no held-out data");
    const std::size_t n = validation_.size(), b = std::min(validation_batch_, n);
    double weighted = 0;
    for (std::size_t begin = 0; begin < n; begin += b) {
      const std::size_t rows = std::min(b, n - begin);
      if (vx_.extent(0) != rows) {
        vx_ = M("phantom::session::validation_x", rows, validation_.x.extent(1));
        vy_ = M("phantom::session::validation_y", rows, validation_.y.extent(1));
        vdy_ = M("phantom::session::validation_dy", rows, validation_.y.extent(1));
      }
      const auto range = Kokkos::make_pair(begin, begin + rows);
      Kokkos::deep_copy(space_, vx_, Kokkos::subview(validation_.x, range, Kokkos::ALL));
      Kokkos::deep_copy(space_, vy_, Kokkos::subview(validation_.y, range, Kokkos::ALL));
      weighted +=
          double(rows) * loss_and_gradient(space_, config_.loss, net_->forward(vx_), vy_, vdy_);
    }
    last_.validated = true;
    last_.validation_loss = weighted / double(n);
    return last_.validation_loss;
  }

  // Called on every rank right after the meter starts a step and right
  // before it ends one (phantom-train's clock plan switches clocks there).
  void set_step_hooks(std::function<void()> begin, std::function<void()> end) {
    begin_hook_ = std::move(begin);
    end_hook_ = std::move(end);
  }

  // One optimizer step on the batch (x, y), the same on every rank (with data
  // parallelism, the global batch); returns its statistics.
  const StepStats& train_step(const M& x, const M& y) {
    require(x.extent(0) > 0 && x.extent(0) == y.extent(0),
            "train_step: x has " + std::to_string(x.extent(0)) + " rows and y " +
                std::to_string(y.extent(0)));
    if (!grid_) return step_on(x, y);
    require_divisible_batch(x.extent(0), "train_step");
    const std::size_t share = x.extent(0) / std::size_t(config_.data_parallel);
    if (xs_.extent(0) != share) {
      xs_ = M("phantom::session::x_share", share, x.extent(1));
      ys_ = M("phantom::session::y_share", share, y.extent(1));
    }
    const std::size_t begin = std::size_t(grid_->data_rank()) * share;
    const auto rows = Kokkos::make_pair(begin, begin + share);
    Kokkos::deep_copy(space_, xs_, Kokkos::subview(x, rows, Kokkos::ALL));
    Kokkos::deep_copy(space_, ys_, Kokkos::subview(y, rows, Kokkos::ALL));
    return step_on(xs_, ys_);
  }

  // One step on the session's own data (set_data), at the current step: this
  // replica's share of the step's rows.
  const StepStats& train_step() {
    require(sampler_.has_value(), "train_step(): the session has no data (set_data)");
    const std::vector<std::size_t>& rows = sampler_->rows_for_step(step_);
    if (!grid_) {
      gather_batch(space_, data_, rows.data(), rows.size(), xb_, yb_, batch_rows_);
    } else {
      const std::size_t share = rows.size() / std::size_t(config_.data_parallel);
      gather_batch(space_, data_, rows.data() + std::size_t(grid_->data_rank()) * share, share,
                   xb_, yb_, batch_rows_);
    }
    return step_on(xb_, yb_);
  }

  // Logical bytes one rank receives per step on a global batch of `batch`:
  // the model-parallel messages of its share, plus the data-parallel
  // all-reduce of its gradients (docs/communicators.md).
  double bytes_per_step(std::size_t batch) const {
    const std::size_t D = std::size_t(config_.data_parallel);
    return net_->bytes_per_step(batch / D) + data_parallel_bytes_per_step();
  }
  double data_parallel_bytes_per_step() const {
    double bytes = 0;
    for (std::size_t b = 0; averager_ && b < averager_->bucket_count(); ++b) {
      const auto& r = averager_->bucket(b);
      bytes += ring_bytes(Collective::allreduce, r.second - r.first, sizeof(Scalar),
                          config_.data_parallel);
    }
    return bytes;
  }

  // The network's output for x (batch x output_dim); valid until the next
  // call that runs the network.
  M predict(const M& x) { return net_->forward(x); }

  // Writes a checkpoint of the model, the optimizer and the step (collective).
  void save(const std::string& path) {
    CheckpointInfo info = checkpoint_info();
    const auto feedback = feedback_tensors(net_->feedback_remainders(), model_world(),
                                           grid_ ? grid_->data_mpi() : MPI_COMM_NULL, info);
    if (!grid_) {
      save_checkpoint(path, world_, info, net_->parameters(), *opt_, feedback);
      return;
    }
    // Replica 0 writes the model once (and every replica's error-feedback
    // state); every rank returns with the file in place, or with replica 0's error.
    std::string error;
    if (grid_->data_rank() == 0) {
      try {
        save_checkpoint(path, model_world(), info, net_->parameters(), *opt_, feedback);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    error = first_error(world_, error);
    if (!error.empty()) throw CheckpointError(error);
  }

  // The checkpoint the policy asks for after the step just done, if any
  // (every `checkpoint.every` steps, and at the end when `final`): written,
  // older ones beyond `checkpoint.keep` removed; returns its name or "".
  std::string save_if_due(bool final) {
    const auto& p = config_.checkpoint;
    if (p.path.empty()) return "";
    const bool due = final || (p.every > 0 && step_ % std::size_t(p.every) == 0);
    if (!due) return "";
    const std::string name = checkpoint_name(p.path, step_);
    save(name);
    if (comm_.rank() == 0) remove_old_checkpoints(p.path, std::size_t(p.keep));
    return name;
  }

  // Restores `path` after checking it fits this session (every difference in
  // one DeckError that names `key`, the setting that gave the path); returns
  // the checkpoint's step, from which training continues. Collective.
  std::size_t load(const std::string& path, const std::string& key = "checkpoint") {
    const auto info = read_checkpoint_info(path, model_world());
    const std::string mismatch = restart_mismatch(info, config_.network, config_.optimizer.kind,
                                                  precision(), model_comm().size());
    if (!mismatch.empty())
      throw DeckError(key + " = \"" + path + "\" does not fit the deck:" + mismatch);
    load_checkpoint(path, model_world(), info, net_->parameters(), *opt_);
    const auto remainders = net_->feedback_remainders();
    for (auto* r : remainders) r->clear();
    feedback_from_zero_ =
        !remainders.empty() &&
        !restore_feedback(path, info, remainders, model_world(), replica(), config_.data_parallel);
    step_ = std::size_t(info.step);
    loaded_checksummed_ = info.checksummed;
    return step_;
  }
  // True after loading a checkpoint without this session's TopK error-feedback
  // state (written before checkpoints kept it, or at another rank or replica
  // count): the remainders start from zero, so training is not the straight
  // run's continuation.
  bool feedback_from_zero() const { return feedback_from_zero_; }
  // False after loading a checkpoint written before checkpoints carried
  // checksums: its data loaded unverified.
  bool loaded_checksummed() const { return loaded_checksummed_; }

  std::size_t step() const { return step_; }
  const StepStats& last_step() const { return last_; }
  double energy_joules() const { return energy_total_; }  // all ranks, all steps so far
  StepEnergy* energy() { return energy_.get(); }          // nullptr without a meter
  const StepEnergy* energy() const { return energy_.get(); }
  DistributedFFN<Scalar, Space>& network() { return *net_; }
  const DistributedFFN<Scalar, Space>& network() const { return *net_; }
  Optimizer<Scalar, Space>& optimizer() { return *opt_; }
  const SessionConfig& config() const { return config_; }
  Communicator& communicator() { return comm_; }
  // The model-parallel ranks of this replica (all of communicator() when D = 1).
  Communicator& model_comm() const { return grid_ ? grid_->model() : comm_; }
  int data_parallel() const { return config_.data_parallel; }
  int replica() const { return grid_ ? grid_->data_rank() : 0; }
  const Space& space() const { return space_; }  // the instance every kernel runs on
  static std::string precision() { return sizeof(Scalar) == 8 ? "double" : "float"; }

  CheckpointInfo checkpoint_info() const {
    const auto& n = config_.network;
    CheckpointInfo info;
    info.strategy = to_string(n.strategy);
    info.activation = to_string(n.activation);
    info.precision = precision();
    info.ranks = model_comm().size();
    info.data_parallel = config_.data_parallel;
    info.ghost = n.strategy == Strategy::pp ? std::int64_t(n.ghost) : 0;
    info.input_dim = std::int64_t(n.shape.input_dim);
    info.width = std::int64_t(n.shape.width);
    info.depth = std::int64_t(n.shape.depth);
    info.output_dim = std::int64_t(n.shape.output_dim);
    info.step = std::int64_t(step_);
    info.train_seed = std::int64_t(config_.seed);
    info.data_seed = std::int64_t(config_.data_seed);
    info.deck = config_.description;
    info.deck_hash = fnv1a(info.deck);
    return info;
  }

 private:
  // One optimizer step on this replica's share (x, y).
  const StepStats& step_on(const M& x, const M& y) {
    Kokkos::fence();
    if (energy_) energy_->begin_step();
    if (begin_hook_) begin_hook_();
    const double lr =
        learning_rate_at(config_.schedule, config_.optimizer.learning_rate, std::int64_t(step_));
    opt_->set_learning_rate(lr);
    double norm = 0;
    const auto before = model_comm().stats();
    const auto dp_before = grid_ ? grid_->data().stats() : CommStats();
    const auto t0 = std::chrono::steady_clock::now();
    double loss = net_->train_step(x, y, config_.loss, *opt_, [&] {
      if (averager_) averager_->finish();
      if (config_.clip_norm > 0)
        norm = clip_gradients(space_, net_->parameters(), config_.clip_norm, norm_comm_);
    });
    Kokkos::fence();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto after = model_comm().stats();
    const auto dp_after = grid_ ? grid_->data().stats() : CommStats();
    if (grid_) {  // equal shares: the global mean is the mean of the replicas' means
      MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, grid_->data_mpi());
      loss /= config_.data_parallel;
    }
    last_ = StepStats{};
    last_.step = step_;
    last_.loss = loss;
    last_.learning_rate = lr;
    last_.gradient_norm = norm;
    last_.seconds = seconds;
    last_.issue_seconds = after.total_issue_seconds() - before.total_issue_seconds();
    last_.wait_seconds = after.total_wait_seconds() - before.total_wait_seconds();
    last_.bytes = after.total_bytes() - before.total_bytes();
    const auto dp = dp_after[Collective::allreduce];
    const auto dp0 = dp_before[Collective::allreduce];
    last_.data_parallel_calls = dp.calls - dp0.calls;
    last_.data_parallel_bytes = dp.bytes - dp0.bytes;
    last_.data_parallel_issue_seconds = dp.issue_seconds - dp0.issue_seconds;
    last_.data_parallel_wait_seconds = dp.wait_seconds - dp0.wait_seconds;
    last_.bytes += last_.data_parallel_bytes;
    last_.issue_seconds += last_.data_parallel_issue_seconds;
    last_.wait_seconds += last_.data_parallel_wait_seconds;
    if (end_hook_) end_hook_();
    if (energy_) last_.energy_joules = energy_->end_step();  // collective, after the timing
    energy_total_ += last_.energy_joules;
    ++step_;
    return last_;
  }

  MPI_Comm model_world() const { return grid_ ? grid_->model_mpi() : world_; }

  static void require(bool ok, const std::string& message) {
    if (!ok) throw InvalidArgument(message);
  }
  void require_divisible_batch(std::size_t batch, const char* where) const {
    require(batch % std::size_t(config_.data_parallel) == 0,
            std::string(where) + ": the batch of " + std::to_string(batch) +
                " is not divisible by data_parallel = " + std::to_string(config_.data_parallel));
  }

  Communicator& comm_;
  MPI_Comm world_;
  std::unique_ptr<ProcessGrid> grid_;  // only with data parallelism
  std::unique_ptr<GradientAverager<Scalar, Space>> averager_;
  M xs_, ys_;  // this replica's share of a caller's batch
  SessionConfig config_;
  Space space_;
  std::unique_ptr<DistributedFFN<Scalar, Space>> net_;
  std::unique_ptr<Optimizer<Scalar, Space>> opt_;
  std::unique_ptr<StepEnergy> energy_;
  Dataset<Scalar, Space> data_, validation_;
  std::size_t validation_batch_ = 0;
  M vx_, vy_, vdy_;
  std::optional<BatchSampler> sampler_;
  M xb_, yb_;
  Kokkos::View<std::size_t*, Space> batch_rows_;  // the step's rows, kept across steps
  std::function<void()> begin_hook_, end_hook_;
  MPI_Comm norm_comm_ = MPI_COMM_NULL;
  bool loaded_checksummed_ = true;
  bool feedback_from_zero_ = false;
  std::size_t step_ = 0;
  StepStats last_;
  double energy_total_ = 0;
};

}  // namespace phantom::run
