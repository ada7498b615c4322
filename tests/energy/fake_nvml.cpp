// A fake libnvidia-ml.so.1 for the tests: the NVML entry points Phantom uses,
// with the signatures of nvml.h (see src/phantom/energy/nvml_library.hpp), over
// scriptable state. Tests (and the clock controller's tests) dlopen the same
// file to reach the fake_nvml_* controls, so they share this state.
//
// The GPUs look like an H100: memory clocks 2619 and 1593 MHz; graphics clocks
// from 1980 (1755 at the lower memory clock) down to 210 MHz, highest first, in
// steps of 15 MHz (set_graphics_clock_step changes the step, e.g. to make a
// list longer than a caller's first guess). Locked clocks need "root": turn
// that off with fake_nvml_set_permission_denied(1).
//
// For the clock controller's tests: the lock and reset entry points count
// their calls, can log each lock and reset to a file (a forked child's state
// outlives it there; written with open/write only, since the controller
// resets from a signal handler), and can raise a signal from inside a lock.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct nvmlDevice_st {
  unsigned index;
};

namespace {

constexpr int success = 0, uninitialized = 1, invalid_argument = 2, no_permission = 4,
              not_found = 6, insufficient_size = 7;
constexpr unsigned max_devices = 8, min_graphics_mhz = 210;

struct Gpu {
  nvmlDevice_st handle;
  unsigned long long energy_mj = 0;
  unsigned locked_min = 0, locked_max = 0;  // 0: not locked
  double simulated_mj = 0;                  // FAKE_NVML_BUSY_WATTS: energy so far
  std::chrono::steady_clock::time_point since;
};

struct State {
  unsigned device_count = 2;
  int init_count = 0;
  Gpu gpus[max_devices];
  std::string fail_function;
  int fail_code = 0;
  bool permission_denied = false;
  unsigned graphics_step = 15;
  unsigned lock_calls = 0, reset_calls = 0;  // every call, failed ones too
  char event_log[512] = {};                  // empty: no log
  double busy_watts = 0;                     // > 0: simulate the energy counter
  int raise_in_lock = 0;                     // signal for the next lock to raise
  State() {
    for (unsigned i = 0; i < max_devices; ++i) gpus[i].handle.index = i;
  }
};
State state;

// The scripted failure, once, for the named entry point.
bool failing(const char* function, int& code) {
  if (state.fail_function != function) return false;
  code = state.fail_code;
  state.fail_function.clear();
  return true;
}

Gpu* gpu(nvmlDevice_st* device) {
  if (!device || device->index >= state.device_count) return nullptr;
  return &state.gpus[device->index];
}

unsigned max_graphics_for(unsigned memory_mhz) {
  return memory_mhz == 2619 ? 1980 : memory_mhz == 1593 ? 1755 : 0;
}

int copy_list(const std::vector<unsigned>& list, unsigned* count, unsigned* out) {
  if (!count) return invalid_argument;
  const unsigned given = *count;
  *count = static_cast<unsigned>(list.size());
  if (given < list.size()) return insufficient_size;
  if (!out) return invalid_argument;
  std::copy(list.begin(), list.end(), out);
  return success;
}

// Appends "<word> <n>..." and a newline to the event log, if one is set.
void log_event(const char* word, const unsigned* numbers, int count) {
  if (!state.event_log[0]) return;
  char line[128];
  std::size_t n = 0;
  for (const char* c = word; *c && n < 64; ++c) line[n++] = *c;
  for (int i = 0; i < count; ++i) {
    char digits[12];
    int d = 0;
    unsigned v = numbers[i];
    do digits[d++] = static_cast<char>('0' + v % 10);
    while ((v /= 10) && d < 12);
    line[n++] = ' ';
    while (d) line[n++] = digits[--d];
  }
  line[n++] = '\n';
  const int fd = ::open(state.event_log, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  const ssize_t written = ::write(fd, line, n);  // a short write shows in the test's log
  (void)written;
  ::close(fd);
}

// FAKE_NVML_BUSY_WATTS=W (read at init) makes the energy counter run: a GPU
// draws 60 W + (W - 60 W) (f / 1980 MHz)^3 at its locked clock f (1980 MHz
// when not locked), over wall time, so programs such as phantom-train can
// measure a profile through the fake. Called before every clock change and
// energy read.
void simulate(Gpu& g) {
  if (state.busy_watts <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - g.since).count();
  const double ratio = (g.locked_max ? g.locked_max : 1980u) / 1980.0;
  const double watts = 60.0 + (state.busy_watts - 60.0) * ratio * ratio * ratio;
  g.simulated_mj += 1e3 * watts * seconds;
  g.since = now;
  g.energy_mj = static_cast<unsigned long long>(g.simulated_mj);
}

// Every entry point but init, shutdown and error strings starts with this.
#define FAKE_NVML_ENTER(name)                        \
  do {                                               \
    int scripted_;                                   \
    if (failing(name, scripted_)) return scripted_;  \
    if (state.init_count == 0) return uninitialized; \
  } while (0)

}  // namespace

extern "C" {

// ---- NVML entry points -------------------------------------------------------

int nvmlInit_v2() {
  int code;
  if (failing("nvmlInit_v2", code)) return code;
  ++state.init_count;
  // A program that loads the fake itself (phantom-train under a test) cannot
  // call fake_nvml_set_event_log: FAKE_NVML_EVENT_LOG names the log instead.
  if (const char* log = std::getenv("FAKE_NVML_EVENT_LOG"))
    if (!state.event_log[0] && std::strlen(log) < sizeof state.event_log)
      std::strcpy(state.event_log, log);
  if (const char* watts = std::getenv("FAKE_NVML_BUSY_WATTS")) {
    state.busy_watts = std::atof(watts);
    for (auto& g : state.gpus) g.since = std::chrono::steady_clock::now();
  }
  return success;
}

int nvmlShutdown() {
  if (state.init_count == 0) return uninitialized;
  --state.init_count;
  return success;
}

// NVML's own texts for the codes the tests use.
const char* nvmlErrorString(int result) {
  switch (result) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    default: return "Unknown Error";
  }
}

int nvmlDeviceGetCount_v2(unsigned* count) {
  FAKE_NVML_ENTER("nvmlDeviceGetCount_v2");
  if (!count) return invalid_argument;
  *count = state.device_count;
  return success;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_st** device) {
  FAKE_NVML_ENTER("nvmlDeviceGetHandleByIndex_v2");
  if (!device || index >= state.device_count) return invalid_argument;
  *device = &state.gpus[index].handle;
  return success;
}

int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_st* device, unsigned long long* energy) {
  FAKE_NVML_ENTER("nvmlDeviceGetTotalEnergyConsumption");
  Gpu* g = gpu(device);
  if (!g || !energy) return invalid_argument;
  simulate(*g);
  *energy = g->energy_mj;
  return success;
}

int nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_st* device, unsigned* count, unsigned* clocks) {
  FAKE_NVML_ENTER("nvmlDeviceGetSupportedMemoryClocks");
  if (!gpu(device)) return invalid_argument;
  return copy_list({2619, 1593}, count, clocks);
}

int nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_st* device, unsigned memory_mhz,
                                         unsigned* count, unsigned* clocks) {
  FAKE_NVML_ENTER("nvmlDeviceGetSupportedGraphicsClocks");
  if (!gpu(device)) return invalid_argument;
  const unsigned top = max_graphics_for(memory_mhz);
  if (top == 0) return not_found;
  std::vector<unsigned> list;
  for (unsigned mhz = top; mhz >= min_graphics_mhz; mhz -= state.graphics_step) list.push_back(mhz);
  return copy_list(list, count, clocks);
}

int nvmlDeviceSetGpuLockedClocks(nvmlDevice_st* device, unsigned min_mhz, unsigned max_mhz) {
  ++state.lock_calls;
  FAKE_NVML_ENTER("nvmlDeviceSetGpuLockedClocks");
  Gpu* g = gpu(device);
  if (!g) return invalid_argument;
  if (state.permission_denied) return no_permission;
  if (min_mhz > max_mhz || min_mhz < min_graphics_mhz || max_mhz > 1980) return invalid_argument;
  simulate(*g);
  g->locked_min = min_mhz;
  g->locked_max = max_mhz;
  const unsigned logged[] = {device->index, min_mhz, max_mhz};
  log_event("lock", logged, 3);
  if (const int sig = state.raise_in_lock) {  // a signal arriving mid-call
    state.raise_in_lock = 0;
    std::raise(sig);
    const unsigned raised[] = {static_cast<unsigned>(sig)};
    log_event("raised", raised, 1);  // only if the process survived the raise
  }
  return success;
}

