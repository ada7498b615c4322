// What the command-line tools share: comma-separated option lists, and
// (from the library) output files written atomically.
#pragma once

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"
#include "phantom/io/atomic_file.hpp"

namespace phantom_cli {

// "1,2,,4" -> {"1", "2", "4"}
inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

using phantom::write_atomically;

}  // namespace phantom_cli
