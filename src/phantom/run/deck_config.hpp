// From a deck (phantom/io/deck.hpp) to the plain structs the library is
// driven by: a Session's configuration (phantom-train, the C API), the cost
// model's input (phantom-cost, phantom-plan, plan.profile) and the data. The
// one place that reads a deck's sections; a deck that does not fit the rank
// count is a DeckError naming the key at fault.
#pragma once

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "phantom/core/random.hpp"
#include "phantom/cost/network_costs.hpp"
#include "phantom/data/batch_sampler.hpp"
#include "phantom/data/teacher.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/io/hdf5_dataset.hpp"
#include "phantom/model/distributed_ffn.hpp"
#include "phantom/run/session.hpp"

namespace phantom::run {

// The deck's [compression] section (docs/compression.md).
inline CompressionConfig compression_config(const Deck& deck) {
  CompressionConfig c;
  c.method = parse_compression_method(deck.compression.method);
  c.topk_fraction = deck.compression.topk_fraction;
  c.error_feedback = deck.compression.error_feedback;
  c.ae_dim = std::size_t(deck.compression.ae_dim);
  c.messages = parse_compressed_messages(deck.compression.messages);
  c.first_layer = std::size_t(deck.compression.first_layer);
  return c;
}

// The deck's compression with each named method in turn (for sweeps such as
// phantom-cost --compressors int8,topk,ae): the other settings come from the
// deck, except that ae compresses forward messages only (its requirement).
inline std::vector<CompressionConfig> compression_variants(const Deck& deck,
                                                           const std::vector<std::string>& names) {
  std::vector<CompressionConfig> out;
  for (const auto& name : names) {
    CompressionConfig c = compression_config(deck);
    c.method = parse_compression_method(name);
    if (c.method == CompressionMethod::ae) c.messages = CompressedMessages::forward;
    if (c.method != CompressionMethod::topk) c.error_feedback = false;
    out.push_back(c);
  }
  return out;
}

// The cost model's view of the deck: network, batch, optimizer, precision,
// compression and replicas on `ranks` ranks (the model-parallel size is
// ranks / parallel.data; ranks = 0: one model-parallel rank, which
// phantom-cost's --ranks list then replaces).
inline cost::CostInput cost_input(const Deck& deck, int ranks = 0) {
  cost::CostInput in;
  in.input_dim = std::size_t(deck.model.input_dim);
  in.width = std::size_t(deck.model.width);
  in.depth = std::size_t(deck.model.depth);
  in.output_dim = std::size_t(deck.model.output_dim);
  in.strategy = parse_strategy(deck.model.strategy);
  in.ghost = std::size_t(deck.model.ghost);
  in.ranks = ranks > 0 ? ranks / int(deck.parallel.data) : 1;
  in.data_parallel = int(deck.parallel.data);
  in.batch = std::size_t(deck.train.batch);
  in.scalar_bytes = deck.train.precision == "double" ? 8 : 4;
  in.optimizer = deck.train.optimizer;
  in.activation = deck.model.activation;
  in.compression = compression_config(deck);
  return in;
}

// The model-parallel size of the deck on `ranks` ranks: ranks / parallel.data.
inline int model_parallel_size(const Deck& deck, int ranks) {
  const std::int64_t D = deck.parallel.data;
  if (D < 1 || ranks % D != 0)
    throw DeckError("parallel.data = " + std::to_string(D) + " does not divide the " +
                    std::to_string(ranks) + " ranks");
  return ranks / int(D);
}

// train.batch splits into parallel.data equal shares (a program that draws
// the deck's batches checks it; the C API's caller passes its own batches,
// which the session checks).
inline void require_batch_splits(const Deck& deck) {
  if (deck.train.batch % deck.parallel.data != 0)
    throw DeckError("train.batch = " + std::to_string(deck.train.batch) +
                    " is not divisible by parallel.data = " + std::to_string(deck.parallel.data));
}

// The network the deck describes on `ranks` ranks (its model-parallel size
// with parallel.data = D > 1).
inline NetworkConfig network_config(const Deck& deck, int world_ranks) {
  const int ranks = model_parallel_size(deck, world_ranks);
  NetworkConfig c;
  c.shape = {std::size_t(deck.model.input_dim), std::size_t(deck.model.width),
             std::size_t(deck.model.depth), std::size_t(deck.model.output_dim)};
  c.strategy = parse_strategy(deck.model.strategy);
  c.ghost = std::size_t(deck.model.ghost);
  c.activation = parse_activation(deck.model.activation);
  c.compression = compression_config(deck);
  const std::string r = std::to_string(ranks);
  const std::string count =
      deck.parallel.data == 1
          ? "the rank count " + r
          : "the model-parallel size " + r + " (" + std::to_string(world_ranks) +
                " ranks / parallel.data = " + std::to_string(deck.parallel.data) + ")";
  if (deck.model.width % ranks != 0)
    throw DeckError("model.width = " + std::to_string(deck.model.width) + " is not divisible by " +
                    count);
  if (c.strategy == Strategy::dense && ranks != 1)
    throw DeckError("model.strategy = \"dense\" runs on 1 rank, not " + r +
                    " (use pp, tp or megatron)");
  if (c.strategy == Strategy::megatron && deck.model.depth % 2 != 0)
    throw DeckError("model.depth = " + std::to_string(deck.model.depth) +
                    " must be even for model.strategy = \"megatron\"");
  validate(c, ranks);
  return c;
}

inline OptimizerConfig optimizer_config(const Deck& deck) {
  OptimizerConfig oc;
  oc.kind = parse_optimizer(deck.train.optimizer);
  oc.learning_rate = deck.train.learning_rate;
  oc.momentum = deck.train.momentum;
  oc.weight_decay = deck.train.weight_decay;
  return oc;
}

// The deck's schedule; cosine decays to train.steps unless decay_steps says.
inline LearningRateSchedule schedule_config(const Deck& deck) {
  LearningRateSchedule s;
  s.kind = parse_schedule(deck.train.schedule);
  s.warmup_steps = deck.train.warmup_steps;
  s.decay_steps = deck.train.decay_steps > 0
                      ? deck.train.decay_steps
                      : std::max<std::int64_t>(1, deck.train.steps - deck.train.warmup_steps);
  s.min_learning_rate = deck.train.min_learning_rate;
  s.step_every = deck.train.step_every;
  s.step_factor = deck.train.step_factor;
  if (s.kind == ScheduleKind::cosine && s.min_learning_rate > deck.train.learning_rate)
    throw DeckError("train.min_learning_rate = " + std::to_string(s.min_learning_rate) +
                    " is above train.learning_rate = " + std::to_string(deck.train.learning_rate));
  return s;
}

// The session of the deck's [model], [train], [checkpoint] and [energy]
// sections on `ranks` ranks ([data] is the caller's: make_dataset).
inline SessionConfig session_config(const Deck& deck, int ranks) {
  SessionConfig s;
  s.network = network_config(deck, ranks);
  s.optimizer = optimizer_config(deck);
  s.schedule = schedule_config(deck);
  s.clip_norm = deck.train.clip_norm;
  s.data_parallel = int(deck.parallel.data);
  s.bucket_mb = deck.parallel.bucket_mb;
  s.loss = parse_loss(deck.train.loss);
  s.seed = std::uint64_t(deck.train.seed);
  s.data_seed = std::uint64_t(deck.data.seed);
  s.energy.meter = deck.energy.meter;
  s.energy.watts_per_rank = deck.energy.watts_per_rank;
  s.energy.idle_watts_per_rank = deck.energy.idle_watts_per_rank;
  s.energy.regions = deck.energy.regions;
  s.checkpoint.path = deck.checkpoint.path;
  s.checkpoint.every = deck.checkpoint.every;
  s.checkpoint.keep = deck.checkpoint.keep;
  s.description = to_toml(deck);
  return s;
}

namespace detail {

template <class Scalar, class Space>
Dataset<Scalar, Space> read_dataset(const std::string& path, const FFNShape& shape) {
  const HostDataset h = read_hdf5_dataset(path, shape.input_dim, shape.output_dim);
  Dataset<Scalar, Space> d{Matrix<Scalar, Space>("data.x", h.rows, h.x_cols),
                           Matrix<Scalar, Space>("data.y", h.rows, h.y_cols)};
  auto x = Kokkos::create_mirror_view(d.x);
  auto y = Kokkos::create_mirror_view(d.y);
  for (std::size_t i = 0; i < h.rows; ++i) {  // the file is row-major
    for (std::size_t j = 0; j < h.x_cols; ++j) x(i, j) = Scalar(h.x[i * h.x_cols + j]);
    for (std::size_t j = 0; j < h.y_cols; ++j) y(i, j) = Scalar(h.y[i * h.y_cols + j]);
  }
  Kokkos::deep_copy(d.x, x);
  Kokkos::deep_copy(d.y, y);
  return d;
}

template <class Scalar, class Space>
Dataset<Scalar, Space> rows_of(const Dataset<Scalar, Space>& d,
                               const std::vector<std::size_t>& rows) {
  Dataset<Scalar, Space> out{Matrix<Scalar, Space>("data.x", rows.size(), d.x.extent(1)),
                             Matrix<Scalar, Space>("data.y", rows.size(), d.y.extent(1))};
  gather_batch(Space(), d, rows, out.x, out.y);
  return out;
}

}  // namespace detail

// The training and the held-out data the deck names.
template <class Scalar, class Space>
struct SplitData {
  Dataset<Scalar, Space> train, validation;  // validation empty without held-out data
};

// data.validation_path is read as a second data set; data.validation_fraction
// f holds out floor(N f) rows chosen by a permutation drawn from data.seed
// (both parts keep the file's row order).
template <class Scalar, class Space>
SplitData<Scalar, Space> make_split_data(const Deck& deck, const FFNShape& shape);

// The data set the deck names: the teacher problem, or /X and /Y of an HDF5 file.
template <class Scalar, class Space>
Dataset<Scalar, Space> make_dataset(const Deck& deck, const FFNShape& shape) {
  if (deck.data.source == "teacher") {
    TeacherConfig tc;
    tc.samples = std::size_t(deck.data.samples);
    tc.input_dim = shape.input_dim;
    tc.output_dim = shape.output_dim;
    tc.noise = deck.data.noise;
    tc.seed = std::uint64_t(deck.data.seed);
    return make_teacher_dataset<Scalar, Space>(tc);
  }
  return detail::read_dataset<Scalar, Space>(deck.data.path, shape);
}

template <class Scalar, class Space>
SplitData<Scalar, Space> make_split_data(const Deck& deck, const FFNShape& shape) {
  SplitData<Scalar, Space> out;
  out.train = make_dataset<Scalar, Space>(deck, shape);
  if (!deck.data.validation_path.empty()) {
    out.validation = detail::read_dataset<Scalar, Space>(deck.data.validation_path, shape);
    return out;
  }
  const double f = deck.data.validation_fraction;
  if (f <= 0) return out;
  const std::size_t n = out.train.size(), held = std::size_t(double(n) * f);
  if (held == 0 || held == n)
    throw DeckError("data.validation_fraction = " + std::to_string(f) + " holds out " +
                    std::to_string(held) + " of the " + std::to_string(n) +
                    " samples; both parts need at least one");
  const std::vector<std::size_t> perm =
      seeded_permutation(n, std::uint64_t(deck.data.seed), streams::kValidationSplit);
  std::vector<std::size_t> held_rows(perm.end() - std::ptrdiff_t(held), perm.end());
  std::vector<std::size_t> train_rows(perm.begin(), perm.end() - std::ptrdiff_t(held));
  std::sort(held_rows.begin(), held_rows.end());
  std::sort(train_rows.begin(), train_rows.end());
  out.validation = detail::rows_of(out.train, held_rows);
  out.train = detail::rows_of(out.train, train_rows);
  return out;
}

}  // namespace phantom::run
