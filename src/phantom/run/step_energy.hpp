// Energy of each training step, summed over the ranks, from the meter the
// configuration names (EnergyConfig::meter, the deck's energy.meter: auto,
// model, rapl, nvml, amd-smi; docs/energy.md).
//   - nvml, amd-smi: each rank reads its own GPU (the node-local rank's).
//   - rapl: a package is shared by the ranks on it, so only each node's first
//     rank reads it; the others contribute 0.
//   - model: each rank models its own step as busy while computing and idle
//     while in the communicator,
//       E_rank = watts_per_rank (t_step - t_comm) + idle_watts_per_rank t_comm,
//     the cost model's formula with this step's measured split.
// The per-rank deltas of a step are summed with an MPI_Allreduce on a
// communicator of its own, after the step's timing (so its 8 bytes are not in
// the step's time or in Phantom's byte counts).
// With energy.regions the meter is also read at the profiling regions of the
// layers, the communicator and the optimizer (Kokkos Tools callbacks), giving
// energy per region; regions shorter than the meter's update period are
// flagged (phantom/energy/energy_regions.hpp).
#pragma once

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "phantom/comm/communicator.hpp"
#include "phantom/comm/first_error.hpp"
#include "phantom/energy/energy_meter.hpp"
#include "phantom/energy/energy_regions.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/run/region_hooks.hpp"

namespace phantom::run {

// The deck's [energy] section.
struct EnergyConfig {
  std::string meter = "auto";
  double watts_per_rank = 4.0, idle_watts_per_rank = 1.4;  // the model meter's
  bool regions = false;  // energy per region as well (Kokkos Tools)
};

// This rank's index among the ranks of comm on its node (its GPU).
inline int node_local_rank(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int rank = 0;
  MPI_Comm_rank(node, &rank);
  MPI_Comm_free(&node);
  return rank;
}

class StepEnergy : private RegionListener {
 public:
  // world: the MPI communicator spanning comm's ranks (collective over it).
  StepEnergy(const EnergyConfig& config, phantom::Communicator& comm, MPI_Comm world)
      : comm_(comm) {
    MPI_Comm_dup(world, &sum_comm_);
    node_rank_ = node_local_rank(world);

    phantom::MeterOptions options;
    options.device_index = unsigned(node_rank_);
    const double busy = config.watts_per_rank, idle = config.idle_watts_per_rank;
    const auto t0 = std::chrono::steady_clock::now();
    options.model = [this, busy, idle, t0] {
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto s = comm_.stats();
      const double in_comm = s.total_issue_seconds() + s.total_wait_seconds();
      return busy * (t - in_comm) + idle * in_comm;
    };
    char buf[96];
    std::snprintf(buf, sizeof buf, "model: %g W busy, %g W in the communicator, per rank", busy,
                  idle);
    options.model_description = buf;
    // A meter can be missing on some nodes only: every rank fails alike, with
    // the lowest failing rank's reason, or the others would wait forever.
    std::string error;
    try {
      selection_ = phantom::make_energy_meter(config.meter, options);
      last_ = selection_.meter->joules();
    } catch (const phantom::MeterUnavailable& e) {  // the deck asked for what is not here
      error = "energy.meter = \"" + config.meter + "\": " + e.reason();
    } catch (const std::exception& e) {
      error = "energy.meter = \"" + config.meter + "\": " + e.what();
    }
    // "auto" may find a GPU on some nodes only; a sum of measured and
    // modelled joules would be labelled wrongly, so every rank must agree
    // with rank 0's meter (every rank takes part in the broadcasts).
    const std::string mine = error.empty() ? selection_.meter->name() : std::string();
    std::string root = mine;
    int length = int(root.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, sum_comm_);
    root.resize(std::size_t(length));
    MPI_Bcast(root.data(), length, MPI_CHAR, 0, sum_comm_);
    if (error.empty() && !root.empty() && root != mine) {
      int rank = 0;
      MPI_Comm_rank(sum_comm_, &rank);
      error = "energy.meter = \"" + config.meter + "\" chose " + mine + " on rank " +
              std::to_string(rank) + " but " + root +
              " on rank 0; all ranks must meter alike (name the meter explicitly)";
    }
    error = phantom::first_error(sum_comm_, error);
    if (!error.empty()) {
      MPI_Comm_free(&sum_comm_);
      throw phantom::DeckError(error);
    }
    reads_ = selection_.meter->name() != "rapl" || node_rank_ == 0;
    if (config.regions) regions_ = std::make_unique<phantom::EnergyRegions>(*selection_.meter);
  }
  ~StepEnergy() override {
    if (listening_) stop_regions();
    MPI_Comm_free(&sum_comm_);
  }
  StepEnergy(const StepEnergy&) = delete;
  StepEnergy& operator=(const StepEnergy&) = delete;

  const std::string& source() const { return source_name(); }
  bool measured() const { return selection_.meter->measured(); }
  // "auto" said why it passed over the others: "nvml: ...; rapl: ... -> model".
  std::string selection() const { return selection_.summary(); }
  std::string zones() const { return selection_.meter->zones(); }
  // This rank's index among the ranks of its node (its GPU).
  int node_rank() const { return node_rank_; }

  // Call on every rank right before a step (and its timer) starts.
  void begin_step() {
    last_ = selection_.meter->joules();
    if (regions_) start_regions();
  }
  // Call on every rank after the step's timer stopped: this step's joules over
  // all ranks (collective).
  double end_step() {
    if (regions_) stop_regions();
    const double mine = reads_ ? selection_.meter->joules() - last_ : 0.0;
    double total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, sum_comm_);
    return total;
  }

  // This rank's energy per region (nullptr without energy.regions).
  const phantom::EnergyRegions* regions() const { return regions_.get(); }

 private:
  const std::string& source_name() const {
    name_ = selection_.meter->name();
    return name_;
  }

  // Region names -> the four regions of docs/energy.md.
  static const char* region_of(const char* name) {
    const std::string n = name;
    if (n.rfind("phantom::comm::", 0) == 0) return "communication";
    if (n == "phantom::optimizer") return "optimizer";
    if (n.size() > 9 && n.compare(n.size() - 9, 9, "::forward") == 0) return "forward";
    if (n.size() > 10 && n.compare(n.size() - 10, 10, "::backward") == 0) return "backward";
    return nullptr;
  }
  void push(const char* name) override {
    const char* r = region_of(name);
    if (r) regions_->begin(r);
    open_.push_back(r);
  }
  void pop() override {
    if (open_.empty()) return;
    const char* r = open_.back();
    open_.pop_back();
    if (r) regions_->end(r);
  }
  void start_regions() {
    open_.clear();
    RegionHooks::add(this);
    listening_ = true;
  }
  void stop_regions() {
    RegionHooks::remove(this);
    listening_ = false;
  }

  phantom::Communicator& comm_;
  MPI_Comm sum_comm_;
  int node_rank_ = 0;
  bool reads_ = true;
  phantom::MeterSelection selection_;
  std::unique_ptr<phantom::EnergyRegions> regions_;
  std::vector<const char*> open_;
  bool listening_ = false;
  double last_ = 0;
  mutable std::string name_;
};

}  // namespace phantom::run
