#include "phantom/energy/amd_smi_meter.hpp"

#include <algorithm>
#include <vector>

namespace phantom {

namespace {
constexpr std::uint64_t init_amd_gpus = 1u << 1;  // AMDSMI_INIT_AMD_GPUS
constexpr std::uint32_t status_success = 0;       // AMDSMI_STATUS_SUCCESS
}  // namespace

AmdSmiMeter::AmdSmiMeter(const std::string& library_path, unsigned device_index) try
    : library_(library_path), index_(device_index) {
  auto init = library_.require_as<Status (*)(std::uint64_t)>("amdsmi_init");
  shut_down_ = library_.require_as<Status (*)()>("amdsmi_shut_down");
  auto sockets_fn =
      library_.require_as<Status (*)(std::uint32_t*, void**)>("amdsmi_get_socket_handles");
  auto processors_fn = library_.require_as<Status (*)(void*, std::uint32_t*, void**)>(
      "amdsmi_get_processor_handles");
  energy_count_ = library_.require_as<decltype(energy_count_)>("amdsmi_get_energy_count");
  status_string_ = library_.find_as<decltype(status_string_)>("amdsmi_status_code_to_string");

  check(init(init_amd_gpus), "amdsmi_init(AMDSMI_INIT_AMD_GPUS)");
  initialised_ = true;
  try {
    // GPUs in AMD SMI's order: every socket's processors, socket by socket.
    std::uint32_t socket_count = 0;
    check(sockets_fn(&socket_count, nullptr), "amdsmi_get_socket_handles");
    std::vector<void*> sockets(socket_count);
    check(sockets_fn(&socket_count, sockets.data()), "amdsmi_get_socket_handles");
    // On return the count may say how many there would have been: keep what fits.
    sockets.resize(std::min<std::size_t>(socket_count, sockets.size()));
    std::vector<void*> gpus;
    for (void* socket : sockets) {
      std::uint32_t n = 0;
      check(processors_fn(socket, &n, nullptr), "amdsmi_get_processor_handles");
      std::vector<void*> processors(n);
      check(processors_fn(socket, &n, processors.data()), "amdsmi_get_processor_handles");
      processors.resize(std::min<std::size_t>(n, processors.size()));
      gpus.insert(gpus.end(), processors.begin(), processors.end());
    }
    if (index_ >= gpus.size())
      throw MeterUnavailable("amd-smi", "GPU index " + std::to_string(index_) + " but " +
                                            library_path + " reports " +
                                            std::to_string(gpus.size()) + " GPU(s)");
    processor_ = gpus[index_];
    last_ = read(resolution_uj_);
  } catch (...) {
    shut_down_();
    throw;
  }
} catch (const MeterUnavailable&) {
  throw;
} catch (const Error& e) {
  throw MeterUnavailable("amd-smi", e.what());
}

AmdSmiMeter::~AmdSmiMeter() {
  if (initialised_) shut_down_();
}

std::string AmdSmiMeter::describe(Status status, const std::string& call) const {
  const char* text = nullptr;
  if (!status_string_ || status_string_(status, &text) != status_success || !text)
    text = "no description";
  return call + ": " + text + " (AMD SMI status " + std::to_string(status) + ")";
}

void AmdSmiMeter::check(Status status, const std::string& call) const {
  if (status != status_success) throw Error(describe(status, call));
}

std::uint64_t AmdSmiMeter::read(float& resolution_uj) const {
  std::uint64_t counts = 0, timestamp_ns = 0;
  check(energy_count_(processor_, &counts, &resolution_uj, &timestamp_ns),
        "amdsmi_get_energy_count(GPU " + std::to_string(index_) + ")");
  return counts;
}

double AmdSmiMeter::joules() {
  const std::uint64_t now = read(resolution_uj_);
  if (now >= last_)
    total_counts_ += now - last_;
  else
    ++backward_steps_;
  last_ = now;
  return static_cast<double>(total_counts_) * static_cast<double>(resolution_uj_) * 1e-6;
}

}  // namespace phantom
