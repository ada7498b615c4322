// What a training session reports about one step (phantom/run/session.hpp).
// Kokkos-free, so host-only translation units (JSON and CSV writing) can use it.
#pragma once

#include <algorithm>
#include <cstddef>

namespace phantom::run {

struct StepStats {
  std::size_t step = 0;      // the step's index (0 for the first)
  double loss = 0;           // mean over the batch
  double learning_rate = 0;  // the schedule's rate for this step
  double gradient_norm = 0;  // global, before clipping (0 when not clipping)
  double seconds = 0;        // wall time of the step on this rank
  double issue_seconds = 0;  // communicator: time issuing collectives
  double wait_seconds = 0;   // communicator: time waiting for them
  double bytes = 0;          // communicator: logical bytes received by this rank
  // Of which data parallelism's gradient all-reduce (also in issue/wait/bytes).
  std::size_t data_parallel_calls = 0;
  double data_parallel_bytes = 0;
  double data_parallel_issue_seconds = 0, data_parallel_wait_seconds = 0;
  double energy_joules = 0;    // all ranks, from the energy meter (0 without one)
  bool validated = false;      // validation_loss was computed after this step
  double validation_loss = 0;  // mean over the held-out set
  double compute_seconds() const { return std::max(0.0, seconds - issue_seconds - wait_seconds); }
};

}  // namespace phantom::run
