// Energy meters behind one interface. A meter reports the energy its zones have
// consumed since the meter was made; every figure carries the meter's name, so a
// modelled estimate ("model") can never pass for a measurement. docs/energy.md.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"

namespace phantom {

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  // "rapl", "nvml", "amd-smi" or "model": the label every output carries.
  virtual std::string name() const = 0;
  // False only for the model: its joules are an estimate, not a reading.
  virtual bool measured() const { return true; }
  // Joules consumed by the metered zones since construction; never decreases.
  // Not const: a reading updates the wrap-around bookkeeping of the counters.
  virtual double joules() = 0;
  // What is metered, e.g. "package-0 + dram-0" or "GPU 0".
  virtual std::string zones() const = 0;
  // How often the underlying counter updates. An interval shorter than this
  // cannot be resolved (EnergyRegions flags it); 0 for the model.
  virtual double resolution_seconds() const = 0;
};

// The cost model's estimate, labelled "model". joules_so_far returns the modelled
// energy up to now (the app gives it p * P_rank * elapsed time); it must not
// decrease. The meter reports it relative to its value at construction.
class ModelMeter final : public EnergyMeter {
 public:
  explicit ModelMeter(std::function<double()> joules_so_far,
                      std::string description = "cost model");
  std::string name() const override { return "model"; }
  bool measured() const override { return false; }
  double joules() override { return joules_so_far_() - start_; }
  std::string zones() const override { return description_; }
  double resolution_seconds() const override { return 0.0; }

 private:
  std::function<double()> joules_so_far_;
  std::string description_;
  double start_;
};

// A joules_so_far for ModelMeter: constant `watts` over the wall time since this
// call (std::chrono::steady_clock).
std::function<double()> constant_power_model(double watts);

// A meter that cannot be used here: library absent, no zone, no permission, ...
// what() is "energy meter '<kind>': <reason>".
class MeterUnavailable : public Error {
 public:
  MeterUnavailable(const std::string& kind, const std::string& reason)
      : Error("energy meter '" + kind + "': " + reason), kind_(kind), reason_(reason) {}
  const std::string& kind() const { return kind_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string kind_, reason_;
};

// Where the meters look. Each path defaults to the environment variable named
// beside it when that is set, else to the system's usual place; a value set
// here (from the deck, say) wins over both.
struct MeterOptions {
  std::string powercap_root;    // PHANTOM_POWERCAP_ROOT, else /sys/class/powercap
  std::string nvml_library;     // PHANTOM_NVML_LIBRARY, else libnvidia-ml.so.1
  std::string amd_smi_library;  // PHANTOM_AMDSMI_LIBRARY, else libamd_smi.so
  unsigned device_index = 0;    // this rank's GPU (the node-local rank)
  // Modelled joules so far, for "model" and for "auto"'s fallback.
  std::function<double()> model;
  std::string model_description = "cost model";
  MeterOptions();
};

// A meter "auto" passed over, and why.
struct SkippedMeter {
  std::string kind, reason;
};

struct MeterSelection {
  std::unique_ptr<EnergyMeter> meter;
  std::vector<SkippedMeter> skipped;  // in the order tried
  // "nvml: <reason>; amd-smi: <reason>; rapl: <reason> -> model", or just the
  // chosen meter's name when nothing was skipped.
  std::string summary() const;
};

// kind is one of "auto", "model", "rapl", "nvml", "amd-smi". An explicit kind
// that cannot be used throws MeterUnavailable with the reason; an unknown kind
// throws InvalidArgument. "auto" tries nvml, amd-smi and rapl in that order and
// falls back to the model, recording each skipped meter's reason. "model" (and
// the fallback) needs options.model, else InvalidArgument.
MeterSelection make_energy_meter(const std::string& kind, const MeterOptions& options);

// The kinds make_energy_meter accepts, for messages and deck validation.
const std::vector<std::string>& energy_meter_kinds();

}  // namespace phantom
