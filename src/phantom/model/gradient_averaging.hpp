// Data parallelism's gradient all-reduce. D replicas of a model-parallel
// network train on their shares of the global batch; each rank's gradients
// are averaged with the ranks holding the same shard in the other replicas.
// The network's gradients are one contiguous buffer (core/parameter_storage.hpp)
// cut into buckets of consecutive layers, from the output layer down, each at
// least bucket_values long (the last may be shorter). The backward pass runs
// from the output layer, so a bucket is complete once its lowest layer is
// done: its non-blocking all-reduce starts there (in place, on the network's
// instance) and overlaps the backward of the layers below. finish() waits for
// every bucket and divides by D, before the optimizer. Bytes: docs/communicators.md.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <utility>
#include <vector>

#include "phantom/comm/communicator.hpp"
#include "phantom/core/parameter_storage.hpp"
#include "phantom/core/profiling.hpp"

namespace phantom {

namespace detail {

template <class Scalar, class Space>
void scale_in_place(const Space& space, const Kokkos::View<Scalar*, Space>& v, Scalar factor) {
  Kokkos::parallel_for(
      "phantom::average_gradients", Kokkos::RangePolicy<Space>(space, 0, v.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) { v(i) *= factor; });
}

}  // namespace detail

template <class Scalar, class Space>
class GradientAverager {
 public:
  using Flat = Kokkos::View<Scalar*, Space>;

  // data: the ranks holding this rank's shard in every replica (size D).
  GradientAverager(Communicator& data, const ParameterStorage<Scalar, Space>& storage,
                   std::size_t bucket_values, const Space& space = Space())
      : data_(data), gradients_(storage.gradients()), space_(space) {
    const std::size_t layers = storage.layer_count();
    first_layer_of_bucket_.assign(layers, false);
    std::size_t begin = storage.size(), end = storage.size();
    for (std::size_t l = layers; l-- > 0;) {
      begin = storage.layer_range(l).first;
      if (end - begin >= bucket_values || l == 0) {
        if (end > begin) {
          first_layer_of_bucket_[l] = true;
          buckets_.emplace_back(begin, end);
        }
        end = begin;
      }
    }
    bucket_of_layer_.assign(layers, 0);
    for (std::size_t l = 0, b = buckets_.size(); l < layers; ++l) {
      if (first_layer_of_bucket_[l]) --b;
      bucket_of_layer_[l] = b;
    }
    requests_.resize(buckets_.size());
  }

  // Called after layer l's backward: polls the buckets in flight (MPI
  // libraries without a progress thread move them along only inside MPI
  // calls, comm/overlap.hpp), then starts l's bucket's all-reduce when l is
  // the bucket's lowest layer.
  void layer_done(std::size_t l) {
    for (auto& r : requests_)
      if (!r.done()) r.test();
    if (l >= first_layer_of_bucket_.size() || !first_layer_of_bucket_[l]) return;
    const std::size_t b = bucket_of_layer_[l];
    ProfilingRegion region("phantom::data_parallel");
    const auto slice = Kokkos::subview(gradients_, buckets_[b]);
    requests_[b] = data_.iallreduce(space_, slice, slice);
  }

  // Waits for every bucket and divides the sums by D.
  void finish() {
    ProfilingRegion region("phantom::data_parallel");
    for (auto& r : requests_) r.wait();
    if (data_.size() > 1) detail::scale_in_place(space_, gradients_, Scalar(1) / data_.size());
  }

  std::size_t bucket_count() const { return buckets_.size(); }
  // [begin, end) of bucket b in the gradient buffer; bucket 0 holds the output layer.
  const std::pair<std::size_t, std::size_t>& bucket(std::size_t b) const { return buckets_[b]; }

 private:
  Communicator& data_;
  Flat gradients_;
  Space space_;
  std::vector<std::pair<std::size_t, std::size_t>> buckets_;
  std::vector<bool> first_layer_of_bucket_;
  std::vector<std::size_t> bucket_of_layer_;
  std::vector<Request> requests_;
};

}  // namespace phantom
