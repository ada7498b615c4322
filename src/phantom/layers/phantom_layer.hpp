// Phantom-parallel (PP) hidden layer (SPEC.md). Rank r owns features
// [r m, (r+1) m) of a width-n layer, m = n / p, and holds
//   W_r (m x m) local block, b_r (m), C_r (k x m) ghost layer,
//   D_r = [D_{r,s}]_{s != r} (m x (p-1) k) decompression blocks, s ascending.
// Its input is the sharded activation x_r (B x m). Ghost values live in a
// (B x p k) buffer G whose column block s holds rank s's g_s.
//   forward:  g_r = x_r C_r^T                              (B x k)
//             G = all-gather(g_r)                           (p-1) k per sample
//             z_r = x_r W_r^T + sum_{s != r} g_s D_{r,s}^T + b_r, y_r = act(z_r)
//             overlap: x_r W_r^T while the gather is in flight
//   backward: delta_r = dy_r * act'(z_r)
//             h_{r->s} = delta_r D_{r,s}      into column block s of H (block r = 0)
//             psi_r = reduce-scatter(H) = sum_{s != r} h_{s->r}   (p-1) k per sample
//             dW_r = delta_r^T x_r, db_r, dD_{r,s} = delta_r^T g_s, dx_r = delta_r W_r
//                                             overlapped with the reduce-scatter
//             dC_r = psi_r^T x_r, dx_r += psi_r C_r
// Dense equivalence: the global layer's weight has block (r, r) = W_r and block
// (r, s) = D_{r,s} C_s.
// Every kernel, GEMM and collective runs on (or is ordered after) the
// execution-space instance the layer was built with.
#pragma once

#include <cmath>

