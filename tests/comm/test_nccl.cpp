// NCCL backend on raw CUDA device buffers (built with PHANTOM_ENABLE_NCCL).
// Needs one GPU per rank; skipped where there is none, so on CPU-only machines
// it proves that the NCCL build compiles, links and loads.
// With a CUDA Kokkos the buffers are also filled and read by Kokkos kernels on
// an instance with a stream of its own, and nothing is fenced between the
// kernels and the collectives: the results are right only if the communicator
// orders its stream after the producer and the consumer after it
// (execution_order.hpp). The producer kernel is made slow so that a missing
// dependency shows.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "backends.hpp"
#include "comm_test_helpers.hpp"
#include "phantom/comm/nccl_communicator.hpp"

namespace {

using namespace phantom_test;

// A float array in device memory, freed on scope exit.
struct DeviceFloats {
  explicit DeviceFloats(std::size_t n) : n(n) {
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(float)), cudaSuccess);
  }
  ~DeviceFloats() { cudaFree(p); }
  void set(const std::vector<float>& v) {
    cudaMemcpy(p, v.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  }
  std::vector<float> get() const {
    std::vector<float> v(n);
    cudaMemcpy(v.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost);
    return v;
  }
  phantom::Buffer buffer() const {
    return {p, n, phantom::DataType::float32, phantom::MemoryKind::device, nullptr};
  }
  float* p = nullptr;
  std::size_t n;
};

bool one_gpu_per_rank() {
  int devices = 0, size = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const bool ok = cudaGetDeviceCount(&devices) == cudaSuccess && devices >= size;
  int all_ok = ok;
  MPI_Allreduce(MPI_IN_PLACE, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (all_ok) cudaSetDevice(rank % devices);
  return all_ok != 0;
}

TEST(Nccl, CollectivesOnDeviceBuffers) {
  if (!one_gpu_per_rank()) GTEST_SKIP() << "needs one CUDA GPU per rank";
  phantom::NcclCommunicator comm(MPI_COMM_WORLD);
  const int p = comm.size(), r = comm.rank();
  const std::size_t c = 5;
  std::vector<float> mine(c), full(p * c);
  for (std::size_t i = 0; i < c; ++i) mine[i] = float(value(r, i));

  DeviceFloats send(c), gathered(p * c), sum(c), block(c);
  send.set(mine);
  comm.allgather(send.buffer(), gathered.buffer());
  for (int s = 0; s < p; ++s)
    for (std::size_t i = 0; i < c; ++i) full[s * c + i] = float(value(s, i));
  EXPECT_EQ(gathered.get(), full);

  auto request = comm.iallreduce(send.buffer(), sum.buffer());
  busy_work();
  request.wait();
  std::vector<float> expected(c, 0.0f);
  for (std::size_t i = 0; i < c; ++i)
    for (int s = 0; s < p; ++s) expected[i] += float(value(s, i));
  EXPECT_EQ(sum.get(), expected);

  comm.reduce_scatter(gathered.buffer(), block.buffer());  // sum of p copies of block r
  for (std::size_t i = 0; i < c; ++i) expected[i] = float(p * value(r, i));
  EXPECT_EQ(block.get(), expected);

  DeviceFloats swapped(p * c);
  comm.alltoall(gathered.buffer(), swapped.buffer());  // block s from rank s: value(r, .)
  for (int s = 0; s < p; ++s)
    for (std::size_t i = 0; i < c; ++i) full[s * c + i] = float(value(r, i));
  EXPECT_EQ(swapped.get(), full);

  comm.broadcast(send.buffer(), 0);
  for (std::size_t i = 0; i < c; ++i) mine[i] = float(value(0, i));
  EXPECT_EQ(send.get(), mine);
  comm.barrier();

  EXPECT_DOUBLE_EQ(comm.stats()[phantom::Collective::allgather].bytes, (p - 1) * c * 4.0);

  std::vector<float> host(c);
  phantom::Buffer host_buffer{host.data(), c, phantom::DataType::float32, phantom::MemoryKind::host,
                              nullptr};
  EXPECT_THROW(comm.allreduce(host_buffer, host_buffer), phantom::InvalidArgument);
}

#if defined(KOKKOS_ENABLE_CUDA)
// value(r, i) into v, on space, after a busy loop long enough (milliseconds)
// that a collective not ordered after it would read the old contents.
template <class View>
void slow_fill(const Kokkos::Cuda& space, const View& v, int rank) {
  Kokkos::parallel_for(
      "slow_fill", Kokkos::RangePolicy<Kokkos::Cuda>(space, 0, v.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        double spin = 0;
        for (int k = 0; k < 200000; ++k) spin += 1e-9 * k;
        v(i) = float((rank + 1) * 1000 + i % 509) + float(spin * 0);
      });
}

// dst = src, a kernel on space (the consumer of a collective's result).
template <class View>
void consume(const Kokkos::Cuda& space, const View& src, const View& dst) {
  Kokkos::parallel_for(
      "consume", Kokkos::RangePolicy<Kokkos::Cuda>(space, 0, src.extent(0)),
      KOKKOS_LAMBDA(const int i) { dst(i) = src(i); });
}

TEST(Nccl, StreamOrderedWithAKokkosInstance) {
  if (!one_gpu_per_rank()) GTEST_SKIP() << "needs one CUDA GPU per rank";
  // An instance with a stream of its own, not the communicator's.
  const Kokkos::Cuda space = Kokkos::Experimental::partition_space(Kokkos::Cuda(), 1)[0];
  phantom::NcclCommunicator comm(MPI_COMM_WORLD);
  const int p = comm.size(), r = comm.rank();
  const std::size_t c = 4096;
  using V = Kokkos::View<float*, Kokkos::CudaSpace>;
  V send(Kokkos::view_alloc(space, std::string("send")), c);
  V gathered(Kokkos::view_alloc(space, std::string("gathered")), p * c);
  V copy(Kokkos::view_alloc(space, std::string("copy")), p * c);
  space.fence();
  for (int round = 0; round < 3; ++round) {
    slow_fill(space, send, r + round);
    auto request = comm.iallgather(space, send, gathered);  // no fence in between
    request.wait();                                         // orders space after NCCL
    consume(space, gathered, copy);
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), copy);
    for (int s = 0; s < p; ++s)
      for (std::size_t i = 0; i < c; ++i)
        ASSERT_EQ(host(s * c + i), float(value(s + round, i)))
            << "round " << round << ", block " << s << ", element " << i;
    // Blocking form: the result is in place when it returns.
    slow_fill(space, send, r + round + 1);
    comm.allgather(space, send, gathered);
    auto blocking = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), gathered);
    for (int s = 0; s < p; ++s)
      ASSERT_EQ(blocking(s * c + 7), float(value(s + round + 1, 7))) << "blocking, round " << round;
  }
}
#endif

}  // namespace
