// The compressors on one process (no communicator): fp16/bf16 rounding,
// quantization error bounds and bit packing, TopK selection and error
// feedback, the autoencoder's gradients by finite differences, compressed
// sizes against hand-computed figures, and configuration errors. The
// compressors run on every execution space Kokkos enables; the scalar
// conversions, the size formulas and the configuration checks, which touch no
// view, are plain tests.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backends.hpp"
#include "phantom/compress/autoencoder.hpp"
#include "phantom/compress/compression_config.hpp"
#include "phantom/compress/float16.hpp"
#include "phantom/compress/quantize.hpp"
#include "phantom/compress/topk.hpp"
#include "phantom/core/random.hpp"

namespace {

using phantom::CompressionMethod;
template <class S, class Space>
using M = phantom::Matrix<S, Space>;
template <class Space>
using Bytes = Kokkos::View<unsigned char*, Space>;

template <class S, class Space>
std::vector<S> host(const M<S, Space>& m) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), m);
  return std::vector<S>(h.data(), h.data() + h.size());
}

template <class S, class Space>
M<S, Space> random_matrix(const Space& space, std::size_t rows, std::size_t cols,
                          std::uint64_t seed, double bound = 1.0) {
  M<S, Space> m("m", rows, cols);
  phantom::fill_uniform(space, m, seed, 3, bound);
  return m;
}

phantom::CompressionConfig config(CompressionMethod m) {
  phantom::CompressionConfig c;
  c.method = m;
  return c;
}

// --- fp16 / bf16 -------------------------------------------------------------

TEST(Float16, KnownEncodings) {
  EXPECT_EQ(phantom::to_fp16(1.0), 0x3C00);
  EXPECT_EQ(phantom::to_fp16(-2.0), 0xC000);
  EXPECT_EQ(phantom::to_fp16(65504.0), 0x7BFF);                     // largest normal
  EXPECT_EQ(phantom::to_fp16(65520.0), 0x7C00);                     // rounds up to inf
  EXPECT_EQ(phantom::to_fp16(65519.0), 0x7BFF);                     // just below: stays finite
  EXPECT_EQ(phantom::to_fp16(std::ldexp(1.0, -24)), 0x0001);        // smallest subnormal
  EXPECT_EQ(phantom::to_fp16(std::ldexp(1.0, -25)), 0x0000);        // tie: to even (0)
  EXPECT_EQ(phantom::to_fp16(std::ldexp(3.0, -26)), 0x0001);        // above the tie
  EXPECT_EQ(phantom::to_fp16(std::ldexp(3.0, -25)), 0x0002);        // tie 1.5 ulp: to even (2)
  EXPECT_EQ(phantom::to_fp16(1.0 + std::ldexp(1.0, -11)), 0x3C00);  // tie: to even
  EXPECT_EQ(phantom::to_fp16(1.0 + std::ldexp(3.0, -11)), 0x3C02);  // tie: to even (up)
  EXPECT_EQ(phantom::to_fp16(std::ldexp(1.0, -14) * (1 - std::ldexp(1.0, -12))), 0x0400);
  EXPECT_EQ(phantom::to_fp16(std::numeric_limits<double>::infinity()), 0x7C00);
  EXPECT_TRUE(std::isnan(phantom::from_fp16(phantom::to_fp16(std::nan("")))));
  EXPECT_EQ(phantom::to_bf16(1.0), 0x3F80);
  EXPECT_EQ(phantom::to_bf16(-1.0), 0xBF80);
  EXPECT_EQ(phantom::to_bf16(1.0 + std::ldexp(1.0, -8)), 0x3F80);  // tie: to even
  EXPECT_EQ(phantom::to_bf16(1.0 + std::ldexp(3.0, -8)), 0x3F82);
  EXPECT_EQ(phantom::to_bf16(3.0e38), 0x7F62);  // 3e38 = 1.7633 x 2^127 -> mantissa 0x62
  EXPECT_EQ(phantom::to_bf16(1.0e39), 0x7F80);  // past bf16's range: inf
}

