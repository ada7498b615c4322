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

// The update kernels, free functions so that device lambdas may live in them
// (nvcc refuses extended lambdas in private member functions).

// v = mu v + g;  p -= lr v
// keep = 1 - lr wd (1: no decay, and then no multiplication either, so the
// result is bitwise that of the plain update).
template <class ExecSpace, class Flat, class State, class Scalar>
void sgd_update(const ExecSpace& space, const Flat& value, const Flat& grad, const State& v,
                Scalar lr, Scalar mu, Scalar keep) {
  const bool decay = keep != Scalar(1);
  Kokkos::parallel_for(
      "phantom::sgd", Kokkos::RangePolicy<ExecSpace>(space, 0, value.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        const Scalar vi = mu * v(i) + grad(i);
        v(i) = vi;
        if (decay) value(i) *= keep;
        value(i) -= lr * vi;
      });
}

// As PyTorch computes it: denom = sqrt(v) / sqrt(1 - b2^t) + eps,
// p -= (lr / (1 - b1^t)) * m / denom; the constant factors are hoisted into
// step_size and inv_sqrt_c2.
template <class ExecSpace, class Flat, class State, class Scalar>
void adam_update(const ExecSpace& space, const Flat& value, const Flat& grad, const State& m,
                 const State& v, Scalar b1, Scalar b2, Scalar eps, Scalar step_size,
                 Scalar inv_sqrt_c2, Scalar keep) {
  const bool decay = keep != Scalar(1);
  Kokkos::parallel_for(
      "phantom::adam", Kokkos::RangePolicy<ExecSpace>(space, 0, value.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        const Scalar g = grad(i);
        const Scalar mi = b1 * m(i) + (Scalar(1) - b1) * g;
        const Scalar vi = b2 * v(i) + (Scalar(1) - b2) * g * g;
        m(i) = mi;
        v(i) = vi;
        if (decay) value(i) *= keep;
        value(i) -= step_size * mi / (math::sqrt(vi) * inv_sqrt_c2 + eps);
      });
}

}  // namespace detail

// Runs its kernels on the execution-space instance it was given.
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
    const Scalar lr = Scalar(config_.learning_rate);
    const Scalar keep = Scalar(1 - config_.learning_rate * config_.weight_decay);
    if (config_.kind == OptimizerKind::sgd) {
      const Scalar mu = Scalar(config_.momentum);
      for (std::size_t i = 0; i < params.size(); ++i)
        detail::sgd_update(space_, params[i].value, params[i].grad, first_[i], lr, mu, keep);
      return;
    }
    const Scalar b1 = Scalar(config_.beta1), b2 = Scalar(config_.beta2);
    const Scalar eps = Scalar(config_.epsilon);
    const Scalar step_size =
        Scalar(config_.learning_rate / (1 - std::pow(config_.beta1, double(steps_))));
    const Scalar inv_sqrt_c2 = Scalar(1 / std::sqrt(1 - std::pow(config_.beta2, double(steps_))));
    for (std::size_t i = 0; i < params.size(); ++i)
      detail::adam_update(space_, params[i].value, params[i].grad, first_[i], second_[i], b1, b2,
                          eps, step_size, inv_sqrt_c2, keep);
  }

  long steps() const { return steps_; }
  void set_steps(long s) { steps_ = s; }
  const OptimizerConfig& config() const { return config_; }
  const Space& execution_space() const { return space_; }
  // Per parameter: momentum buffer (sgd) or first moment (adam); second moment (adam).
  std::vector<State>& first_moments() { return first_; }
  std::vector<State>& second_moments() { return second_; }
  void allocate_state(const ParameterList<Scalar, Space>& params) {
    if (first_.size() == params.size()) return;
    first_.clear();
    second_.clear();
    for (const auto& p : params) {
      first_.emplace_back(Kokkos::view_alloc(space_, p.name + ".m"), p.value.extent(0));
      if (config_.kind == OptimizerKind::adam)
        second_.emplace_back(Kokkos::view_alloc(space_, p.name + ".v"), p.value.extent(0));
    }
  }

 private:
  OptimizerConfig config_;
  Space space_;
  long steps_ = 0;
  std::vector<State> first_, second_;
};

}  // namespace phantom
