// Saving and restoring a network's parameters and optimizer state through a
// checkpoint file (checkpoint_file.hpp; schema in docs/checkpoint.md). Each
// rank contributes its block of every global tensor, as its parameters'
// Placement says, so tp and megatron checkpoints restart at any rank count.
#pragma once

#include <string>
#include <vector>

#include "phantom/core/optimizer.hpp"
#include "phantom/core/parameter.hpp"
#include "phantom/io/checkpoint_file.hpp"

namespace phantom {
namespace detail {

// "layer_001.local" -> "<prefix>/layer_001/local"
inline std::string dataset_path(const std::string& prefix, const std::string& parameter) {
  std::string p = parameter;
  p[p.find('.')] = '/';
  return prefix + "/" + p;
}

// This rank's column-major (rows x cols) values -> the row-major block of the placement.
inline std::vector<double> pack(const Placement& pl, std::size_t rows, std::size_t cols,
                                const std::vector<double>& local) {
  std::vector<double> block(rows * cols);
  if (pl.order == Placement::Order::transpose) {
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) block[i * cols + j] = local[i + rows * j];
    return block;
  }
  // decompress: local (m x (p-1)k), block [1][p][m][k], block s = r stays zero
  const std::size_t p = pl.count[1], m = pl.count[2], k = pl.count[3];
  block.assign(p * m * k, 0.0);
  for (std::size_t s = 0, jj = 0; s < p; ++s) {
    if (s == pl.rank) continue;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < k; ++j) block[(s * m + i) * k + j] = local[i + m * (jj * k + j)];
    ++jj;
  }
  return block;
}

// The inverse of pack.
inline std::vector<double> unpack(const Placement& pl, std::size_t rows, std::size_t cols,
                                  const std::vector<double>& block) {
  std::vector<double> local(rows * cols);
  if (pl.order == Placement::Order::transpose) {
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) local[i + rows * j] = block[i * cols + j];
    return local;
  }
  const std::size_t p = pl.count[1], m = pl.count[2], k = pl.count[3];
  for (std::size_t s = 0, jj = 0; s < p; ++s) {
    if (s == pl.rank) continue;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < k; ++j) local[i + m * (jj * k + j)] = block[(s * m + i) * k + j];
    ++jj;
  }
  return local;
}

template <class Flat>
std::vector<double> host_values(const Flat& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(h.data(), h.data() + h.size());
}

template <class Flat>
void set_values(const Flat& v, const std::vector<double>& values) {
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i)
    h(i) = typename Flat::non_const_value_type(values[i]);
  Kokkos::deep_copy(v, h);
}

// Every tensor the checkpoint holds for these parameters, paired with the
// flat view it comes from: model values, then optimizer state.
template <class Scalar, class Space>
struct TensorSource {
  CheckpointTensor tensor;
  typename Parameter<Scalar, Space>::Flat view;
  std::size_t rows, cols;
};

template <class Scalar, class Space>
std::vector<TensorSource<Scalar, Space>> tensor_sources(const ParameterList<Scalar, Space>& params,
                                                        Optimizer<Scalar, Space>& opt) {
  opt.allocate_state(params);
  std::vector<TensorSource<Scalar, Space>> out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    out.push_back({{dataset_path("model", p.name), p.placement, {}}, p.value, p.rows, p.cols});
    using Flat = typename Parameter<Scalar, Space>::Flat;
    out.push_back({{dataset_path("optimizer/first", p.name), p.placement, {}},
                   Flat(opt.first_moments()[i].data(), opt.first_moments()[i].size()),
                   p.rows,
                   p.cols});
    if (!opt.second_moments().empty())
      out.push_back({{dataset_path("optimizer/second", p.name), p.placement, {}},
                     Flat(opt.second_moments()[i].data(), opt.second_moments()[i].size()),
                     p.rows,
                     p.cols});
  }
  return out;
}

}  // namespace detail

// Writes parameters and optimizer state with info's attributes, then `extra`
// (e.g. feedback_checkpoint.hpp's tensors). Collective.
template <class Scalar, class Space>
void save_checkpoint(const std::string& path, MPI_Comm comm, CheckpointInfo info,
                     const ParameterList<Scalar, Space>& params, Optimizer<Scalar, Space>& opt,
                     const std::vector<CheckpointTensor>& extra = {}) {
  auto sources = detail::tensor_sources(params, opt);
  std::vector<CheckpointTensor> tensors;
  for (auto& s : sources) {
    s.tensor.block = detail::pack(s.tensor.placement, s.rows, s.cols, detail::host_values(s.view));
    tensors.push_back(std::move(s.tensor));
  }
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  info.optimizer = to_string(opt.config().kind);
  info.optimizer_steps = opt.steps();
  write_checkpoint_file(path, comm, info, tensors, sizeof(Scalar) == 4);
}

// Restores parameters and optimizer state (the caller has checked that info
// fits the model). Collective.
template <class Scalar, class Space>
void load_checkpoint(const std::string& path, MPI_Comm comm, const CheckpointInfo& info,
                     const ParameterList<Scalar, Space>& params, Optimizer<Scalar, Space>& opt) {
  auto sources = detail::tensor_sources(params, opt);
  std::vector<CheckpointTensor> tensors;
  for (auto& s : sources) tensors.push_back(s.tensor);
  read_checkpoint_tensors(path, comm, tensors);
  for (std::size_t i = 0; i < sources.size(); ++i)
    detail::set_values(sources[i].view, detail::unpack(tensors[i].placement, sources[i].rows,
                                                       sources[i].cols, tensors[i].block));
  opt.set_steps(info.optimizer_steps);
}

}  // namespace phantom
