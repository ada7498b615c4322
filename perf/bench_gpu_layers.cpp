// One rank's work of a P-rank hidden layer on one device: pp against tp, the
// layer's GEMM rate against KokkosBlas (cuBLAS on a GPU) on exactly the layer's
// GEMM shapes, and energy per step from the chosen meter.
//
// A single device cannot hold P ranks, so the layer runs on a loopback
// communicator of size P: rank 0's shapes and GEMMs exactly, with every
// collective replaced by a copy of rank 0's own block on the device (no
// network). Times are therefore the per-rank compute of a P-rank layer; the
// communication is what docs/cost-model.md models. No MPI needed.
//
//   bench_gpu_layers [--ranks 8] [--widths 4096,8192,16384] [--batch 1024]
//                    [--ghost 16] [--reps 20] [--meter auto|nvml|model]
//
// Prints, per width and strategy: ms per forward+backward, the layer's GEMM
// TFLOP/s, the same GEMM shapes alone (KokkosBlas) in TFLOP/s, their ratio
// (target >= 0.6 on an H100/H200), and joules per step (measured, or modelled
// as labelled). One line of CSV per row follows on stdout after "csv:".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "phantom/comm/communicator.hpp"
#include "phantom/energy/energy_meter.hpp"
#include "phantom/layers/phantom_layer.hpp"
#include "phantom/layers/tensor_parallel_layer.hpp"

namespace {

using Space = phantom::DefaultSpace;
using Scalar = float;
using M = phantom::Matrix<Scalar, Space>;

// Size p, rank 0; every collective leaves rank 0's own block where the
// result would be (all blocks of an all-gather hold it), so shapes and
// GEMMs are those of rank 0 of p. Counts bytes like any communicator.
class LoopbackCommunicator final : public phantom::Communicator {
 public:
  explicit LoopbackCommunicator(int p) : p_(p) {}
  int rank() const override { return 0; }
  int size() const override { return p_; }
  const char* backend() const override { return "loopback"; }
  std::unique_ptr<phantom::Communicator> split(int, int) override {
    return std::make_unique<LoopbackCommunicator>(p_);
  }

 protected:
  using Order = phantom::ExecutionOrder;
  using Send = phantom::ConstBuffer;
  using Recv = phantom::Buffer;
  void do_allgather(const Order&, const Send& s, const Recv& r) override {
    for (int b = 0; b < p_; ++b) copy(block(r, b, s.bytes()), s, s.bytes());
  }
  void do_reduce_scatter(const Order&, const Send& s, const Recv& r) override {
    copy(r, s, r.bytes());
  }
  void do_allreduce(const Order&, const Send& s, const Recv& r) override { copy(r, s, r.bytes()); }
  void do_alltoall(const Order&, const Send& s, const Recv& r) override { copy(r, s, r.bytes()); }
  void do_broadcast(const Order&, const Recv&, int) override {}
  void do_barrier() override {}
  std::unique_ptr<phantom::detail::PendingOperation> start_allgather(const Order& o, const Send& s,
                                                                     const Recv& r) override {
    do_allgather(o, s, r);
    return std::make_unique<Done>();
  }
  std::unique_ptr<phantom::detail::PendingOperation> start_reduce_scatter(const Order& o,
                                                                          const Send& s,
                                                                          const Recv& r) override {
    do_reduce_scatter(o, s, r);
    return std::make_unique<Done>();
  }
  std::unique_ptr<phantom::detail::PendingOperation> start_allreduce(const Order& o, const Send& s,
                                                                     const Recv& r) override {
    do_allreduce(o, s, r);
    return std::make_unique<Done>();
  }

 private:
  struct Done final : phantom::detail::PendingOperation {
    void wait() override {}
    bool test() override { return true; }
  };
  static Recv block(const Recv& r, int b, std::size_t bytes) {
    Recv out = r;
    out.data = static_cast<unsigned char*>(r.data) + std::size_t(b) * bytes;
    out.count = bytes / phantom::size_of(r.type);
    return out;
  }
  static void copy(const Recv& dst, const Send& src, std::size_t bytes) {
    phantom::detail::copy_bytes(dst, src, bytes);
  }
  int p_;
};

struct Options {
  int ranks = 8, reps = 20;
  std::vector<std::size_t> widths{4096, 8192, 16384};
  std::size_t batch = 1024, ghost = 16;
  std::string meter = "auto";
};

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoul(item));
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw phantom::InvalidArgument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--ranks")
      o.ranks = std::stoi(value());
    else if (a == "--widths")
      o.widths = parse_list(value());
    else if (a == "--batch")
      o.batch = std::stoul(value());
    else if (a == "--ghost")
      o.ghost = std::stoul(value());
    else if (a == "--reps")
      o.reps = std::stoi(value());
    else if (a == "--meter")
      o.meter = value();
    else if (a.rfind("--kokkos", 0) != 0)
      throw phantom::InvalidArgument("unknown option " + a);
  }
  if (o.ranks < 1 || o.reps < 1 || o.batch == 0 || o.widths.empty())
    throw phantom::InvalidArgument("--ranks, --reps, --batch and --widths must be positive");
  return o;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of f over reps after one warm-up, fenced.
