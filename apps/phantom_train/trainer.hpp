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

#include "phantom/comm/communicator.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/run/clock_plan.hpp"
#include "phantom/run/deck_config.hpp"
#include "phantom/run/predictions.hpp"
#include "phantom/run/profile_measurement.hpp"
#include "phantom/run/session.hpp"
#include "run_report.hpp"

namespace phantom_train {

using phantom::Deck;
using phantom::run::require_writable_directory;

// A checkpoint from before checksums loads, and says it could not be
// verified; for training, one without this run's TopK error-feedback state
// says the remainders start from zero.
template <class Session>
void note_loaded(const Session& session, const std::string& path, bool training) {
  if (!session.loaded_checksummed())
    std::printf(
        "note: checkpoint %s carries no checksums (written before Phantom checksummed "
        "its checkpoints): its data is not verified\n",
        path.c_str());
  if (training && session.feedback_from_zero())
    std::printf(
        "note: checkpoint %s has no error-feedback remainders for this rank count "
        "(written before Phantom kept them, or at another model.ranks or "
        "parallel.data): they start from zero\n",
        path.c_str());
}

// Trains from the deck's restart point (or step 0) to train.steps on the
// ranks of MPI_COMM_WORLD, which comm must span.
template <class Scalar>
RunReport train(const Deck& deck, phantom::Communicator& comm) {
  using Space = phantom::DefaultSpace;
  const bool root = comm.rank() == 0;
  phantom::run::require_batch_splits(deck);
  phantom::run::SessionConfig config = phantom::run::session_config(deck, comm.size());
  const phantom::FFNShape shape = config.network.shape;
  require_writable_directory("checkpoint.path", deck.checkpoint.path);
  require_writable_directory("output.metrics", deck.output.metrics);
  require_writable_directory("output.summary", deck.output.summary);
  // plan.measure profiles the steps with NVML itself: no energy meter then.
  config.meter_energy = deck.plan.measure.empty();
  // The meter is opened before the restart file is read (the order the
  // errors have always come in).
  phantom::run::Session<Scalar, Space> session(comm, MPI_COMM_WORLD, config);

  std::size_t first_step = 0;
  const std::size_t last_step = std::size_t(deck.train.steps);
  if (!deck.checkpoint.restart.empty()) {
    first_step = session.load(deck.checkpoint.restart, "checkpoint.restart");
    if (comm.rank() == 0) note_loaded(session, deck.checkpoint.restart, true);
    if (first_step > last_step)
      throw phantom::DeckError("checkpoint.restart = \"" + deck.checkpoint.restart +
                               "\" is at step " + std::to_string(first_step) +
                               ", past train.steps = " + std::to_string(last_step));
  }
  auto data = phantom::run::make_split_data<Scalar, Space>(deck, shape);
  session.set_data(std::move(data.train), std::size_t(deck.train.batch), deck.data.shuffle,
                   std::uint64_t(deck.data.seed));
  if (data.validation.size() > 0)
    session.set_validation(std::move(data.validation), std::size_t(deck.train.batch));

  auto& net = session.network();
  const std::size_t batch = std::size_t(deck.train.batch);
  RunReport report(deck, comm.size(), net.global_parameter_count(), session.bytes_per_step(batch),
                   net.flops_per_sample() * double(batch / std::size_t(deck.parallel.data)));
  if (!deck.plan.measure.empty()) {
    if (deck.plan.profile.empty())
      throw phantom::DeckError(
          "plan.measure needs plan.profile (its clocks are the ones measured)");
    if (phantom::cost::load_profile(deck.plan.profile).clocks_mhz.empty())
      throw phantom::DeckError("plan.measure: profile '" + deck.plan.profile +
                               "' lists no GPU clocks to measure");
    if (deck.parallel.data > 1)  // a measured profile is one group's (docs/phantom-plan.md)
      throw phantom::DeckError(
          "plan.measure measures one model-parallel group: run it with "
          "parallel.data = 1, not " +
          std::to_string(deck.parallel.data));
    require_writable_directory("plan.measure", deck.plan.measure);
    phantom::run::measure_step_profile(deck, comm.rank(), comm.size(),
                                       unsigned(phantom::run::node_local_rank(MPI_COMM_WORLD)),
                                       shape.depth + 2, [&](std::size_t) { session.train_step(); });
    return report;
  }
  phantom::run::StepEnergy& energy = *session.energy();
  report.set_energy_source(energy.source(), energy.measured(), energy.zones(), energy.selection());
  if (deck.plan.apply && deck.plan.profile.empty())
    throw phantom::DeckError(
        "plan.apply = true needs plan.profile (the device profile to plan on)");
  // The guard outlives the controller: clocks are reset on a signal until the
  // controller itself has reset them.
  std::unique_ptr<phantom::plan::ClockSignalGuard> clock_guard;
  std::unique_ptr<phantom::run::AppliedClocks> clocks;
  if (!deck.plan.profile.empty()) {
    const phantom::run::ClockPlan plan = phantom::run::make_clock_plan(deck, comm.size());
    report.set_plan(plan.summary());
    if (deck.plan.apply) {
      clock_guard = std::make_unique<phantom::plan::ClockSignalGuard>();
      std::string error;  // no NVML, or no such GPU, on some node: all ranks fail alike
      try {
        clocks = std::make_unique<phantom::run::AppliedClocks>(
            plan, comm.rank(), unsigned(energy.node_rank()), shape.depth + 2,
            phantom::MeterOptions().nvml_library);
      } catch (const std::exception& e) {
        error = std::string("plan.apply: ") + e.what();
      }
      error = phantom::first_error(MPI_COMM_WORLD, error);
      if (!error.empty()) throw phantom::DeckError(error);
      session.set_step_hooks([&] { clocks->begin_step(); }, [&] { clocks->end_step(); });
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

  auto announce = [&](const std::string& name) {
    if (root && !name.empty()) {
      std::printf("checkpoint %s\n", name.c_str());
      std::fflush(stdout);
    }
  };
  for (std::size_t step = first_step; step < last_step; ++step) {
    session.train_step();
    const bool log = (step + 1) % std::size_t(deck.train.log_every) == 0 || step + 1 == last_step ||
                     step == first_step;
    const std::size_t every = std::size_t(deck.train.validate_every);
    if (session.has_validation() &&
        (every > 0 ? (step + 1) % every == 0 || step + 1 == last_step : log))
      session.validation_loss();  // collective, outside the step's time and energy
    const StepRecord& rec = session.last_step();
    report.record(rec, log, root, last_step);
    if (step + 1 != last_step) announce(session.save_if_due(false));
  }
  announce(session.save_if_due(true));  // always at the end: steps = 0 writes the initial weights
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
  const bool root = comm.rank() == 0;
  phantom::run::require_batch_splits(deck);
  phantom::run::SessionConfig config = phantom::run::session_config(deck, comm.size());
  config.meter_energy = false;
  require_writable_directory("output.summary", deck.output.summary);
  require_writable_directory("output.predictions", deck.output.predictions);
  phantom::run::Session<Scalar, Space> session(comm, MPI_COMM_WORLD, config);
  const std::size_t step = session.load(checkpoint, "--infer");
  if (root) note_loaded(session, checkpoint, false);
  // The whole data set as the held-out set: validation_loss() is the mean
  // loss over it in batches of train.batch, forward passes only.
  auto data = phantom::run::make_dataset<Scalar, Space>(deck, config.network.shape);
  const std::size_t n = data.size();
  session.set_validation(data, std::size_t(deck.train.batch));
  Kokkos::fence();
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = std::chrono::steady_clock::now();
  const double loss = session.validation_loss();
  Kokkos::fence();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!deck.output.predictions.empty()) {
    const auto outputs =
        phantom::run::predict_dataset(session, data, std::size_t(deck.train.batch));
    if (root) phantom::write_hdf5_dataset(deck.output.predictions, outputs);
  }
  if (!root) return;
  const double rate = n / seconds;
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
