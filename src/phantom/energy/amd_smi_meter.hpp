// AMD GPU energy from AMD SMI (ROCm's libamd_smi.so), opened at run time, for
// one GPU: this rank's, numbered in AMD SMI's order (sockets, then the GPUs
// of each socket).
//
// Declarations checked against ROCm/amdsmi include/amd_smi/amdsmi.h at commit
// 0ceca28f (2024-10-23):
//   amdsmi_status_t   enum; AMDSMI_STATUS_SUCCESS = 0 (values up to 0xFFFFFFFF: 32 bits)
//   amdsmi_socket_handle, amdsmi_processor_handle   typedef void*
//   AMDSMI_INIT_AMD_GPUS = (1 << 1)
//   amdsmi_status_t amdsmi_init(uint64_t init_flags);
//   amdsmi_status_t amdsmi_shut_down(void);
//   amdsmi_status_t amdsmi_get_socket_handles(uint32_t* socket_count,
//                                             amdsmi_socket_handle* socket_handles);
//   amdsmi_status_t amdsmi_get_processor_handles(amdsmi_socket_handle socket_handle,
//                                                uint32_t* processor_count,
//                                                amdsmi_processor_handle* processor_handles);
//   amdsmi_status_t amdsmi_get_energy_count(amdsmi_processor_handle processor_handle,
//                                           uint64_t* energy_accumulator,
//                                           float* counter_resolution,  // uJ per count
//                                           uint64_t* timestamp);       // ns
//   amdsmi_status_t amdsmi_status_code_to_string(amdsmi_status_t status,
//                                                const char** status_string);  // optional
// Both handle lists follow "NULL array: *count gets the number available".
#pragma once

#include <cstdint>
#include <string>

#include "phantom/energy/energy_meter.hpp"
#include "phantom/energy/shared_library.hpp"

namespace phantom {

class AmdSmiMeter final : public EnergyMeter {
 public:
  // Opens the library, amdsmi_init(AMDSMI_INIT_AMD_GPUS), finds GPU
  // `device_index` and takes a first reading; any failure throws
  // MeterUnavailable("amd-smi", why), with AMD SMI's own text for a status.
  AmdSmiMeter(const std::string& library_path, unsigned device_index);
  ~AmdSmiMeter() override;  // amdsmi_shut_down
  AmdSmiMeter(const AmdSmiMeter&) = delete;
  AmdSmiMeter& operator=(const AmdSmiMeter&) = delete;

  std::string name() const override { return "amd-smi"; }
  // energy_accumulator x counter_resolution (uJ). The accumulator is 64 bits
  // and amdsmi.h documents no wrap; a smaller reading (reported on some
  // systems, ROCm/amdsmi#115) adds nothing and is counted in backward_steps().
  double joules() override;
  std::string zones() const override { return "GPU " + std::to_string(index_); }
  // amdsmi.h does not say how often the accumulator moves; assume the 0.1 s
  // measured for NVML until someone measures it.
  double resolution_seconds() const override { return 0.1; }
  std::size_t backward_steps() const { return backward_steps_; }

 private:
  using Status = std::uint32_t;
  std::string describe(Status status, const std::string& call) const;
  void check(Status status, const std::string& call) const;
  std::uint64_t read(float& resolution_uj) const;

  detail::SharedLibrary library_;
  Status (*shut_down_)() = nullptr;
  Status (*status_string_)(Status, const char**) = nullptr;
  Status (*energy_count_)(void*, std::uint64_t*, float*, std::uint64_t*) = nullptr;
  unsigned index_;
  void* processor_ = nullptr;
  bool initialised_ = false;
  std::uint64_t last_ = 0, total_counts_ = 0;
  float resolution_uj_ = 0;
  std::size_t backward_steps_ = 0;
};

}  // namespace phantom