// Every finite half and bfloat16 decodes and re-encodes to itself.
TEST(Float16, EveryFiniteValueRoundTrips) {
  for (unsigned h = 0; h < 0x10000; ++h) {
    const auto b = std::uint16_t(h);
    if ((b & 0x7C00) != 0x7C00) {
      ASSERT_EQ(phantom::to_fp16(phantom::from_fp16(b)), b) << h;
    }
    if ((b & 0x7F80) != 0x7F80) {
      ASSERT_EQ(phantom::to_bf16(phantom::from_bf16(b)), b) << h;
    }
  }
  EXPECT_EQ(phantom::from_fp16(0x3555), 0.333251953125);  // exact decoding
  EXPECT_EQ(phantom::from_fp16(0x0001), std::ldexp(1.0, -24));
}

// Relative error <= 2^-11 (fp16) and 2^-8 (bf16) over the normal range, and
// the result is the nearest representable value (neighbours are no closer).
TEST(Float16, RoundsToNearest) {
  for (int i = 0; i < 200000; ++i) {
    const double u = phantom::uniform01(5, 0, i), e = phantom::uniform01(5, 1, i);
    const double x =
        (i % 2 ? -1 : 1) * (1 + u) * std::ldexp(1.0, int(e * 28) - 14);  // [2^-14, 2^15)
    const std::uint16_t h = phantom::to_fp16(x);
    const double y = phantom::from_fp16(h);
    EXPECT_LE(std::abs(y - x), std::ldexp(std::abs(x), -11)) << x;
    EXPECT_LE(std::abs(y - x), std::abs(phantom::from_fp16(std::uint16_t(h + 1)) - x)) << x;
    EXPECT_LE(std::abs(y - x), std::abs(phantom::from_fp16(std::uint16_t(h - 1)) - x)) << x;
    const float xf = float(x * std::ldexp(1.0, int(e * 100) - 50));
    const double yf = phantom::from_bf16(phantom::to_bf16(xf));
    EXPECT_LE(std::abs(yf - double(xf)), std::ldexp(std::abs(double(xf)), -8)) << xf;
  }
}

// --- quantization --------------------------------------------------------------

template <class S, class Space>
void check_quantization_bound(const Space& space, CompressionMethod method, std::size_t rows) {
  const std::size_t cols = 6;
  M<S, Space> x = random_matrix<S>(space, rows, cols, 7 + rows, 3.0);
  Kokkos::deep_copy(Kokkos::subview(x, Kokkos::ALL, 2), S(0));  // an all-zero column
  const auto c = config(method);
  Bytes<Space> b("b", phantom::compressed_bytes(c, rows, cols, sizeof(S)));
  phantom::quantize(space, method, x, b);
  M<S, Space> y("y", rows, cols);
  phantom::dequantize(space, method, b, y, false);
  const auto hx = host(x), hy = host(y);
  const int bits = phantom::quantization_bits(method);
  const double eps = std::numeric_limits<S>::epsilon();
  bool changed = false;
  for (std::size_t j = 0; j < cols; ++j) {
    double scale = 0;
    for (std::size_t i = 0; i < rows; ++i)
      scale = std::max(scale, std::abs(double(hx[i + rows * j])));
    for (std::size_t i = 0; i < rows; ++i) {
      const double a = hx[i + rows * j], q = hy[i + rows * j];
      changed |= a != q;
      if (bits > 0) {
        const double levels = (1 << (bits - 1)) - 1;
        EXPECT_LE(std::abs(a - q), scale / (2 * levels) * (1 + 8 * eps) + 4 * eps * scale)
            << phantom::to_string(method) << " (" << i << "," << j << ")";
      } else {
        const double rel =
            method == CompressionMethod::fp16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
        const double subnormal = method == CompressionMethod::fp16 ? std::ldexp(1.0, -25) : 0.0;
        EXPECT_LE(std::abs(a - q), rel * std::abs(a) + subnormal) << phantom::to_string(method);
      }
    }
  }
  if (rows > 1) {
    EXPECT_TRUE(changed) << phantom::to_string(method) << " changed nothing";
  }
  // accumulate adds the decoded message
  M<S, Space> z("z", rows, cols);
  Kokkos::deep_copy(z, S(1));
  phantom::dequantize(space, method, b, z, true);
  const auto hz = host(z);
  for (std::size_t i = 0; i < hz.size(); ++i) EXPECT_EQ(hz[i], S(1) + hy[i]);
}

