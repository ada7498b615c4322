// The clock controller against the fake libnvidia-ml (tests/energy/fake_nvml.cpp),
// loaded through the controller's own dlopen path: clocks per phase, skipped
// redundant calls, reset at the end, in the destructor and on an NVML error,
// report-only without permission, and the reset on SIGINT/SIGTERM in a
// forked child (its fake state dies with it, so the fake logs to a file).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "energy_test_helpers.hpp"
#include "phantom/plan/clock_controller.hpp"

namespace {

using phantom::NvmlError;
using phantom::plan::ClockController;
using phantom::plan::ClockSchedule;
using phantom::plan::ClockSignalGuard;
using phantom_test::FakeLibrary;

struct FakeNvml {
  FakeLibrary lib{PHANTOM_FAKE_NVML};
  void (*reset)() = lib.get<void (*)()>("fake_nvml_reset");
  void (*fail_next)(const char*, int) = lib.get<void (*)(const char*, int)>("fake_nvml_fail_next");
  void (*set_permission_denied)(int) = lib.get<void (*)(int)>("fake_nvml_set_permission_denied");
  unsigned (*locked_max)(unsigned) =
      lib.get<unsigned (*)(unsigned)>("fake_nvml_locked_graphics_clock");
  unsigned (*locked_min)(unsigned) =
      lib.get<unsigned (*)(unsigned)>("fake_nvml_locked_graphics_min");
  unsigned (*lock_calls)() = lib.get<unsigned (*)()>("fake_nvml_lock_calls");
  unsigned (*reset_calls)() = lib.get<unsigned (*)()>("fake_nvml_reset_calls");
  void (*set_event_log)(const char*) = lib.get<void (*)(const char*)>("fake_nvml_set_event_log");
  void (*raise_in_next_lock)(int) = lib.get<void (*)(int)>("fake_nvml_raise_in_next_lock");
  FakeNvml() { reset(); }
  ~FakeNvml() { reset(); }
};

const ClockSchedule kSchedule = {{"forward", 1410}, {"backward", 1005}, {"optimizer", 1410}};

std::shared_ptr<phantom::NvmlLibrary> open_nvml() {
  return std::make_shared<phantom::NvmlLibrary>(PHANTOM_FAKE_NVML);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ClockController, LocksThePlannedClockPerPhase) {
  FakeNvml fake;
  ClockController controller(open_nvml(), 1, kSchedule);
  EXPECT_TRUE(controller.applied());
  EXPECT_EQ(controller.locked_mhz(), 0u);
  controller.enter_phase("forward");
  EXPECT_EQ(fake.locked_max(1), 1410u);
  EXPECT_EQ(fake.locked_min(1), 1410u);  // min = max: a fixed clock
  EXPECT_EQ(fake.locked_max(0), 0u);     // another GPU: not ours
  EXPECT_EQ(controller.locked_mhz(), 1410u);
  controller.enter_phase("backward");
  EXPECT_EQ(fake.locked_max(1), 1005u);
  EXPECT_EQ(fake.locked_min(1), 1005u);
  controller.enter_phase("optimizer");
  EXPECT_EQ(fake.locked_max(1), 1410u);
  EXPECT_EQ(controller.clock_changes(), 3u);
  EXPECT_EQ(controller.message(), "");
}

TEST(ClockController, SkipsCallsThatWouldNotChangeTheClock) {
  FakeNvml fake;
  ClockController controller(open_nvml(), 0, kSchedule);
  for (int step = 0; step < 3; ++step) {
    controller.enter_phase("forward");    // 1410
    controller.enter_phase("optimizer");  // 1410 as well: no call
    controller.enter_phase("optimizer");
  }
  EXPECT_EQ(fake.lock_calls(), 1u);
  controller.enter_phase("backward");
  controller.enter_phase("forward");
  EXPECT_EQ(fake.lock_calls(), 3u);
  EXPECT_EQ(controller.phases_entered(), 11u);
  EXPECT_EQ(controller.clock_changes(), 3u);
  EXPECT_EQ(fake.locked_max(0), 1410u);
}

TEST(ClockController, UnplannedPhaseRunsAtTheDefaultClocks) {
  FakeNvml fake;
  ClockController controller(open_nvml(), 0, kSchedule);
  controller.enter_phase("backward");
  controller.enter_phase("eval");  // not in the plan: locked clocks reset
  EXPECT_EQ(fake.locked_max(0), 0u);
  EXPECT_EQ(fake.reset_calls(), 1u);
  controller.enter_phase("checkpoint");  // still at the default: no call
  EXPECT_EQ(fake.reset_calls(), 1u);
  controller.enter_phase("forward");
  EXPECT_EQ(fake.locked_max(0), 1410u);
  EXPECT_EQ(controller.unplanned_phases(), (std::set<std::string>{"checkpoint", "eval"}));
  EXPECT_EQ(controller.report(),
            "GPU 0 clock plan: applied\n"
            "  backward  1005 MHz\n"
            "  forward   1410 MHz\n"
            "  optimizer 1410 MHz\n"
            "  unplanned (driver default clocks): checkpoint eval\n"
            "  phases entered: 4, clock changes: 3\n");
}

TEST(ClockController, ResetsAtTheEndOnceAndInTheDestructor) {
  FakeNvml fake;
  {
    ClockController controller(open_nvml(), 0, kSchedule);
    controller.enter_phase("backward");
    controller.reset();  // end of training
    EXPECT_EQ(fake.locked_max(0), 0u);
    EXPECT_EQ(controller.locked_mhz(), 0u);
    controller.reset();  // idempotent: no second call
    EXPECT_EQ(fake.reset_calls(), 1u);
    controller.enter_phase("forward");  // usable again
    EXPECT_EQ(fake.locked_max(0), 1410u);
  }
  EXPECT_EQ(fake.locked_max(0), 0u);  // the destructor reset it
  EXPECT_EQ(fake.reset_calls(), 2u);
  {
    ClockController idle(open_nvml(), 0, kSchedule);  // never locked: no reset call
  }
  EXPECT_EQ(fake.reset_calls(), 2u);
}

TEST(ClockController, NvmlErrorMidRunResetsThenRethrows) {
  FakeNvml fake;
  ClockController controller(open_nvml(), 0, kSchedule);
  controller.enter_phase("forward");
  ASSERT_EQ(fake.locked_max(0), 1410u);
  fake.fail_next("nvmlDeviceSetGpuLockedClocks", 15);  // NVML_ERROR_GPU_IS_LOST
  try {
    controller.enter_phase("backward");
    ADD_FAILURE() << "enter_phase did not throw";
  } catch (const NvmlError& e) {
    EXPECT_EQ(e.code(), 15);
    EXPECT_STREQ(e.what(),
                 "GPU 0: nvmlDeviceSetGpuLockedClocks(1005, 1005 MHz): GPU is lost (NVML error "
                 "15); the GPU's clocks were reset to the default");
  }
  EXPECT_EQ(fake.locked_max(0), 0u);
  EXPECT_EQ(controller.locked_mhz(), 0u);
  EXPECT_EQ(fake.reset_calls(), 1u);
  EXPECT_TRUE(controller.applied());  // not a permission problem
}

TEST(ClockController, FailedResetIsReportedAndRetried) {
  FakeNvml fake;
  {
    ClockController controller(open_nvml(), 0, kSchedule);
    controller.enter_phase("forward");
    fake.fail_next("nvmlDeviceResetGpuLockedClocks", 15);
    try {
      controller.enter_phase("eval");  // unplanned: a reset, which fails
      ADD_FAILURE() << "enter_phase did not throw";
    } catch (const NvmlError& e) {
      EXPECT_EQ(e.code(), 15);
      EXPECT_STREQ(e.what(),
                   "GPU 0: nvmlDeviceResetGpuLockedClocks: GPU is lost (NVML error 15); the "
                   "GPU's clocks may still be locked at 1410 MHz");
    }
    EXPECT_EQ(fake.locked_max(0), 1410u);
    EXPECT_EQ(controller.locked_mhz(), 1410u);
    controller.reset();  // the end of training tries again
    EXPECT_EQ(fake.locked_max(0), 0u);
    EXPECT_EQ(fake.reset_calls(), 2u);
    controller.enter_phase("forward");
    fake.fail_next("nvmlDeviceSetGpuLockedClocks", 15);
    fake.set_permission_denied(1);  // now the reset after the error fails too
    try {
      controller.enter_phase("backward");
      ADD_FAILURE() << "enter_phase did not throw";
    } catch (const NvmlError& e) {
      EXPECT_EQ(e.code(), 15);
      EXPECT_STREQ(e.what(),
                   "GPU 0: nvmlDeviceSetGpuLockedClocks(1005, 1005 MHz): GPU is lost (NVML error "
                   "15); resetting the GPU's clocks failed too: nvmlDeviceResetGpuLockedClocks: "
                   "Insufficient Permissions (NVML error 4)");
    }
    EXPECT_NE(controller.locked_mhz(), 0u);  // still possibly locked: try again later
    fake.set_permission_denied(0);
    testing::internal::CaptureStderr();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(fake.locked_max(0), 0u);  // the destructor's retry worked
}

TEST(ClockController, DestructorPrintsAFailedResetInsteadOfThrowing) {
  FakeNvml fake;
  testing::internal::CaptureStderr();
  {
    ClockController controller(open_nvml(), 0, kSchedule);
    controller.enter_phase("forward");
    fake.fail_next("nvmlDeviceResetGpuLockedClocks", 15);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "phantom: clock controller: GPU 0: nvmlDeviceResetGpuLockedClocks: GPU is lost (NVML "
            "error 15); the GPU's clocks may still be locked at 1410 MHz\n");
}

TEST(ClockController, WithoutPermissionThePlanIsReportedNotApplied) {
  FakeNvml fake;
  fake.set_permission_denied(1);
  testing::internal::CaptureStderr();
  {
    ClockController controller(open_nvml(), 0, kSchedule);
    controller.enter_phase("forward");  // refused: report-only, no throw
    EXPECT_EQ(controller.mode(), ClockController::Mode::report_only);
    const std::string message =
        "GPU 0: clock plan not applied: locking GPU clocks needs root or CAP_SYS_ADMIN "
        "('nvidia-smi -acp UNRESTRICTED' opens only application clocks to users); the plan is "
        "reported, not applied (NVML: Insufficient Permissions)";
    EXPECT_EQ(controller.message(), message);
    controller.enter_phase("backward");  // no more NVML calls
    controller.enter_phase("eval");
    controller.reset();  // nothing locked: no call, no error
    EXPECT_EQ(fake.lock_calls(), 1u);
    EXPECT_EQ(fake.reset_calls(), 0u);
    EXPECT_EQ(controller.locked_mhz(), 0u);
    EXPECT_EQ(controller.report(), "GPU 0 clock plan: " + message +
                                       "\n"
                                       "  backward  1005 MHz\n"
                                       "  forward   1410 MHz\n"
                                       "  optimizer 1410 MHz\n"
                                       "  unplanned (driver default clocks): eval\n"
                                       "  phases entered: 3, clock changes: 0\n");
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");  // the destructor had nothing to say
  EXPECT_EQ(fake.reset_calls(), 0u);
}

TEST(ClockController, RejectsBadSchedulesAndDevices) {
  FakeNvml fake;
  EXPECT_THROW(ClockController(open_nvml(), 0, {{"forward", 0}}), phantom::InvalidArgument);
  EXPECT_THROW(ClockController(open_nvml(), 2, kSchedule), phantom::InvalidArgument);  // 2 GPUs
  EXPECT_THROW(ClockController(std::shared_ptr<phantom::NvmlLibrary>(), 0, kSchedule),
               phantom::InvalidArgument);
  ClockController by_path(PHANTOM_FAKE_NVML, 1, kSchedule);  // the library opened for it
  by_path.enter_phase("backward");
  EXPECT_EQ(fake.locked_max(1), 1005u);
}

// ---- From a plan to one rank's schedule ----------------------------------------

phantom::plan::StepProfile two_rank_profile() {
  using phantom::plan::Phase;
  phantom::plan::StepProfile p;
  const auto phase = [](const std::string& name, double fast_s) {
    return Phase{name,
                 {{1980, fast_s, 10 * fast_s, "model"}, {1005, 2 * fast_s, 6 * fast_s, "model"}}};
  };
  p.phases = {{{phase("forward", 1.0)}, {phase("backward", 1.0), phase("optimizer", 0.1)}},
              {{phase("forward", 0.25)}, {phase("backward", 0.25)}}};
  p.idle = {{1, 1980, "model"}, {1, 1980, "model"}};
  return p;
}

TEST(RankClockSchedule, TakesOneRanksClocksByPhaseName) {
  const auto profile = two_rank_profile();
  const phantom::plan::Assignment clocks = {{{1980}, {1980, 1005}}, {{1005}, {1005}}};
  EXPECT_EQ(rank_clock_schedule(profile, clocks, 0),
            (ClockSchedule{{"forward", 1980}, {"backward", 1980}, {"optimizer", 1005}}));
  EXPECT_EQ(rank_clock_schedule(profile, clocks, 1),
            (ClockSchedule{{"forward", 1005}, {"backward", 1005}}));
}

TEST(RankClockSchedule, FromThePlannersFastestPlan) {
  // Rank 1 is four times faster: the planner slows it down, rank 0 stays at the top.
  const auto profile = two_rank_profile();
  const auto plan = phantom::plan::plan_fastest(profile);
  EXPECT_EQ(rank_clock_schedule(profile, plan, 0),
            (ClockSchedule{{"forward", 1980}, {"backward", 1980}, {"optimizer", 1980}}));
  EXPECT_EQ(rank_clock_schedule(profile, plan, 1),
            (ClockSchedule{{"forward", 1005}, {"backward", 1005}}));
}

TEST(RankClockSchedule, ConflictsAndShapesAreNamed) {
  auto profile = two_rank_profile();
  profile.phases[0][1][0].name = "forward";  // "forward" in stages 0 and 1
  const phantom::plan::Assignment clocks = {{{1980}, {1005, 1005}}, {{1005}, {1005}}};
  try {
    rank_clock_schedule(profile, clocks, 0);
    ADD_FAILURE() << "no error";
  } catch (const phantom::InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "clock schedule of rank 0: phase 'forward' is planned at 1980 MHz in stage 0 and "
                 "1005 MHz in stage 1; the controller knows phases by name, so give them distinct "
                 "names in the profile");
  }
  // One name at one clock in both stages is fine.
  const phantom::plan::Assignment same = {{{1005}, {1005, 1980}}, {{1005}, {1005}}};
  EXPECT_EQ(rank_clock_schedule(profile, same, 0),
            (ClockSchedule{{"forward", 1005}, {"optimizer", 1980}}));
  EXPECT_THROW(rank_clock_schedule(profile, clocks, 2), phantom::InvalidArgument);
  EXPECT_THROW(rank_clock_schedule(profile, phantom::plan::Assignment{{{1980}}}, 0),
               phantom::InvalidArgument);
}

// ---- Signals, in forked children ------------------------------------------------

struct ChildResult {
  bool signalled = false;
  int signal = 0;
  std::string log;  // the fake's lock/reset events in the child
};

// Runs `body` in a child with the fake logging its events, waits for it.
template <class Body>
ChildResult run_child(FakeNvml& fake, Body body) {
  phantom_test::TempDir dir;
  const std::string log = (dir.path() / "events.log").string();
  fake.set_event_log(log.c_str());
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {  // never back into GoogleTest from here
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      std::_Exit(2);
    }
    std::_Exit(0);  // no signal ended it
  }
  fake.set_event_log(nullptr);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  ChildResult result;
  result.signalled = WIFSIGNALED(status);
  result.signal = result.signalled ? WTERMSIG(status) : 0;
  result.log = read_text(log);
  return result;
}

TEST(ClockSignalGuard, SignalResetsTheClocksThenEndsTheProcess) {
  FakeNvml fake;
  for (const int sig : {SIGTERM, SIGINT}) {
    const ChildResult child = run_child(fake, [sig] {
      ClockSignalGuard guard;
      ClockController controller(open_nvml(), 1, kSchedule);
      controller.enter_phase("backward");
      ::raise(sig);
    });
    EXPECT_TRUE(child.signalled) << sig;  // ended by the signal, as it was told
    EXPECT_EQ(child.signal, sig);
    EXPECT_EQ(child.log, "lock 1 1005 1005\nreset 1\n") << sig;
  }
  EXPECT_EQ(fake.locked_max(1), 0u);  // the parent's fake was never touched
}

TEST(ClockSignalGuard, WithoutTheGuardAKilledJobStaysLocked) {
  // The control for the test above: the same child, no guard, no reset.
  FakeNvml fake;
  const ChildResult child = run_child(fake, [] {
    ClockController controller(open_nvml(), 1, kSchedule);
    controller.enter_phase("backward");
    ::raise(SIGTERM);
  });
  EXPECT_TRUE(child.signalled);
  EXPECT_EQ(child.log, "lock 1 1005 1005\n");
}

TEST(ClockSignalGuard, SignalDuringAnNvmlCallIsHandledWhenItReturns) {
  // The fake raises inside nvmlDeviceSetGpuLockedClocks: the handler must not
  // call NVML then, but reset as soon as the lock call has returned.
  FakeNvml fake;
  const ChildResult child = run_child(fake, [&fake] {
    ClockSignalGuard guard;
    ClockController controller(open_nvml(), 0, kSchedule);
    fake.raise_in_next_lock(SIGTERM);
    controller.enter_phase("forward");
    std::_Exit(3);  // not reached: the deferred signal ends the process
  });
  EXPECT_TRUE(child.signalled);
  EXPECT_EQ(child.signal, SIGTERM);
  // Deferred: the fake's call returned ("raised") before the reset; handled
  // at once it would read "lock 0 1410 1410\nreset 0\n" and never log "raised".
  EXPECT_EQ(child.log, "lock 0 1410 1410\nraised 15\nreset 0\n");
}

TEST(ClockSignalGuard, ResetsEveryLiveController) {
  FakeNvml fake;
  const ChildResult child = run_child(fake, [] {
    ClockSignalGuard guard;
    auto nvml = open_nvml();
    ClockController gpu0(nvml, 0, kSchedule), gpu1(nvml, 1, kSchedule);
    gpu0.enter_phase("forward");
    gpu1.enter_phase("backward");
    {
      ClockController gone(nvml, 1, kSchedule);  // destroyed before the signal
    }
    ::raise(SIGTERM);
  });
  EXPECT_TRUE(child.signalled);
  EXPECT_EQ(child.log, "lock 0 1410 1410\nlock 1 1005 1005\nreset 0\nreset 1\n");
}

TEST(ClockSignalGuard, RestoresThePreviousHandlers) {
  struct sigaction before {
  }, during{}, after{};
  ::sigaction(SIGTERM, nullptr, &before);
  {
    ClockSignalGuard outer;
    {
      ClockSignalGuard inner;  // nested: still guarded after it goes
    }
    ::sigaction(SIGTERM, nullptr, &during);
    EXPECT_NE(during.sa_handler, before.sa_handler);
  }
  ::sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
