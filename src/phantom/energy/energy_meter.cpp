#include "phantom/energy/energy_meter.hpp"

#include <chrono>
#include <cstdlib>
#include <utility>

#include "phantom/energy/amd_smi_meter.hpp"
#include "phantom/energy/nvml_meter.hpp"
#include "phantom/energy/rapl_meter.hpp"

namespace phantom {

namespace {

std::string env_or(const char* variable, const char* fallback) {
  const char* value = std::getenv(variable);
  return value && *value ? value : fallback;
}

std::unique_ptr<EnergyMeter> make_model(const MeterOptions& options) {
  if (!options.model)
    throw InvalidArgument(
        "energy meter 'model': MeterOptions::model is empty (give it the modelled joules so far)");
  return std::make_unique<ModelMeter>(options.model, options.model_description);
}

std::unique_ptr<EnergyMeter> make_measured(const std::string& kind, const MeterOptions& options) {
  if (kind == "nvml")
    return std::make_unique<NvmlMeter>(options.nvml_library, options.device_index);
  if (kind == "amd-smi")
    return std::make_unique<AmdSmiMeter>(options.amd_smi_library, options.device_index);
  return std::make_unique<RaplMeter>(options.powercap_root);
}

}  // namespace

ModelMeter::ModelMeter(std::function<double()> joules_so_far, std::string description)
    : joules_so_far_(std::move(joules_so_far)), description_(std::move(description)) {
  if (!joules_so_far_) throw InvalidArgument("ModelMeter: the joules function is empty");
  start_ = joules_so_far_();
}

std::function<double()> constant_power_model(double watts) {
  if (!(watts >= 0.0))
    throw InvalidArgument("constant_power_model: watts is " + std::to_string(watts) +
                          " but must be >= 0");
  const auto start = std::chrono::steady_clock::now();
  return [watts, start] {
    return watts * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
}

MeterOptions::MeterOptions()
    : powercap_root(env_or("PHANTOM_POWERCAP_ROOT", "/sys/class/powercap")),
      nvml_library(env_or("PHANTOM_NVML_LIBRARY", "libnvidia-ml.so.1")),
      amd_smi_library(env_or("PHANTOM_AMDSMI_LIBRARY", "libamd_smi.so")) {}

std::string MeterSelection::summary() const {
  std::string s;
  for (const auto& skip : skipped) s += (s.empty() ? "" : "; ") + skip.kind + ": " + skip.reason;
  const std::string chosen = meter ? meter->name() : "none";
  return s.empty() ? chosen : s + " -> " + chosen;
}

const std::vector<std::string>& energy_meter_kinds() {
  static const std::vector<std::string> kinds{"auto", "model", "rapl", "nvml", "amd-smi"};
  return kinds;
}

MeterSelection make_energy_meter(const std::string& kind, const MeterOptions& options) {
  MeterSelection selection;
  if (kind == "model") {
    selection.meter = make_model(options);
  } else if (kind == "nvml" || kind == "amd-smi" || kind == "rapl") {
    selection.meter = make_measured(kind, options);
  } else if (kind == "auto") {
    // GPUs first: on a GPU node they draw most of the power. RAPL last, since
    // every Intel/AMD Linux node has it but it meters only the CPU sockets.
    for (const char* candidate : {"nvml", "amd-smi", "rapl"}) {
      try {
        selection.meter = make_measured(candidate, options);
        return selection;
      } catch (const MeterUnavailable& e) {
        selection.skipped.push_back({candidate, e.reason()});
      } catch (const std::exception& e) {  // e.g. a filesystem error mid-listing
        selection.skipped.push_back({candidate, e.what()});
      }
    }
    selection.meter = make_model(options);
  } else {
    std::string known;
    for (const auto& k : energy_meter_kinds()) known += (known.empty() ? "" : ", ") + k;
    throw InvalidArgument("energy meter '" + kind + "' is unknown (known: " + known + ")");
  }
  return selection;
}

}  // namespace phantom
