#include "phantom/energy/nvml_library.hpp"

namespace phantom {

NvmlLibrary::NvmlLibrary(const std::string& path) : library_(path) {
  init_ = library_.require_as<InitFn>("nvmlInit_v2");
  shutdown_ = library_.require_as<InitFn>("nvmlShutdown");
  error_string_ = library_.require_as<ErrorStringFn>("nvmlErrorString");
  count_ = library_.require_as<CountFn>("nvmlDeviceGetCount_v2");
  handle_ = library_.require_as<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
  energy_ = library_.find_as<EnergyFn>("nvmlDeviceGetTotalEnergyConsumption");
  memory_clocks_ = library_.find_as<MemClocksFn>("nvmlDeviceGetSupportedMemoryClocks");
  graphics_clocks_ = library_.find_as<GraphicsClocksFn>("nvmlDeviceGetSupportedGraphicsClocks");
  lock_ = library_.find_as<LockFn>("nvmlDeviceSetGpuLockedClocks");
  reset_ = library_.find_as<ResetFn>("nvmlDeviceResetGpuLockedClocks");
  clock_info_ = library_.find_as<ClockInfoFn>("nvmlDeviceGetClockInfo");
  check(init_(), "nvmlInit_v2");
}

NvmlLibrary::~NvmlLibrary() {
  shutdown_();
}  // nothing to do about a failing shutdown

std::string NvmlLibrary::error_string(nvml::Return code) const {
  const char* text = error_string_(code);
  return text ? text : "unknown NVML error";
}

void NvmlLibrary::check(nvml::Return code, const std::string& call) const {
  if (code != nvml::success)
    throw NvmlError(call + ": " + error_string(code) + " (NVML error " + std::to_string(code) + ")",
                    code);
}

template <class F>
F NvmlLibrary::need(F f, const char* symbol) const {
  if (!f) library_.require(symbol);  // throws LibraryUnavailable naming it
  return f;
}

unsigned NvmlLibrary::device_count() const {
  unsigned count = 0;
  check(count_(&count), "nvmlDeviceGetCount_v2");
  return count;
}

nvml::Device NvmlLibrary::device(unsigned index) const {
  const unsigned count = device_count();
  if (index >= count)
    throw InvalidArgument("NVML: GPU index " + std::to_string(index) + " but " + path() +
                          " reports " + std::to_string(count) + " GPU(s)");
  nvml::Device device = nullptr;
  check(handle_(index, &device), "nvmlDeviceGetHandleByIndex_v2(" + std::to_string(index) + ")");
  return device;
}

unsigned long long NvmlLibrary::total_energy_mj(nvml::Device device) const {
  unsigned long long mj = 0;
  check(need(energy_, "nvmlDeviceGetTotalEnergyConsumption")(device, &mj),
        "nvmlDeviceGetTotalEnergyConsumption");
  return mj;
}

namespace {

// NVML's list convention: *count carries the array size in and the number of
// entries out; too small an array gives NVML_ERROR_INSUFFICIENT_SIZE with *count
// set to the size needed, so retry once at that size.
template <class Call>
nvml::Return clock_list(Call call, std::vector<unsigned>& clocks) {
  clocks.assign(128, 0);
  unsigned count = static_cast<unsigned>(clocks.size());
  nvml::Return code = call(&count, clocks.data());
  if (code == nvml::error_insufficient_size) {
    clocks.assign(count, 0);
    code = call(&count, clocks.data());
  }
  clocks.resize(code == nvml::success ? count : 0);
  return code;
}

}  // namespace

std::vector<unsigned> NvmlLibrary::supported_memory_clocks(nvml::Device device) const {
  auto fn = need(memory_clocks_, "nvmlDeviceGetSupportedMemoryClocks");
  std::vector<unsigned> clocks;
  check(clock_list([&](unsigned* count, unsigned* out) { return fn(device, count, out); }, clocks),
        "nvmlDeviceGetSupportedMemoryClocks");
  return clocks;
}

std::vector<unsigned> NvmlLibrary::supported_graphics_clocks(nvml::Device device,
                                                             unsigned memory_clock_mhz) const {
  auto fn = need(graphics_clocks_, "nvmlDeviceGetSupportedGraphicsClocks");
  std::vector<unsigned> clocks;
  check(
      clock_list(
          [&](unsigned* count, unsigned* out) { return fn(device, memory_clock_mhz, count, out); },
          clocks),
      "nvmlDeviceGetSupportedGraphicsClocks(memory " + std::to_string(memory_clock_mhz) + " MHz)");
  return clocks;
}

void NvmlLibrary::set_gpu_locked_clocks(nvml::Device device, unsigned min_mhz,
                                        unsigned max_mhz) const {
  check(need(lock_, "nvmlDeviceSetGpuLockedClocks")(device, min_mhz, max_mhz),
        "nvmlDeviceSetGpuLockedClocks(" + std::to_string(min_mhz) + ", " + std::to_string(max_mhz) +
            " MHz)");
}

void NvmlLibrary::reset_gpu_locked_clocks(nvml::Device device) const {
  check(need(reset_, "nvmlDeviceResetGpuLockedClocks")(device), "nvmlDeviceResetGpuLockedClocks");
}

unsigned NvmlLibrary::clock_mhz(nvml::Device device, nvml::ClockType type) const {
  unsigned mhz = 0;
  check(need(clock_info_, "nvmlDeviceGetClockInfo")(device, type, &mhz), "nvmlDeviceGetClockInfo");
  return mhz;
}

}  // namespace phantom
