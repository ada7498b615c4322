#include "phantom/energy/rapl_meter.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "phantom/energy/sysfs_file.hpp"

namespace phantom {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void unavailable(const std::string& reason) {
  throw MeterUnavailable("rapl", reason);
}

std::string read_text(const std::string& path) {
  const auto r = detail::read_sysfs(path);
  if (!r.ok) unavailable("cannot read " + path + ": " + r.error);
  return r.text;
}

std::uint64_t read_counter(const std::string& path) {
  const auto r = detail::read_sysfs(path);
  if (!r.ok) {
    std::string hint;
    if (r.error_number == EACCES)
      hint =
          " (energy_uj is readable by root only since Linux 5.10, CVE-2020-8694; ask for read "
          "access or use another meter)";
    unavailable("cannot read " + path + ": " + r.error + hint);
  }
  std::uint64_t value = 0;
  if (!detail::parse_u64(r.text, value))
    unavailable(path + " holds '" + r.text + "', not a count of microjoules");
  return value;
}

// The N of "<prefix>N" (digits only), or -1.
long index_after(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string rest = name.substr(prefix.size());
  if (rest.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::strtol(rest.c_str(), nullptr, 10);
}

}  // namespace

RaplMeter::RaplMeter(const std::string& powercap_root) {
  std::error_code ec;
  if (!fs::is_directory(powercap_root, ec))
    unavailable(powercap_root + " does not exist (RAPL needs Linux's powercap sysfs)");

  // Top-level package zones: intel-rapl:N whose name is package-*. psys, a
  // top-level zone too on client parts, contains the packages and is skipped.
  std::vector<std::pair<long, fs::path>> packages;
  std::error_code list_ec;
  for (const auto& entry : fs::directory_iterator(powercap_root, list_ec)) {
    const long n = index_after(entry.path().filename().string(), "intel-rapl:");
    if (n < 0 || !entry.is_directory(ec)) continue;
    if (read_text((entry.path() / "name").string()).rfind("package-", 0) == 0)
      packages.emplace_back(n, entry.path());
  }
  if (list_ec) unavailable("cannot list " + powercap_root + ": " + list_ec.message());
  if (packages.empty()) unavailable(powercap_root + " has no intel-rapl package zone");
  std::sort(packages.begin(), packages.end());

  for (const auto& [n, dir] : packages) {
    const std::string package = read_text((dir / "name").string());
    zones_.push_back({package, (dir / "energy_uj").string()});
    // Sub-zones sit inside the package's directory as intel-rapl:N:M.
    std::vector<std::pair<long, fs::path>> subs;
    const std::string prefix = "intel-rapl:" + std::to_string(n) + ":";
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const long m = index_after(entry.path().filename().string(), prefix);
      if (m >= 0 && entry.is_directory(ec) && read_text((entry.path() / "name").string()) == "dram")
        subs.emplace_back(m, entry.path());
    }
    std::sort(subs.begin(), subs.end());
    for (const auto& sub : subs)
      zones_.push_back({"dram-" + package.substr(8), (sub.second / "energy_uj").string()});
  }

  for (auto& zone : zones_) {
    const std::string dir = fs::path(zone.energy_file).parent_path().string();
    zone.max_range_uj = read_counter(dir + "/max_energy_range_uj");
    zone.last_uj = read_counter(zone.energy_file);
  }
}

std::uint64_t RaplMeter::counter_delta(std::uint64_t prev, std::uint64_t now,
                                       std::uint64_t max_range) {
  if (now >= prev) return now - prev;
  // A previous reading above the range cannot come from the same counter
  // (driver reloaded, say): count from zero rather than invent a wrap.
  return prev <= max_range ? (max_range - prev) + now : now;
}

double RaplMeter::joules() {
  for (auto& zone : zones_) {
    const auto r = detail::read_sysfs(zone.energy_file);
    std::uint64_t now = 0;
    if (!r.ok || !detail::parse_u64(r.text, now))
      throw Error("energy meter 'rapl': cannot read " + zone.energy_file + ": " +
                  (r.ok ? "'" + r.text + "' is not a number" : r.error));
    total_uj_ += counter_delta(zone.last_uj, now, zone.max_range_uj);
    zone.last_uj = now;
  }
  return static_cast<double>(total_uj_) * 1e-6;
}

std::string RaplMeter::zones() const {
  std::string s;
  for (const auto& zone : zones_) s += (s.empty() ? "" : " + ") + zone.label;
  return s;
}

}  // namespace phantom
