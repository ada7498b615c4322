// Input decks: the TOML file phantom-train reads (docs/deck.md lists every key).
// Parsing checks everything it can without knowing the rank count: unknown
// sections and keys (with the closest valid key), types, ranges and allowed
// values. Errors are DeckError naming the key, the value and what is allowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"

namespace phantom {

class DeckError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

struct Deck {
  struct Model {
    std::string strategy = "pp";
    std::int64_t input_dim = 16;
    std::int64_t width = 256;
    std::int64_t depth = 4;
    std::int64_t output_dim = 4;
    std::int64_t ghost = 16;
    std::string activation = "relu";
  } model;
  struct Parallel {
    std::int64_t data = 1;   // data-parallel replicas D
    double bucket_mb = 25.0;  // gradient all-reduce buckets (PyTorch DDP's default)
  } parallel;
  struct Data {
    std::string source = "teacher";
    std::string path;
    std::int64_t samples = 4096;
    double noise = 0.0;
    bool shuffle = false;
    std::int64_t seed = 1;
    double validation_fraction = 0.0;
    std::string validation_path;
  } data;
  struct Train {
    std::int64_t steps = 100;
    std::int64_t batch = 64;
    std::string optimizer = "adam";
    double learning_rate = 1e-3;
    double momentum = 0.0;
    double weight_decay = 0.0;
    std::string schedule = "constant";
    std::int64_t warmup_steps = 0;
    std::int64_t decay_steps = 0;
    double min_learning_rate = 0.0;
    std::int64_t step_every = 1000;
    double step_factor = 0.1;
    double clip_norm = 0.0;
    std::int64_t validate_every = 0;
    std::string loss = "mse";
    std::string precision = "float";
    std::int64_t seed = 42;
    std::int64_t log_every = 10;
  } train;
  struct Checkpoint {
    std::string path;
    std::int64_t every = 0;
    std::int64_t keep = 2;
    std::string restart;
  } checkpoint;
  struct Output {
    std::string metrics;
    std::string summary;
    std::string predictions;
  } output;
  struct Compression {
    std::string method = "none";
    double topk_fraction = 0.1;
    bool error_feedback = false;
    std::int64_t ae_dim = 64;
    std::string messages = "both";
    std::int64_t first_layer = 1;
  } compression;
  struct Energy {
    std::string meter = "auto";
    double watts_per_rank = 4.0;
    double idle_watts_per_rank = 1.4;
    bool regions = false;
  } energy;
  struct Plan {
    std::string profile;  // empty: no plan
    double slow_rank = 1.0;
    double time_bound_ms = 0.0;
    bool apply = false;
    std::string measure;  // empty: train
    std::int64_t measure_steps = 5;
  } plan;
};

// One documented key of the deck, for parsing, docs and --help.
struct DeckKey {
  std::string name;  // "section.key"
  std::string type;  // integer, real, boolean, string
  std::string default_value;
  std::string meaning;
};

// Parses TOML text; `origin` names it in errors (a file name or "default deck").
// Each override is "section.key=value", value in TOML syntax or a bare string.
Deck parse_deck(const std::string& toml_text, const std::string& origin,
                const std::vector<std::string>& overrides = {});
// Reads and parses a file; a missing or unreadable file is a DeckError.
Deck load_deck(const std::string& path, const std::vector<std::string>& overrides = {});
// The deck as TOML, every key resolved (for summaries and hashing).
std::string to_toml(const Deck& deck);
// Every key with its type, default and meaning.
std::vector<DeckKey> deck_keys();
// The closest of `candidates` to `word` by edit distance, or "" if none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace phantom