int nvmlDeviceResetGpuLockedClocks(nvmlDevice_st* device) {
  ++state.reset_calls;
  FAKE_NVML_ENTER("nvmlDeviceResetGpuLockedClocks");
  Gpu* g = gpu(device);
  if (!g) return invalid_argument;
  if (state.permission_denied) return no_permission;
  simulate(*g);
  g->locked_min = g->locked_max = 0;
  const unsigned logged[] = {device->index};
  log_event("reset", logged, 1);
  return success;
}

// Graphics and SM run at the locked maximum when locked, else at the top clock.
int nvmlDeviceGetClockInfo(nvmlDevice_st* device, int type, unsigned* clock) {
  FAKE_NVML_ENTER("nvmlDeviceGetClockInfo");
  Gpu* g = gpu(device);
  if (!g || !clock) return invalid_argument;
  switch (type) {
    case 0:
    case 1: *clock = g->locked_max ? g->locked_max : 1980; return success;
    case 2: *clock = 2619; return success;
    case 3: *clock = 1545; return success;
    default: return invalid_argument;
  }
}

// ---- Controls for the tests --------------------------------------------------

void fake_nvml_reset() {
  const int init_count = state.init_count;  // owned by live NvmlLibrary objects
  state = State();
  state.init_count = init_count;
}
void fake_nvml_set_device_count(unsigned count) {
  state.device_count = std::min(count, max_devices);
}
void fake_nvml_set_energy_mj(unsigned device, unsigned long long mj) {
  if (device < max_devices) state.gpus[device].energy_mj = mj;
}
// The next call of `function` returns `code` (nvmlReturn_t) and does nothing.
void fake_nvml_fail_next(const char* function, int code) {
  state.fail_function = function;
  state.fail_code = code;
}
void fake_nvml_set_permission_denied(int denied) {
  state.permission_denied = denied != 0;
}
void fake_nvml_set_graphics_clock_step(unsigned mhz) {
  state.graphics_step = mhz ? mhz : 15;
}
int fake_nvml_init_count() {
  return state.init_count;
}
// The locked range of a GPU; 0 when its clocks are not locked.
unsigned fake_nvml_locked_graphics_clock(unsigned device) {
  return device < max_devices ? state.gpus[device].locked_max : 0;
}
unsigned fake_nvml_locked_graphics_min(unsigned device) {
  return device < max_devices ? state.gpus[device].locked_min : 0;
}

// Calls of nvmlDeviceSetGpuLockedClocks / nvmlDeviceResetGpuLockedClocks
// since the last fake_nvml_reset, failed ones included.
unsigned fake_nvml_lock_calls() {
  return state.lock_calls;
}
unsigned fake_nvml_reset_calls() {
  return state.reset_calls;
}
// Log every successful lock ("lock <gpu> <min> <max>") and reset ("reset
// <gpu>") by appending a line to `path`; nullptr or "" stops logging.
void fake_nvml_set_event_log(const char* path) {
  state.event_log[0] = '\0';
  if (path && std::strlen(path) < sizeof state.event_log) std::strcpy(state.event_log, path);
}
// The next successful nvmlDeviceSetGpuLockedClocks raises `sig` after locking,
// then logs "raised <sig>" if the process is still there.
void fake_nvml_raise_in_next_lock(int sig) {
  state.raise_in_lock = sig;
}

}  // extern "C"
