// CPU energy from Linux RAPL through the powercap sysfs tree: every package zone
// (<root>/intel-rapl:N, name "package-N") and its "dram" sub-zone where there is
// one (<root>/intel-rapl:N/intel-rapl:N:M). Core, uncore and psys zones are left
// out: core and uncore are inside the package, psys contains it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phantom/energy/energy_meter.hpp"

namespace phantom {

class RaplMeter final : public EnergyMeter {
 public:
  // Throws MeterUnavailable naming the directory or file when the root is
  // missing, holds no package zone, or a zone's counters cannot be read
  // (energy_uj is root-only since Linux 5.10, CVE-2020-8694).
  explicit RaplMeter(const std::string& powercap_root = "/sys/class/powercap");

  std::string name() const override { return "rapl"; }
  double joules() override;
  std::string zones() const override;
  // The RAPL energy status counters update about every millisecond (Intel SDM
  // vol. 3B, "Package RAPL Domain": MSR_PKG_ENERGY_STATUS).
  double resolution_seconds() const override { return 1e-3; }

  // Microjoules between two readings of a counter that runs 0 ... max_range
  // and then starts again from 0 (docs/energy.md, "RAPL"):
  //   now >= prev:  now - prev
  //   now <  prev:  (max_range - prev) + now      (one wrap)
  // max_energy_range_uj is the counter's largest value (the kernel reports
  // ENERGY_STATUS_MASK in energy units); the step from it back to 0 is one
  // energy unit (15.3 to 61 uJ) that sysfs does not expose, so a wrap is
  // under-counted by at most that. Two wraps between readings cannot be seen:
  // read at least once per wrap period (minutes at full load).
  static std::uint64_t counter_delta(std::uint64_t prev, std::uint64_t now,
                                     std::uint64_t max_range);

 private:
  struct Zone {
    std::string label;        // "package-0", "dram-0"
    std::string energy_file;  // .../energy_uj
    std::uint64_t max_range_uj = 0;
    std::uint64_t last_uj = 0;
  };
  std::vector<Zone> zones_;
  std::uint64_t total_uj_ = 0;
};

}  // namespace phantom
