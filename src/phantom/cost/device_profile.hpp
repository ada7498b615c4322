// What the cost model knows about a machine: the GEMM rate and memory
// bandwidth of one rank's device, the power it draws busy and idle, and an
// alpha-beta model of its links (within a node and between nodes). Built-in
// profiles cite their sources in docs/cost-model.md; "this-cpu" is measured by
// `phantom-cost --calibrate` and stored as TOML.
#pragma once

#include <string>
#include <vector>

namespace phantom::cost {

// A ring step costs alpha + bytes / bandwidth.
struct Link {
  double alpha_s = 0;            // latency per message
  double bandwidth_bytes_s = 0;  // per direction, per rank
};

struct DeviceProfile {
  std::string name;
  std::string description;
  std::string source;  // "measured (...)" or the datasheets it comes from
  // GEMM rate of one rank: peak * d / (d + gemm_half_dim), d the smallest of
  // the GEMM's three dimensions (skinny GEMMs such as x C^T with k = 16 run
  // below peak).
  double gemm_flops_s = 0;
  double gemm_half_dim = 0;
  double memory_bytes_s = 0;  // streaming kernels (element-wise, optimizer)
  double busy_watts = 0;      // per rank while computing
  double idle_watts = 0;      // per rank while communicating or waiting
  double memory_capacity_bytes = 0;  // per rank, 0 = not checked
  int ranks_per_node = 1;            // beyond it, collectives use the inter-node link
  Link intra_node, inter_node;
  // Graphics clocks the planner may choose from, highest first (MHz); empty
  // when the clock cannot be controlled (this CPU).
  std::vector<int> clocks_mhz;

  double gemm_rate(double rows, double cols, double inner) const;
  // The link a ring over p ranks is limited by.
  const Link& link_for(int ranks) const;
};

// Built-in profiles: this-cpu (uncalibrated defaults), h100-sxm, a100-sxm,
// mi250x-gcd.
std::vector<DeviceProfile> builtin_profiles();
// A built-in name, or a TOML file written by save_profile.
DeviceProfile load_profile(const std::string& name_or_path);
void save_profile(const DeviceProfile& profile, const std::string& path);

}  // namespace phantom::cost
