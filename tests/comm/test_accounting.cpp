// Byte, call and time counters against the ring formulas of comm_stats.hpp,
// computed here independently from p, the counts and sizeof(scalar); views in
// the memory of every execution space Kokkos enables, collectives ordered with
// an instance of it.
#include <gtest/gtest.h>

#include "comm_test_helpers.hpp"

namespace {

using phantom::Collective;
using namespace phantom_test;

template <class Space>
class Accounting : public ::testing::Test {};
TYPED_TEST_SUITE(Accounting, ExecutionSpaces, SpaceName);

TYPED_TEST(Accounting, BytesFollowTheRingFormulas) {
  const TypeParam space;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    const double s = sizeof(T);
    for (auto& [name, comm] : world_communicators()) {
      SCOPED_TRACE(name);
      const int p = comm->size();
      const std::size_t c = 6;  // 2 (p-1) c / p is fractional at p = 4
      phantom::Vector<T, TypeParam> block("block", c), full("full", p * c), send2("send2", p * c);
      comm->reset_stats();

      comm->allgather(space, block, full);
      auto req = comm->iallgather(space, block, full);
      req.wait();
      comm->reduce_scatter(space, full, block);
      comm->ireduce_scatter(space, full, block).wait();
      comm->allreduce(space, block, block);
      comm->iallreduce(space, full, send2).wait();  // all-reduce of p c values
      comm->alltoall(space, full, send2);           // c values per destination
      comm->broadcast(space, block, 0);
      comm->barrier();

      const auto& st = comm->stats();
      EXPECT_EQ(st[Collective::allgather].calls, 2u);
      EXPECT_EQ(st[Collective::allgather].bytes, 2 * (p - 1) * c * s);
      EXPECT_EQ(st[Collective::reduce_scatter].calls, 2u);
      EXPECT_EQ(st[Collective::reduce_scatter].bytes, 2 * (p - 1) * c * s);
      EXPECT_EQ(st[Collective::allreduce].calls, 2u);
      const double allreduce_bytes = 2.0 * (p - 1) * c / p * s + 2.0 * (p - 1) * (p * c) / p * s;
      EXPECT_DOUBLE_EQ(st[Collective::allreduce].bytes, allreduce_bytes);
      EXPECT_EQ(st[Collective::alltoall].calls, 1u);
      EXPECT_EQ(st[Collective::alltoall].bytes, (p - 1) * c * s);
      EXPECT_EQ(st[Collective::broadcast].calls, 1u);
      EXPECT_EQ(st[Collective::broadcast].bytes, comm->rank() == 0 ? 0.0 : c * s);
      EXPECT_EQ(st[Collective::barrier].calls, 1u);
      EXPECT_EQ(st[Collective::barrier].bytes, 0.0);

      const double total = 4 * (p - 1) * c * s + allreduce_bytes + (p - 1) * c * s +
                           (comm->rank() == 0 ? 0.0 : c * s);
      EXPECT_DOUBLE_EQ(st.total_bytes(), total);
      EXPECT_EQ(st.total_calls(), 9u);

      comm->reset_stats();
      EXPECT_EQ(comm->stats().total_bytes(), 0.0);
      EXPECT_EQ(comm->stats().total_calls(), 0u);
    }
  });
}

// Blocking calls count as waiting; issuing counts only for non-blocking starts,
// and the time a request spends in wait() is added when wait() runs.
TYPED_TEST(Accounting, BlockingTimeIsWaitTimeAndWaitIsCountedAtWait) {
  const TypeParam space;
  for_float_and_double([&](auto zero) {
    using T = decltype(zero);
    auto comm = phantom::make_world_communicator();
    const int p = comm->size();
    phantom::Vector<T, TypeParam> block("block", 1 << 12), full("full", p << 12);
    comm->reset_stats();
    for (int i = 0; i < 5; ++i) comm->allgather(space, block, full);
    const auto& ag = comm->stats()[Collective::allgather];
    EXPECT_EQ(ag.issue_seconds, 0.0);
    EXPECT_GT(ag.wait_seconds, 0.0);

    comm->reset_stats();
    auto request = comm->iallreduce(space, block, block);
    const auto& ar = comm->stats()[Collective::allreduce];
    EXPECT_GT(ar.issue_seconds, 0.0);
    EXPECT_EQ(ar.wait_seconds, 0.0);
    EXPECT_EQ(ar.calls, 1u);  // calls and bytes are counted when issued
    EXPECT_DOUBLE_EQ(ar.bytes, 2.0 * (p - 1) * (1 << 12) / p * sizeof(T));
    request.wait();
    EXPECT_GT(ar.wait_seconds, 0.0);
    EXPECT_DOUBLE_EQ(comm->stats().total_wait_seconds(), ar.wait_seconds);
    EXPECT_DOUBLE_EQ(comm->stats().total_issue_seconds(), ar.issue_seconds);
  });
}

// A call rejected before it is sent is not counted.
TYPED_TEST(Accounting, RejectedCallsAreNotCounted) {
  const TypeParam space;
  auto comm = phantom::make_world_communicator();
  phantom::Vector<float, TypeParam> send("send", 3), recv("recv", 3 * comm->size() + 1);
  comm->reset_stats();
  EXPECT_THROW(comm->allgather(space, send, recv), phantom::ShapeError);
  EXPECT_EQ(comm->stats().total_calls(), 0u);
  EXPECT_EQ(comm->stats().total_bytes(), 0.0);
}

}  // namespace
