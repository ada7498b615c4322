#include "phantom/cost/device_profile.hpp"

#include <algorithm>
#include <fstream>
#include <toml++/toml.h>

#include "phantom/core/error.hpp"

namespace phantom::cost {

double DeviceProfile::gemm_rate(double rows, double cols, double inner) const {
  const double d = std::min({rows, cols, inner});
  return gemm_flops_s * d / (d + gemm_half_dim);
}

const Link& DeviceProfile::link_for(int ranks) const {
  return ranks <= ranks_per_node ? intra_node : inter_node;
}

namespace {
constexpr double GiB = 1024.0 * 1024.0 * 1024.0;
}

// Figures and their sources: docs/cost-model.md ("Device profiles").
std::vector<DeviceProfile> builtin_profiles() {
  DeviceProfile cpu;
  cpu.name = "this-cpu";
  cpu.description = "one CPU core per rank (defaults; run phantom-cost --calibrate to measure)";
  cpu.source = "defaults: SPEC.md's 108 GFLOP/s OpenBLAS sgemm per core, 4 W busy per core";
  cpu.gemm_flops_s = 108e9;
  cpu.gemm_half_dim = 4;
  cpu.memory_bytes_s = 12e9;
  cpu.busy_watts = 4.0;
  cpu.idle_watts = 1.4;
  cpu.ranks_per_node = 2;
  cpu.intra_node = {2e-6, 4e9};
  cpu.inter_node = {2e-6, 12.5e9};

  DeviceProfile h100;
  h100.name = "h100-sxm";
  h100.description = "NVIDIA H100 SXM5 80 GB, 8 per node (NVLink 4), 400 Gb/s NDR per GPU";
  h100.source = "NVIDIA H100 datasheet (FP32 67 TFLOP/s, 3.35 TB/s, 700 W, NVLink 900 GB/s); "
                "DGX H100 (8x ConnectX-7 400 Gb/s); idle power and GEMM half-dim assumed";
  h100.gemm_flops_s = 67e12;
  h100.gemm_half_dim = 128;
  h100.memory_bytes_s = 3.35e12;
  h100.busy_watts = 700;
  h100.idle_watts = 75;
  h100.memory_capacity_bytes = 80 * GiB;
  h100.ranks_per_node = 8;
  h100.intra_node = {5e-6, 450e9};
  h100.inter_node = {10e-6, 50e9};
  h100.clocks_mhz = {1980, 1830, 1680, 1530, 1380, 1230, 1080, 930};

  DeviceProfile a100;
  a100.name = "a100-sxm";
  a100.description = "NVIDIA A100 SXM4 80 GB, 8 per node (NVLink 3), 200 Gb/s HDR per GPU";
  a100.source = "NVIDIA A100 datasheet (FP32 19.5 TFLOP/s, 2.039 TB/s, 400 W, NVLink 600 GB/s); "
                "DGX A100 (8x ConnectX-6 200 Gb/s); idle power and GEMM half-dim assumed";
  a100.gemm_flops_s = 19.5e12;
  a100.gemm_half_dim = 128;
  a100.memory_bytes_s = 2.039e12;
  a100.busy_watts = 400;
  a100.idle_watts = 55;
  a100.memory_capacity_bytes = 80 * GiB;
  a100.ranks_per_node = 8;
  a100.intra_node = {5e-6, 300e9};
  a100.inter_node = {10e-6, 25e9};
  a100.clocks_mhz = {1410, 1305, 1200, 1095, 990, 885, 780};

  DeviceProfile mi250x;
  mi250x.name = "mi250x-gcd";
  mi250x.description = "one GCD of an AMD MI250X (half the package), 8 GCDs per node as on Frontier";
  mi250x.source = "AMD Instinct MI250X datasheet (FP32 matrix 95.7 TFLOP/s, 3.2 TB/s, 560 W per "
                  "package, halved per GCD); Frontier node (Infinity Fabric 50 GB/s, 4x 25 GB/s "
                  "Slingshot per 8 GCDs); idle power and GEMM half-dim assumed";
  mi250x.gemm_flops_s = 47.85e12;
  mi250x.gemm_half_dim = 128;
  mi250x.memory_bytes_s = 1.6384e12;
  mi250x.busy_watts = 280;
  mi250x.idle_watts = 45;
  mi250x.memory_capacity_bytes = 64 * GiB;
  mi250x.ranks_per_node = 8;
  mi250x.intra_node = {5e-6, 50e9};
  mi250x.inter_node = {10e-6, 12.5e9};
  mi250x.clocks_mhz = {1700, 1550, 1400, 1250, 1100, 950, 800};
  return {cpu, h100, a100, mi250x};
}

namespace {

double positive(const toml::table& t, const std::string& key, const std::string& path,
                bool allow_zero = false) {
  const auto* node = t.get(key);
  if (!node) throw InvalidArgument(path + ": missing key '" + key + "'");
  const auto v = node->value<double>();
  if (!v) throw InvalidArgument(path + ": '" + key + "' must be a number");
  if (!(*v > 0) && !(allow_zero && *v == 0))
    throw InvalidArgument(path + ": '" + key + "' must be " +
                          (allow_zero ? ">= 0" : "> 0") + ", got " + std::to_string(*v));
  return *v;
}

}  // namespace

DeviceProfile load_profile(const std::string& name_or_path) {
  for (auto& p : builtin_profiles())
    if (p.name == name_or_path) return p;
  std::ifstream in(name_or_path);
  if (!in) {
    std::string names;
    for (auto& p : builtin_profiles()) names += (names.empty() ? "" : ", ") + p.name;
    throw InvalidArgument("device profile '" + name_or_path +
                          "' is neither a built-in profile (" + names + ") nor a readable file");
  }
  toml::table t;
  try {
    t = toml::parse(in, name_or_path);
  } catch (const toml::parse_error& e) {
    throw InvalidArgument(name_or_path + ": " + std::string(e.description()));
  }
  DeviceProfile p;
  p.name = t["name"].value_or(std::string("custom"));
  p.description = t["description"].value_or(std::string());
  p.source = t["source"].value_or(std::string(name_or_path));
  p.gemm_flops_s = positive(t, "gemm_flops_s", name_or_path);
  p.gemm_half_dim = positive(t, "gemm_half_dim", name_or_path, true);
  p.memory_bytes_s = positive(t, "memory_bytes_s", name_or_path);
  p.busy_watts = positive(t, "busy_watts", name_or_path);
  p.idle_watts = positive(t, "idle_watts", name_or_path, true);
  p.memory_capacity_bytes = t["memory_capacity_bytes"].value_or(0.0);
  p.ranks_per_node = int(positive(t, "ranks_per_node", name_or_path));
  p.intra_node = {positive(t, "intra_alpha_s", name_or_path, true),
                  positive(t, "intra_bandwidth_bytes_s", name_or_path)};
  p.inter_node = {positive(t, "inter_alpha_s", name_or_path, true),
                  positive(t, "inter_bandwidth_bytes_s", name_or_path)};
  if (const auto* clocks = t.get_as<toml::array>("clocks_mhz")) {
    for (const auto& c : *clocks) {
      const auto v = c.value<std::int64_t>();
      if (!v || *v <= 0 || (!p.clocks_mhz.empty() && *v >= p.clocks_mhz.back()))
        throw InvalidArgument(name_or_path +
                              ": 'clocks_mhz' must be positive integers, highest first");
      p.clocks_mhz.push_back(int(*v));
    }
  }
  return p;
}

void save_profile(const DeviceProfile& p, const std::string& path) {
  toml::table t{{"name", p.name},
                {"description", p.description},
                {"source", p.source},
                {"gemm_flops_s", p.gemm_flops_s},
                {"gemm_half_dim", p.gemm_half_dim},
                {"memory_bytes_s", p.memory_bytes_s},
                {"busy_watts", p.busy_watts},
                {"idle_watts", p.idle_watts},
                {"memory_capacity_bytes", p.memory_capacity_bytes},
                {"ranks_per_node", p.ranks_per_node},
                {"intra_alpha_s", p.intra_node.alpha_s},
                {"intra_bandwidth_bytes_s", p.intra_node.bandwidth_bytes_s},
                {"inter_alpha_s", p.inter_node.alpha_s},
                {"inter_bandwidth_bytes_s", p.inter_node.bandwidth_bytes_s}};
  if (!p.clocks_mhz.empty()) {
    toml::array clocks;
    for (int c : p.clocks_mhz) clocks.push_back(c);
    t.insert("clocks_mhz", clocks);
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << t << '\n';
    if (!out) throw Error("cannot write device profile " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot rename " + tmp + " to " + path);
}

}  // namespace phantom::cost
