// Losses over the network output y (batch x d) and target t (batch x d).
// Each returns the loss and writes dL/dy into dy.
//   mse:            L = 1/(B d) sum (y - t)^2           (mean over all elements,
//                   dL/dy = 2 (y - t) / (B d)            as PyTorch's default)
//   cross_entropy:  L = -1/B sum_i sum_j t_ij log softmax(y_i)_j
//                   dL/dy = (softmax(y) - t) / B         (t: one-hot or class
//                                                         probabilities per row)
#pragma once

#include <string>

#include "phantom/core/error.hpp"
#include "phantom/core/kokkos_compat.hpp"

namespace phantom {

enum class Loss { mse, cross_entropy };

inline const char* to_string(Loss l) {
  return l == Loss::mse ? "mse" : "cross_entropy";
}

inline Loss parse_loss(const std::string& name) {
  if (name == "mse") return Loss::mse;
  if (name == "cross_entropy") return Loss::cross_entropy;
  throw InvalidArgument("unknown loss '" + name + "' (allowed: mse, cross_entropy)");
}

template <class ExecSpace, class YView, class TView, class DYView>
double mse_loss(const ExecSpace& space, const YView& y, const TView& t, const DYView& dy) {
  using Scalar = typename DYView::non_const_value_type;
  const int rows = static_cast<int>(y.extent(0));
  const int cols = static_cast<int>(y.extent(1));
  const Scalar scale = Scalar(2) / Scalar(double(rows) * cols);
  double sum = 0;
  Kokkos::parallel_reduce(
      "phantom::mse_loss", Kokkos::RangePolicy<ExecSpace>(space, 0, rows),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (int j = 0; j < cols; ++j) {
          const Scalar e = y(i, j) - t(i, j);
          dy(i, j) = scale * e;
          acc += double(e) * double(e);
        }
      },
      sum);
  return sum / (double(rows) * cols);
}

template <class ExecSpace, class YView, class TView, class DYView>
double cross_entropy_loss(const ExecSpace& space, const YView& y, const TView& t,
                          const DYView& dy) {
  using Scalar = typename DYView::non_const_value_type;
  const int rows = static_cast<int>(y.extent(0));
  const int cols = static_cast<int>(y.extent(1));
  const Scalar inv_rows = Scalar(1) / Scalar(rows);
  double sum = 0;
  Kokkos::parallel_reduce(
      "phantom::cross_entropy_loss", Kokkos::RangePolicy<ExecSpace>(space, 0, rows),
      KOKKOS_LAMBDA(const int i, double& acc) {
        Scalar m = y(i, 0);  // subtract the row max for a stable log-sum-exp
        for (int j = 1; j < cols; ++j) m = y(i, j) > m ? y(i, j) : m;
        Scalar z = 0;
        for (int j = 0; j < cols; ++j) z += math::exp(y(i, j) - m);
        const Scalar log_z = m + math::log(z);
        for (int j = 0; j < cols; ++j) {
          const Scalar log_p = y(i, j) - log_z;
          acc -= double(t(i, j)) * double(log_p);
          dy(i, j) = (math::exp(log_p) - t(i, j)) * inv_rows;
        }
      },
      sum);
  return sum / rows;
}

// Dispatches on the loss kind after checking the three shapes agree.
template <class ExecSpace, class YView, class TView, class DYView>
double loss_and_gradient(const ExecSpace& space, Loss kind, const YView& y, const TView& t,
                         const DYView& dy) {
  require_equal(y.extent(0), t.extent(0), "loss", "output rows", "target rows");
  require_equal(y.extent(1), t.extent(1), "loss", "output columns", "target columns");
  require_equal(y.extent(0), dy.extent(0), "loss", "output rows", "gradient rows");
  require_equal(y.extent(1), dy.extent(1), "loss", "output columns", "gradient columns");
  if (y.extent(0) == 0 || y.extent(1) == 0)
    throw ShapeError("loss: empty output (" + std::to_string(y.extent(0)) + " x " +
                     std::to_string(y.extent(1)) + ")");
  return kind == Loss::mse ? mse_loss(space, y, t, dy) : cross_entropy_loss(space, y, t, dy);
}

}  // namespace phantom
