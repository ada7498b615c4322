// phantom-train's checkpoint policy: file names, when to write, how many to
// keep, and whether a checkpoint fits the deck it is restarted with.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "phantom/io/checkpoint_file.hpp"
#include "phantom/io/deck.hpp"

namespace phantom_train {

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

// Everything in which a checkpoint differs from what the deck builds on p
// ranks, as one message; empty if it fits.
inline std::string restart_mismatch(const phantom::CheckpointInfo& c, const phantom::Deck& d,
                                    int ranks) {
  std::string out;
  auto differ = [&](const std::string& what, const std::string& in_file,
                    const std::string& in_deck) {
    if (in_file != in_deck)
      out += "\n  " + what + " is " + in_file + " in the checkpoint but " + in_deck + " here";
  };
  auto num = [](long long v) { return std::to_string(v); };
  differ("model.strategy", c.strategy, d.model.strategy);
  differ("model.input_dim", num(c.input_dim), num(d.model.input_dim));
  differ("model.width", num(c.width), num(d.model.width));
  differ("model.depth", num(c.depth), num(d.model.depth));
  differ("model.output_dim", num(c.output_dim), num(d.model.output_dim));
  differ("model.activation", c.activation, d.model.activation);
  differ("train.precision", c.precision, d.train.precision);
  differ("train.optimizer", c.optimizer, d.train.optimizer);
  if (d.model.strategy == "pp") {
    differ("model.ghost", num(c.ghost), num(d.model.ghost));
    // A pp model's blocks belong to its rank count (tp and megatron restart at any).
    differ("the rank count (pp)", num(c.ranks), num(ranks));
  }
  // The autoencoders' weights exist only with compression.method = "ae", and
  // their encoders (one per rank) belong to the rank count. Other compressors
  // have no parameters and may change at a restart.
  std::string saved_method = "none", saved_dim = num(d.compression.ae_dim);
  try {
    const phantom::Deck saved = phantom::parse_deck(c.deck, "checkpoint deck");
    saved_method = saved.compression.method;
    saved_dim = num(saved.compression.ae_dim);
  } catch (const phantom::DeckError&) {
    // A deck from another version: the dataset checks of the load still apply.
  }
  if (saved_method == "ae" || d.compression.method == "ae") {
    differ("compression.method", saved_method, d.compression.method);
    differ("compression.ae_dim", saved_dim, num(d.compression.ae_dim));
    differ("the rank count (ae encoders)", num(c.ranks), num(ranks));
  }
  return out;
}

}  // namespace phantom_train
