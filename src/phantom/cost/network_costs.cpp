#include "phantom/cost/network_costs.hpp"

#include "phantom/core/network_config.hpp"

namespace phantom::cost {

const char* to_string(CollectiveKind c) {
  switch (c) {
    case CollectiveKind::allgather: return "allgather";
    case CollectiveKind::reduce_scatter: return "reduce_scatter";
    case CollectiveKind::allreduce: return "allreduce";
  }
  return "?";
}

int CollectiveCall::steps(int p) const {
  return kind == CollectiveKind::allreduce ? 2 * (p - 1) : p - 1;
}

double CollectiveCall::bytes(int p, std::size_t scalar_bytes) const {
  if (compressed_bytes >= 0) return compressed_bytes;
  const double s = double(scalar_bytes);
  if (kind == CollectiveKind::allreduce) return 2.0 * (p - 1) * values / p * s;
  return (p - 1) * values * s;
}

namespace {

double sum_flops(const std::vector<GemmShape>& gemms) {
  double f = 0;
  for (const auto& g : gemms) f += g.flops();
  return f;
}

double sum_bytes(const std::vector<CollectiveCall>& calls, int p, std::size_t s) {
  double b = 0;
  for (const auto& c : calls) b += c.bytes(p, s);
  return b;
}

std::string layer_label(std::size_t l) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "layer_%03zu", l);
  return buf;
}

LayerCost named(std::string name, std::string kind) {
  LayerCost c;
  c.name = std::move(name);
  c.kind = std::move(kind);
  return c;
}

// z, y and delta of n_out features (identity: y is z), and the
// element-wise passes over them: bias add (2), activation (2), activation
// derivative (3), bias gradient (1) values per output value; identity skips
// the activation passes.
void add_activated_output(LayerCost& c, double batch, double n_out, bool identity) {
  c.activation_values += batch * n_out * (identity ? 2.0 : 3.0);
  c.elementwise_values += batch * n_out * (identity ? 3.0 : 8.0);
}

LayerCost input_layer(const CostInput& in, double B, double m) {
  LayerCost c = named(layer_label(0), "input");
  const double n_in = double(in.input_dim);
  c.parameters_global = double(in.width) * (n_in + 1);
  c.parameters_rank = m * (n_in + 1);
  c.forward_gemms = {{B, m, n_in}};    // z = x W_r^T
  c.backward_gemms = {{m, n_in, B}};   // dW_r = delta_r^T x (no dx)
  add_activated_output(c, B, m, in.activation == "identity");
  c.activation_values += B * n_in;     // the dense layer's dx buffer
  return c;
}

// Column-parallel hidden layer (dense at p = 1, Megatron's second of a pair):
// dx is all-reduced when p > 1.
LayerCost column_layer(const CostInput& in, std::size_t l, double B, double m, const char* kind) {
  const double n = double(in.width);
  const int p = in.ranks;
  LayerCost c = named(layer_label(l), kind);
  c.parameters_global = n * (n + 1);
  c.parameters_rank = m * (n + 1);
  c.forward_gemms = {{B, m, n}};
  c.backward_gemms = {{B, n, m}, {m, n, B}};  // dx partial, dW
  if (p > 1) {
    c.backward_collectives = {{CollectiveKind::allreduce, B * n}};
    if (in.compression.applies(l, false))
      c.backward_collectives[0].compressed_bytes = compressed_allreduce_bytes(
          in.compression, in.batch, in.width, in.scalar_bytes, p);
    c.activation_values += B * n;  // the all-reduced dx
  }
  add_activated_output(c, B, m, in.activation == "identity");
  c.activation_values += B * n;  // dx partial
  return c;
}

