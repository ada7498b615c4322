// Applies an energy plan (planner.hpp) to this rank's GPU while it trains: on
// entering each phase of the step the GPU's graphics clock is locked to the
// planned value (nvmlDeviceSetGpuLockedClocks with min = max), and the clocks
// go back to the driver's default (nvmlDeviceResetGpuLockedClocks) at the end,
// on any error, and, with a ClockSignalGuard, on SIGINT and SIGTERM, so a
// failed or killed job does not leave the GPU clocked down for the next one.
//
// Locking clocks needs root (or CAP_SYS_ADMIN; NVML's "Device Commands").
// Without it the controller does not fail the run: the first refusal switches
// it to report-only, message() says why, and report() still shows the plan.
//
// One controller per rank and GPU, driven by one thread (the training loop).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "phantom/energy/nvml_library.hpp"
#include "phantom/plan/planner.hpp"
#include "phantom/plan/step_profile.hpp"

namespace phantom::plan {

// One rank's plan: phase name -> graphics clock in MHz.
using ClockSchedule = std::map<std::string, unsigned>;

// Rank `rank`'s schedule from a plan over `profile`: each phase's name mapped
// to its planned clock. enter_phase knows phases by name only, so a name that
// recurs in several stages must be planned at one clock; different clocks are
// InvalidArgument naming the phase, the stages and the clocks (give such
// phases distinct names in the profile, e.g. "fwd.layer0", "fwd.layer1").
// Also InvalidArgument: a rank out of range, or an assignment whose shape
// differs from the profile's.
ClockSchedule rank_clock_schedule(const StepProfile& profile, const Assignment& clock_mhz,
                                  std::size_t rank);
inline ClockSchedule rank_clock_schedule(const StepProfile& profile, const Plan& plan,
                                         std::size_t rank) {
  return rank_clock_schedule(profile, plan.plan.clock_mhz, rank);
}

class ClockController {
 public:
  enum class Mode {
    applied,     // clocks are set (or will be, at the next phase)
    report_only  // this process may not set clocks; see message()
  };

  // Controls GPU `device_index` of `nvml`. Throws InvalidArgument for a clock
  // of 0 in the schedule or a GPU index past NVML's count.
  ClockController(std::shared_ptr<NvmlLibrary> nvml, unsigned device_index, ClockSchedule schedule);
  ClockController(const std::string& nvml_library_path, unsigned device_index,
                  ClockSchedule schedule);
  // reset(); never throws: a failure is printed to stderr.
  ~ClockController();
  ClockController(const ClockController&) = delete;
  ClockController& operator=(const ClockController&) = delete;

  // Locks the graphics clock to the phase's planned value. A phase not in
  // the schedule runs at the driver's default clocks (locked clocks reset):
  // work the planner did not see (evaluation, checkpoints) is never slowed by
  // the plan; unplanned_phases() lists such names, so a typo shows in report().
  // The NVML call is skipped when the clock is already where the phase wants
  // it: phases alternate every few milliseconds, consecutive phases often
  // share a clock, and each call costs a driver round trip.
  // Errors: the first NVML call refused for permission (or an NVML without the
  // locked-clock calls) switches to report-only and returns; any other NVML
  // error of a lock resets the clocks, then throws NvmlError with the same
  // code, its message saying whether the reset worked; a failed reset throws
  // NvmlError saying the clocks may still be locked.
  void enter_phase(const std::string& phase);

  // Back to the driver's default clocks. Idempotent: no NVML call when the
  // clocks are not locked by this controller (or in report-only mode).
  // Throws NvmlError if the reset fails (then a later reset tries again).
  void reset();

  Mode mode() const { return mode_; }
  bool applied() const { return mode_ == Mode::applied; }
  // Why the plan is not applied (report-only), else empty, e.g.
  // "GPU 0: clock plan not applied: locking GPU clocks needs root or
  // CAP_SYS_ADMIN ('nvidia-smi -acp UNRESTRICTED' opens only application
  // clocks to users); the plan is reported, not applied (NVML: Insufficient
  // Permissions)".
  const std::string& message() const { return message_; }

  unsigned device_index() const { return device_index_; }
  const ClockSchedule& schedule() const { return schedule_; }
  // The graphics clock this controller has locked, 0 when none.
  unsigned locked_mhz() const;
  std::size_t phases_entered() const { return phases_entered_; }
  std::size_t clock_changes() const { return clock_changes_; }  // successful lock/reset calls
  const std::set<std::string>& unplanned_phases() const { return unplanned_; }

  // The schedule and what happened to it, one line each:
  //   GPU 0 clock plan: applied
  //     backward  1005 MHz
  //     forward   1410 MHz
  //     unplanned (driver default clocks): eval
  //     phases entered: 6, clock changes: 3
  std::string report() const;

 private:
  void set_clocks(unsigned mhz);  // 0: reset; throws as enter_phase says
  [[noreturn]] void fail(const NvmlError& error);
  void go_report_only(const std::string& why);

  std::shared_ptr<NvmlLibrary> nvml_;
  unsigned device_index_;
  nvml::Device device_;
  ClockSchedule schedule_;
  Mode mode_ = Mode::applied;
  std::string message_;
  bool touched_ = false;  // set the clocks since the start or the last error? (else unknown)
  std::size_t phases_entered_ = 0, clock_changes_ = 0;
  std::set<std::string> unplanned_;
  int slot_ = -1;                 // in the signal registry (clock_controller.cpp)
  void* reset_handle_ = nullptr;  // our own dlopen reference, for the raw reset
};

// While one lives, SIGINT and SIGTERM reset the locked clocks of every live
// ClockController, then restore the disposition that was in place before the
// guard (normally the default: terminate) and raise the signal again, so the
// job still ends as it was told to, with its exit status. Create it in the
// main thread before the controllers; guards nest (the outermost restores the
// previous handlers when it goes). It acts once: a process that survives the
// re-raised signal (ignored, or caught by the previous handler) is no longer
// guarded.
//
// Async-signal safety, the trade-off: NVML calls are not async-signal-safe
// (the driver library takes locks and may allocate), but without a handler a
// SIGTERM (Slurm's scancel, a time limit) kills the process at once and the
// GPU stays locked at a low clock for whoever comes next; the reset must run
// in the dying process, so the handler makes that one call, best effort. What
// it does is kept minimal: no allocation, no exceptions, no stdio; it calls
// NVML's reset through a raw function pointer for each registered GPU that is
// actually locked. The one hazard we can remove is re-entering NVML from a
// thread that is inside an NVML call of the controller (where NVML's own lock
// may be held): a signal that arrives then is deferred, and the controller
// resets and re-raises as soon as its call returns. A signal that lands in an
// NVML call made by other code (e.g. an energy meter) can still hang in the
// handler; that is the cost of resetting at all. Zeus sets clocks from a
// helper process and restores them with Python's atexit
// (ml-energy/zeus, zeus/optimizer/pipeline_frequency/frequency_controller.py),
// which does not run on a default-disposition SIGTERM.
class ClockSignalGuard {
 public:
  ClockSignalGuard();
  ~ClockSignalGuard();
  ClockSignalGuard(const ClockSignalGuard&) = delete;
  ClockSignalGuard& operator=(const ClockSignalGuard&) = delete;
};

}  // namespace phantom::plan
