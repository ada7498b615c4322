// The training run of phantom-train: builds the network and data from the
// deck, trains to step train.steps, and reports progress, metrics and a
// summary. Templated on the scalar (train.precision).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "checkpoints.hpp"
#include "clock_plan.hpp"
#include "phantom/comm/communicator.hpp"
#include "phantom/cost/deck_input.hpp"
#include "phantom/data/batch_sampler.hpp"
#include "phantom/io/checkpoint.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/io/hdf5_dataset.hpp"
#include "phantom/model/distributed_ffn.hpp"
#include "profile_measurement.hpp"
#include "run_report.hpp"
#include "step_energy.hpp"

namespace phantom_train {

using phantom::Deck;

// The network the deck describes, or a DeckError naming the key at fault.
inline phantom::NetworkConfig network_config(const Deck& deck, int ranks) {
  phantom::NetworkConfig c;
  c.shape = {std::size_t(deck.model.input_dim), std::size_t(deck.model.width),
             std::size_t(deck.model.depth), std::size_t(deck.model.output_dim)};
  c.strategy = phantom::parse_strategy(deck.model.strategy);
  c.ghost = std::size_t(deck.model.ghost);
  c.activation = phantom::parse_activation(deck.model.activation);
  c.compression = phantom::cost::compression_config(deck);
  const std::string r = std::to_string(ranks);
  if (deck.model.width % ranks != 0)
    throw phantom::DeckError("model.width = " + std::to_string(deck.model.width) +
                             " is not divisible by the rank count " + r);
  if (c.strategy == phantom::Strategy::dense && ranks != 1)
    throw phantom::DeckError("model.strategy = \"dense\" runs on 1 rank, not " + r +
                             " (use pp, tp or megatron)");
  if (c.strategy == phantom::Strategy::megatron && deck.model.depth % 2 != 0)
    throw phantom::DeckError("model.depth = " + std::to_string(deck.model.depth) +
                             " must be even for model.strategy = \"megatron\"");
  phantom::validate(c, ranks);
  return c;
}

inline phantom::OptimizerConfig optimizer_config(const Deck& deck) {
  phantom::OptimizerConfig oc;
  oc.kind = phantom::parse_optimizer(deck.train.optimizer);
  oc.learning_rate = deck.train.learning_rate;
  oc.momentum = deck.train.momentum;
  return oc;
}

// The data set the deck names: the teacher problem, or /X and /Y of an HDF5 file.
template <class Scalar, class Space>
phantom::Dataset<Scalar, Space> make_dataset(const Deck& deck, const phantom::FFNShape& shape) {
  if (deck.data.source == "teacher") {
    phantom::TeacherConfig tc;
    tc.samples = std::size_t(deck.data.samples);
    tc.input_dim = shape.input_dim;
    tc.output_dim = shape.output_dim;
    tc.noise = deck.data.noise;
    tc.seed = std::uint64_t(deck.data.seed);
    return phantom::make_teacher_dataset<Scalar, Space>(tc);
  }
  const phantom::HostDataset h =
      phantom::read_hdf5_dataset(deck.data.path, shape.input_dim, shape.output_dim);
  phantom::Dataset<Scalar, Space> d{phantom::Matrix<Scalar, Space>("data.x", h.rows, h.x_cols),
                                    phantom::Matrix<Scalar, Space>("data.y", h.rows, h.y_cols)};
  auto x = Kokkos::create_mirror_view(d.x);
  auto y = Kokkos::create_mirror_view(d.y);
  for (std::size_t i = 0; i < h.rows; ++i) {  // the file is row-major
    for (std::size_t j = 0; j < h.x_cols; ++j) x(i, j) = Scalar(h.x[i * h.x_cols + j]);
    for (std::size_t j = 0; j < h.y_cols; ++j) y(i, j) = Scalar(h.y[i * h.y_cols + j]);
  }
  Kokkos::deep_copy(d.x, x);
  Kokkos::deep_copy(d.y, y);
  return d;
}

inline phantom::CheckpointInfo checkpoint_info(const Deck& deck, int ranks, std::size_t step) {
  phantom::CheckpointInfo info;
  info.strategy = deck.model.strategy;
  info.activation = deck.model.activation;
  info.precision = deck.train.precision;
  info.ranks = ranks;
  info.ghost = deck.model.strategy == "pp" ? deck.model.ghost : 0;
  info.input_dim = deck.model.input_dim;
  info.width = deck.model.width;
  info.depth = deck.model.depth;
  info.output_dim = deck.model.output_dim;
  info.step = std::int64_t(step);
  info.train_seed = deck.train.seed;
  info.data_seed = deck.data.seed;
  info.deck = phantom::to_toml(deck);
  info.deck_hash = phantom::fnv1a(info.deck);
  return info;
}

// Loads `path` into net and opt after checking it fits the deck (every
// difference listed in one DeckError); returns the checkpoint's step.
template <class Scalar, class Space>
std::size_t load_fitting_checkpoint(const Deck& deck, const std::string& key,
                                    const std::string& path, int ranks,
                                    phantom::DistributedFFN<Scalar, Space>& net,
                                    phantom::Optimizer<Scalar, Space>& opt) {
  const auto info = phantom::read_checkpoint_info(path, MPI_COMM_WORLD);
  const std::string mismatch = restart_mismatch(info, deck, ranks);
  if (!mismatch.empty())
    throw phantom::DeckError(key + " = \"" + path + "\" does not fit the deck:" + mismatch);
  phantom::load_checkpoint(path, MPI_COMM_WORLD, info, net.parameters(), opt);
  return std::size_t(info.step);
}

// Trains from the deck's restart point (or step 0) to train.steps on the
// ranks of MPI_COMM_WORLD, which comm must span.
template <class Scalar>
RunReport train(const Deck& deck, phantom::Communicator& comm) {
  using Space = phantom::DefaultSpace;
  using M = phantom::Matrix<Scalar, Space>;
  const bool root = comm.rank() == 0;
  const phantom::NetworkConfig config = network_config(deck, comm.size());
  require_writable_directory("checkpoint.path", deck.checkpoint.path);
  require_writable_directory("output.metrics", deck.output.metrics);
  require_writable_directory("output.summary", deck.output.summary);

  phantom::DistributedFFN<Scalar, Space> net(comm, config);
  net.initialize(std::uint64_t(deck.train.seed));
  phantom::Optimizer<Scalar, Space> opt(optimizer_config(deck));
  const phantom::Loss loss_kind = phantom::parse_loss(deck.train.loss);

  std::size_t first_step = 0;
  const std::size_t last_step = std::size_t(deck.train.steps);
  if (!deck.checkpoint.restart.empty()) {
    first_step = load_fitting_checkpoint(deck, "checkpoint.restart", deck.checkpoint.restart,
                                         comm.size(), net, opt);
    if (first_step > last_step)
      throw phantom::DeckError("checkpoint.restart = \"" + deck.checkpoint.restart +
                               "\" is at step " + std::to_string(first_step) +
                               ", past train.steps = " + std::to_string(last_step));
  }

  const auto data = make_dataset<Scalar, Space>(deck, config.shape);

  const std::size_t batch = std::size_t(deck.train.batch);
  phantom::BatchSampler sampler(data.size(), batch, deck.data.shuffle,
                                std::uint64_t(deck.data.seed));
  M xb("x", batch, config.shape.input_dim), yb("y", batch, config.shape.output_dim);

  RunReport report(deck, comm.size(), net.global_parameter_count(), net.bytes_per_step(batch),
                   net.flops_per_sample() * batch);
  if (!deck.plan.measure.empty()) {
    if (deck.plan.profile.empty())
      throw phantom::DeckError(
          "plan.measure needs plan.profile (its clocks are the ones measured)");
    if (phantom::cost::load_profile(deck.plan.profile).clocks_mhz.empty())
      throw phantom::DeckError("plan.measure: profile '" + deck.plan.profile +
                               "' lists no GPU clocks to measure");
    require_writable_directory("plan.measure", deck.plan.measure);
    measure_step_profile(deck, comm.rank(), comm.size(), unsigned(node_local_rank()),
                         config.shape.depth + 2, [&](std::size_t step) {
                           phantom::gather_batch(Space(), data, sampler.rows_for_step(step), xb,
                                                 yb);
                           net.train_step(xb, yb, loss_kind, opt);
                           Kokkos::fence();
                         });
    return report;
  }
  StepEnergy energy(deck, comm);
  report.set_energy_source(energy.source(), energy.measured(), energy.zones(), energy.selection());
  if (deck.plan.apply && deck.plan.profile.empty())
    throw phantom::DeckError(
        "plan.apply = true needs plan.profile (the device profile to plan on)");
  // The guard outlives the controller: clocks are reset on a signal until the
  // controller itself has reset them.
  std::unique_ptr<phantom::plan::ClockSignalGuard> clock_guard;
  std::unique_ptr<AppliedClocks> clocks;
  if (!deck.plan.profile.empty()) {
    const ClockPlan plan = make_clock_plan(deck, comm.size());
    report.set_plan(plan.summary());
    if (deck.plan.apply) {
      clock_guard = std::make_unique<phantom::plan::ClockSignalGuard>();
      std::string error;  // no NVML, or no such GPU, on some node: all ranks fail alike
      try {
        clocks = std::make_unique<AppliedClocks>(plan, comm.rank(), unsigned(energy.node_rank()),
                                                 config.shape.depth + 2,
                                                 phantom::MeterOptions().nvml_library);
      } catch (const std::exception& e) {
        error = std::string("plan.apply: ") + e.what();
      }
      error = phantom::first_error(MPI_COMM_WORLD, error);
      if (!error.empty()) throw phantom::DeckError(error);
    }
  }
  report.open_metrics(root, first_step > 0);
  if (root) {
    report.print_header(first_step);
    std::printf("energy: %s (%s, %s)\n", energy.source().c_str(),
                energy.measured() ? "measured" : "modelled", energy.zones().c_str());
    if (deck.energy.meter == "auto")
      std::printf("  meter chosen by auto: %s\n", energy.selection().c_str());
    std::fflush(stdout);
  }

  auto save = [&](std::size_t steps_done) {
    if (deck.checkpoint.path.empty()) return;
    const std::string name = checkpoint_name(deck.checkpoint.path, steps_done);
    phantom::save_checkpoint(name, MPI_COMM_WORLD, checkpoint_info(deck, comm.size(), steps_done),
                             net.parameters(), opt);
    if (root) {
      remove_old_checkpoints(deck.checkpoint.path, std::size_t(deck.checkpoint.keep));
      std::printf("checkpoint %s\n", name.c_str());
      std::fflush(stdout);
    }
  };

  for (std::size_t step = first_step; step < last_step; ++step) {
    phantom::gather_batch(Space(), data, sampler.rows_for_step(step), xb, yb);
    Kokkos::fence();
    energy.begin_step();
    if (clocks) clocks->begin_step();
    const auto before = comm.stats();
    const auto t0 = std::chrono::steady_clock::now();
    const double loss = net.train_step(xb, yb, loss_kind, opt);
    Kokkos::fence();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto after = comm.stats();
    StepRecord rec;
    rec.step = step;
    rec.loss = loss;
    rec.seconds = seconds;
    rec.issue_seconds = after.total_issue_seconds() - before.total_issue_seconds();
    rec.wait_seconds = after.total_wait_seconds() - before.total_wait_seconds();
    rec.bytes = after.total_bytes() - before.total_bytes();
    if (clocks) clocks->end_step();
    rec.energy_joules = energy.end_step();  // collective, after the step's timing
    const bool log = (step + 1) % std::size_t(deck.train.log_every) == 0 || step + 1 == last_step ||
                     step == first_step;
    report.record(rec, log, root, last_step);
    const std::size_t done = step + 1;
    if (deck.checkpoint.every > 0 && done % std::size_t(deck.checkpoint.every) == 0 &&
        done != last_step)
      save(done);
  }
  save(last_step);  // always at the end: steps = 0 writes the initial weights
  if (energy.regions()) report.set_region_report(energy.regions()->report());
  if (clocks) {
    clocks->finish();
    const auto& c = clocks->controller();
    report.set_clock_report(c.applied() ? c.report() : c.message() + "\n");
  }
  if (root) report.finish();
  return report;
}

// Forward-only inference with the model of `checkpoint` over the whole data
// set, in batches of train.batch (the last one partial): the mean loss and the
// throughput, printed on rank 0 and written to output.summary if set.
template <class Scalar>
void infer(const Deck& deck, phantom::Communicator& comm, const std::string& checkpoint) {
  using Space = phantom::DefaultSpace;
  using M = phantom::Matrix<Scalar, Space>;
  const bool root = comm.rank() == 0;
  const phantom::NetworkConfig config = network_config(deck, comm.size());
  require_writable_directory("output.summary", deck.output.summary);
  phantom::DistributedFFN<Scalar, Space> net(comm, config);
  phantom::Optimizer<Scalar, Space> opt(optimizer_config(deck));
  const std::size_t step =
      load_fitting_checkpoint(deck, "--infer", checkpoint, comm.size(), net, opt);
  const auto data = make_dataset<Scalar, Space>(deck, config.shape);
  const phantom::Loss loss_kind = phantom::parse_loss(deck.train.loss);

  const std::size_t n = data.size(), batch = std::min<std::size_t>(deck.train.batch, n);
  double weighted_loss = 0;
  Kokkos::fence();
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = std::chrono::steady_clock::now();
  M x, y, dy;  // reallocated only for the last, partial batch
  for (std::size_t begin = 0; begin < n; begin += batch) {
    const std::size_t rows = std::min(batch, n - begin);
    if (x.extent(0) != rows) {
      x = M("x", rows, config.shape.input_dim);
      y = M("y", rows, config.shape.output_dim);
      dy = M("dy", rows, config.shape.output_dim);
    }
    const auto range = Kokkos::make_pair(begin, begin + rows);
    Kokkos::deep_copy(x, Kokkos::subview(data.x, range, Kokkos::ALL));
    Kokkos::deep_copy(y, Kokkos::subview(data.y, range, Kokkos::ALL));
    weighted_loss += rows * phantom::loss_and_gradient(Space(), loss_kind, net.forward(x), y, dy);
  }
  Kokkos::fence();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!root) return;
  const double loss = weighted_loss / n, rate = n / seconds;
  std::printf(
      "phantom-train --infer %s (step %zu): %zu samples, loss %.6e, %.3f s, "
      "%.0f samples/s\n",
      checkpoint.c_str(), step, n, loss, seconds, rate);
  if (!deck.output.summary.empty()) {
    write_atomically(deck.output.summary, inference_summary_json({checkpoint, step, comm.size(), n,
                                                                  loss, seconds, rate}));
  }
}

}  // namespace phantom_train
