// Energy per region of a step (forward, backward, communication, optimizer),
// read from a meter at the region's boundaries. An interval shorter than the
// meter's update period is counted but flagged: its joules are whatever updates
// happened to land inside it, not a measurement of the region.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "phantom/energy/energy_meter.hpp"

namespace phantom {

struct RegionEnergy {
  std::string name;
  double joules = 0.0, seconds = 0.0;
  std::size_t intervals = 0;
  std::size_t unresolved = 0;  // intervals shorter than the meter's resolution
  bool resolved() const { return unresolved == 0; }
};

class EnergyRegions {
 public:
  // now_seconds: the clock for interval lengths (default: steady_clock).
  explicit EnergyRegions(EnergyMeter& meter, std::function<double()> now_seconds = {});

  // Regions nest (inclusive: a parent's joules contain its children's); end
  // must name the innermost open region, else InvalidArgument.
  void begin(const std::string& region);
  void end(const std::string& region);

  // Begins a region for the lifetime of the scope.
  class Scope {
   public:
    Scope(EnergyRegions& regions, std::string region)
        : regions_(regions), region_(std::move(region)) {
      regions_.begin(region_);
    }
    ~Scope() { regions_.end(region_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    EnergyRegions& regions_;
    std::string region_;
  };

  // In the order the regions were first begun.
  const std::vector<RegionEnergy>& regions() const { return regions_; }
  // The region's totals; InvalidArgument when it was never begun.
  const RegionEnergy& operator[](const std::string& region) const;
  const EnergyMeter& meter() const { return meter_; }

  // A table, one line a region, headed by the meter ("energy by region,
  // source model (modelled, not measured): cost model"); unresolved regions say
  // how many intervals were shorter than the meter's update period.
  std::string report() const;

 private:
  struct Open {
    std::string name;
    double joules, seconds;
  };
  RegionEnergy& find_or_add(const std::string& region);

  EnergyMeter& meter_;
  std::function<double()> now_;
  std::vector<Open> open_;
  std::vector<RegionEnergy> regions_;
};

}  // namespace phantom