#include "phantom/comm/communicator.hpp"
#include "phantom/comm/overlap.hpp"
#include "phantom/core/activation.hpp"
#include "phantom/core/bias.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/profiling.hpp"
#include "phantom/core/random.hpp"
#include "phantom/layers/activated_output.hpp"
#include "phantom/layers/dense_layer.hpp"
#include "phantom/layers/distributed_layer.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class PhantomLayer : public DistributedLayer<Scalar, Space> {
 public:
  using M = Matrix<Scalar, Space>;
  using V = Vector<Scalar, Space>;

  PhantomLayer(Communicator& comm, std::size_t width, std::size_t ghost, Activation activation,
               std::size_t layer, const Space& space = Space())
      : space_(space),
        comm_(comm),
        name_(layer_name(layer)),
        out_(name_, activation, space),
        layer_(layer),
        p_(std::size_t(comm.size())),
        r_(std::size_t(comm.rank())),
        m_(shard_size(width, comm.size(), "layer width")),
        k_(ghost),
        local_(alloc(".local"), m_, m_),
        bias_(alloc(".bias"), m_),
        ghost_(alloc(".ghost"), k_, m_),
        decompress_(alloc(".decompress"), m_, (p_ - 1) * k_),
        dlocal_(alloc(".dlocal"), m_, m_),
        dbias_(alloc(".dbias"), m_),
        dghost_(alloc(".dghost"), k_, m_),
        ddecompress_(alloc(".ddecompress"), m_, (p_ - 1) * k_) {
    if (k_ == 0) throw InvalidArgument(name_ + ": ghost (k) must be at least 1");
  }

  // W_r, b_r and D_r uniform in +-1/sqrt(m + (p-1) k), the effective fan-in of
  // z_r (m local inputs and (p-1) k ghost inputs); C_r in +-1/sqrt(m), the fan-in
  // of a ghost neuron. Each block is the rank's slice of a global tensor, so
  // the draw does not depend on which rank generates it.
  void initialize(std::uint64_t seed) override {
    const double bound = 1.0 / std::sqrt(double(m_ + (p_ - 1) * k_));
    fill_uniform_block(space_, local_, seed, streams::weight(layer_), bound, r_ * m_, 0, p_ * m_);
    fill_uniform_segment(space_, bias_, seed, streams::bias(layer_), bound, r_ * m_);
    fill_uniform_block(space_, ghost_, seed, streams::ghost(layer_), 1.0 / std::sqrt(double(m_)),
                       r_ * k_, 0, p_ * k_);
    fill_uniform_block(space_, decompress_, seed, streams::decompress(layer_), bound, r_ * m_, 0,
                       p_ * m_);
  }

  M forward(const M& x) override {
    ProfilingRegion region("phantom::pp::forward");
    require_equal(x.extent(1), m_, name_ + " forward", "input columns", "shard width");
    resize(x.extent(0));
    x_ = x;
    gemm(space_, "N", "T", Scalar(1), x, ghost_, Scalar(0), g_);  // g_r = x_r C_r^T
    auto gather = comm_.iallgather(space_, g_, ghosts_);          // ordered after g_r
    const M z = out_.z();
    // x_r W_r^T, polling the gather between GEMM blocks (comm/overlap.hpp)
    gemm_overlapping(space_, "N", "T", Scalar(1), x, local_, Scalar(0), z, gather);
    gather.wait();  // G is ready for the work enqueued on space_ from here on
    // z_r += G_{s<r} D_{r,s<r}^T + G_{s>r} D_{r,s>r}^T
    if (r_ > 0)
      gemm(space_, "N", "T", Scalar(1), ghosts_before(), decompress_before(), Scalar(1), z);
    if (r_ + 1 < p_)
      gemm(space_, "N", "T", Scalar(1), ghosts_after(), decompress_after(), Scalar(1), z);
    return out_.activate(bias_);  // z_r += b_r, y_r = act(z_r)
  }

  M backward(const M& dy) override {
    ProfilingRegion region("phantom::pp::backward");
    require_equal(dy.extent(0), x_.extent(0), name_ + " backward", "dy rows", "forward batch");
    require_equal(dy.extent(1), m_, name_ + " backward", "dy columns", "shard width");
    const M delta = out_.delta(dy, dbias_);  // and db_r
    // h_{r->s} = delta_r D_{r,s}; block r of H stays zero.
    if (r_ > 0)
      gemm(space_, "N", "N", Scalar(1), delta, decompress_before(), Scalar(0),
           columns(h_, 0, r_ * k_));
    if (r_ + 1 < p_)
      gemm(space_, "N", "N", Scalar(1), delta, decompress_after(), Scalar(0),
           columns(h_, (r_ + 1) * k_, p_ * k_));
    auto scatter = comm_.ireduce_scatter(space_, h_, psi_);  // ordered after H
    // Overlapped with the reduce-scatter:
    // dW_r = delta_r^T x_r, polling the reduce-scatter between GEMM blocks
    gemm_overlapping(space_, "T", "N", Scalar(1), delta, x_, Scalar(0), dlocal_, scatter);
    if (r_ > 0)  // dD_{r,s} = delta_r^T g_s
      gemm(space_, "T", "N", Scalar(1), delta, ghosts_before(), Scalar(0),
           columns(ddecompress_, 0, r_ * k_));
    if (r_ + 1 < p_)
      gemm(space_, "T", "N", Scalar(1), delta, ghosts_after(), Scalar(0),
           columns(ddecompress_, r_ * k_, (p_ - 1) * k_));
    gemm_overlapping(space_, "N", "N", Scalar(1), delta, local_, Scalar(0), dx_,
                     scatter);  // dx_r = delta_r W_r
    scatter.wait();             // psi is ready for the work enqueued on space_ from here on
    gemm(space_, "T", "N", Scalar(1), psi_, x_, Scalar(0), dghost_);  // dC_r = psi_r^T x_r
    gemm(space_, "N", "N", Scalar(1), psi_, ghost_, Scalar(1), dx_);  // dx_r += psi_r C_r
    return dx_;
  }

  void bind_storage(ParameterStorage<Scalar, Space>& storage) override {
    storage.bind(local_, dlocal_);
    storage.bind(bias_, dbias_);
    storage.bind(ghost_, dghost_);
    storage.bind(decompress_, ddecompress_);
  }

  // Global tensors (docs/checkpoint.md): local (p x m x m), bias (n),
  // ghost (p x k x m), decompress (p x p x m x k) with zero blocks s = r.
  ParameterList<Scalar, Space> parameters() const override {
    Placement decompress{{p_, p_, m_, k_}, {r_, 0, 0, 0}, {1, p_, m_, k_}};
    decompress.order = Placement::Order::decompress;
    decompress.rank = r_;
    return {
        placed(make_parameter(name_ + ".local", local_, dlocal_),
               Placement{{p_, m_, m_}, {r_, 0, 0}, {1, m_, m_}}),
        placed(make_parameter(name_ + ".bias", bias_, dbias_), vector_block(p_ * m_, r_ * m_, m_)),
        placed(make_parameter(name_ + ".ghost", ghost_, dghost_),
               Placement{{p_, k_, m_}, {r_, 0, 0}, {1, k_, m_}}),
        placed(make_parameter(name_ + ".decompress", decompress_, ddecompress_), decompress)};
  }
  // p (m^2 + m + k m + (p-1) k m)
  std::size_t global_parameter_count() const override {
    return p_ * (m_ * m_ + m_ + k_ * m_ + (p_ - 1) * k_ * m_);
  }
  // 2 m^2 + 2 k m + 2 (p-1) k m
  double forward_flops_per_sample() const override {
    return 2.0 * m_ * m_ + 2.0 * k_ * m_ + 2.0 * (p_ - 1) * k_ * m_;
  }
  // dW, dx: 4 m^2; h and dD: 4 (p-1) k m; dC and psi C: 4 k m
  double backward_flops_per_sample() const override {
    return 4.0 * m_ * m_ + 4.0 * (p_ - 1) * k_ * m_ + 4.0 * k_ * m_;
  }
  // all-gather of k and reduce-scatter to k: 2 (p-1) k
  double bytes_per_step(std::size_t batch) const override {
    return 2.0 * (p_ - 1) * k_ * batch * sizeof(Scalar);
  }
  const std::string& name() const override { return name_; }
  const Space& execution_space() const { return space_; }

  std::size_t ghost_count() const { return k_; }
  const M& local_weight() const { return local_; }
  const V& bias() const { return bias_; }
  const M& ghost_weight() const { return ghost_; }
  const M& decompress_weight() const { return decompress_; }
  const M& local_gradient() const { return dlocal_; }
  const V& bias_gradient_view() const { return dbias_; }
  const M& ghost_gradient() const { return dghost_; }
  const M& decompress_gradient() const { return ddecompress_; }

 private:
  // Ghost blocks of ranks before / after r in G, and the matching columns of D_r.
  auto ghosts_before() const { return columns(ghosts_, 0, r_ * k_); }
  auto ghosts_after() const { return columns(ghosts_, (r_ + 1) * k_, p_ * k_); }
  auto decompress_before() const { return columns(decompress_, 0, r_ * k_); }
  auto decompress_after() const { return columns(decompress_, r_ * k_, (p_ - 1) * k_); }

  // Allocation on this layer's instance, labelled with its name.
  auto alloc(const char* what) const { return Kokkos::view_alloc(space_, name_ + what); }

  void resize(std::size_t batch) {
    if (g_.extent(0) == batch) return;
    out_.resize(batch, m_);
    g_ = M(alloc(".g"), batch, k_);
    ghosts_ = M(alloc(".ghosts"), batch, p_ * k_);
    h_ = M(alloc(".h"), batch, p_ * k_);  // zero-initialised: block r is never written
    psi_ = M(alloc(".psi"), batch, k_);
    dx_ = M(alloc(".dx"), batch, m_);
  }

  Space space_;
  Communicator& comm_;
  std::string name_;
  ActivatedOutput<Scalar, Space> out_;
  std::size_t layer_, p_, r_, m_, k_;
  M local_;
  V bias_;
  M ghost_, decompress_;
  M dlocal_;
  V dbias_;
  M dghost_, ddecompress_;
  M x_, g_, ghosts_, h_, psi_, dx_;
};

}  // namespace phantom
