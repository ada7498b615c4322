// The interface every layer of a distributed network implements. A layer takes
// its input in the layout its strategy expects (replicated or this rank's
// shard of features) and reports what it costs on this rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"
#include "phantom/core/network_config.hpp"
#include "phantom/core/parameter.hpp"
#include "phantom/core/parameter_storage.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class DistributedLayer {
 public:
  using M = Matrix<Scalar, Space>;
  virtual ~DistributedLayer() = default;

  // Draws this rank's parameters from the seed (each layer documents how).
  virtual void initialize(std::uint64_t seed) = 0;
  // Returns the output, valid until the next forward. The input is kept (not
  // copied) for backward.
  virtual M forward(const M& x) = 0;
  // dy = dL/dy; fills the parameter gradients and returns dL/dx, or an empty
  // view for a layer built without input gradient (the network's first).
  virtual M backward(const M& dy) = 0;

  // This rank's parameters (replicated ones, such as a row-parallel bias, are
  // held and updated identically on every rank).
  virtual ParameterList<Scalar, Space> parameters() const = 0;
  // Moves the parameters and their gradients into the network's contiguous
  // storage (storage.bind for each, in the order of parameters()).
  virtual void bind_storage(ParameterStorage<Scalar, Space>& storage) = 0;
  // Parameters of the whole layer over all ranks, each counted once.
  virtual std::size_t global_parameter_count() const = 0;
  // GEMM FLOPs per sample on this rank.
  virtual double forward_flops_per_sample() const = 0;
  virtual double backward_flops_per_sample() const = 0;
  // Logical bytes this rank receives in one training step (forward + backward)
  // on a batch of `batch` samples, with the communicator's ring definitions
  // (docs/communicators.md). Per step, not per sample: compressed messages
  // carry per-message parts (quantization scales, TopK's rounded K).
  virtual double bytes_per_step(std::size_t batch) const = 0;
  virtual const std::string& name() const = 0;
  // This rank's TopK error-feedback remainders, in a fixed order (none for a
  // layer without them): training state a checkpoint keeps besides the
  // parameters.
  virtual void collect_remainders(std::vector<std::vector<Scalar>*>&) {}
};

}  // namespace phantom
