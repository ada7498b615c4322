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
#include "phantom/core/loss.hpp"
#include "phantom/core/lr_schedule.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/data/batch_sampler.hpp"
#include "phantom/io/checkpoint.hpp"
#include "phantom/model/distributed_ffn.hpp"
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
    validate(config_.network, comm_.size());
    validate(config_.schedule);
    if (!(config_.clip_norm >= 0))
      throw InvalidArgument("clip_norm must be >= 0, got " + std::to_string(config_.clip_norm));
    net_ = std::make_unique<DistributedFFN<Scalar, Space>>(comm_, config_.network, space_);
    net_->initialize(config_.seed);
    opt_ = std::make_unique<Optimizer<Scalar, Space>>(config_.optimizer, space_);
    if (config_.meter_energy) energy_ = std::make_unique<StepEnergy>(config_.energy, comm_, world_);
    if (config_.clip_norm > 0) MPI_Comm_dup(world_, &norm_comm_);
  }
  ~Session() {
    if (norm_comm_ != MPI_COMM_NULL) MPI_Comm_free(&norm_comm_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Training data owned by the session: train_step() then draws step s's
  // batch from it (BatchSampler: the same rows for the same step and seed).
  void set_data(Dataset<Scalar, Space> data, std::size_t batch, bool shuffle, std::uint64_t seed) {
    data_ = std::move(data);
    sampler_.emplace(data_.size(), batch, shuffle, seed);
    xb_ = M("phantom::session::x", batch, config_.network.shape.input_dim);
    yb_ = M("phantom::session::y", batch, config_.network.shape.output_dim);
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

  // One optimizer step on the batch (x, y); returns its statistics.
  const StepStats& train_step(const M& x, const M& y) {
    require(x.extent(0) > 0 && x.extent(0) == y.extent(0),
            "train_step: x has " + std::to_string(x.extent(0)) + " rows and y " +
                std::to_string(y.extent(0)));
    Kokkos::fence();
    if (energy_) energy_->begin_step();
    if (begin_hook_) begin_hook_();
    const double lr =
        learning_rate_at(config_.schedule, config_.optimizer.learning_rate, std::int64_t(step_));
    opt_->set_learning_rate(lr);
    double norm = 0;
    const auto before = comm_.stats();
    const auto t0 = std::chrono::steady_clock::now();
    const double loss = net_->train_step(x, y, config_.loss, *opt_, [&] {
      if (config_.clip_norm > 0)
        norm = clip_gradients(space_, net_->parameters(), config_.clip_norm, norm_comm_);
    });
    Kokkos::fence();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto after = comm_.stats();
    last_ = StepStats{};
    last_.step = step_;
    last_.loss = loss;
    last_.learning_rate = lr;
    last_.gradient_norm = norm;
    last_.seconds = seconds;
    last_.issue_seconds = after.total_issue_seconds() - before.total_issue_seconds();
    last_.wait_seconds = after.total_wait_seconds() - before.total_wait_seconds();
    last_.bytes = after.total_bytes() - before.total_bytes();
    if (end_hook_) end_hook_();
    if (energy_) last_.energy_joules = energy_->end_step();  // collective, after the timing
    energy_total_ += last_.energy_joules;
    ++step_;
    return last_;
  }

  // One step on the session's own data (set_data), at the current step.
  const StepStats& train_step() {
    require(sampler_.has_value(), "train_step(): the session has no data (set_data)");
    gather_batch(space_, data_, sampler_->rows_for_step(step_), xb_, yb_);
    return train_step(xb_, yb_);
  }

  // The network's output for x (batch x output_dim); valid until the next
  // call that runs the network.
  M predict(const M& x) { return net_->forward(x); }

  // Writes a checkpoint of the model, the optimizer and the step (collective).
  void save(const std::string& path) {
    save_checkpoint(path, world_, checkpoint_info(), net_->parameters(), *opt_);
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
    const auto info = read_checkpoint_info(path, world_);
    const std::string mismatch =
        restart_mismatch(info, config_.network, config_.optimizer.kind, precision(), comm_.size());
    if (!mismatch.empty())
      throw DeckError(key + " = \"" + path + "\" does not fit the deck:" + mismatch);
    load_checkpoint(path, world_, info, net_->parameters(), *opt_);
    step_ = std::size_t(info.step);
    return step_;
  }

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
  const Space& space() const { return space_; }  // the instance every kernel runs on
  static std::string precision() { return sizeof(Scalar) == 8 ? "double" : "float"; }

  CheckpointInfo checkpoint_info() const {
    const auto& n = config_.network;
    CheckpointInfo info;
    info.strategy = to_string(n.strategy);
    info.activation = to_string(n.activation);
    info.precision = precision();
    info.ranks = comm_.size();
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
  static void require(bool ok, const std::string& message) {
    if (!ok) throw InvalidArgument(message);
  }

  Communicator& comm_;
  MPI_Comm world_;
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
  std::function<void()> begin_hook_, end_hook_;
  MPI_Comm norm_comm_ = MPI_COMM_NULL;
  std::size_t step_ = 0;
  StepStats last_;
  double energy_total_ = 0;
};

}  // namespace phantom::run
