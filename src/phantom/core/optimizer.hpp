// Optimizers with PyTorch's update rules, over a list of flat parameters.
//   sgd:  v = momentum * v + g;  p -= lr * v          (v starts at 0, so v = g first)
//   adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//         p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// With weight_decay wd > 0 the decay is decoupled (AdamW, SGDW): first
// p *= 1 - lr wd, then the update above (PyTorch's AdamW exactly; PyTorch's
// SGD weight_decay is instead added to the gradient).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "phantom/core/elementwise.hpp"
#include "phantom/core/error.hpp"
#include "phantom/core/kokkos_compat.hpp"
#include "phantom/core/parameter.hpp"

namespace phantom {

enum class OptimizerKind { sgd, adam };

inline OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "sgd") return OptimizerKind::sgd;
  if (name == "adam") return OptimizerKind::adam;
  throw InvalidArgument("unknown optimizer '" + name + "' (allowed: sgd, adam)");
}

inline const char* to_string(OptimizerKind k) {
  return k == OptimizerKind::sgd ? "sgd" : "adam";
}

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  double learning_rate = 1e-2;
  double momentum = 0.0;    // sgd
  double beta1 = 0.9;       // adam
  double beta2 = 0.999;     // adam
  double epsilon = 1e-8;    // adam
  double weight_decay = 0;  // decoupled: p *= 1 - lr weight_decay before the update
};

namespace detail {

// The update kernels over n consecutive elements from raw pointers (a rank's
// contiguous parameter storage, or one parameter), as free functions so that
// device lambdas may live in them (nvcc refuses extended lambdas in private
// member functions). keep = 1 - lr wd: 1 without decay, and x * 1 == x
// exactly, so the plain update is bitwise the same as without the factor.

// v = mu v + g;  p = keep p - lr v
template <class ExecSpace, class Scalar>
void sgd_update(const ExecSpace& space, Scalar* value, const Scalar* grad, Scalar* v, std::size_t n,
                Scalar lr, Scalar mu, Scalar keep) {
  for_each_run(
      space, "phantom::sgd", n, KOKKOS_LAMBDA(std::size_t begin, std::size_t end) {
        Scalar* __restrict p = value;
        const Scalar* __restrict g = grad;
        Scalar* __restrict vel = v;
        for (std::size_t i = begin; i < end; ++i) {
          const Scalar vi = mu * vel[i] + g[i];
          vel[i] = vi;
          p[i] = p[i] * keep - lr * vi;
        }
      });
}

// As PyTorch computes it: denom = sqrt(v) / sqrt(1 - b2^t) + eps,
// p -= (lr / (1 - b1^t)) * m / denom; the constant factors are hoisted into
// step_size and inv_sqrt_c2.
template <class ExecSpace, class Scalar>
void adam_update(const ExecSpace& space, Scalar* value, const Scalar* grad, Scalar* m, Scalar* v,
                 std::size_t n, Scalar b1, Scalar b2, Scalar eps, Scalar step_size,
                 Scalar inv_sqrt_c2, Scalar keep) {
  for_each_run(
      space, "phantom::adam", n, KOKKOS_LAMBDA(std::size_t begin, std::size_t end) {
        Scalar* __restrict p = value;
        const Scalar* __restrict g = grad;
        Scalar* __restrict mom = m;
        Scalar* __restrict sec = v;
        for (std::size_t i = begin; i < end; ++i) {
          const Scalar gi = g[i];
          const Scalar mi = b1 * mom[i] + (Scalar(1) - b1) * gi;
          const Scalar vi = b2 * sec[i] + (Scalar(1) - b2) * gi * gi;
          mom[i] = mi;
          sec[i] = vi;
          p[i] = p[i] * keep - step_size * mi / (math::sqrt(vi) * inv_sqrt_c2 + eps);
        }
      });
}

// True when the parameters' values, and their gradients, lie end to end in
// memory (a network's ParameterStorage): one pass then updates them all.
template <class Scalar, class Space>
bool contiguous(const ParameterList<Scalar, Space>& params) {
  for (std::size_t i = 1; i < params.size(); ++i) {
    const auto& a = params[i - 1];
    const auto& b = params[i];
    if (b.value.data() != a.value.data() + a.value.size() ||
        b.grad.data() != a.grad.data() + a.grad.size())
      return false;
  }
  return true;
}

}  // namespace detail

