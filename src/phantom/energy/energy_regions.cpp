#include "phantom/energy/energy_regions.hpp"

#include <chrono>
#include <cstdio>
#include <utility>

namespace phantom {

EnergyRegions::EnergyRegions(EnergyMeter& meter, std::function<double()> now_seconds)
    : meter_(meter), now_(std::move(now_seconds)) {
  if (!now_) {
    const auto origin = std::chrono::steady_clock::now();
    now_ = [origin] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin).count();
    };
  }
}

void EnergyRegions::begin(const std::string& region) {
  find_or_add(region);
  open_.push_back({region, meter_.joules(), now_()});
}

void EnergyRegions::end(const std::string& region) {
  if (open_.empty() || open_.back().name != region)
    throw InvalidArgument("EnergyRegions::end(\"" + region + "\"): the innermost open region is " +
                          (open_.empty() ? "none" : "\"" + open_.back().name + "\""));
  const double joules = meter_.joules(), seconds = now_();
  const Open start = open_.back();
  open_.pop_back();
  RegionEnergy& r = find_or_add(region);
  r.joules += joules - start.joules;
  r.seconds += seconds - start.seconds;
  ++r.intervals;
  if (seconds - start.seconds < meter_.resolution_seconds()) ++r.unresolved;
}

RegionEnergy& EnergyRegions::find_or_add(const std::string& region) {
  for (auto& r : regions_)
    if (r.name == region) return r;
  regions_.push_back({region});
  return regions_.back();
}

const RegionEnergy& EnergyRegions::operator[](const std::string& region) const {
  for (const auto& r : regions_)
    if (r.name == region) return r;
  throw InvalidArgument("EnergyRegions: no region \"" + region + "\"");
}

std::string EnergyRegions::report() const {
  std::string s = "energy by region, source " + meter_.name() +
                  (meter_.measured() ? "" : " (modelled, not measured)") + ": " + meter_.zones() +
                  "\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-16s %14s %12s %10s\n", "region", "joules", "seconds",
                "intervals");
  s += line;
  for (const auto& r : regions_) {
    std::snprintf(line, sizeof line, "  %-16s %14.6g %12.6g %10zu", r.name.c_str(), r.joules,
                  r.seconds, r.intervals);
    s += line;
    if (!r.resolved()) {
      std::snprintf(line, sizeof line, "  unresolved: %zu of %zu intervals < %g s", r.unresolved,
                    r.intervals, meter_.resolution_seconds());
      s += line;
    }
    s += "\n";
  }
  return s;
}

}  // namespace phantom
