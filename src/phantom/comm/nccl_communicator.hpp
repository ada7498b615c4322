// Communicator over NCCL, for buffers in CUDA device memory (built with
// -DPHANTOM_ENABLE_NCCL=ON). Collectives run on one CUDA stream of their own,
// created here or given by the caller, so they overlap with the caller's
// kernels. Ordering with the caller's execution-space instance
// (execution_order.hpp), without blocking the host:
//  - before a collective: an event recorded on the instance's stream, which
//    the communicator's stream waits for (cudaStreamWaitEvent), so NCCL reads
//    the send buffer only after the kernels that wrote it;
//  - non-blocking forms record an event after the NCCL call; Request::wait()
//    makes the instance's stream wait for it, so the caller's later kernels
//    read the result only after NCCL wrote it (test() queries the event). A
//    caller on a host instance (no stream) synchronizes the event instead.
//  - blocking forms synchronize the communicator's stream before they return.
// On NCCL, Request::wait() therefore returns at once and the collective's
// remaining time shows up in the caller's next fence.
//
// It is built from an MPI communicator: rank 0 makes the ncclUniqueId and
// broadcasts it over MPI. Select the CUDA device (cudaSetDevice) before
// constructing it. The header names the CUDA and NCCL handle types only by
// their forward-declared structs, so users need neither cuda_runtime.h nor nccl.h.
//
// barrier() synchronizes the stream, then calls MPI_Barrier.
// Errors: phantom::Error with the collective's name and ncclGetErrorString /
// cudaGetErrorString text. Host buffers are rejected (InvalidArgument).
#pragma once

#include <mpi.h>

#include "phantom/comm/communicator.hpp"

struct CUstream_st;  // cudaStream_t is CUstream_st*
struct CUevent_st;   // cudaEvent_t is CUevent_st*
struct ncclComm;     // ncclComm_t is ncclComm*

namespace phantom {

class NcclCommunicator final : public Communicator {
 public:
  // Collective over comm (which it duplicates). stream == nullptr: create one.
  explicit NcclCommunicator(MPI_Comm comm, CUstream_st* stream = nullptr);
  ~NcclCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "nccl"; }
  // Splits the MPI communicator and builds a new NCCL communicator on the same stream.
  std::unique_ptr<Communicator> split(int color, int key) override;

  CUstream_st* stream() const { return stream_; }
  ncclComm* nccl_comm() const { return comm_; }

 protected:
  void order_after_producer(const ExecutionOrder& order, Collective c) override;
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
  // Enqueues one collective on the stream (no synchronization).
  void enqueue(Collective c, const ConstBuffer& send, const Buffer& recv, int root = 0);
  void synchronize(Collective c);
  std::unique_ptr<detail::PendingOperation> record(Collective c, const ExecutionOrder& order);

  MPI_Comm mpi_comm_ = MPI_COMM_NULL;  // owned duplicate: bootstrap and split
  ncclComm* comm_ = nullptr;
  CUstream_st* stream_ = nullptr;
  CUevent_st* producer_ready_ = nullptr;  // recorded on the caller's stream
  bool owns_stream_ = false;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace phantom
