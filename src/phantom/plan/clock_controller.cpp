#include "phantom/plan/clock_controller.hpp"

#include <dlfcn.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>
#include <utility>

#include "phantom/energy/shared_library.hpp"

namespace phantom::plan {

namespace {

// ---- What the signal handler may touch --------------------------------------
// Plain lock-free atomics in static storage: the handler can read them at any
// point of the program without allocating or taking a lock.

using ResetFn = nvml::Return (*)(nvml::Device);
static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_POINTER_LOCK_FREE == 2,
              "the signal handler needs lock-free atomics");

// One slot per live controller: how to reset its GPU, and whether it may be
// locked. locked_mhz is raised before a lock call is made (a signal during the
// call must still reset) and cleared once a reset has succeeded.
struct Slot {
  std::atomic<bool> used{false};
  std::atomic<ResetFn> reset{nullptr};
  std::atomic<nvml::Device> device{nullptr};
  std::atomic<unsigned> locked_mhz{0};
};
constexpr int max_controllers = 64;  // per process; one per GPU is the norm
Slot slots[max_controllers];

std::atomic<int> nvml_calls_in_flight{0};  // controllers' NVML calls under way
std::atomic<int> pending_signal{0};        // a signal that arrived during one

int guard_depth = 0;  // live ClockSignalGuards (main thread only)
struct sigaction previous_int, previous_term;
bool guarding_int = false, guarding_term = false;

void reset_locked_gpus() noexcept {
  for (Slot& slot : slots) {
    if (!slot.used.load() || slot.locked_mhz.load() == 0) continue;
    const ResetFn reset = slot.reset.load();
    if (reset && reset(slot.device.load()) == nvml::success) slot.locked_mhz.store(0);
  }
}

// Reset, restore the disposition from before the guard, raise again. In the
// handler the raised signal stays blocked until the handler returns.
void handle(int sig) noexcept {
  reset_locked_gpus();
  ::sigaction(sig, sig == SIGINT ? &previous_int : &previous_term, nullptr);
  ::raise(sig);
}

extern "C" void on_clock_signal(int sig) {
  // Store first, then look: whichever of this handler and a finishing
  // NvmlCall takes the signal out of pending_signal handles it, exactly once.
  pending_signal.store(sig);
  if (nvml_calls_in_flight.load() == 0) {
    if (const int s = pending_signal.exchange(0)) handle(s);
  }
}

// Around every NVML call of a controller: a signal arriving during it is
// deferred (NVML may hold its own lock right now) and handled when it ends.
class NvmlCall {
 public:
  NvmlCall() { nvml_calls_in_flight.fetch_add(1); }
  ~NvmlCall() {
    if (nvml_calls_in_flight.fetch_sub(1) == 1) {
      if (const int s = pending_signal.exchange(0)) handle(s);
    }
  }
  NvmlCall(const NvmlCall&) = delete;
  NvmlCall& operator=(const NvmlCall&) = delete;
};

Slot& slot_of(int index) {
  return slots[index];
}

std::string gpu_name(unsigned index) {
  return "GPU " + std::to_string(index);
}

}  // namespace

// ---- Schedules ----------------------------------------------------------------

ClockSchedule rank_clock_schedule(const StepProfile& profile, const Assignment& clock_mhz,
                                  std::size_t rank) {
  const std::string where = "clock schedule of rank " + std::to_string(rank);
  if (rank >= profile.ranks())
    throw InvalidArgument(where + ": the profile has " + std::to_string(profile.ranks()) +
                          " rank(s)");
  if (clock_mhz.size() != profile.ranks() || clock_mhz[rank].size() != profile.phases[rank].size())
    throw InvalidArgument(where + ": the assignment's shape differs from the profile's");
  ClockSchedule schedule;
  std::map<std::string, std::size_t> first_stage;
  for (std::size_t s = 0; s < profile.phases[rank].size(); ++s) {
    const std::vector<Phase>& phases = profile.phases[rank][s];
    if (clock_mhz[rank][s].size() != phases.size())
      throw InvalidArgument(where + ": stage " + std::to_string(s) + " has " +
                            std::to_string(phases.size()) + " phase(s) but the assignment " +
                            std::to_string(clock_mhz[rank][s].size()));
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const int mhz = clock_mhz[rank][s][i];
      const std::string& name = phases[i].name;
      if (mhz <= 0)
        throw InvalidArgument(where + ": phase '" + name + "' in stage " + std::to_string(s) +
                              " has clock " + std::to_string(mhz) + " MHz");
      const auto [it, inserted] = schedule.emplace(name, static_cast<unsigned>(mhz));
      if (inserted) {
        first_stage[name] = s;
      } else if (it->second != static_cast<unsigned>(mhz)) {
        throw InvalidArgument(where + ": phase '" + name + "' is planned at " +
                              std::to_string(it->second) + " MHz in stage " +
                              std::to_string(first_stage[name]) + " and " + std::to_string(mhz) +
                              " MHz in stage " + std::to_string(s) +
                              "; the controller knows phases by name, so give them distinct "
                              "names in the profile");
      }
    }
  }
  return schedule;
}

