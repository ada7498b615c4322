#include "phantom/io/deck.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <variant>

namespace phantom {
namespace {

using Target = std::variant<std::int64_t*, double*, bool*, std::string*>;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Field {
  Field(std::string section_, std::string key_, Target target_, std::string meaning_,
        double min_ = -kInf, double max_ = kInf, std::vector<std::string> allowed_ = {},
        bool min_exclusive_ = false, bool max_exclusive_ = false)
      : section(std::move(section_)),
        key(std::move(key_)),
        target(target_),
        meaning(std::move(meaning_)),
        min(min_),
        max(max_),
        allowed(std::move(allowed_)),
        min_exclusive(min_exclusive_),
        max_exclusive(max_exclusive_) {}
  std::string section, key;
  Target target;
  std::string meaning;
  double min, max;
  std::vector<std::string> allowed;  // strings only; empty: any
  bool min_exclusive, max_exclusive;
  std::string name() const { return section + "." + key; }
};

// The schema: every key, bound to its place in `d`.
std::vector<Field> fields(Deck& d) {
  return {
      {"model",
       "strategy",
       &d.model.strategy,
       "hidden-layer parallel strategy",
       -kInf,
       kInf,
       {"pp", "tp", "megatron", "dense"}},
      {"model", "input_dim", &d.model.input_dim, "inputs per sample", 1, kInf},
      {"model", "width", &d.model.width, "hidden width n (divisible by the model-parallel size)", 1, kInf},
      {"model", "depth", &d.model.depth, "hidden layers (even for megatron)", 0, kInf},
      {"model", "output_dim", &d.model.output_dim, "outputs per sample", 1, kInf},
      {"model", "ghost", &d.model.ghost, "ghost neurons k per rank (pp only)", 1, kInf},
      {"model",
       "activation",
       &d.model.activation,
       "hidden-layer activation",
       -kInf,
       kInf,
       {"relu", "gelu", "tanh", "identity"}},
      {"parallel",
       "data",
       &d.parallel.data,
       "data-parallel replicas D: the ranks form D copies of a model-parallel group of ranks / D "
       "consecutive ranks",
       1,
       kInf},
      {"parallel",
       "bucket_mb",
       &d.parallel.bucket_mb,
       "MiB of gradients per data-parallel all-reduce bucket",
       1e-6,
       kInf},
      {"data",
       "source",
       &d.data.source,
       "where samples come from",
       -kInf,
       kInf,
       {"teacher", "hdf5"}},
      {"data", "path", &d.data.path, "HDF5 file with /X (N x input_dim) and /Y (N x output_dim)"},
      {"data", "samples", &d.data.samples, "teacher data set size N", 1, kInf},
      {"data", "noise", &d.data.noise, "teacher target noise amplitude", 0, kInf},
      {"data", "shuffle", &d.data.shuffle, "shuffle the rows each epoch (seeded)"},
      {"data", "seed", &d.data.seed, "seed of the teacher data and of shuffling", 0, kInf},
      {"data",
       "validation_fraction",
       &d.data.validation_fraction,
       "fraction of the data held out for validation (a seeded random subset)",
       0,
       1,
       {},
       false,
       true},
      {"data", "validation_path", &d.data.validation_path,
       "HDF5 file of held-out data (/X, /Y), instead of validation_fraction"},
      {"train", "steps", &d.train.steps, "last step of the trajectory (not a count for this run)",
       0, kInf},
      {"train", "batch", &d.train.batch, "samples per step B", 1, kInf},
      {"train", "optimizer", &d.train.optimizer, "update rule", -kInf, kInf, {"sgd", "adam"}},
      {"train", "learning_rate", &d.train.learning_rate, "step size", 0, kInf, {}, true},
      {"train", "momentum", &d.train.momentum, "sgd momentum", 0, 1, {}, false, true},
      {"train", "weight_decay", &d.train.weight_decay,
       "decoupled weight decay (AdamW with adam): p *= 1 - lr weight_decay each step", 0, kInf},
      {"train",
       "schedule",
       &d.train.schedule,
       "learning-rate schedule after the warm-up (docs/deck.md)",
       -kInf,
       kInf,
       {"constant", "cosine", "step"}},
      {"train", "warmup_steps", &d.train.warmup_steps,
       "linear warm-up: step s < W trains at learning_rate (s + 1) / W", 0, kInf},
      {"train", "decay_steps", &d.train.decay_steps,
       "cosine: steps from the warm-up's end to min_learning_rate (0: to train.steps)", 0, kInf},
      {"train", "min_learning_rate", &d.train.min_learning_rate, "cosine: the final rate", 0, kInf},
      {"train", "step_every", &d.train.step_every,
       "step: multiply the rate by step_factor every N steps", 1, kInf},
      {"train", "step_factor", &d.train.step_factor, "step: the factor", 0, 1, {}, true},
      {"train", "validate_every", &d.train.validate_every,
       "validation loss every N steps (0: with every progress line), when there is held-out data",
       0, kInf},
      {"train", "clip_norm", &d.train.clip_norm,
       "clip gradients to this global norm, over all ranks, each parameter once (0: off)", 0, kInf},
      {"train", "loss", &d.train.loss, "loss function", -kInf, kInf, {"mse", "cross_entropy"}},
      {"train", "precision", &d.train.precision, "scalar type", -kInf, kInf, {"float", "double"}},
      {"train", "seed", &d.train.seed, "seed of the weights", 0, kInf},
      {"train", "log_every", &d.train.log_every, "progress line and metrics row every N steps", 1,
       kInf},
      {"checkpoint", "path", &d.checkpoint.path,
       "checkpoint file prefix: step S goes to PATH.stepSSSSSSSS.h5 (empty: no checkpoints)"},
      {"checkpoint", "every", &d.checkpoint.every, "steps between checkpoints (0: only at the end)",
       0, kInf},
      {"checkpoint", "keep", &d.checkpoint.keep, "checkpoints kept (older ones are removed)", 1,
       kInf},
      {"checkpoint", "restart", &d.checkpoint.restart, "checkpoint file to resume from"},
      {"output", "metrics", &d.output.metrics, "CSV file, one row per logged step (empty: none)"},
      {"output", "summary", &d.output.summary, "JSON summary file (empty: none)"},
      {"output", "predictions", &d.output.predictions,
       "--infer: HDF5 file of the inputs (/X) and the model's outputs (/Y) (empty: none)"},
      {"compression",
       "method",
       &d.compression.method,
       "compressor of tp/megatron hidden-layer messages (docs/compression.md)",
       -kInf,
       kInf,
       {"none", "int8", "int4", "int2", "fp16", "bf16", "topk", "ae"}},
      {"compression",
       "topk_fraction",
       &d.compression.topk_fraction,
       "topk: fraction of each message's values kept",
       0,
       1,
       {},
       true},
      {"compression", "error_feedback", &d.compression.error_feedback,
       "topk: add each message's dropped remainder to the next one"},
      {"compression", "ae_dim", &d.compression.ae_dim,
       "ae: code width e per sample (at most model.width; megatron only)", 1, kInf},
      {"compression",
       "messages",
       &d.compression.messages,
       "which messages are compressed (ae: forward only)",
       -kInf,
       kInf,
       {"forward", "backward", "both"}},
      {"compression", "first_layer", &d.compression.first_layer,
       "hidden layers from this one on (1 = all) are compressed", 1, kInf},
      {"energy",
       "meter",
       &d.energy.meter,
       "energy meter: auto tries nvml, amd-smi, rapl, then the model (docs/energy.md)",
       -kInf,
       kInf,
       {"auto", "model", "rapl", "nvml", "amd-smi"}},
      {"energy",
       "watts_per_rank",
       &d.energy.watts_per_rank,
       "model: power of one rank while computing, W",
       0,
       kInf,
       {},
       true},
      {"energy", "idle_watts_per_rank", &d.energy.idle_watts_per_rank,
       "model: power of one rank while in the communicator, W", 0, kInf},
      {"energy", "regions", &d.energy.regions,
       "also report energy per region (forward, backward, communication, optimizer)"},
      {"plan", "profile", &d.plan.profile,
       "device profile for a modelled clock plan of this run (empty: none; docs/phantom-plan.md)"},
      {"plan", "slow_rank", &d.plan.slow_rank,
       "plan: one rank computes this much slower (1 = balanced)", 1, kInf},
      {"plan", "time_bound_ms", &d.plan.time_bound_ms,
       "plan: the step may take this long, ms (0 = as fast as possible)", 0, kInf},
      {"plan", "apply", &d.plan.apply,
       "lock the GPU clocks per phase to the plan through NVML (needs plan.profile)"},
      {"plan", "measure", &d.plan.measure,
       "instead of training, measure the step profile at plan.profile's clocks through NVML "
       "and write it to this CSV file (empty: train)"},
      {"plan", "measure_steps", &d.plan.measure_steps, "plan.measure: steps timed per clock", 1,
       kInf},
  };
}

std::string describe(const toml::node& n) {
  std::ostringstream os;
  if (n.is_string())
    os << '"' << *n.value<std::string>() << '"';
  else if (n.is_table())
    os << "a table";
  else if (n.is_array())
    os << "an array";
  else
    n.visit([&](const auto& v) { os << v; });
  return os.str();
}

std::string type_name(const Target& t) {
  switch (t.index()) {
    case 0: return "an integer";
    case 1: return "a number";
    case 2: return "a boolean (true or false)";
    default: return "a string";
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Stores node into field f, checking type, range and allowed values.
void assign(const Field& f, const toml::node& n, const std::string& origin) {
  const std::string where = origin + ": " + f.name() + " = " + describe(n) + ": ";
  auto fail = [&](const std::string& why) { throw DeckError(where + why); };
  std::visit(
      [&](auto* target) {
        using T = std::remove_pointer_t<decltype(target)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          if (!n.is_integer()) fail("must be " + type_name(f.target));
          *target = *n.value<std::int64_t>();
        } else if constexpr (std::is_same_v<T, double>) {
          if (!n.is_number()) fail("must be " + type_name(f.target));
          *target = *n.value<double>();
          if (!std::isfinite(*target)) fail("must be a finite number");
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!n.is_boolean()) fail("must be " + type_name(f.target));
          *target = *n.value<bool>();
        } else {
          if (!n.is_string()) fail("must be " + type_name(f.target));
          *target = *n.value<std::string>();
          if (!f.allowed.empty() &&
              std::find(f.allowed.begin(), f.allowed.end(), *target) == f.allowed.end()) {
            const std::string near = closest_match(*target, f.allowed);
            fail("allowed: " + join(f.allowed) +
                 (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
          }
        }
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
          const double v = double(*target);
          if (f.min_exclusive ? !(v > f.min) : v < f.min)
            fail(std::string("must be ") + (f.min_exclusive ? "> " : ">= ") + format_number(f.min));
          if (f.max_exclusive ? !(v < f.max) : v > f.max)
            fail(std::string("must be ") + (f.max_exclusive ? "< " : "<= ") + format_number(f.max));
        }
      },
      f.target);
}

// Parses an override value: TOML syntax if it parses, else a bare string.
toml::table parse_override(const std::string& value) {
  try {
    return toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    toml::table t;
    t.insert("v", value);
    return t;
  }
}

// Compression settings that contradict the model (none needs the rank count).
void check_compression(const Deck& d, const std::string& origin) {
  const auto& c = d.compression;
  const std::string method = "compression.method = \"" + c.method + "\"";
  auto fail = [&](const std::string& why) { throw DeckError(origin + ": " + why); };
  if (c.method == "none") {
    if (c.error_feedback)
      fail("compression.error_feedback = true needs compression.method = \"topk\"");
    return;
  }
  if (d.model.strategy != "tp" && d.model.strategy != "megatron")
    fail(method + " needs model.strategy = \"tp\" or \"megatron\", not \"" + d.model.strategy +
         "\"");
  if (c.method == "ae") {
    if (d.model.strategy != "megatron")
      fail(method +
           " needs model.strategy = \"megatron\" (the autoencoder commutes with an all-reduce, not "
           "with tp's all-gather)");
    if (c.ae_dim > d.model.width)
      fail("compression.ae_dim = " + std::to_string(c.ae_dim) +
           " must be <= model.width = " + std::to_string(d.model.width));
    if (c.messages != "forward")
      fail(method +
           " compresses forward activations only: set compression.messages = "
           "\"forward\" (got \"" +
           c.messages + "\")");
  }
  if (c.error_feedback && c.method != "topk")
    fail("compression.error_feedback = true needs compression.method = \"topk\", not \"" +
         c.method + "\"");
  if (c.first_layer > d.model.depth)
    fail("compression.first_layer = " + std::to_string(c.first_layer) +
         " is past the last hidden layer (model.depth = " + std::to_string(d.model.depth) + ")");
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    // Levenshtein distance, one row at a time.
    std::vector<std::size_t> row(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] != c[j - 1])});
        diagonal = up;
      }
    }
    if (row[c.size()] < best_distance) {
      best_distance = row[c.size()];
      best = c;
    }
  }
  // Close means at most a third of the word changed (at least one edit allowed).
  return best_distance <= std::max<std::size_t>(1, word.size() / 3) ? best : "";
}

