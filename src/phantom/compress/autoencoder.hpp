// Learned linear autoencoder around an all-reduce (Bian et al.): rank r encodes
// its partial sum x_r (B x n) to c_r = x_r E_r^T (B x e) before the all-reduce,
// and every rank decodes the reduced code h = sum_r c_r to y = h D^T (B x n).
// Being linear, the encoder commutes with the sum, so the message stays an
// all-reduce, of e values per sample instead of n.
//
// Each rank owns its encoder E_r (e x n): dL/dE_r = (dL/dh)^T x_r needs only
// rank r's own x_r, whereas one encoder shared by all ranks would need the sum
// of those products, an extra all-reduce of e n values per step. E_r starts
// equal on every rank (the same draw) and is trained by its rank alone. The
// decoder D (n x e) is replicated: its gradient delta^T h is built from
// replicated values, so it is the same on every rank and so are its updates.
//   backward, given delta = dL/dy (replicated):
//     dD = delta^T h,  g = dL/dh = delta D,  dE_r = g^T x_r,  dL/dx_r = g E_r
// Checkpoints hold the encoders stacked as one (p e x n) tensor (rank r's rows
// [r e, (r+1) e)), so an autoencoder restarts only at its rank count.
#pragma once

#include <cmath>
#include <string>

#include "phantom/core/gemm.hpp"
#include "phantom/core/parameter.hpp"
#include "phantom/core/parameter_storage.hpp"
#include "phantom/core/random.hpp"
#include "phantom/core/types.hpp"

namespace phantom {

template <class Scalar, class Space = DefaultSpace>
class Autoencoder {
 public:
  using M = Matrix<Scalar, Space>;

  // prefix: the layer's name; width n; code width e (1 <= e <= n).
  Autoencoder(const std::string& prefix, std::size_t width, std::size_t dim, int rank, int ranks,
              const Space& space = Space())
      : space_(space),
        prefix_(prefix),
        rank_(std::size_t(rank)),
        ranks_(std::size_t(ranks)),
        encoder_(Kokkos::view_alloc(space, prefix + ".ae_encoder"), dim, width),
        decoder_(Kokkos::view_alloc(space, prefix + ".ae_decoder"), width, dim),
        dencoder_(Kokkos::view_alloc(space, prefix + ".ae_dencoder"), dim, width),
        ddecoder_(Kokkos::view_alloc(space, prefix + ".ae_ddecoder"), width, dim) {
    if (dim < 1 || dim > width)
      throw InvalidArgument(prefix + ": autoencoder dimension must be in [1, " +
                            std::to_string(width) + "], got " + std::to_string(dim));
  }

  // As nn.Linear without bias: E in +-1/sqrt(n), D in +-1/sqrt(e); E the same on every rank.
  void initialize(std::uint64_t seed, std::size_t layer) {
    fill_uniform_block(space_, encoder_, seed, streams::ae_encoder(layer),
                       1.0 / std::sqrt(double(width())), 0, 0, dim());
    fill_uniform_block(space_, decoder_, seed, streams::ae_decoder(layer),
                       1.0 / std::sqrt(double(dim())), 0, 0, width());
  }

  // c = x E^T (B x e), valid until the next encode.
  const M& encode(const M& x) {
    require_equal(x.extent(1), width(), prefix_ + " autoencoder", "input columns", "width");
    if (code_.extent(0) != x.extent(0)) {
      code_ = M(Kokkos::view_alloc(space_, prefix_ + ".ae_code"), x.extent(0), dim());
      dcode_ = M(Kokkos::view_alloc(space_, prefix_ + ".ae_dcode"), x.extent(0), dim());
      dx_ = M(Kokkos::view_alloc(space_, prefix_ + ".ae_dx"), x.extent(0), width());
    }
    gemm(space_, "N", "T", Scalar(1), x, encoder_, Scalar(0), code_);
    return code_;
  }

  // y = h D^T into y (B x n).
  void decode(const M& h, const M& y) const {
    gemm(space_, "N", "T", Scalar(1), h, decoder_, Scalar(0), y);
  }

  // delta = dL/dy, h the decoded code, x the encoded input; fills dD and dE_r
  // and returns dL/dx (B x n), valid until the next call.
  const M& backward(const M& delta, const M& h, const M& x) {
    gemm(space_, "T", "N", Scalar(1), delta, h, Scalar(0), ddecoder_);      // dD = delta^T h
    gemm(space_, "N", "N", Scalar(1), delta, decoder_, Scalar(0), dcode_);  // g = delta D
    gemm(space_, "T", "N", Scalar(1), dcode_, x, Scalar(0), dencoder_);     // dE_r = g^T x_r
    gemm(space_, "N", "N", Scalar(1), dcode_, encoder_, Scalar(0), dx_);    // dx_r = g E_r
    return dx_;
  }

  void bind_storage(ParameterStorage<Scalar, Space>& storage) {
    storage.bind(encoder_, dencoder_);
    storage.bind(decoder_, ddecoder_);
  }

  ParameterList<Scalar, Space> parameters() const {
    return {placed(make_parameter(prefix_ + ".ae_encoder", encoder_, dencoder_),
                   matrix_block(ranks_ * dim(), width(), rank_ * dim(), 0, dim(), width())),
            placed(make_parameter(prefix_ + ".ae_decoder", decoder_, ddecoder_),
                   replicated({width(), dim()}))};
  }
  // p e n encoder values (one encoder per rank) and n e decoder values.
  std::size_t global_parameter_count() const { return (ranks_ + 1) * dim() * width(); }
  // GEMM FLOPs per sample on this rank: encode and decode 2 n e each; backward
  // four products of 2 n e.
  double forward_flops_per_sample() const { return 4.0 * width() * dim(); }
  double backward_flops_per_sample() const { return 8.0 * width() * dim(); }

  std::size_t width() const { return encoder_.extent(1); }
  std::size_t dim() const { return encoder_.extent(0); }
  const M& encoder() const { return encoder_; }
  const M& decoder() const { return decoder_; }

 private:
  Space space_;
  std::string prefix_;
  std::size_t rank_, ranks_;
  M encoder_, decoder_, dencoder_, ddecoder_;
  M code_, dcode_, dx_;
};

}  // namespace phantom