// ---- ClockController ------------------------------------------------------------

ClockController::ClockController(std::shared_ptr<NvmlLibrary> nvml, unsigned device_index,
                                 ClockSchedule schedule)
    : nvml_(std::move(nvml)), device_index_(device_index), schedule_(std::move(schedule)) {
  if (!nvml_) throw InvalidArgument("ClockController: no NVML library");
  for (const auto& [phase, mhz] : schedule_)
    if (mhz == 0)
      throw InvalidArgument("ClockController: phase '" + phase + "' is scheduled at 0 MHz");
  device_ = nvml_->device(device_index_);

  // The handler cannot go through NvmlLibrary (it allocates and throws), so
  // it gets NVML's reset entry point itself: a second reference to the
  // library already loaded (RTLD_NOLOAD), which also keeps it mapped while
  // the slot is in use. An NVML without the call leaves the pointer null:
  // then nothing can be locked either.
  reset_handle_ = ::dlopen(nvml_->path().c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!reset_handle_)
    throw LibraryUnavailable("ClockController: " + nvml_->path() +
                             " is not loaded any more (dlopen: " + ::dlerror() + ")");
  const auto reset =
      reinterpret_cast<ResetFn>(::dlsym(reset_handle_, "nvmlDeviceResetGpuLockedClocks"));

  for (int i = 0; i < max_controllers && slot_ < 0; ++i) {
    bool expected = false;
    if (slots[i].used.load() || !slots[i].used.compare_exchange_strong(expected, true)) continue;
    slot_ = i;
  }
  if (slot_ < 0) {
    ::dlclose(reset_handle_);
    throw Error("ClockController: more than " + std::to_string(max_controllers) +
                " controllers in one process");
  }
  // Claimed but not yet locked: the handler skips a slot whose locked_mhz is 0.
  slot_of(slot_).reset.store(reset);
  slot_of(slot_).device.store(device_);
  slot_of(slot_).locked_mhz.store(0);
}

ClockController::ClockController(const std::string& nvml_library_path, unsigned device_index,
                                 ClockSchedule schedule)
    : ClockController(std::make_shared<NvmlLibrary>(nvml_library_path), device_index,
                      std::move(schedule)) {}

ClockController::~ClockController() {
  try {
    reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "phantom: clock controller: %s\n", e.what());
  }
  Slot& slot = slot_of(slot_);
  slot.locked_mhz.store(0);
  slot.reset.store(nullptr);
  slot.device.store(nullptr);
  slot.used.store(false);
  ::dlclose(reset_handle_);
}

unsigned ClockController::locked_mhz() const {
  return slot_of(slot_).locked_mhz.load();
}

void ClockController::enter_phase(const std::string& phase) {
  ++phases_entered_;
  const auto it = schedule_.find(phase);
  unsigned target = 0;  // 0: unplanned, the driver's default clocks
  if (it != schedule_.end())
    target = it->second;
  else
    unplanned_.insert(phase);
  if (mode_ == Mode::report_only) return;
  if (touched_ && target == locked_mhz()) return;  // already there: no driver round trip
  set_clocks(target);
}

void ClockController::reset() {
  if (mode_ == Mode::report_only || locked_mhz() == 0) return;
  set_clocks(0);
}

