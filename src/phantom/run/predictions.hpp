// The model's outputs for every row of a data set: what phantom-train --infer
// writes to output.predictions, and what an embedding code calls to evaluate
// a trained session on its own data.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>

#include "phantom/data/teacher.hpp"
#include "phantom/io/hdf5_dataset.hpp"
#include "phantom/run/session.hpp"

namespace phantom::run {

// Forward passes over `data` in batches of `batch` rows (the last one
// partial); returns the inputs as x and the network's outputs as y (for a
// cross_entropy model: the logits), row-major on the host of every rank (the
// output layer all-reduces, so every rank holds them). Collective.
template <class Scalar, class Space>
HostDataset predict_dataset(Session<Scalar, Space>& session, const Dataset<Scalar, Space>& data,
                            std::size_t batch) {
  if (batch == 0) throw InvalidArgument("predict_dataset: batch must be positive");
  using M = Matrix<Scalar, Space>;
  const std::size_t n = data.size(), in = data.x.extent(1),
                    out = session.config().network.shape.output_dim;
  HostDataset h;
  h.rows = n;
  h.x_cols = in;
  h.y_cols = out;
  h.x.resize(n * in);
  h.y.resize(n * out);
  M xb;
  for (std::size_t begin = 0; begin < n; begin += batch) {
    const std::size_t rows = std::min(batch, n - begin);
    if (xb.extent(0) != rows) xb = M("phantom::predict_dataset::x", rows, in);
    Kokkos::deep_copy(session.space(), xb,
                      Kokkos::subview(data.x, Kokkos::make_pair(begin, begin + rows), Kokkos::ALL));
    const M yb = session.predict(xb);
    auto xh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), xb);
    auto yh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), yb);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < in; ++j) h.x[(begin + i) * in + j] = double(xh(i, j));
      for (std::size_t j = 0; j < out; ++j) h.y[(begin + i) * out + j] = double(yh(i, j));
    }
  }
  return h;
}

}  // namespace phantom::run
