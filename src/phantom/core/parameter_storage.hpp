// One contiguous buffer for all of a rank's parameter values and one for their
// gradients, with each layer's matrices and vectors as views into them: an
// all-reduce of a slice reduces the gradients of consecutive layers in one
// call (data parallelism's buckets), and a pass over the buffer touches every
// parameter (docs/core.md). Layers allocate their own tensors; the network
// then moves them here with bind_storage(), in two passes: one that measures,
// one that moves.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "phantom/core/error.hpp"

namespace phantom {

template <class Scalar, class Space>
class ParameterStorage {
 public:
  using Flat = Kokkos::View<Scalar*, Space>;

  explicit ParameterStorage(const Space& space = Space()) : space_(space) {}

  // Called by a layer's bind_storage for each parameter and its gradient (same
  // shape): measured in the first pass, moved into the buffers in the second
  // (value copied, gradient zeroed), the layer's views then pointing there.
  template <class View>
  void bind(View& value, View& grad) {
    static_assert(View::rank == 1 || View::rank == 2, "parameters are vectors or matrices");
    if (value.size() != grad.size())
      throw ShapeError("ParameterStorage::bind: value and gradient differ in size");
    // Packed end to end, no padding: a slice of the buffer holds exactly the
    // parameters its all-reduce is counted for (docs/communicators.md).
    const std::size_t n = value.size();
    if (measuring_) {
      size_ += n;
      return;
    }
    if (offset_ + n > size_)
      throw Error("ParameterStorage::bind: the second pass binds more than the first measured");
    View v = at(values_, value), g = at(gradients_, grad);
    Kokkos::deep_copy(space_, v, value);
    value = v;
    grad = g;
    offset_ += n;
  }

  // Ends the measuring pass: allocates both buffers (zeros).
  void allocate() {
    values_ = Flat(Kokkos::view_alloc(space_, std::string("phantom::parameters")), size_);
    gradients_ = Flat(Kokkos::view_alloc(space_, std::string("phantom::gradients")), size_);
    measuring_ = false;
  }

  // Marks the start and end of a layer's tensors in the second pass.
  void begin_layer() { layer_begin_ = offset_; }
  void end_layer() { layers_.emplace_back(layer_begin_, offset_); }

  const Flat& values() const { return values_; }
  const Flat& gradients() const { return gradients_; }
  std::size_t size() const { return size_; }
  // [begin, end) of layer l's tensors in the buffers.
  const std::pair<std::size_t, std::size_t>& layer_range(std::size_t l) const {
    return layers_.at(l);
  }
  std::size_t layer_count() const { return layers_.size(); }

 private:
  template <class View>
  View at(const Flat& buffer, const View& like) const {
    Scalar* p = buffer.data() + offset_;
    if constexpr (View::rank == 1)
      return View(p, like.extent(0));
    else
      return View(p, like.extent(0), like.extent(1));
  }

  Space space_;
  Flat values_, gradients_;
  std::size_t size_ = 0, offset_ = 0, layer_begin_ = 0;
  bool measuring_ = true;
  std::vector<std::pair<std::size_t, std::size_t>> layers_;
};

}  // namespace phantom