template <class Space>
class Quantize : public ::testing::Test {};
TYPED_TEST_SUITE(Quantize, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(Quantize, ErrorWithinBoundForEveryWidth) {
  const TypeParam space;
  for (auto m : {CompressionMethod::int8, CompressionMethod::int4, CompressionMethod::int2,
                 CompressionMethod::fp16, CompressionMethod::bf16})
    for (std::size_t rows : {1, 3, 7, 64}) {  // odd rows: codes that do not fill their last byte
      check_quantization_bound<float>(space, m, rows);
      check_quantization_bound<double>(space, m, rows);
    }
}

// Values on the quantization grid (q s / L, every code used) come back exactly:
// the bit packing loses nothing.
TYPED_TEST(Quantize, PackingRoundTripsEveryCode) {
  using Space = TypeParam;
  const Space space;
  for (auto m : {CompressionMethod::int8, CompressionMethod::int4, CompressionMethod::int2}) {
    const int levels = (1 << (phantom::quantization_bits(m) - 1)) - 1;
    const std::size_t rows = 2 * levels + 3, cols = 3;  // every code, then a few more
    M<double, Space> x("x", rows, cols);
    auto h = Kokkos::create_mirror_view(x);
    for (std::size_t j = 0; j < cols; ++j) {
      const double step = std::ldexp(1.0, -int(j));  // scale L step / L is exact
      for (std::size_t i = 0; i < rows; ++i) {
        const int q = int(i % std::size_t(2 * levels + 1)) - levels;
        h(i, j) = q * step;
      }
    }
    Kokkos::deep_copy(x, h);
    Bytes<Space> b("b", phantom::compressed_bytes(config(m), rows, cols, sizeof(double)));
    phantom::quantize(space, m, x, b);
    M<double, Space> y("y", rows, cols);
    phantom::dequantize(space, m, b, y, false);
    EXPECT_EQ(host(y), host(x)) << phantom::to_string(m);
  }
}

// --- TopK -----------------------------------------------------------------------

template <class Space>
class TopK : public ::testing::Test {};
TYPED_TEST_SUITE(TopK, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(TopK, FullFractionIsExact) {
  using Space = TypeParam;
  const Space space;
  const M<double, Space> x = random_matrix<double>(space, 5, 4, 11);
  phantom::TopK<double> t(1.0, false);
  Bytes<Space> b("b", t.bytes(5, 4));
  t.encode(space, x, b);
  M<double, Space> y("y", 5, 4);
  t.decode(space, b, y, false);
  EXPECT_EQ(host(y), host(x));
}

TYPED_TEST(TopK, KeepsTheLargestMagnitudes) {
  using Space = TypeParam;
  const Space space;
  const std::size_t rows = 6, cols = 5, n = rows * cols;
  const M<double, Space> x = random_matrix<double>(space, rows, cols, 12);
  phantom::TopK<double> t(0.2, false);
  EXPECT_EQ(t.count(rows, cols), 6u);
  Bytes<Space> b("b", t.bytes(rows, cols));
  t.encode(space, x, b);
  M<double, Space> y("y", rows, cols);
  Kokkos::deep_copy(y, 5.0);  // overwritten, not accumulated
  t.decode(space, b, y, false);
  const auto hx = host(x), hy = host(y);
  std::vector<double> mags;
  for (double v : hx) mags.push_back(std::abs(v));
  std::sort(mags.rbegin(), mags.rend());
  const double threshold = mags[5];  // the 6th largest
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (hy[i] != 0) {
      ++kept;
      EXPECT_EQ(hy[i], hx[i]);
      EXPECT_GE(std::abs(hx[i]), threshold);
    } else {
      EXPECT_LE(std::abs(hx[i]), threshold);
    }
  }
  EXPECT_EQ(kept, 6u);
}

// Equal magnitudes: the lowest indices win, whatever the sign.
TYPED_TEST(TopK, TiesGoToTheLowerIndex) {
  using Space = TypeParam;
  const Space space;
  M<double, Space> x("x", 4, 3);
  auto h = Kokkos::create_mirror_view(x);
  for (std::size_t i = 0; i < h.size(); ++i) h.data()[i] = i % 2 ? -1.0 : 1.0;
  h(3, 2) = 2.0;  // the largest, last
  Kokkos::deep_copy(x, h);
  phantom::TopK<double> t(0.25, false);  // K = 3
  Bytes<Space> b("b", t.bytes(4, 3));
  t.encode(space, x, b);
  M<double, Space> y("y", 4, 3);
  t.decode(space, b, y, false);
  std::vector<double> expected(12, 0.0);
  expected[0] = 1.0;
  expected[1] = -1.0;
  expected[11] = 2.0;
  EXPECT_EQ(host(y), expected);
  Kokkos::deep_copy(x, std::nan(""));
  EXPECT_THROW(t.encode(space, x, b), phantom::Error);
}

// With error feedback nothing is lost: after a message x and enough zero
// messages, the decoded messages add up to x exactly, and the remainder is
// always what has not been sent yet.
TYPED_TEST(TopK, ErrorFeedbackCarriesTheRemainder) {
  using Space = TypeParam;
  const Space space;
  const std::size_t rows = 4, cols = 5, n = rows * cols;
  const M<double, Space> x = random_matrix<double>(space, rows, cols, 13);
  const M<double, Space> zero("zero", rows, cols);
  phantom::TopK<double> t(0.25, true);  // 5 of 20 per message
  Bytes<Space> b("b", t.bytes(rows, cols));
  M<double, Space> sum("sum", rows, cols);
  t.encode(space, x, b);
  t.decode(space, b, sum, true);
  const auto hx = host(x);
  {
    const auto hs = host(sum);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(t.remainder()[i] + hs[i], hx[i]);
    std::size_t left = 0;
    for (double r : t.remainder()) left += r != 0;
    EXPECT_EQ(left, 15u);
  }
  for (int step = 0; step < 3; ++step) {
    t.encode(space, zero, b);
    t.decode(space, b, sum, true);
  }
  EXPECT_EQ(host(sum), hx);
  for (double r : t.remainder()) EXPECT_EQ(r, 0.0);
  // Without error feedback the dropped values are gone.
  phantom::TopK<double> plain(0.25, false);
  M<double, Space> once("once", rows, cols);
  plain.encode(space, x, b);
  plain.decode(space, b, once, true);
  plain.encode(space, zero, b);
  plain.decode(space, b, once, true);
  EXPECT_NE(host(once), hx);
  EXPECT_TRUE(plain.remainder().empty());
}

// --- sizes ----------------------------------------------------------------------

TEST(CompressedBytes, HandComputedSizes) {
  using phantom::compressed_bytes;
  auto c = config(CompressionMethod::none);
  EXPECT_EQ(compressed_bytes(c, 5, 3, 4), 60u);
  c.method = CompressionMethod::int8;  // 3 columns x (5 codes + 4-byte scale)
  EXPECT_EQ(compressed_bytes(c, 5, 3, 4), 27u);
  c.method = CompressionMethod::int4;  // 3 x (ceil(20 / 8) = 3 + 4)
  EXPECT_EQ(compressed_bytes(c, 5, 3, 4), 21u);
  c.method = CompressionMethod::int2;  // 3 x (ceil(10 / 8) = 2 + 8)
  EXPECT_EQ(compressed_bytes(c, 5, 3, 8), 30u);
  c.method = CompressionMethod::fp16;
  EXPECT_EQ(compressed_bytes(c, 5, 3, 8), 30u);
  c.method = CompressionMethod::bf16;
  EXPECT_EQ(compressed_bytes(c, 5, 3, 4), 30u);
  c.method = CompressionMethod::topk;
  c.topk_fraction = 0.1;  // K = round(3) = 3, 3 x (4 + 4)
  EXPECT_EQ(compressed_bytes(c, 10, 3, 4), 24u);
  c.topk_fraction = 0.001;  // at least one value
  EXPECT_EQ(compressed_bytes(c, 10, 3, 8), 12u);
  c.method = CompressionMethod::ae;
  c.ae_dim = 7;
  EXPECT_EQ(compressed_bytes(c, 10, 300, 4), 280u);
  // collectives: all-gather / reduce-scatter (p-1) blocks, all-reduce 2 (p-1) blocks of n/p
  c.method = CompressionMethod::int8;
  EXPECT_EQ(phantom::compressed_allgather_bytes(c, 5, 3, 4, 4), 81.0);
  EXPECT_EQ(phantom::compressed_reduce_scatter_bytes(c, 5, 3, 4, 4), 81.0);
  EXPECT_EQ(phantom::compressed_allreduce_bytes(c, 5, 12, 4, 4), 162.0);
  c.method = CompressionMethod::none;
  EXPECT_EQ(phantom::compressed_allreduce_bytes(c, 5, 12, 4, 4), 2.0 * 3 * 240 / 4);
}

// The encoders write exactly compressed_bytes(): a guard byte after the
// message is never touched.
template <class Space>
class CompressedBytes : public ::testing::Test {};
TYPED_TEST_SUITE(CompressedBytes, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(CompressedBytes, EncodersFillExactlyTheirSize) {
  using Space = TypeParam;
  const Space space;
  for (auto m : {CompressionMethod::int8, CompressionMethod::int4, CompressionMethod::int2,
                 CompressionMethod::fp16, CompressionMethod::bf16, CompressionMethod::topk}) {
    auto c = config(m);
    c.topk_fraction = 0.3;
    const std::size_t rows = 5, cols = 3, size = phantom::compressed_bytes(c, rows, cols, 4);
    Bytes<Space> b("b", size + 1);
    Kokkos::deep_copy(b, 0xAB);
    const M<float, Space> x = random_matrix<float>(space, rows, cols, 21);
    const auto msg = Kokkos::subview(b, Kokkos::make_pair(std::size_t(0), size));
    if (m == CompressionMethod::topk)
      phantom::TopK<float>(0.3, false).encode(space, x, msg);
    else
      phantom::quantize(space, m, x, msg);
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b);
    EXPECT_EQ(h(size), 0xAB) << phantom::to_string(m);
  }
}

// --- autoencoder ----------------------------------------------------------------

// L = sum(w .* decode(encode(x))): dL/dy = w. Finite differences in double.
template <class Space>
class Autoencoder : public ::testing::Test {};
TYPED_TEST_SUITE(Autoencoder, phantom_test::ExecutionSpaces, phantom_test::SpaceName);

TYPED_TEST(Autoencoder, GradientsMatchFiniteDifferences) {
  using Space = TypeParam;
  const Space space;
  const std::size_t B = 3, n = 6, e = 2;
  phantom::Autoencoder<double, Space> ae("layer_001", n, e, 0, 1, space);
  ae.initialize(4, 1);
  const M<double, Space> x = random_matrix<double>(space, B, n, 31),
                         w = random_matrix<double>(space, B, n, 32);
  M<double, Space> y("y", B, n);
  auto loss = [&] {
    const M<double, Space> code = ae.encode(x);
    ae.decode(code, y);
    double l = 0;
    const auto hy = host(y), hw = host(w);
    for (std::size_t i = 0; i < hy.size(); ++i) l += hy[i] * hw[i];
    return l;
  };
  loss();
  M<double, Space> h("h", B, e);
  Kokkos::deep_copy(h, ae.encode(x));
  const std::vector<double> dx = host(M<double, Space>(ae.backward(w, h, x)));
  const auto params = ae.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name, "layer_001.ae_encoder");
  EXPECT_EQ(params[1].name, "layer_001.ae_decoder");
  EXPECT_TRUE(params[1].placement.replicated);
  const double step = 1e-6;
  for (const auto& p : params) {
    auto v = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.value);
    auto g = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.grad);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double keep = v(i);
      v(i) = keep + step;
      Kokkos::deep_copy(p.value, v);
      const double up = loss();
      v(i) = keep - step;
      Kokkos::deep_copy(p.value, v);
      const double down = loss();
      v(i) = keep;
      Kokkos::deep_copy(p.value, v);
      EXPECT_NEAR(g(i), (up - down) / (2 * step), 1e-8) << p.name << " " << i;
    }
  }
  auto hx = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), x);
  for (std::size_t i = 0; i < hx.size(); ++i) {
    const double keep = hx.data()[i];
    hx.data()[i] = keep + step;
    Kokkos::deep_copy(x, hx);
    const double up = loss();
    hx.data()[i] = keep - step;
    Kokkos::deep_copy(x, hx);
    const double down = loss();
    hx.data()[i] = keep;
    Kokkos::deep_copy(x, hx);
    EXPECT_NEAR(dx[i], (up - down) / (2 * step), 1e-8) << "x " << i;
  }
}

