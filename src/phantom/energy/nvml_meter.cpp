#include "phantom/energy/nvml_meter.hpp"

#include <utility>

namespace phantom {

NvmlMeter::NvmlMeter(const std::string& library_path, unsigned device_index)
    : index_(device_index) {
  try {
    library_ = std::make_shared<NvmlLibrary>(library_path);
  } catch (const Error& e) {
    throw MeterUnavailable("nvml", e.what());
  }
  start();
}

NvmlMeter::NvmlMeter(std::shared_ptr<NvmlLibrary> library, unsigned device_index)
    : library_(std::move(library)), index_(device_index) {
  if (!library_) throw InvalidArgument("NvmlMeter: the NVML library is null");
  start();
}

void NvmlMeter::start() {
  try {
    device_ = library_->device(index_);
    last_mj_ = library_->total_energy_mj(device_);
  } catch (const Error& e) {
    throw MeterUnavailable("nvml", e.what());
  }
}

double NvmlMeter::joules() {
  const unsigned long long now = library_->total_energy_mj(device_);
  // A 64-bit count of mJ does not wrap. A smaller reading (the driver was
  // reloaded) adds nothing: guessing could only over-count.
  if (now >= last_mj_) total_mj_ += now - last_mj_;
  last_mj_ = now;
  return static_cast<double>(total_mj_) * 1e-3;
}

}  // namespace phantom
