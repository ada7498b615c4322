// GPU energy from NVML's total energy counter (millijoules since the driver
// was loaded, Volta and newer), for one GPU: this rank's.
#pragma once

#include <memory>
#include <string>

#include "phantom/energy/energy_meter.hpp"
#include "phantom/energy/nvml_library.hpp"

namespace phantom {

class NvmlMeter final : public EnergyMeter {
 public:
  // Opens the library and takes a first reading. Anything that keeps it from
  // metering GPU `device_index` (library absent, init failure, no such GPU,
  // energy not supported) throws MeterUnavailable("nvml", why).
  NvmlMeter(const std::string& library_path, unsigned device_index);
  // Shares an open library (with the clock controller, say).
  NvmlMeter(std::shared_ptr<NvmlLibrary> library, unsigned device_index);

  std::string name() const override { return "nvml"; }
  double joules() override;
  std::string zones() const override { return "GPU " + std::to_string(index_); }
  // NVML does not document how often the counter moves; it updates about
  // every 100 ms on recent NVIDIA GPUs (Yang et al., "Part-time power
  // measurements: nvidia-smi's lack of attention", arXiv 2312.02741; Zeus /
  // ml.energy measurements), so take 0.1 s.
  double resolution_seconds() const override { return 0.1; }

  const std::shared_ptr<NvmlLibrary>& library() const { return library_; }
  nvml::Device device() const { return device_; }

 private:
  void start();
  std::shared_ptr<NvmlLibrary> library_;
  unsigned index_;
  nvml::Device device_ = nullptr;
  unsigned long long last_mj_ = 0, total_mj_ = 0;
};

}  // namespace phantom
