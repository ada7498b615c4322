// Output files written under a temporary name and renamed, so a failed run
// never leaves a half-written file (nor the temporary one).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <string>

#include "phantom/core/error.hpp"

namespace phantom {

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
    out.close();  // a full disk may only show when the buffer goes out
    if (!out) {
      const int error = errno;
      std::remove(tmp.c_str());
      throw phantom::Error("cannot write " + path + ": writing " + tmp + " failed (" +
                           std::strerror(error) + ")");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw phantom::Error("cannot rename " + tmp + " to " + path);
  }
}

}  // namespace phantom
