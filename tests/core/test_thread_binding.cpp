// The warning phantom-train prints when a rank's threads share cores.
#include <gtest/gtest.h>

#include <string>

#include "phantom/core/thread_binding.hpp"

namespace {

TEST(ThreadBinding, WarnsOnlyWhenThreadsOutnumberTheRanksCpus) {
  const int cpus = phantom::usable_cpus();
  ASSERT_GT(cpus, 0) << "sched_getaffinity should work on Linux";
  EXPECT_EQ(phantom::thread_binding_warning(1), "");
  EXPECT_EQ(phantom::thread_binding_warning(cpus), "");
  const std::string w = phantom::thread_binding_warning(cpus + 1);
  EXPECT_NE(w.find(std::to_string(cpus + 1) + " threads per rank share " + std::to_string(cpus)),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("--bind-to none"), std::string::npos) << w;
  EXPECT_NE(w.find("OMP_NUM_THREADS=" + std::to_string(cpus)), std::string::npos) << w;
}

}  // namespace
