// Deck parsing: defaults, overrides, and a table of bad decks, each with the
// exact error it must give.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "phantom/io/deck.hpp"

namespace {

TEST(Deck, EmptyDeckGivesDefaults) {
  const phantom::Deck d = phantom::parse_deck("", "empty");
  EXPECT_EQ(d.model.strategy, "pp");
  EXPECT_EQ(d.model.width, 256);
  EXPECT_EQ(d.train.optimizer, "adam");
  EXPECT_FALSE(d.data.shuffle);
}

TEST(Deck, ValuesAndOverrides) {
  const phantom::Deck d = phantom::parse_deck(
      "[model]\nstrategy = \"tp\"\nwidth = 512\n[train]\nlearning_rate = 2\nmomentum = 0.5\n"
      "[data]\nshuffle = true\n",
      "deck.toml", {"model.width=1024", "train.optimizer=sgd", "output.summary=out.json"});
  EXPECT_EQ(d.model.strategy, "tp");
  EXPECT_EQ(d.model.width, 1024);           // override wins
  EXPECT_EQ(d.train.learning_rate, 2.0);    // integer accepted for a real
  EXPECT_EQ(d.train.optimizer, "sgd");      // bare string
  EXPECT_EQ(d.output.summary, "out.json");  // bare string with a dot
  EXPECT_TRUE(d.data.shuffle);
}

TEST(Deck, RoundTripsThroughToml) {
  const phantom::Deck d = phantom::parse_deck("[model]\nwidth = 64\n", "a", {"data.noise=0.25"});
  const phantom::Deck e = phantom::parse_deck(phantom::to_toml(d), "b");
  EXPECT_EQ(phantom::to_toml(d), phantom::to_toml(e));
  EXPECT_EQ(e.model.width, 64);
  EXPECT_EQ(e.data.noise, 0.25);
}

struct BadDeck {
  const char* text;
  std::vector<std::string> overrides;
  const char* error;
};

TEST(Deck, BadDecksGiveClearErrors) {
  const BadDeck cases[] = {
      {"[model]\nwidht = 512\n",
       {},
       "d.toml: unknown key 'model.widht' (did you mean 'model.width'?)"},
      {"[modle]\nwidth = 1\n", {}, "d.toml: unknown section '[modle]' (did you mean '[model]'?)"},
      {"[model]\nzzzzzzzz = 1\n", {}, nullptr},  // unknown, nothing close: lists valid keys
      {"[model]\nwidth = 0\n", {}, "d.toml: model.width = 0: must be >= 1"},
      {"[model]\nwidth = 2.5\n", {}, "d.toml: model.width = 2.5: must be an integer"},
      {"[model]\nwidth = \"big\"\n", {}, "d.toml: model.width = \"big\": must be an integer"},
      {"[model]\nstrategy = \"ppp\"\n",
       {},
       "d.toml: model.strategy = \"ppp\": allowed: pp, tp, megatron, dense (did you mean \"pp\"?)"},
      {"[model]\nactivation = \"swish\"\n",
       {},
       "d.toml: model.activation = \"swish\": allowed: relu, gelu, tanh, identity"},
      {"[train]\nlearning_rate = 0\n", {}, "d.toml: train.learning_rate = 0: must be > 0"},
      {"[train]\nmomentum = 1.0\n", {}, "d.toml: train.momentum = 1.0: must be < 1"},
      {"[train]\nsteps = -1\n", {}, "d.toml: train.steps = -1: must be >= 0"},
      {"[data]\nshuffle = 1\n", {}, "d.toml: data.shuffle = 1: must be a boolean (true or false)"},
      {"[data]\nsource = \"hdf5\"\n",
       {},
       "d.toml: data.path is required when data.source = \"hdf5\""},
      {"model = 3\n", {}, "d.toml: 'model' must be a table ([model])"},
      {"[model\n",
       {},
       "d.toml:1:7: TOML syntax error: Error while parsing table header: expected ']', saw '\\n'"},
      {"", {"model.wdth=8"}, "--set: unknown key 'model.wdth' (did you mean 'model.width'?)"},
      {"", {"width=8"}, "--set width=8: expected section.key=value"},
      {"", {"model.width=-3"}, "d.toml: model.width = -3: must be >= 1"},
      // compression (docs/compression.md)
      {"[compression]\nmethod = \"int3\"\n",
       {},
       "d.toml: compression.method = \"int3\": allowed: none, int8, int4, int2, fp16, bf16, topk, "
       "ae (did you mean \"int8\"?)"},
      {"[compression]\ntopk_fraction = 0\n",
       {},
       "d.toml: compression.topk_fraction = 0: must be > 0"},
      {"[compression]\ntopk_fraction = 1.5\n",
       {},
       "d.toml: compression.topk_fraction = 1.5: must be <= 1"},
      {"[compression]\nae_dim = 0\n", {}, "d.toml: compression.ae_dim = 0: must be >= 1"},
      {"[compression]\nmessages = \"all\"\n",
       {},
       "d.toml: compression.messages = \"all\": allowed: forward, backward, both"},
      {"[compression]\nmethod = \"int8\"\n",
       {},
       "d.toml: compression.method = \"int8\" needs model.strategy = \"tp\" or \"megatron\", not "
       "\"pp\""},
      {"[model]\nstrategy = \"tp\"\n[compression]\nmethod = \"ae\"\nmessages = \"forward\"\n",
       {},
       "d.toml: compression.method = \"ae\" needs model.strategy = \"megatron\" (the autoencoder "
       "commutes with an all-reduce, not with tp's all-gather)"},
      {"[model]\nstrategy = \"megatron\"\nwidth = 32\n[compression]\nmethod = \"ae\"\n"
       "messages = \"forward\"\nae_dim = 33\n",
       {},
       "d.toml: compression.ae_dim = 33 must be <= model.width = 32"},
      {"[model]\nstrategy = \"megatron\"\n[compression]\nmethod = \"ae\"\n",
       {},
       "d.toml: compression.method = \"ae\" compresses forward activations only: set "
       "compression.messages = \"forward\" (got \"both\")"},
      {"[model]\nstrategy = \"tp\"\n[compression]\nmethod = \"int4\"\nerror_feedback = true\n",
       {},
       "d.toml: compression.error_feedback = true needs compression.method = \"topk\", not "
       "\"int4\""},
      {"[compression]\nerror_feedback = true\n",
       {},
       "d.toml: compression.error_feedback = true needs compression.method = \"topk\""},
      {"[model]\nstrategy = \"tp\"\n[compression]\nmethod = \"topk\"\nfirst_layer = 5\n",
       {},
       "d.toml: compression.first_layer = 5 is past the last hidden layer (model.depth = 4)"},
  };
  for (const auto& c : cases) {
    try {
      phantom::parse_deck(c.text, "d.toml", c.overrides);
      ADD_FAILURE() << "no error for:\n" << c.text;
    } catch (const phantom::DeckError& e) {
      if (c.error)
        EXPECT_EQ(std::string(e.what()), c.error) << "deck:\n" << c.text;
      else
        EXPECT_NE(std::string(e.what()).find("unknown key 'model.zzzzzzzz' (valid: model.strategy"),
                  std::string::npos)
            << e.what();
    }
  }
}

TEST(Deck, CompressionSettings) {
  const phantom::Deck d = phantom::parse_deck(
      "[model]\nstrategy = \"megatron\"\n[compression]\nmethod = \"ae\"\nae_dim = 8\n"
      "messages = \"forward\"\nfirst_layer = 3\n",
      "deck.toml");
  EXPECT_EQ(d.compression.method, "ae");
  EXPECT_EQ(d.compression.ae_dim, 8);
  EXPECT_EQ(d.compression.messages, "forward");
  EXPECT_EQ(d.compression.first_layer, 3);
  const phantom::Deck e = phantom::parse_deck("", "empty");
  EXPECT_EQ(e.compression.method, "none");
  EXPECT_EQ(e.compression.topk_fraction, 0.1);
  EXPECT_FALSE(e.compression.error_feedback);
  EXPECT_NO_THROW(
      phantom::parse_deck("", "d",
                          {"model.strategy=tp", "compression.method=topk",
                           "compression.topk_fraction=1", "compression.error_feedback=true"}));
}

TEST(Deck, MissingFileIsAnError) {
  EXPECT_THROW(phantom::load_deck("/nonexistent/deck.toml"), phantom::DeckError);
}

TEST(Deck, ClosestMatch) {
  EXPECT_EQ(phantom::closest_match("lerning_rate", {"learning_rate", "loss"}), "learning_rate");
  EXPECT_EQ(phantom::closest_match("xyz", {"learning_rate", "loss"}), "");
}

TEST(Deck, EveryKeyDocumented) {
  const auto keys = phantom::deck_keys();
  EXPECT_EQ(keys.size(), 58u);
  for (const auto& k : keys) EXPECT_FALSE(k.meaning.empty()) << k.name;
}

}  // namespace

namespace {

TEST(Deck, DocsListEveryKey) {
  std::ifstream in(std::string(PHANTOM_SOURCE_DIR) + "/docs/deck.md");
  ASSERT_TRUE(in) << "docs/deck.md missing";
  const std::string docs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& k : phantom::deck_keys())
    EXPECT_NE(docs.find("| `" + k.name + "` | " + k.type + " | `" + k.default_value + "` | " +
                        k.meaning + " |"),
              std::string::npos)
        << k.name << " is not documented as it is in the code";
}

}  // namespace

namespace {

// Every deck shipped in inputs/ parses (file names differ, so compare nothing else).
TEST(Deck, ShippedDecksAreValid) {
  std::size_t decks = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(PHANTOM_SOURCE_DIR) + "/inputs")) {
    if (entry.path().extension() != ".toml") continue;
    ++decks;
    EXPECT_NO_THROW(phantom::load_deck(entry.path().string())) << entry.path();
  }
  EXPECT_GE(decks, 4u);
}

}  // namespace
