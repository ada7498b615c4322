// A training run's checkpoint policy: file names, how many to keep, and
// whether a checkpoint fits the network it is restarted into.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "phantom/core/optimizer.hpp"
#include "phantom/io/checkpoint_file.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace phantom::run {

// The deck's [checkpoint] section.
struct CheckpointPolicy {
  std::string path;        // prefix of <path>.step<S>.h5; empty: none written
  std::int64_t every = 0;  // steps between checkpoints (0: at the end only)
  std::int64_t keep = 2;   // newest checkpoints kept
};

// Checkpoint of step S: <checkpoint.path>.step<S, 8 digits>.h5
inline std::string checkpoint_name(const std::string& prefix, std::size_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".step%08zu.h5", step);
  return prefix + buf;
}

// Removes all but the newest `keep` checkpoints with this prefix (rank 0 only).
inline void remove_old_checkpoints(const std::string& prefix, std::size_t keep) {
  namespace fs = std::filesystem;
  const fs::path p(prefix);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string stem = p.filename().string();
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == stem.size() + 16 && name.compare(0, stem.size(), stem) == 0 &&
        std::regex_match(name.substr(stem.size()), std::regex(R"(\.step\d{8}\.h5)")))
      found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());  // zero-padded steps sort by name
  for (std::size_t i = 0; i + keep < found.size(); ++i) fs::remove(found[i]);
}

// Throws DeckError if a file named by `key` cannot be created where it points.
inline void require_writable_directory(const std::string& key, const std::string& path) {
  if (path.empty()) return;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir))
    throw phantom::DeckError(key + " = \"" + path + "\": directory " + dir.string() +
                             " does not exist");
}

// Everything in which a checkpoint differs from the network `config` builds on
// `ranks` ranks with optimizer `optimizer` in `precision` ("float", "double"),
// as one message (the deck's key names); empty if it fits.
inline std::string restart_mismatch(const phantom::CheckpointInfo& c,
                                    const phantom::NetworkConfig& config,
                                    phantom::OptimizerKind optimizer, const std::string& precision,
                                    int ranks) {
  std::string out;
  auto differ = [&](const std::string& what, const std::string& in_file, const std::string& here) {
    if (in_file != here)
      out += "\n  " + what + " is " + in_file + " in the checkpoint but " + here + " here";
  };
  auto num = [](long long v) { return std::to_string(v); };
  const auto& shape = config.shape;
  differ("model.strategy", c.strategy, phantom::to_string(config.strategy));
  differ("model.input_dim", num(c.input_dim), num((long long)shape.input_dim));
  differ("model.width", num(c.width), num((long long)shape.width));
  differ("model.depth", num(c.depth), num((long long)shape.depth));
  differ("model.output_dim", num(c.output_dim), num((long long)shape.output_dim));
  differ("model.activation", c.activation, phantom::to_string(config.activation));
  differ("train.precision", c.precision, precision);
  differ("train.optimizer", c.optimizer, phantom::to_string(optimizer));
  if (config.strategy == phantom::Strategy::pp) {
    differ("model.ghost", num(c.ghost), num((long long)config.ghost));
    // A pp model's blocks belong to its rank count (tp and megatron restart at any).
    differ("the model-parallel size (pp)", num(c.ranks), num(ranks));
  }
  // The autoencoders' weights exist only with compression.method = "ae", and
  // their encoders (one per rank) belong to the rank count. Other compressors
  // have no parameters and may change at a restart.
  const std::string method = phantom::to_string(config.compression.method);
  const std::string dim = num((long long)config.compression.ae_dim);
  std::string saved_method = "none", saved_dim = dim;
  try {
    const phantom::Deck saved = phantom::parse_deck(c.deck, "checkpoint deck");
    saved_method = saved.compression.method;
    saved_dim = num(saved.compression.ae_dim);
  } catch (const phantom::DeckError&) {
    // A deck from another version: the dataset checks of the load still apply.
  }
  if (saved_method == "ae" || method == "ae") {
    differ("compression.method", saved_method, method);
    differ("compression.ae_dim", saved_dim, dim);
    differ("the rank count (ae encoders)", num(c.ranks), num(ranks));
  }
  return out;
}

}  // namespace phantom::run