double median_seconds(int reps, const std::function<void()>& f) {
  f();
  Kokkos::fence();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now();
    f();
    Kokkos::fence();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// One GEMM of the layer: C (m x n) = op(A) op(B), inner dimension k.
struct GemmShape {
  const char *op_a, *op_b;
  std::size_t m, n, k;
};

// The GEMMs rank 0 of a p-rank layer runs per forward+backward (the
// formulas in phantom_layer.hpp and tensor_parallel_layer.hpp).
std::vector<GemmShape> layer_gemms(const std::string& s, std::size_t B, std::size_t n,
                                   std::size_t p, std::size_t k) {
  const std::size_t m = n / p, g = (p - 1) * k;
  if (s == "pp") {
    std::vector<GemmShape> v{{"N", "T", B, k, m}, {"N", "T", B, m, m}, {"T", "N", m, m, B},
                             {"N", "N", B, m, m}, {"T", "N", k, m, B}, {"N", "N", B, m, k}};
    if (g > 0) {
      v.push_back({"N", "T", B, m, g});  // z += G D^T
      v.push_back({"N", "N", B, g, m});  // H = delta D
      v.push_back({"T", "N", m, g, B});  // dD = delta^T G
    }
    return v;
  }
  return {{"N", "T", B, m, n}, {"N", "N", B, n, m}, {"T", "N", m, n, B}};  // tp
}

double flops(const std::vector<GemmShape>& v) {
  double f = 0;
  for (const auto& s : v) f += 2.0 * double(s.m) * double(s.n) * double(s.k);
  return f;
}

// The shapes alone through phantom::gemm (KokkosBlas: cuBLAS on a GPU).
double gemms_alone_seconds(const std::vector<GemmShape>& shapes, int reps) {
  std::vector<M> a, b, c;
  for (const auto& s : shapes) {
    const bool ta = s.op_a[0] == 'T', tb = s.op_b[0] == 'T';
    a.emplace_back("a", ta ? s.k : s.m, ta ? s.m : s.k);
    b.emplace_back("b", tb ? s.n : s.k, tb ? s.k : s.n);
    c.emplace_back("c", s.m, s.n);
    phantom::fill_uniform(Space(), a.back(), 1, a.size(), 1.0);
    phantom::fill_uniform(Space(), b.back(), 2, b.size(), 1.0);
  }
  return median_seconds(reps, [&] {
    for (std::size_t i = 0; i < shapes.size(); ++i)
      phantom::gemm(Space(), shapes[i].op_a, shapes[i].op_b, Scalar(1), a[i], b[i], Scalar(0),
                    c[i]);
  });
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    const Options o = parse(argc, argv);
    LoopbackCommunicator comm(o.ranks);
    phantom::MeterOptions meter_options;
    double model_joules = 0;
    meter_options.model = [&] { return model_joules; };
    meter_options.model_description = "none (no meter: energy not modelled here)";
    auto selection = phantom::make_energy_meter(o.meter, meter_options);
    phantom::EnergyMeter& meter = *selection.meter;
    std::printf(
        "bench_gpu_layers: %s, rank 0 of %d (loopback), batch %zu, float, k = %zu, %d reps, "
        "meter %s (%s)\n",
        Space::name(), o.ranks, o.batch, o.ghost, o.reps, meter.name().c_str(),
        selection.summary().c_str());
    std::printf("%-4s %6s %10s %10s %12s %8s %12s\n", "", "width", "ms/step", "TFLOP/s",
                "GEMMs alone", "ratio", "J/step");
    std::ostringstream csv;
    csv << "strategy,width,ranks,batch,ghost,step_s,layer_tflops,gemm_tflops,ratio,joules,"
           "energy_source\n";
    for (std::size_t width : o.widths) {
      for (const std::string s : {"pp", "tp"}) {
        std::unique_ptr<phantom::DistributedLayer<Scalar, Space>> layer;
        if (s == "pp")
          layer = std::make_unique<phantom::PhantomLayer<Scalar, Space>>(
              comm, width, o.ghost, phantom::Activation::relu, 1);
        else
          layer = std::make_unique<phantom::TensorParallelLayer<Scalar, Space>>(
              comm, width, phantom::Activation::relu, 1);
        layer->initialize(1);
        const std::size_t m = width / std::size_t(o.ranks);
        M x("x", o.batch, m), dy("dy", o.batch, m);
        phantom::fill_uniform(Space(), x, 2, 0, 1.0);
        phantom::fill_uniform(Space(), dy, 3, 0, 1.0);
        const double e0 = meter.joules();
        const double step = median_seconds(o.reps, [&] {
          layer->forward(x);
          layer->backward(dy);
        });
        const double joules = (meter.joules() - e0) / (o.reps + 1);
        const auto shapes = layer_gemms(s, o.batch, width, std::size_t(o.ranks), o.ghost);
        const double f = flops(shapes);
        const double expected = double(o.batch) * (layer->forward_flops_per_sample() +
                                                   layer->backward_flops_per_sample());
        if (f != expected)
          throw phantom::Error("bench_gpu_layers: the GEMM list of " + s + " does not add up to " +
                               "the layer's FLOPs");
        const double alone = gemms_alone_seconds(shapes, o.reps);
        const double layer_rate = f / step / 1e12, gemm_rate = f / alone / 1e12;
        // Only a measuring meter gives joules: this program has no power model.
        const std::string energy = meter.measured() ? std::to_string(joules) : std::string("n/a");
        std::printf("%-4s %6zu %10.3f %10.2f %12.2f %8.3f %12s\n", s.c_str(), width, 1e3 * step,
                    layer_rate, gemm_rate, layer_rate / gemm_rate, energy.c_str());
        csv << s << ',' << width << ',' << o.ranks << ',' << o.batch << ',' << o.ghost << ','
            << step << ',' << layer_rate << ',' << gemm_rate << ',' << layer_rate / gemm_rate << ','
            << (meter.measured() ? energy : "") << ',' << meter.name() << '\n';
      }
    }
    std::printf("csv:\n%s", csv.str().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu_layers: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