// --- configuration --------------------------------------------------------------

TEST(CompressionConfig, ParsingAndValidation) {
  EXPECT_EQ(phantom::parse_compression_method("int4"), CompressionMethod::int4);
  EXPECT_EQ(phantom::parse_compressed_messages("backward"), phantom::CompressedMessages::backward);
  auto error = [](auto&& f) {
    try {
      f();
    } catch (const phantom::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error([] { phantom::parse_compression_method("int3"); }),
            "unknown compression method 'int3' (allowed: none, int8, int4, int2, fp16, bf16, "
            "topk, ae)");
  auto c = config(CompressionMethod::topk);
  c.topk_fraction = 0;
  EXPECT_EQ(error([&] { phantom::validate(c, 8); }),
            "compression: topk_fraction must be in (0, 1], got 0.000000");
  c.topk_fraction = 1.5;
  EXPECT_NE(error([&] { phantom::validate(c, 8); }), "no error");
  c.topk_fraction = 1;
  EXPECT_EQ(error([&] { phantom::validate(c, 8); }), "no error");
  c = config(CompressionMethod::ae);
  c.messages = phantom::CompressedMessages::forward;
  c.ae_dim = 9;
  EXPECT_EQ(error([&] { phantom::validate(c, 8); }),
            "compression: ae_dim must be in [1, width = 8], got 9");
  c.ae_dim = 0;
  EXPECT_NE(error([&] { phantom::validate(c, 8); }), "no error");
  c.ae_dim = 8;
  EXPECT_EQ(error([&] { phantom::validate(c, 8); }), "no error");
  c.messages = phantom::CompressedMessages::both;
  EXPECT_NE(error([&] { phantom::validate(c, 8); }).find("forward activations only"),
            std::string::npos);
  c = config(CompressionMethod::int8);
  c.error_feedback = true;
  EXPECT_EQ(error([&] { phantom::validate(c, 8); }),
            "compression: error_feedback applies to method 'topk' only, not 'int8'");
  // which messages a layer compresses
  c = config(CompressionMethod::int8);
  c.first_layer = 2;
  c.messages = phantom::CompressedMessages::backward;
  EXPECT_FALSE(c.applies(1, false));
  EXPECT_TRUE(c.applies(2, false));
  EXPECT_FALSE(c.applies(2, true));
  EXPECT_FALSE(config(CompressionMethod::none).applies(3, true));
}

}  // namespace