// Row-parallel layer (Megatron's first of a pair, and the output layer).
LayerCost row_layer(const CostInput& in, std::size_t l, double B, double m, double n_out,
                    bool identity, const char* kind, bool hidden) {
  LayerCost c = named(layer_label(l), kind);
  const double n_in = double(in.width);
  c.parameters_global = n_out * n_in + n_out;
  c.parameters_rank = n_out * m + n_out;  // the bias is replicated
  c.forward_gemms = {{B, n_out, m}};
  c.backward_gemms = {{n_out, m, B}, {B, m, n_out}};  // dW_r, dx_r
  const bool compressed = hidden && in.compression.applies(l, true);
  if (compressed && in.compression.method == CompressionMethod::ae) {
    // compress/autoencoder.hpp: an encoder (e x n) per rank, a replicated
    // decoder (n x e); encode and decode 2 n e per sample each, backward 4
    // products; the all-reduce carries the (B x e) code.
    const double e = double(in.compression.ae_dim), p = in.ranks;
    c.parameters_global += (p + 1) * e * n_out;
    c.parameters_rank += 2 * e * n_out;
    c.forward_gemms.push_back({B, e, n_out});   // code = partial E^T
    c.forward_gemms.push_back({B, n_out, e});   // z = code_sum D^T
    c.backward_gemms.push_back({n_out, e, B});  // dD
    c.backward_gemms.push_back({B, e, n_out});  // d code
    c.backward_gemms.push_back({e, n_out, B});  // dE
    c.backward_gemms.push_back({B, n_out, e});  // d partial
    c.activation_values += B * (3 * e + n_out);  // code, dcode, code sum, dx
  }
  if (in.ranks > 1) {
    c.forward_collectives = {{CollectiveKind::allreduce, B * n_out}};
    if (compressed)
      c.forward_collectives[0].compressed_bytes = compressed_allreduce_bytes(
          in.compression, in.batch, std::size_t(n_out), in.scalar_bytes, in.ranks);
  }
  add_activated_output(c, B, n_out, identity);
  c.activation_values += B * n_out + B * m;  // partial sum, dx
  return c;
}

LayerCost phantom_layer(const CostInput& in, std::size_t l, double B, double m) {
  const double p = in.ranks, k = double(in.ghost);
  LayerCost c = named(layer_label(l), "pp");
  c.parameters_rank = m * m + m + k * m + (p - 1) * k * m;
  c.parameters_global = p * c.parameters_rank;
  c.forward_gemms = {{B, k, m}, {B, m, m}};  // g = x C^T, x W^T
  // h = delta D_r, dW, dC = psi^T x, dx = delta W, dx += psi C
  c.backward_gemms = {{m, m, B}, {k, m, B}, {B, m, m}, {B, m, k}};
  if (p > 1) {
    c.forward_gemms.push_back({B, m, (p - 1) * k});      // sum_s g_s D_{r,s}^T
    c.backward_gemms.push_back({B, (p - 1) * k, m});     // h_{r->s} = delta D_{r,s}
    c.backward_gemms.push_back({m, (p - 1) * k, B});     // dD_{r,s} = delta^T g_s
  }
  c.forward_collectives = {{CollectiveKind::allgather, B * k}};
  c.backward_collectives = {{CollectiveKind::reduce_scatter, B * k}};
  add_activated_output(c, B, m, in.activation == "identity");
  c.activation_values += B * (k + 2 * p * k + k + m);  // g, ghosts, h, psi, dx
  return c;
}

LayerCost tensor_parallel_layer(const CostInput& in, std::size_t l, double B, double m) {
  const double n = double(in.width);
  LayerCost c = named(layer_label(l), "tp");
  c.parameters_global = n * n + n;
  c.parameters_rank = m * n + m;
  c.forward_gemms = {{B, m, m}};  // own block, overlapped with the gather
  if (in.ranks > 1) c.forward_gemms.push_back({B, m, n - m});
  c.backward_gemms = {{B, n, m}, {m, n, B}};  // P = delta W_r, dW = delta^T X
  c.forward_collectives = {{CollectiveKind::allgather, B * m}};
  c.backward_collectives = {{CollectiveKind::reduce_scatter, B * m}};
  const std::size_t mm = in.width / std::size_t(in.ranks);
  if (in.compression.applies(l, true))
    c.forward_collectives[0].compressed_bytes =
        compressed_allgather_bytes(in.compression, in.batch, mm, in.scalar_bytes, in.ranks);
  if (in.compression.applies(l, false))
    c.backward_collectives[0].compressed_bytes =
        compressed_reduce_scatter_bytes(in.compression, in.batch, mm, in.scalar_bytes, in.ranks);
  add_activated_output(c, B, m, in.activation == "identity");
  c.activation_values += B * (2 * n + m);  // gathered, partial dx, dx
  return c;
}

}  // namespace

namespace {

std::string strategy_label(const CostInput& in) {
  std::string s = to_string(in.strategy);
  if (in.strategy == Strategy::pp) return s + " k=" + std::to_string(in.ghost);
  const auto& z = in.compression;
  if (!z.enabled()) return s;
  s += std::string("+") + to_string(z.method);
  if (z.method == CompressionMethod::topk) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", z.topk_fraction);
    s += buf;
  }
  if (z.method == CompressionMethod::ae) s += std::to_string(z.ae_dim);
  return s;
}

}  // namespace

std::string label(const CostInput& in) {
  const std::string s = strategy_label(in);
  return in.data_parallel > 1 ? s + " D=" + std::to_string(in.data_parallel) : s;
}

