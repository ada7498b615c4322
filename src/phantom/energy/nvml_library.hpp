// NVIDIA's management library (NVML), opened at run time: the build needs neither
// nvml.h nor a driver. Initialised for the object's lifetime (nvmlInit_v2 ...
// nvmlShutdown; NVML counts nested inits, so several objects may coexist).
//
// The few types, constants and entry points used are declared here, checked
// against nvml.h (NVML_API_VERSION 13) as vendored by NVIDIA's go-nvml,
// pkg/nvml/nvml.h at commit 2f9e261f (2026-07-01):
//   nvmlReturn_t   enum nvmlReturn_enum, passed as int; NVML_SUCCESS = 0 ...
//   nvmlDevice_t   typedef struct nvmlDevice_st* nvmlDevice_t (an opaque pointer)
//   nvmlClockType_t  NVML_CLOCK_GRAPHICS 0, SM 1, MEM 2, VIDEO 3
//   nvmlReturn_t nvmlInit_v2(void);
//   nvmlReturn_t nvmlShutdown(void);
//   const char*  nvmlErrorString(nvmlReturn_t result);
//   nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* deviceCount);
//   nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device);
//   nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
//                                                     unsigned long long* energy);  // mJ
//   nvmlReturn_t nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t device, unsigned int* count,
//                                                    unsigned int* clocksMHz);
//   nvmlReturn_t nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device,
//                                                      unsigned int memoryClockMHz,
//                                                      unsigned int* count,
//                                                      unsigned int* clocksMHz);
//   nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int minGpuClockMHz,
//                                              unsigned int maxGpuClockMHz);  // needs root
//   nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device);
//   nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type,
//                                        unsigned int* clock);  // MHz
// (go-nvml's copy rewrites nvmlDevice_t as a struct holding that pointer for cgo;
// passed by value it has the pointer's ABI.) The first five are required; the
// others are looked up when the library is opened and checked where used, so an
// old driver that lacks, e.g., the locked-clock calls still meters energy.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"
#include "phantom/energy/shared_library.hpp"

struct nvmlDevice_st;  // NVML's opaque device; never defined here

namespace phantom {

namespace nvml {
using Return = int;  // nvmlReturn_t
using Device = nvmlDevice_st*;
inline constexpr Return success = 0;                  // NVML_SUCCESS
inline constexpr Return error_uninitialized = 1;      // NVML_ERROR_UNINITIALIZED
inline constexpr Return error_invalid_argument = 2;   // NVML_ERROR_INVALID_ARGUMENT
inline constexpr Return error_not_supported = 3;      // NVML_ERROR_NOT_SUPPORTED
inline constexpr Return error_no_permission = 4;      // NVML_ERROR_NO_PERMISSION
inline constexpr Return error_not_found = 6;          // NVML_ERROR_NOT_FOUND
inline constexpr Return error_insufficient_size = 7;  // NVML_ERROR_INSUFFICIENT_SIZE
inline constexpr Return error_driver_not_loaded = 9;  // NVML_ERROR_DRIVER_NOT_LOADED
inline constexpr Return error_gpu_is_lost = 15;       // NVML_ERROR_GPU_IS_LOST
inline constexpr Return error_unknown = 999;          // NVML_ERROR_UNKNOWN
// nvmlClockType_t
enum ClockType : int {
  clock_graphics = 0,  // NVML_CLOCK_GRAPHICS
  clock_sm = 1,        // NVML_CLOCK_SM
  clock_mem = 2,       // NVML_CLOCK_MEM
  clock_video = 3      // NVML_CLOCK_VIDEO
};
}  // namespace nvml

// An NVML call that returned an error: "<call>: <nvmlErrorString> (NVML error N)".
class NvmlError : public Error {
 public:
  NvmlError(const std::string& message, nvml::Return code) : Error(message), code_(code) {}
  nvml::Return code() const { return code_; }

 private:
  nvml::Return code_;
};

class NvmlLibrary {
 public:
  // Opens `path` and calls nvmlInit_v2. Throws LibraryUnavailable when the
  // library or a required entry point is missing, NvmlError when init fails.
  explicit NvmlLibrary(const std::string& path = "libnvidia-ml.so.1");
  ~NvmlLibrary();  // nvmlShutdown, then dlclose
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  const std::string& path() const { return library_.path(); }
  std::string error_string(nvml::Return code) const;  // nvmlErrorString

  unsigned device_count() const;
  // The handle of GPU `index`; an index past the count is InvalidArgument.
  nvml::Device device(unsigned index) const;
  // Energy since the driver was loaded, in millijoules (Volta and newer).
  unsigned long long total_energy_mj(nvml::Device device) const;

  // For the GPU clock controller: supported clocks in MHz, as NVML lists them
  // (highest first on the GPUs we know of), and the locked-clock range.
  std::vector<unsigned> supported_memory_clocks(nvml::Device device) const;
  std::vector<unsigned> supported_graphics_clocks(nvml::Device device,
                                                  unsigned memory_clock_mhz) const;
  // Needs root; a refusal is NvmlError with code() == nvml::error_no_permission.
  void set_gpu_locked_clocks(nvml::Device device, unsigned min_mhz, unsigned max_mhz) const;
  void reset_gpu_locked_clocks(nvml::Device device) const;
  unsigned clock_mhz(nvml::Device device, nvml::ClockType type) const;  // nvmlDeviceGetClockInfo

 private:
  // Throws NvmlError("<call>: <nvmlErrorString(code)> (NVML error <code>)") unless success.
  void check(nvml::Return code, const std::string& call) const;
  // The entry point, or LibraryUnavailable naming it when this NVML lacks it.
  template <class F>
  F need(F f, const char* symbol) const;

  detail::SharedLibrary library_;
  using InitFn = nvml::Return (*)();
  using ErrorStringFn = const char* (*)(nvml::Return);
  using CountFn = nvml::Return (*)(unsigned*);
  using HandleFn = nvml::Return (*)(unsigned, nvml::Device*);
  using EnergyFn = nvml::Return (*)(nvml::Device, unsigned long long*);
  using MemClocksFn = nvml::Return (*)(nvml::Device, unsigned*, unsigned*);
  using GraphicsClocksFn = nvml::Return (*)(nvml::Device, unsigned, unsigned*, unsigned*);
  using LockFn = nvml::Return (*)(nvml::Device, unsigned, unsigned);
  using ResetFn = nvml::Return (*)(nvml::Device);
  using ClockInfoFn = nvml::Return (*)(nvml::Device, int, unsigned*);
  InitFn init_ = nullptr, shutdown_ = nullptr;
  ErrorStringFn error_string_ = nullptr;
  CountFn count_ = nullptr;
  HandleFn handle_ = nullptr;
  EnergyFn energy_ = nullptr;
  MemClocksFn memory_clocks_ = nullptr;
  GraphicsClocksFn graphics_clocks_ = nullptr;
  LockFn lock_ = nullptr;
  ResetFn reset_ = nullptr;
  ClockInfoFn clock_info_ = nullptr;
};

}  // namespace phantom
