// A step profile: what one training step costs at each GPU clock, per rank and
// per phase, which is all the energy planner (planner.hpp) needs.
//
// The step is a chain of stages. A stage ends at a collective over the whole
// group (the last stage ends at the next step's first collective); within a
// stage each rank runs its phases (local GEMMs, ghost GEMMs, loss, optimizer,
// the collective's own transfer, ...) one after another, then waits at the
// collective for the slowest rank. Each phase lists its clock options: the
// time and energy of that phase alone at that clock. Waits are not phases: the
// planner derives them, and a waiting rank draws its idle power.
//
// CSV (docs/energy.md, "Planner"): header
//   rank,stage,phase,clock_mhz,time_s,energy_j,source
// one row per (rank, stage, phase, clock); phases of a (rank, stage) run in the
// order of their first row. Each rank has one idle-power row: stage "-", phase
// "idle", clock_mhz the clock it was measured at, energy_j / time_s = watts
// (written as time_s = 1). Blank lines and lines starting with '#' are skipped.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace phantom::plan {

// One clock for one phase: how long the phase takes and what it draws there.
struct ClockOption {
  int clock_mhz = 0;
  double time_s = 0;
  double energy_j = 0;
  std::string source;  // where the numbers came from: "nvml", "model", ...
};

struct Phase {
  std::string name;
  std::vector<ClockOption> options;  // at least one; clocks distinct
};

// What a rank draws while it waits at a collective.
struct IdlePower {
  double watts = 0;
  int clock_mhz = 0;  // the clock it was measured at; informational
  std::string source;
};

struct StepProfile {
  // phases[rank][stage]: that rank's phases in that stage, in the order they
  // run. A rank may have none in a stage (it only waits).
  std::vector<std::vector<std::vector<Phase>>> phases;
  std::vector<IdlePower> idle;  // one per rank

  std::size_t ranks() const { return phases.size(); }
  std::size_t stages() const { return phases.empty() ? 0 : phases.front().size(); }
  double idle_watts() const;  // summed over ranks: the group's idle power

  // Throws InvalidArgument naming the first problem: no ranks or stages, ranks
  // with different stage counts, idle entries not one per rank, a phase with
  // no options, an empty or reserved ("idle") phase name, a repeated clock, a
  // negative clock or a negative or non-finite time, energy or power.
  void validate() const;
};

// CSV in and out. Reading throws InvalidArgument "<origin>:<line>: <problem>"
// (or "<origin>: <problem>" for the file as a whole) and validates the result.
// Writing uses 17 significant digits, so a round trip is exact, and throws
// InvalidArgument if a phase name or source would not survive the CSV (comma,
// quote, newline, surrounding blanks).
StepProfile read_step_profile(const std::string& path);
StepProfile parse_step_profile(std::istream& in, const std::string& origin);
void write_step_profile(const StepProfile& profile, const std::string& path);
void write_step_profile(const StepProfile& profile, std::ostream& out);

// The CSV header line, without the newline.
inline constexpr const char* step_profile_header =
    "rank,stage,phase,clock_mhz,time_s,energy_j,source";

}  // namespace phantom::plan