std::vector<CostInput> sweep_inputs(const CostInput& base, const std::vector<Strategy>& strategies,
                                    const std::vector<std::size_t>& ghosts,
                                    const std::vector<CompressionConfig>& compressions,
                                    const std::vector<int>& ranks) {
  std::vector<CostInput> out;
  for (Strategy strategy : strategies) {
    std::vector<std::size_t> ks{base.ghost};
    if (strategy == Strategy::pp && !ghosts.empty()) ks = ghosts;
    std::vector<CompressionConfig> zs{base.compression};
    if (strategy == Strategy::pp || strategy == Strategy::dense)
      zs = {CompressionConfig{}};
    else if (!compressions.empty())
      zs = compressions;
    for (const auto& z : zs)
      for (std::size_t k : ks)
        for (int p : ranks) {
          CostInput in = base;
          in.strategy = strategy;
          in.ghost = k;
          in.ranks = p;
          in.compression = z;
          out.push_back(in);
        }
  }
  return out;
}

double LayerCost::forward_flops() const { return sum_flops(forward_gemms); }
double LayerCost::backward_flops() const { return sum_flops(backward_gemms); }
double LayerCost::bytes(int p, std::size_t s) const {
  return sum_bytes(forward_collectives, p, s) + sum_bytes(backward_collectives, p, s);
}

NetworkCosts network_costs(const CostInput& in) {
  if (in.ranks < 1) throw InvalidArgument("ranks must be at least 1");
  if (in.batch < 1) throw InvalidArgument("batch must be at least 1");
  if (in.data_parallel < 1 || in.batch % std::size_t(in.data_parallel) != 0)
    throw InvalidArgument("batch " + std::to_string(in.batch) +
                          " is not divisible by data_parallel = " +
                          std::to_string(in.data_parallel));
  NetworkConfig config;
  config.shape = {in.input_dim, in.width, in.depth, in.output_dim};
  config.strategy = in.strategy;
  config.ghost = in.ghost;
  config.activation = parse_activation(in.activation);
  config.compression = in.compression;
  validate(config, in.ranks);
  if (in.optimizer != "adam" && in.optimizer != "sgd")
    throw InvalidArgument("unknown optimizer '" + in.optimizer + "' (allowed: sgd, adam)");

  NetworkCosts out;
  out.input = in;
  // Each replica trains on its share of the batch.
  const double B = double(in.batch / std::size_t(in.data_parallel)),
               m = double(in.width / std::size_t(in.ranks));
  out.layers.push_back(input_layer(in, B, m));
  for (std::size_t l = 1; l <= in.depth; ++l) {
    switch (in.strategy) {
      case Strategy::dense: out.layers.push_back(column_layer(in, l, B, m, "dense")); break;
      case Strategy::pp: out.layers.push_back(phantom_layer(in, l, B, m)); break;
      case Strategy::tp: out.layers.push_back(tensor_parallel_layer(in, l, B, m)); break;
      case Strategy::megatron:
        out.layers.push_back(l % 2 == 1 ? row_layer(in, l, B, m, double(in.width),
                                                    in.activation == "identity", "megatron-row",
                                                    true)
                                        : column_layer(in, l, B, m, "megatron-column"));
        break;
    }
  }
  out.layers.push_back(
      row_layer(in, in.depth + 1, B, m, double(in.output_dim), true, "output", false));

  const double s = double(in.scalar_bytes);
  const double state_per_parameter = in.optimizer == "adam" ? 2.0 : 1.0;
  for (const auto& c : out.layers) {
    out.parameters_global += c.parameters_global;
    out.parameters_rank += c.parameters_rank;
    out.flops += c.forward_flops() + c.backward_flops();
    out.bytes += c.bytes(in.ranks, in.scalar_bytes);
    out.activation_bytes += c.activation_values * s;
  }
  if (in.data_parallel > 1) {  // as the communicator counts one all-reduce of N values
    const int D = in.data_parallel;
    out.data_parallel_bytes = 2.0 * (D - 1) * (out.parameters_rank * s) / D;
    out.bytes += out.data_parallel_bytes;
  }
  out.weight_bytes = out.gradient_bytes = out.parameters_rank * s;
  out.optimizer_bytes = state_per_parameter * out.parameters_rank * s;
  // adam reads p, g, m, v and writes p, m, v; sgd reads p, g, v, writes p, v
  out.optimizer_values = (in.optimizer == "adam" ? 7.0 : 5.0) * out.parameters_rank;
  return out;
}

}  // namespace phantom::cost
