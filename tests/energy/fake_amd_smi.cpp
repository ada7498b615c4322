// A fake libamd_smi.so for the tests: the AMD SMI entry points Phantom uses,
// with the signatures of amdsmi.h (see src/phantom/energy/amd_smi_meter.hpp),
// over scriptable state reached through the fake_amdsmi_* controls.
//
// Default layout: socket 0 holds GPUs 0 and 1, socket 1 holds GPU 2 (an MI250X
// shows its two dies as two GPUs); the counter resolution is 15.3 uJ.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using Status = std::uint32_t;
constexpr Status success = 0, inval = 1, not_init = 32;

struct Gpu {
  std::uint64_t counts = 0;
};
struct Socket {
  std::vector<Gpu*> gpus;
};

struct State {
  std::vector<Gpu> gpus;
  std::vector<Socket> sockets;
  float resolution_uj = 15.3f;
  int init_count = 0;
  std::uint64_t last_flags = 0;
  std::string fail_function;
  Status fail_status = 0;
  explicit State(std::vector<unsigned> layout = {2, 1}) {
    unsigned total = 0;
    for (unsigned n : layout) total += n;
    gpus.resize(total);
    unsigned next = 0;
    for (unsigned n : layout) {
      sockets.emplace_back();
      for (unsigned i = 0; i < n; ++i) sockets.back().gpus.push_back(&gpus[next++]);
    }
  }
};
State state;

bool failing(const char* function, Status& status) {
  if (state.fail_function != function) return false;
  status = state.fail_status;
  state.fail_function.clear();
  return true;
}

template <class T>
Status copy_list(const std::vector<T*>& list, std::uint32_t* count, void** out) {
  if (!count) return inval;
  if (!out) {
    *count = static_cast<std::uint32_t>(list.size());
    return success;
  }
  const std::uint32_t n = std::min<std::uint32_t>(*count, static_cast<std::uint32_t>(list.size()));
  for (std::uint32_t i = 0; i < n; ++i) out[i] = list[i];
  *count = n;
  return success;
}

#define FAKE_AMDSMI_ENTER(name)                     \
  do {                                              \
    Status scripted_;                               \
    if (failing(name, scripted_)) return scripted_; \
    if (state.init_count == 0) return not_init;     \
  } while (0)

}  // namespace

extern "C" {

// ---- AMD SMI entry points ----------------------------------------------------

Status amdsmi_init(std::uint64_t flags) {
  Status status;
  if (failing("amdsmi_init", status)) return status;
  state.last_flags = flags;
  ++state.init_count;
  return success;
}

Status amdsmi_shut_down() {
  if (state.init_count == 0) return not_init;
  --state.init_count;
  return success;
}

// The descriptions amdsmi.h gives the statuses the tests use.
Status amdsmi_status_code_to_string(Status status, const char** text) {
  if (!text) return inval;
  switch (status) {
    case 0: *text = "Call succeeded"; break;
    case 1: *text = "Invalid parameters"; break;
    case 2: *text = "Command not supported"; break;
    case 10: *text = "Permission Denied"; break;
    case 32: *text = "Device not initialized"; break;
    case 34: *text = "Processor driver not loaded"; break;
    default: *text = "An unknown error occurred"; break;
  }
  return success;
}

Status amdsmi_get_socket_handles(std::uint32_t* count, void** sockets) {
  FAKE_AMDSMI_ENTER("amdsmi_get_socket_handles");
  std::vector<Socket*> list;
  for (auto& s : state.sockets) list.push_back(&s);
  return copy_list(list, count, sockets);
}

Status amdsmi_get_processor_handles(void* socket, std::uint32_t* count, void** processors) {
  FAKE_AMDSMI_ENTER("amdsmi_get_processor_handles");
  for (auto& s : state.sockets)
    if (&s == socket) return copy_list(s.gpus, count, processors);
  return inval;
}

Status amdsmi_get_energy_count(void* processor, std::uint64_t* counts, float* resolution,
                               std::uint64_t* timestamp) {
  FAKE_AMDSMI_ENTER("amdsmi_get_energy_count");
  if (!counts || !resolution || !timestamp) return inval;
  for (auto& g : state.gpus)
    if (&g == processor) {
      *counts = g.counts;
      *resolution = state.resolution_uj;
      *timestamp = 0;
      return success;
    }
  return inval;
}

// ---- Controls for the tests --------------------------------------------------

// Back to the default layout ({2, 1}), zero counters, no scripted failure.
void fake_amdsmi_reset() {
  const int init_count = state.init_count;
  state = State();
  state.init_count = init_count;
}
// GPUs per socket, e.g. {4} or {2, 1}.
void fake_amdsmi_set_layout(const unsigned* gpus_per_socket, unsigned sockets) {
  const int init_count = state.init_count;
  state = State(std::vector<unsigned>(gpus_per_socket, gpus_per_socket + sockets));
  state.init_count = init_count;
}
void fake_amdsmi_set_counts(unsigned gpu, std::uint64_t counts) {
  if (gpu < state.gpus.size()) state.gpus[gpu].counts = counts;
}
void fake_amdsmi_set_resolution(float uj) {
  state.resolution_uj = uj;
}
void fake_amdsmi_fail_next(const char* function, Status status) {
  state.fail_function = function;
  state.fail_status = status;
}
int fake_amdsmi_init_count() {
  return state.init_count;
}
std::uint64_t fake_amdsmi_last_init_flags() {
  return state.last_flags;
}

}  // extern "C"
