// Sub-communicators: every 2-D grid model x data that divides the world, and
// collectives inside the model and data groups, with views in the memory of
// every execution space Kokkos enables.
#include <gtest/gtest.h>
#include <mpi.h>

#include "comm_test_helpers.hpp"
#include "phantom/comm/process_grid.hpp"

namespace {

using namespace phantom_test;

template <class Space>
class ProcessGrid : public ::testing::Test {};
TYPED_TEST_SUITE(ProcessGrid, ExecutionSpaces, SpaceName);

TYPED_TEST(ProcessGrid, EveryDividingShapeGroupsRanksAsDocumented) {
  const TypeParam space;
  auto world = phantom::make_world_communicator();
  const int P = world->size(), w = world->rank();
  for (int m = 1; m <= P; ++m) {
    if (P % m != 0) continue;
    SCOPED_TRACE("model " + std::to_string(m) + " x data " + std::to_string(P / m));
    phantom::ProcessGrid grid(*world, m);
    ASSERT_EQ(grid.model_size(), m);
    ASSERT_EQ(grid.data_size(), P / m);
    EXPECT_EQ(grid.model_rank(), w % m);
    EXPECT_EQ(grid.data_rank(), w / m);

    // Model group: consecutive world ranks.
    phantom::Vector<int, TypeParam> mine("mine", 1), model_ranks("model", m),
        data_ranks("data", P / m);
    Kokkos::deep_copy(mine, w);
    grid.model().allgather(space, mine, model_ranks);
    auto got = host_values(model_ranks);
    for (int j = 0; j < m; ++j) EXPECT_EQ(got[j], double((w / m) * m + j));

    // Data group: the same model rank in every replica.
    grid.data().allgather(space, mine, data_ranks);
    got = host_values(data_ranks);
    for (int j = 0; j < P / m; ++j) EXPECT_EQ(got[j], double(w % m + j * m));

    // Non-blocking reduction inside the data group.
    phantom::Vector<double, TypeParam> x("x", 2), sum("sum", 2);
    Kokkos::deep_copy(x, double(w));
    auto request = grid.data().iallreduce(space, x, sum);
    busy_work(space);
    request.wait();
    double expected = 0;
    for (int j = 0; j < P / m; ++j) expected += w % m + j * m;
    EXPECT_EQ(host_values(sum)[1], expected);

    // Sub-communicators count their own traffic, not the world's.
    EXPECT_EQ(grid.model().stats().total_calls(), 1u);
    EXPECT_EQ(grid.data().stats().total_calls(), 2u);
    EXPECT_EQ(grid.model().stats().total_bytes(), double((m - 1) * sizeof(int)));
  }
  EXPECT_EQ(world->stats().total_calls(), 0u);
}

// The groups' MPI communicators: the same ranks in the same order as the
// Communicator groups (world rank w: model rank w % m, data rank w / m).
TEST(ProcessGrid, MpiCommunicatorsMatchTheGroups) {
  auto world = phantom::make_world_communicator();
  const int P = world->size(), w = world->rank();
  for (int m = 1; m <= P; ++m) {
    if (P % m != 0) continue;
    SCOPED_TRACE("model " + std::to_string(m));
    phantom::ProcessGrid plain(*world, m);
    EXPECT_EQ(plain.model_mpi(), MPI_COMM_NULL);
    phantom::ProcessGrid grid(*world, MPI_COMM_WORLD, m);
    int size = 0, rank = 0;
    MPI_Comm_size(grid.model_mpi(), &size);
    MPI_Comm_rank(grid.model_mpi(), &rank);
    EXPECT_EQ(size, m);
    EXPECT_EQ(rank, w % m);
    MPI_Comm_size(grid.data_mpi(), &size);
    MPI_Comm_rank(grid.data_mpi(), &rank);
    EXPECT_EQ(size, P / m);
    EXPECT_EQ(rank, w / m);
    int first = w;  // the model group's first world rank: consecutive ranks
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, grid.model_mpi());
    EXPECT_EQ(first, (w / m) * m);
  }
}

// Construction only: no views, no space.
TEST(ProcessGrid, ShapeThatDoesNotDivideTheWorldIsRejected) {
  auto world = phantom::make_world_communicator();
  const int P = world->size();
  const std::string m = error_message([&] { phantom::ProcessGrid grid(*world, P + 1); });
  EXPECT_TRUE(contains(m, "model-parallel size " + std::to_string(P + 1)));
  EXPECT_TRUE(contains(m, "does not divide the " + std::to_string(P) + " ranks"));
  EXPECT_THROW(phantom::ProcessGrid(*world, 0), phantom::InvalidArgument);
}

template <class Space>
class Split : public ::testing::Test {};
TYPED_TEST_SUITE(Split, ExecutionSpaces, SpaceName);

TYPED_TEST(Split, ByParityWithReversedKeys) {
  const TypeParam space;
  auto world = phantom::make_world_communicator();
  const int P = world->size(), w = world->rank();
  auto half = world->split(w % 2, -w);  // reversed order inside each half
  const int n = (P - w % 2 + 1) / 2;    // ranks with my parity
  ASSERT_EQ(half->size(), n);
  phantom::Vector<float, TypeParam> mine("mine", 1), all("all", n);
  Kokkos::deep_copy(mine, float(w));
  half->allgather(space, mine, all);
  const auto got = host_values(all);
  for (int j = 0; j < n; ++j) {
    const int highest = (P - 1) - ((P - 1) % 2 != w % 2);
    EXPECT_EQ(got[j], double(highest - 2 * j));
  }
}

}  // namespace