// Runs its kernels on the execution-space instance it was given. Its state
// (momentum, or Adam's two moments) is one buffer per moment in the order of
// the parameters; when the parameters themselves are contiguous (a network's
// ParameterStorage) a step is one fused pass over all of them.
template <class Scalar, class Space>
class Optimizer {
 public:
  using State = Kokkos::View<Scalar*, Space>;

  explicit Optimizer(const OptimizerConfig& config, const Space& space = Space())
      : config_(config), space_(space) {
    if (!(config.learning_rate > 0))
      throw InvalidArgument("optimizer: learning_rate must be > 0, got " +
                            std::to_string(config.learning_rate));
    if (config.momentum < 0 || config.momentum >= 1)
      throw InvalidArgument("optimizer: momentum must be in [0, 1), got " +
                            std::to_string(config.momentum));
    if (config.weight_decay < 0)
      throw InvalidArgument("optimizer: weight_decay must be >= 0, got " +
                            std::to_string(config.weight_decay));
  }

  // The rate of the next steps (a schedule sets it before each step).
  void set_learning_rate(double lr) { config_.learning_rate = lr; }

  // One update of every parameter from its gradient.
  void step(const ParameterList<Scalar, Space>& params) {
    allocate_state(params);
    ++steps_;
    // One pass over the whole span when it is contiguous, else one per parameter.
    const bool fused = detail::contiguous(params);
    const Scalar lr = Scalar(config_.learning_rate);
    const Scalar keep = Scalar(1 - config_.learning_rate * config_.weight_decay);
    const bool adam = config_.kind == OptimizerKind::adam;
    const Scalar mu = Scalar(config_.momentum);
    const Scalar b1 = Scalar(config_.beta1), b2 = Scalar(config_.beta2);
    const Scalar eps = Scalar(config_.epsilon);
    const Scalar step_size =
        Scalar(config_.learning_rate / (1 - std::pow(config_.beta1, double(steps_))));
    const Scalar inv_sqrt_c2 = Scalar(1 / std::sqrt(1 - std::pow(config_.beta2, double(steps_))));
    std::size_t offset = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      const std::size_t n = fused ? total_ : p.value.size();
      Scalar* m = first_all_.data() + offset;
      if (adam)
        detail::adam_update(space_, p.value.data(), p.grad.data(), m, second_all_.data() + offset,
                            n, b1, b2, eps, step_size, inv_sqrt_c2, keep);
      else
        detail::sgd_update(space_, p.value.data(), p.grad.data(), m, n, lr, mu, keep);
      if (fused) return;
      offset += n;
    }
  }

  long steps() const { return steps_; }
  void set_steps(long s) { steps_ = s; }
  const OptimizerConfig& config() const { return config_; }
  const Space& execution_space() const { return space_; }
  // Per parameter: momentum buffer (sgd) or first moment (adam); second moment
  // (adam). Views into the state buffers.
  std::vector<State>& first_moments() { return first_; }
  std::vector<State>& second_moments() { return second_; }
  void allocate_state(const ParameterList<Scalar, Space>& params) {
    if (first_.size() == params.size()) return;
    first_.clear();
    second_.clear();
    total_ = 0;
    for (const auto& p : params) total_ += p.value.size();
    const bool adam = config_.kind == OptimizerKind::adam;
    first_all_ = State(Kokkos::view_alloc(space_, std::string("phantom::optimizer.m")), total_);
    second_all_ =
        adam ? State(Kokkos::view_alloc(space_, std::string("phantom::optimizer.v")), total_)
             : State();
    std::size_t offset = 0;
    for (const auto& p : params) {
      const auto range = Kokkos::make_pair(offset, offset + p.value.size());
      first_.push_back(Kokkos::subview(first_all_, range));
      if (adam) second_.push_back(Kokkos::subview(second_all_, range));
      offset += p.value.size();
    }
  }

 private:
  OptimizerConfig config_;
  Space space_;
  long steps_ = 0;
  std::size_t total_ = 0;              // elements over all parameters
  State first_all_, second_all_;       // the state buffers
  std::vector<State> first_, second_;  // per parameter, views into them
};

}  // namespace phantom
