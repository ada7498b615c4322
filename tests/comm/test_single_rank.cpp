// The p = 1 backend (serial test, MPI not initialized). Collectives on views
// run on every execution space Kokkos enables, ordered with an instance of it;
// the tests without views take no space.
#include <gtest/gtest.h>

#include "comm_test_helpers.hpp"
#include "phantom/comm/process_grid.hpp"
#include "phantom/comm/single_rank_communicator.hpp"

namespace {

using phantom::Collective;
using namespace phantom_test;

TEST(SingleRank, WorldIsSingleRankWithoutMpi) {
  auto world = phantom::make_world_communicator();
  EXPECT_STREQ(world->backend(), "single-rank");
  EXPECT_EQ(world->size(), 1);
  EXPECT_EQ(world->rank(), 0);
}

template <class Space>
class SingleRank : public ::testing::Test {};
TYPED_TEST_SUITE(SingleRank, ExecutionSpaces, SpaceName);

TYPED_TEST(SingleRank, CollectivesCopySendToRecvAndCountZeroBytes) {
  const TypeParam space;
  phantom::SingleRankCommunicator comm;
  phantom::Matrix<float, TypeParam> x("x", 3, 4), y("y", 3, 4);
  fill(x, [](std::size_t i) { return value(0, i); });
  const auto expected = host_values(x);

  comm.allgather(space, x, y);
  EXPECT_EQ(host_values(y), expected);
  Kokkos::deep_copy(y, 0.0f);
  comm.reduce_scatter(space, x, y);
  EXPECT_EQ(host_values(y), expected);
  Kokkos::deep_copy(y, 0.0f);
  comm.alltoall(space, x, y);
  EXPECT_EQ(host_values(y), expected);
  Kokkos::deep_copy(y, 0.0f);
  auto request = comm.iallreduce(space, x, y);
  request.wait();
  EXPECT_EQ(host_values(y), expected);
  Kokkos::deep_copy(y, 0.0f);
  comm.iallgather(space, x, y).wait();
  EXPECT_EQ(host_values(y), expected);
  comm.allreduce(space, x, x);  // in place: nothing to do
  EXPECT_EQ(host_values(x), expected);
  comm.broadcast(space, x, 0);
  EXPECT_EQ(host_values(x), expected);
  comm.barrier();

  EXPECT_EQ(comm.stats().total_calls(), 8u);
  EXPECT_EQ(comm.stats()[Collective::allreduce].calls, 2u);
  EXPECT_EQ(comm.stats().total_bytes(), 0.0);
}

TYPED_TEST(SingleRank, ChecksSizesAndRoot) {
  const TypeParam space;
  phantom::SingleRankCommunicator comm;
  phantom::Vector<double, TypeParam> a("a", 4), b("b", 5);
  try {
    comm.allgather(space, a, b);
    ADD_FAILURE() << "no exception";
  } catch (const phantom::ShapeError& e) {
    EXPECT_TRUE(contains(e.what(),
                         "phantom::comm::allgather over 1 ranks: recv has 5 values "
                         "but needs 4 = 1 x send (4 values)"));
  }
  EXPECT_THROW(comm.broadcast(space, a, 1), phantom::InvalidArgument);
  EXPECT_EQ(comm.stats().total_calls(), 0u);
}

TEST(SingleRank, SplitAndGrid) {
  phantom::SingleRankCommunicator comm;
  auto sub = comm.split(3, 7);
  EXPECT_EQ(sub->size(), 1);
  EXPECT_STREQ(sub->backend(), "single-rank");
  phantom::ProcessGrid grid(comm, 1);
  EXPECT_EQ(grid.model_size(), 1);
  EXPECT_EQ(grid.data_size(), 1);
  EXPECT_THROW(phantom::ProcessGrid(comm, 2), phantom::InvalidArgument);
}

}  // namespace
