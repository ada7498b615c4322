// The cost model's bookkeeping: per layer of a distributed network, what one
// rank holds, computes and receives, as closed forms of (strategy, shape, k,
// p, batch, scalar size). It mirrors the layers in src/phantom/layers GEMM by
// GEMM and collective by collective; tests/cost checks every figure against
// what the running code counts. No Kokkos here, so planners and CLIs can use
// it anywhere. Formulas: docs/cost-model.md.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "phantom/compress/compression_config.hpp"
#include "phantom/core/strategy.hpp"

namespace phantom::cost {

enum class CollectiveKind { allgather, reduce_scatter, allreduce };
const char* to_string(CollectiveKind c);

// One GEMM of a step: C (rows x cols) += A (rows x inner) B (inner x cols).
struct GemmShape {
  double rows = 0, cols = 0, inner = 0;
  double flops() const { return 2.0 * rows * cols * inner; }
};

// One collective of a step: `values` is the c of docs/communicators.md (the
// per-rank block for allgather and reduce_scatter, the vector for allreduce).
struct CollectiveCall {
  CollectiveKind kind = CollectiveKind::allgather;
  double values = 0;
  // Compressed messages (docs/compression.md): the logical bytes this rank
  // receives, from compress/compression_config.hpp; < 0: not compressed.
  double compressed_bytes = -1;
  // Logical bytes this rank receives with the ring definitions:
  // allgather and reduce_scatter (p-1) c s, allreduce 2 (p-1) c s / p, or the
  // compressed size.
  double bytes(int p, std::size_t scalar_bytes) const;
  // Ring steps, each costing one latency: p-1, all-reduce 2 (p-1).
  int steps(int p) const;
};

struct LayerCost {
  std::string name;  // layer_000 ...
  std::string kind;  // input, pp, tp, megatron-row, megatron-column, dense, output
  double parameters_global = 0;
  double parameters_rank = 0;
  std::vector<GemmShape> forward_gemms, backward_gemms;
  std::vector<CollectiveCall> forward_collectives, backward_collectives;
  // Element-wise traffic per step (bias, activation, activation derivative,
  // bias gradient), in values read + written.
  double elementwise_values = 0;
  // Batch-sized buffers the layer allocates (z, y, delta, dx, message buffers).
  double activation_values = 0;

  double forward_flops() const;
  double backward_flops() const;
  double bytes(int p, std::size_t scalar_bytes) const;
};

struct CostInput {
  std::size_t input_dim = 0, width = 0, depth = 0, output_dim = 0;
  Strategy strategy = Strategy::pp;
  std::size_t ghost = 16;
  int ranks = 1;          // model-parallel ranks p of one replica
  int data_parallel = 1;  // D replicas (D p ranks in all), each on batch / D samples
  std::size_t batch = 1;  // the global batch of a step
  std::size_t scalar_bytes = 4;
  std::string optimizer = "adam";  // adam keeps 2 state values per parameter, sgd 1
  std::string activation = "relu";
  CompressionConfig compression;  // tp and megatron hidden layers
};

// Per rank and training step (batch samples), unless named global.
struct NetworkCosts {
  CostInput input;
  std::vector<LayerCost> layers;
  double parameters_global = 0, parameters_rank = 0;
  double flops = 0;             // GEMM FLOPs, forward + backward
  double bytes = 0;             // logical bytes received, data_parallel_bytes included
  double data_parallel_bytes = 0;  // the gradient all-reduce: 2 (D-1) N s / D
  double weight_bytes = 0;      // parameters
  double gradient_bytes = 0;    // their gradients
  double optimizer_bytes = 0;   // optimizer state
  double activation_bytes = 0;  // batch-sized layer buffers
  double optimizer_values = 0;  // values the optimizer reads + writes per step
  double memory_bytes() const {
    return weight_bytes + gradient_bytes + optimizer_bytes + activation_bytes;
  }
};

// "pp k=16", "tp", "tp+int8", "megatron+topk0.1", "megatron+ae64": the
// strategy with its ghost count or compressor, for tables; " D=2" follows
// with data parallelism.
std::string label(const CostInput& input);

// The candidates of a sweep, in the order strategy, compressor, k, p: k only
// varies for pp (others keep base.ghost), compressors only for tp and
// megatron (pp and dense never compress; empty: base.compression). Inputs the
// network cannot be built from are included: network_costs rejects them.
std::vector<CostInput> sweep_inputs(const CostInput& base, const std::vector<Strategy>& strategies,
                                    const std::vector<std::size_t>& ghosts,
                                    const std::vector<CompressionConfig>& compressions,
                                    const std::vector<int>& ranks);

// Throws InvalidArgument (the same messages as the network) when the network
// cannot be built on input.ranks ranks.
NetworkCosts network_costs(const CostInput& input);

}  // namespace phantom::cost
