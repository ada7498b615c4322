// How a collective is ordered with the caller's work on an execution-space
// instance: it must not read its send buffer before the kernels that produce
// it (enqueued on the caller's instance) have run, and the caller's later
// kernels must not read the receive buffer before the collective has written
// it. The View front-ends of Communicator build an InstanceOrder from the
// instance they are given; the compiled backends see only this interface, so
// they need no device compiler.
//
// Backends progressed by the host (MPI, single rank) fence the instance
// before they touch a buffer and complete on the host. Stream backends (NCCL)
// instead make their own stream wait for an event recorded on the instance's
// native stream, and make that stream wait for the collective at Request::wait().
#pragma once

#include <Kokkos_Core.hpp>
#include <string>
#include <type_traits>

#include "phantom/core/kokkos_compat.hpp"

namespace phantom {

class ExecutionOrder {
 public:
  virtual ~ExecutionOrder() = default;
  // Blocks until everything enqueued on the instance so far has finished.
  virtual void fence(const std::string& reason) const = 0;
  // The instance's native stream (cudaStream_t of a Kokkos::Cuda instance,
  // hipStream_t of Kokkos::HIP), or null for host execution spaces.
  virtual void* native_stream() const = 0;
  // The order of a caller whose buffers are already complete on the host
  // (raw host pointers): nothing to wait for.
  static const ExecutionOrder& host();
};

template <class ExecSpace>
class InstanceOrder final : public ExecutionOrder {
 public:
  explicit InstanceOrder(const ExecSpace& space) : space_(space) {}
  void fence(const std::string& reason) const override { compat::fence(space_, reason); }
  void* native_stream() const override {
#if defined(KOKKOS_ENABLE_CUDA)
    if constexpr (std::is_same_v<ExecSpace, Kokkos::Cuda>) return space_.cuda_stream();
#endif
#if defined(KOKKOS_ENABLE_HIP)
    if constexpr (std::is_same_v<ExecSpace, Kokkos::HIP>) return space_.hip_stream();
#endif
    return nullptr;
  }
  const ExecSpace& space() const {
    return space_;
  }

 private:
  ExecSpace space_;
};

}  // namespace phantom
