// TopK error-feedback remainders in checkpoints. A rank's remainders are K
// streams (in the network's order, DistributedFFN::feedback_remainders), each
// empty or one message long. The file holds them for every rank r of every
// replica d:
//   /compression/feedback_lengths  p x D x K  (double: exact counts)
//   /compression/feedback_values   p x D x W  (the model's precision; a rank's
//                                  streams one after the other, zero-padded
//                                  to W, the longest)
// Replica 0 writes the file, so the other replicas' remainders are gathered
// to it. They belong to their rank and replica counts: a restart at another p
// or D (or from a file without them) starts them from zero.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

#include "phantom/comm/first_error.hpp"
#include "phantom/io/checkpoint_file.hpp"

namespace phantom {
namespace detail {

inline CheckpointTensor feedback_tensor(const char* name, std::size_t p, std::size_t D,
                                        std::size_t width, std::size_t rank, std::size_t replica,
                                        std::size_t replicas_here) {
  CheckpointTensor t;
  t.path = std::string("compression/") + name;
  t.placement.dims = {p, D, width};
  t.placement.start = {rank, replica, 0};
  t.placement.count = {1, replicas_here, width};
  return t;
}

}  // namespace detail

// The tensors replica 0 writes for these remainders (none when there are no
// streams), and info's feedback attributes. Collective over every rank: each
// replica's rank r sends its state to replica 0's rank r over data_comm
// (MPI_COMM_NULL with one replica); replica 0's ranks then agree on W over
// model_comm.
template <class Scalar>
std::vector<CheckpointTensor> feedback_tensors(const std::vector<std::vector<Scalar>*>& remainders,
                                               MPI_Comm model_comm, MPI_Comm data_comm,
                                               CheckpointInfo& info) {
  const std::size_t K = remainders.size();
  info.feedback_streams = std::int64_t(K);
  info.feedback_width = 0;
  if (K == 0) return {};
  int rank = 0, p = 1, replica = 0, D = 1;
  MPI_Comm_rank(model_comm, &rank);
  MPI_Comm_size(model_comm, &p);
  if (data_comm != MPI_COMM_NULL) {
    MPI_Comm_rank(data_comm, &replica);
    MPI_Comm_size(data_comm, &D);
  }
  std::vector<double> lengths, values;
  for (const auto* r : remainders) {
    lengths.push_back(double(r->size()));
    values.insert(values.end(), r->begin(), r->end());
  }
  // Replica 0's rank r collects its replicas' lengths and values, in replica order.
  std::vector<double> all_lengths = lengths, all_values = values;
  std::vector<int> counts(std::size_t(D), int(values.size())), offsets(std::size_t(D), 0);
  if (D > 1) {
    all_lengths.resize(std::size_t(D) * K);
    MPI_Gather(lengths.data(), int(K), MPI_DOUBLE, all_lengths.data(), int(K), MPI_DOUBLE, 0,
               data_comm);
    int mine = int(values.size());
    MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, data_comm);
    std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
    all_values.resize(std::size_t(offsets.back() + counts.back()));
    MPI_Gatherv(values.data(), mine, MPI_DOUBLE, all_values.data(), counts.data(), offsets.data(),
                MPI_DOUBLE, 0, data_comm);
  }
  if (replica != 0) return {};
  // W: the longest state over every rank and replica (at least 1: a dataset
  // with a zero dimension cannot carry a checksum).
  unsigned long long width = 1;
  for (int c : counts) width = std::max<unsigned long long>(width, (unsigned long long)c);
  MPI_Allreduce(MPI_IN_PLACE, &width, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, model_comm);
  info.feedback_width = std::int64_t(width);
  auto len = detail::feedback_tensor("feedback_lengths", std::size_t(p), std::size_t(D), K,
                                     std::size_t(rank), 0, std::size_t(D));
  len.always_double = true;
  len.block = all_lengths;
  auto val = detail::feedback_tensor("feedback_values", std::size_t(p), std::size_t(D), width,
                                     std::size_t(rank), 0, std::size_t(D));
  val.block.assign(std::size_t(D) * width, 0.0);
  for (int d = 0; d < D; ++d)
    std::copy_n(all_values.begin() + offsets[std::size_t(d)], counts[std::size_t(d)],
                val.block.begin() + std::ptrdiff_t(std::size_t(d) * width));
  return {len, val};
}

// Restores this rank's remainders of replica `replica` from `path` when the
// file holds them for this network, rank count and replica count; returns
// whether it did (false: they stay as they are, empty in a new session).
// Collective over model_comm.
template <class Scalar>
bool restore_feedback(const std::string& path, const CheckpointInfo& info,
                      const std::vector<std::vector<Scalar>*>& remainders, MPI_Comm model_comm,
                      int replica, int replicas) {
  const std::size_t K = remainders.size();
  int rank = 0, p = 1;
  MPI_Comm_rank(model_comm, &rank);
  MPI_Comm_size(model_comm, &p);
  if (K == 0 || info.feedback_streams != std::int64_t(K) || info.ranks != p ||
      info.data_parallel != replicas || info.feedback_width < 1)
    return false;
  const auto width = std::size_t(info.feedback_width);
  std::vector<CheckpointTensor> t = {
      detail::feedback_tensor("feedback_lengths", std::size_t(p), std::size_t(replicas), K,
                              std::size_t(rank), std::size_t(replica), 1),
      detail::feedback_tensor("feedback_values", std::size_t(p), std::size_t(replicas), width,
                              std::size_t(rank), std::size_t(replica), 1)};
  read_checkpoint_tensors(path, model_comm, t);
  std::string error;  // every rank checks its own row; all fail alike
  double total = 0;
  for (std::size_t i = 0; i < K; ++i) {
    const double n = t[0].block[i];
    if (!(n >= 0 && n == double(std::size_t(n)))) total = double(width) + 1;
    total += n;
  }
  if (!(total <= double(width)))
    error = "checkpoint " + path +
            ": /compression/feedback_lengths does not fit /compression/feedback_values";
  error = first_error(model_comm, error);
  if (!error.empty()) throw CheckpointError(error);
  std::size_t at = 0;
  for (std::size_t i = 0; i < K; ++i) {
    const auto n = std::size_t(t[0].block[i]);
    remainders[i]->assign(t[1].block.begin() + std::ptrdiff_t(at),
                          t[1].block.begin() + std::ptrdiff_t(at + n));
    at += n;
  }
  return true;
}

}  // namespace phantom
