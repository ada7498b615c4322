// The deck parser: TOML text, then --set overrides. The input is the text up to
// the first NUL byte; each further NUL-separated piece is one override
// ("section.key=value"). Bad input must end in a DeckError (or another
// phantom::Error), never a crash, a hang or another exception.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"
#include "phantom/io/deck.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (std::size_t nul; (nul = input.find('\0', start)) != std::string::npos; start = nul + 1)
    pieces.push_back(input.substr(start, nul - start));
  pieces.push_back(input.substr(start));
  const std::string text = pieces.front();
  const std::vector<std::string> overrides(pieces.begin() + 1, pieces.end());
  try {
    const phantom::Deck deck = phantom::parse_deck(text, "fuzz deck", overrides);
    // A deck that parses prints as TOML that parses to the same deck.
    const std::string again = phantom::to_toml(deck);
    if (phantom::to_toml(phantom::parse_deck(again, "fuzz deck again")) != again) __builtin_trap();
  } catch (const phantom::Error&) {
  }
  return 0;
}