void ClockController::set_clocks(unsigned mhz) {
  Slot& slot = slot_of(slot_);
  try {
    NvmlCall call;
    if (mhz > 0) {
      slot.locked_mhz.store(mhz);  // before the call: a signal during it must reset
      nvml_->set_gpu_locked_clocks(device_, mhz, mhz);
    } else {
      nvml_->reset_gpu_locked_clocks(device_);
      slot.locked_mhz.store(0);
    }
  } catch (const NvmlError& e) {
    if (e.code() == nvml::error_no_permission && !touched_)
      return go_report_only(
          "locking GPU clocks needs root or CAP_SYS_ADMIN ('nvidia-smi -acp "
          "UNRESTRICTED' opens only application clocks to users); the plan is "
          "reported, not applied (NVML: " +
          nvml_->error_string(e.code()) + ")");
    if (mhz > 0) fail(e);
    // A failed reset: retrying at once is unlikely to help; the destructor
    // and the signal path try again (locked_mhz stays raised).
    touched_ = false;
    throw NvmlError(gpu_name(device_index_) + ": " + e.what() +
                        "; the GPU's clocks may still be locked at " +
                        std::to_string(locked_mhz()) + " MHz",
                    e.code());
  } catch (const LibraryUnavailable& e) {  // an NVML without the locked-clock calls
    return go_report_only(std::string(e.what()) + "; the plan is reported, not applied");
  }
  ++clock_changes_;
  touched_ = true;
}

void ClockController::go_report_only(const std::string& why) {
  slot_of(slot_).locked_mhz.store(0);  // nothing was locked
  mode_ = Mode::report_only;
  message_ = gpu_name(device_index_) + ": clock plan not applied: " + why;
}

void ClockController::fail(const NvmlError& error) {
  std::string outcome;
  try {
    NvmlCall call;
    nvml_->reset_gpu_locked_clocks(device_);
    slot_of(slot_).locked_mhz.store(0);
    outcome = "; the GPU's clocks were reset to the default";
  } catch (const std::exception& e) {
    // locked_mhz stays raised: the destructor and the signal path try again.
    outcome = "; resetting the GPU's clocks failed too: " + std::string(e.what());
  }
  touched_ = false;  // the GPU's state is not known: the next phase calls NVML
  throw NvmlError(gpu_name(device_index_) + ": " + error.what() + outcome, error.code());
}

std::string ClockController::report() const {
  std::ostringstream out;
  out << gpu_name(device_index_)
      << " clock plan: " << (mode_ == Mode::applied ? std::string("applied") : message_) << "\n";
  std::size_t width = 0;
  for (const auto& entry : schedule_) width = std::max(width, entry.first.size());
  for (const auto& [phase, mhz] : schedule_)
    out << "  " << phase << std::string(width - phase.size() + 1, ' ') << mhz << " MHz\n";
  if (!unplanned_.empty()) {
    out << "  unplanned (driver default clocks):";
    for (const std::string& phase : unplanned_) out << " " << phase;
    out << "\n";
  }
  out << "  phases entered: " << phases_entered_ << ", clock changes: " << clock_changes_ << "\n";
  return out.str();
}

// ---- ClockSignalGuard -------------------------------------------------------------

ClockSignalGuard::ClockSignalGuard() {
  if (guard_depth++ > 0) return;
  struct sigaction action {};
  action.sa_handler = on_clock_signal;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGINT);  // one at a time
  sigaddset(&action.sa_mask, SIGTERM);
  action.sa_flags = SA_RESTART;  // a deferred signal must not fail NVML's own system calls
  // A signal the process ignores (SIGINT under nohup) stays ignored: it
  // cannot end the job, so there is nothing to clean up after.
  ::sigaction(SIGINT, nullptr, &previous_int);
  ::sigaction(SIGTERM, nullptr, &previous_term);
  guarding_int = previous_int.sa_handler != SIG_IGN;
  guarding_term = previous_term.sa_handler != SIG_IGN;
  if (guarding_int) ::sigaction(SIGINT, &action, nullptr);
  if (guarding_term) ::sigaction(SIGTERM, &action, nullptr);
}

ClockSignalGuard::~ClockSignalGuard() {
  if (--guard_depth > 0) return;
  if (guarding_int) ::sigaction(SIGINT, &previous_int, nullptr);
  if (guarding_term) ::sigaction(SIGTERM, &previous_term, nullptr);
  guarding_int = guarding_term = false;
}

}  // namespace phantom::plan
