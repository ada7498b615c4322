// The staged path (device memory through host copies) against the direct one.
// With a host-only Kokkos it is forced: Staging::always, or a host buffer
// labelled as device memory on an MPI that is not GPU-aware. The raw-buffer
// tests take no space; the view test runs on every execution space Kokkos
// enables, its collectives ordered with an instance of it.
#include <gtest/gtest.h>

#include <cstring>

#include "comm_test_helpers.hpp"

namespace {

using namespace phantom_test;

// MemoryOps for host memory that count how often they are used.
int to_host_calls = 0, from_host_calls = 0;
void counting_to_host(void* d, const void* s, std::size_t n) {
  ++to_host_calls;
  std::memcpy(d, s, n);
}
void counting_from_host(void* d, const void* s, std::size_t n) {
  ++from_host_calls;
  std::memcpy(d, s, n);
}
void plain_copy(void* d, const void* s, std::size_t n) {
  std::memcpy(d, s, n);
}
const phantom::MemoryOps kCountingOps{&counting_to_host, &counting_from_host, &plain_copy};

phantom::ConstBuffer device_send(const std::vector<float>& v) {
  return {v.data(), v.size(), phantom::DataType::float32, phantom::MemoryKind::device,
          &kCountingOps};
}
phantom::Buffer device_recv(std::vector<float>& v) {
  return {v.data(), v.size(), phantom::DataType::float32, phantom::MemoryKind::device,
          &kCountingOps};
}

TEST(Staging, DeviceLabelledBuffersAreStagedWhenMpiIsNotGpuAware) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  if (comm.passes_device_buffers()) GTEST_SKIP() << "this MPI is GPU-aware: nothing is staged";
  EXPECT_FALSE(phantom::MpiCommunicator::library_is_gpu_aware());
  const int p = comm.size(), r = comm.rank();
  std::vector<float> send(5), recv(5 * p, -1.0f);
  for (std::size_t i = 0; i < send.size(); ++i) send[i] = float(value(r, i));

  to_host_calls = from_host_calls = 0;
  comm.allgather(device_send(send), device_recv(recv));
  EXPECT_EQ(to_host_calls, 1);
  EXPECT_EQ(from_host_calls, 1);
  for (int s = 0; s < p; ++s) EXPECT_EQ(recv[5 * s + 4], float(value(s, 4)));

  // Non-blocking: the result reaches the buffer in wait(), not before.
  std::fill(recv.begin(), recv.end(), -1.0f);
  to_host_calls = from_host_calls = 0;
  auto request = comm.iallgather(device_send(send), device_recv(recv));
  EXPECT_EQ(to_host_calls, 1);
  busy_work();
  EXPECT_EQ(from_host_calls, 0);
  EXPECT_EQ(recv[0], -1.0f);
  request.wait();
  EXPECT_EQ(from_host_calls, 1);
  for (int s = 0; s < p; ++s) EXPECT_EQ(recv[5 * s], float(value(s, 0)));

  // Host buffers are not staged.
  to_host_calls = from_host_calls = 0;
  phantom::ConstBuffer host_send = device_send(send);
  host_send.memory = phantom::MemoryKind::host;
  phantom::Buffer host_recv = device_recv(recv);
  host_recv.memory = phantom::MemoryKind::host;
  comm.allgather(host_send, host_recv);
  EXPECT_EQ(to_host_calls + from_host_calls, 0);
}

TEST(Staging, DeviceBufferWithoutCopyOpsIsRejected) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  if (comm.passes_device_buffers()) GTEST_SKIP() << "this MPI is GPU-aware";
  std::vector<float> x(3), y(3);
  phantom::ConstBuffer send = device_send(x);
  phantom::Buffer recv = device_recv(y);
  send.ops = recv.ops = nullptr;
  const std::string m = error_message([&] { comm.allreduce(send, recv); });
  EXPECT_TRUE(contains(m, "device memory but has no MemoryOps"));
}

template <class Space>
class Staging : public ::testing::Test {};
TYPED_TEST_SUITE(Staging, ExecutionSpaces, SpaceName);

// Same inputs, direct and with every buffer staged: identical results, and the
// staged non-blocking result appears only at wait().
TYPED_TEST(Staging, ForcedStagingMatchesDirect) {
  using V = phantom::Vector<double, TypeParam>;
  const TypeParam space;
  phantom::MpiCommunicator direct(MPI_COMM_WORLD, phantom::Staging::never);
  phantom::MpiCommunicator staged(MPI_COMM_WORLD, phantom::Staging::always);
  const int p = direct.size(), r = direct.rank();
  const std::size_t c = 11;
  V send("send", p * c), a("a", p * c * p), b("b", p * c * p);
  fill(send, [&](std::size_t i) { return value(r, i) / 8.0; });  // exact in binary

  direct.allgather(space, send, a);
  staged.allgather(space, send, b);
  EXPECT_EQ(host_values(a), host_values(b));

  auto ra = Kokkos::subview(a, Kokkos::make_pair(std::size_t(0), c));
  auto rb = Kokkos::subview(b, Kokkos::make_pair(std::size_t(0), c));
  direct.reduce_scatter(space, send, ra);
  auto request = staged.ireduce_scatter(space, send, rb);
  busy_work(space);
  request.wait();
  EXPECT_EQ(host_values(ra), host_values(rb));

  V sa("sa", p * c), sb("sb", p * c);
  Kokkos::deep_copy(sa, send);
  Kokkos::deep_copy(sb, send);
  direct.allreduce(space, sa, sa);  // in place
  staged.allreduce(space, sb, sb);
  EXPECT_EQ(host_values(sa), host_values(sb));
  if (p > 1) {
    EXPECT_NE(host_values(sa), host_values(send));  // the sum did happen
  }

  V ta("ta", p * c), tb("tb", p * c);
  direct.alltoall(space, send, ta);
  staged.alltoall(space, send, tb);
  EXPECT_EQ(host_values(ta), host_values(tb));

  V ba("ba", c), bb("bb", c);
  if (r == p - 1) {
    fill(ba, [](std::size_t i) { return double(i) + 0.5; });
    fill(bb, [](std::size_t i) { return double(i) + 0.5; });
  }
  direct.broadcast(space, ba, p - 1);
  staged.broadcast(space, bb, p - 1);
  EXPECT_EQ(host_values(ba), host_values(bb));
  EXPECT_EQ(host_values(bb)[c - 1], double(c - 1) + 0.5);

  // Staged non-blocking all-gather leaves recv untouched until wait().
  V small("small", 1), gathered("gathered", p);
  Kokkos::deep_copy(small, double(r));
  Kokkos::deep_copy(gathered, -1.0);
  auto gather = staged.iallgather(space, small, gathered);
  busy_work(space);
  EXPECT_EQ(host_values(gathered), std::vector<double>(p, -1.0));
  gather.wait();
  for (int s = 0; s < p; ++s) EXPECT_EQ(host_values(gathered)[s], double(s));
}

}  // namespace
