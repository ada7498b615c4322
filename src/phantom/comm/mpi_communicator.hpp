// Communicator over an MPI communicator.
//
// Host buffers go to MPI directly. Device buffers go directly when the MPI
// library is GPU-aware (asked at run time: MPIX_Query_cuda_support() /
// MPIX_Query_rocm_support() where <mpi-ext.h> offers them, otherwise assumed
// not), and are otherwise staged through host buffers: copied to the host before
// the call, and the result copied back after it (for non-blocking forms, in
// Request::wait()). Staging::always stages every buffer, host ones included
// (tests use it), Staging::never trusts the MPI with device pointers.
// Either way MPI touches buffers from the host, so every collective first
// fences the caller's execution-space instance (Communicator's default
// order_after_producer): MPI never reads a device buffer before the kernel
// that wrote it, and a blocking call or wait() returns with the result in place.
//
// Errors: the communicator is switched to MPI_ERRORS_RETURN (the previous
// handler is put back on destruction) and a failing call throws phantom::Error
// with the collective's name and MPI_Error_string's text.
#pragma once

#include <mpi.h>

#include "phantom/comm/communicator.hpp"

namespace phantom {

enum class Staging { automatic, always, never };

class MpiCommunicator final : public Communicator {
 public:
  // Wraps comm without owning it; comm must outlive this object.
  explicit MpiCommunicator(MPI_Comm comm, Staging staging = Staging::automatic);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }
  // The new communicator owns its MPI_Comm (MPI_Comm_split) and frees it. color >= 0.
  std::unique_ptr<Communicator> split(int color, int key) override;

  MPI_Comm comm() const { return comm_; }
  Staging staging() const { return staging_; }
  // True when device buffers are handed to MPI as they are.
  bool passes_device_buffers() const { return pass_device_; }
  // The run-time answer of the MPI library (false where it offers no query).
  static bool library_is_gpu_aware();

 protected:
  void do_allgather(const ExecutionOrder& order, const ConstBuffer& send,
                    const Buffer& recv) override;
  void do_reduce_scatter(const ExecutionOrder& order, const ConstBuffer& send,
                         const Buffer& recv) override;
  void do_allreduce(const ExecutionOrder& order, const ConstBuffer& send,
                    const Buffer& recv) override;
  void do_alltoall(const ExecutionOrder& order, const ConstBuffer& send,
                   const Buffer& recv) override;
  void do_broadcast(const ExecutionOrder& order, const Buffer& buffer, int root) override;
  void do_barrier() override;
  std::unique_ptr<detail::PendingOperation> start_allgather(const ExecutionOrder& order,
                                                            const ConstBuffer& send,
                                                            const Buffer& recv) override;
  std::unique_ptr<detail::PendingOperation> start_reduce_scatter(const ExecutionOrder& order,
                                                                 const ConstBuffer& send,
                                                                 const Buffer& recv) override;
  std::unique_ptr<detail::PendingOperation> start_allreduce(const ExecutionOrder& order,
                                                            const ConstBuffer& send,
                                                            const Buffer& recv) override;

 private:
  MpiCommunicator(MPI_Comm comm, Staging staging, bool owned);

  MPI_Comm comm_;
  Staging staging_;
  bool owned_;
  bool pass_device_;
  MPI_Errhandler previous_handler_ = MPI_ERRHANDLER_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace phantom
