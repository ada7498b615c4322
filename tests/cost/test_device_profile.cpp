// Device profiles: the built-ins are complete, a saved profile loads back
// unchanged, and a bad profile file is an error naming the file and the key.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "phantom/core/error.hpp"
#include "phantom/cost/device_profile.hpp"

namespace {

using namespace phantom::cost;

std::string temp_path(const std::string& name) {
  return std::string(::testing::TempDir()) + "phantom_profile_" + name;
}

std::string error_of(const std::string& name_or_path) {
  try {
    load_profile(name_or_path);
  } catch (const phantom::InvalidArgument& e) {
    return e.what();
  }
  return "no error";
}

TEST(DeviceProfile, BuiltinsAreComplete) {
  const auto all = builtin_profiles();
  ASSERT_EQ(all.size(), 4u);
  for (const auto& p : all) {
    EXPECT_GT(p.gemm_flops_s, 0) << p.name;
    EXPECT_GT(p.memory_bytes_s, 0) << p.name;
    EXPECT_GT(p.busy_watts, p.idle_watts) << p.name;
    EXPECT_GT(p.intra_node.bandwidth_bytes_s, 0) << p.name;
    EXPECT_GT(p.inter_node.bandwidth_bytes_s, 0) << p.name;
    EXPECT_FALSE(p.source.empty()) << p.name;
    EXPECT_EQ(load_profile(p.name).gemm_flops_s, p.gemm_flops_s);
  }
  EXPECT_EQ(load_profile("h100-sxm").ranks_per_node, 8);
}

TEST(DeviceProfile, SaveLoadRoundTrip) {
  auto p = load_profile("mi250x-gcd");
  p.name = "mine";
  p.gemm_half_dim = 3.25;
  const std::string path = temp_path("round_trip.toml");
  save_profile(p, path);
  const auto q = load_profile(path);
  EXPECT_EQ(q.name, "mine");
  EXPECT_EQ(q.gemm_flops_s, p.gemm_flops_s);
  EXPECT_EQ(q.gemm_half_dim, 3.25);
  EXPECT_EQ(q.memory_bytes_s, p.memory_bytes_s);
  EXPECT_EQ(q.busy_watts, p.busy_watts);
  EXPECT_EQ(q.idle_watts, p.idle_watts);
  EXPECT_EQ(q.memory_capacity_bytes, p.memory_capacity_bytes);
  EXPECT_EQ(q.ranks_per_node, p.ranks_per_node);
  EXPECT_EQ(q.intra_node.alpha_s, p.intra_node.alpha_s);
  EXPECT_EQ(q.inter_node.bandwidth_bytes_s, p.inter_node.bandwidth_bytes_s);
  std::remove(path.c_str());
}

TEST(DeviceProfile, BadProfilesNameTheProblem) {
  EXPECT_EQ(error_of("h200"),
            "device profile 'h200' is neither a built-in profile (this-cpu, h100-sxm, a100-sxm, "
            "mi250x-gcd) nor a readable file");
  const std::string path = temp_path("bad.toml");
  save_profile(load_profile("a100-sxm"), path);
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& t) { std::ofstream(path) << t; };
  write(text.substr(0, text.find("gemm_flops_s")) +
        text.substr(text.find('\n', text.find("gemm_flops_s")) + 1));
  EXPECT_EQ(error_of(path), path + ": missing key 'gemm_flops_s'");
  write(text + "\n[[");
  EXPECT_NE(error_of(path).find(path + ": "), std::string::npos);
  std::string negative = text;
  negative.replace(negative.find("busy_watts = "), 13, "busy_watts = -");
  write(negative);
  EXPECT_EQ(error_of(path).rfind(path + ": 'busy_watts' must be > 0, got -", 0), 0u);
  std::remove(path.c_str());
}

}  // namespace