Deck parse_deck(const std::string& toml_text, const std::string& origin,
                const std::vector<std::string>& overrides) {
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << origin << ":" << e.source().begin.line << ":" << e.source().begin.column
       << ": TOML syntax error: " << e.description();
    throw DeckError(os.str());
  }
  Deck deck;
  const std::vector<Field> schema = fields(deck);
  std::vector<std::string> sections, names;
  for (const auto& f : schema) {
    names.push_back(f.name());
    if (std::find(sections.begin(), sections.end(), f.section) == sections.end())
      sections.push_back(f.section);
  }
  auto unknown = [&](const std::string& what, const std::string& name,
                     const std::vector<std::string>& valid, const std::string& from) {
    const std::string near = closest_match(name, valid);
    throw DeckError(
        from + ": unknown " + what + " '" + name + "'" +
        (near.empty() ? " (valid: " + join(valid) + ")" : " (did you mean '" + near + "'?)"));
  };

  for (const auto& ov : overrides) {
    const auto eq = ov.find('=');
    const auto dot = ov.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
      throw DeckError("--set " + ov + ": expected section.key=value");
    const std::string section = ov.substr(0, dot), key = ov.substr(dot + 1, eq - dot - 1);
    if (std::find(names.begin(), names.end(), section + "." + key) == names.end())
      unknown("key", section + "." + key, names, "--set");
    if (!table.contains(section)) table.insert(section, toml::table{});
    toml::table* sec = table[section].as_table();
    if (!sec) throw DeckError(origin + ": '" + section + "' must be a table");
    toml::table value = parse_override(ov.substr(eq + 1));
    sec->insert_or_assign(key, std::move(*value.get("v")));
  }

  for (const auto& [section_key, section_node] : table) {
    const std::string section(section_key.str());
    if (std::find(sections.begin(), sections.end(), section) == sections.end())
      unknown(
          "section", "[" + section + "]",
          [&] {
            std::vector<std::string> s;
            for (const auto& x : sections) s.push_back("[" + x + "]");
            return s;
          }(),
          origin);
    const toml::table* sec = section_node.as_table();
    if (!sec) throw DeckError(origin + ": '" + section + "' must be a table ([" + section + "])");
    for (const auto& [key, node] : *sec) {
      const std::string name = section + "." + std::string(key.str());
      auto it = std::find_if(schema.begin(), schema.end(),
                             [&](const Field& f) { return f.name() == name; });
      if (it == schema.end()) unknown("key", name, names, origin);
      assign(*it, node, origin);
    }
  }
  if (deck.data.source == "hdf5" && deck.data.path.empty())
    throw DeckError(origin + ": data.path is required when data.source = \"hdf5\"");
  if (deck.data.validation_fraction > 0 && !deck.data.validation_path.empty())
    throw DeckError(origin +
                    ": data.validation_fraction and data.validation_path both hold out data; "
                    "set one");
  if ((deck.data.validation_fraction > 0 || !deck.data.validation_path.empty()) &&
      deck.compression.error_feedback)
    throw DeckError(origin +
                    ": validation with compression.error_feedback = true is not supported (the "
                    "validation passes would update the error-feedback residuals)");
  check_compression(deck, origin);
  return deck;
}

Deck load_deck(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw DeckError(path + ": cannot open the deck");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_deck(text.str(), path, overrides);
}

std::string to_toml(const Deck& deck) {
  Deck copy = deck;
  toml::table out;
  for (const auto& f : fields(copy)) {
    if (!out.contains(f.section)) out.insert(f.section, toml::table{});
    toml::table& sec = *out[f.section].as_table();
    std::visit([&](auto* v) { sec.insert(f.key, *v); }, f.target);
  }
  std::ostringstream os;
  os << out;
  return os.str();
}

std::vector<DeckKey> deck_keys() {
  Deck defaults;
  std::vector<DeckKey> keys;
  for (const auto& f : fields(defaults)) {
    std::string value = std::visit(
        [](auto* v) {
          using T = std::remove_pointer_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>)
            return "\"" + *v + "\"";
          else if constexpr (std::is_same_v<T, bool>)
            return std::string(*v ? "true" : "false");
          else
            return format_number(double(*v));
        },
        f.target);
    std::string meaning = f.meaning;
    if (!f.allowed.empty()) meaning += " (" + join(f.allowed) + ")";
    keys.push_back({f.name(), type_name(f.target), value, meaning});
  }
  return keys;
}

}  // namespace phantom
