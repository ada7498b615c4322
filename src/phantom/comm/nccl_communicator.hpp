// Communicator over NCCL, for buffers in CUDA device memory (built with
// -DPHANTOM_ENABLE_NCCL=ON). Collectives run on one CUDA stream, created here
// or given by the caller. Blocking forms synchronize the stream before they
// return; non-blocking forms record a CUDA event after the NCCL call and
// Request::wait() synchronizes that event (test() queries it).
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
  void do_allgather(const ConstBuffer& send, const Buffer& recv) override;
  void do_reduce_scatter(const ConstBuffer& send, const Buffer& recv) override;
  void do_allreduce(const ConstBuffer& send, const Buffer& recv) override;
  void do_alltoall(const ConstBuffer& send, const Buffer& recv) override;
  void do_broadcast(const Buffer& buffer, int root) override;
  void do_barrier() override;
  std::unique_ptr<detail::PendingOperation> start_allgather(const ConstBuffer& send,
                                                            const Buffer& recv) override;
  std::unique_ptr<detail::PendingOperation> start_reduce_scatter(const ConstBuffer& send,
                                                                 const Buffer& recv) override;
  std::unique_ptr<detail::PendingOperation> start_allreduce(const ConstBuffer& send,
                                                            const Buffer& recv) override;

 private:
  // Enqueues one collective on the stream (no synchronization).
  void enqueue(Collective c, const ConstBuffer& send, const Buffer& recv, int root = 0);
  void synchronize(Collective c);
  std::unique_ptr<detail::PendingOperation> record(Collective c);

  MPI_Comm mpi_comm_ = MPI_COMM_NULL;  // owned duplicate: bootstrap and split
  ncclComm* comm_ = nullptr;
  CUstream_st* stream_ = nullptr;
  bool owns_stream_ = false;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace phantom
