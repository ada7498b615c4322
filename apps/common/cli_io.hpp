// What the command-line tools share: comma-separated option lists, and output
// files written under a temporary name and renamed, so a failed run never
// leaves a half-written file (nor the temporary one).
#pragma once

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "phantom/core/error.hpp"

namespace phantom_cli {

// "1,2,,4" -> {"1", "2", "4"}
inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// write(out) fills the file (15 significant digits). A path that cannot be
// opened is bad input (InvalidArgument); a failed write or rename is Error.
template <class Write>
void write_atomically(const std::string& path, Write&& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw phantom::InvalidArgument("cannot write " + tmp);
    out << std::setprecision(15);
    write(out);
    if (!out) {
      std::remove(tmp.c_str());
      throw phantom::Error("write failed: " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw phantom::Error("cannot rename " + tmp + " to " + path);
  }
}

}  // namespace phantom_cli
