// Kokkos Tools see a region around every layer phase and every collective:
// a push-region callback (the hook Kokkos Tools libraries use) records the
// names during one training step of each strategy, on every execution space.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "network_fixture.hpp"

namespace {

using namespace phantom_test;

std::set<std::string>* recorded = nullptr;
void record_region(const char* name) {
  if (recorded) recorded->insert(name);
}

template <class Space>
std::set<std::string> regions_of_one_step(const Space& space, phantom::Strategy s) {
  auto comm = phantom::make_world_communicator();
  phantom::DistributedFFN<double, Space> net(*comm, config(s, 2), space);
  net.initialize(1);
  phantom::OptimizerConfig oc;
  phantom::Optimizer<double, Space> opt(oc, space);
  const Batch<Space> batch(space, 2);
  std::set<std::string> names;
  recorded = &names;
  Kokkos::Tools::Experimental::set_push_region_callback(record_region);
  net.train_step(batch.x, batch.t, phantom::Loss::mse, opt);
  Kokkos::Tools::Experimental::set_push_region_callback(nullptr);
  recorded = nullptr;
  return names;
}

template <class Space>
void expect_regions(const Space& space, phantom::Strategy s,
                    const std::vector<std::string>& expected) {
  const auto names = regions_of_one_step(space, s);
  for (const auto& e : expected)
    EXPECT_TRUE(names.count(e)) << phantom::to_string(s) << ": no region " << e;
}

template <class Space>
class ProfilingRegions : public ::testing::Test {};
TYPED_TEST_SUITE(ProfilingRegions, ExecutionSpaces, SpaceName);

TYPED_TEST(ProfilingRegions, EveryPhaseAndCollective) {
  const TypeParam space;
  const std::vector<std::string> common = {"phantom::input::forward",  "phantom::input::backward",
                                           "phantom::output::forward", "phantom::output::backward",
                                           "phantom::optimizer",       "phantom::comm::allreduce"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), common.begin(), common.end());
    return more;
  };
  expect_regions(
      space, phantom::Strategy::pp,
      with({"phantom::pp::forward", "phantom::pp::backward", "phantom::comm::allgather::issue",
            "phantom::comm::allgather::wait", "phantom::comm::reduce_scatter::issue",
            "phantom::comm::reduce_scatter::wait"}));
  expect_regions(space, phantom::Strategy::tp,
                 with({"phantom::tp::forward", "phantom::tp::backward",
                       "phantom::comm::allgather::issue", "phantom::comm::reduce_scatter::wait"}));
  expect_regions(space, phantom::Strategy::megatron,
                 with({"phantom::megatron::forward", "phantom::megatron::backward"}));
  int p = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  if (p > 1)  // at p = 1 the column-parallel dx needs no all-reduce
    expect_regions(space, phantom::Strategy::megatron,
                   {"phantom::comm::allreduce::issue", "phantom::comm::allreduce::wait"});
}

}  // namespace
