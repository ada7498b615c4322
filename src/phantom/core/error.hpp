// Exceptions Phantom throws. Every message names what was wrong and the values.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace phantom {

// Base of all Phantom errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Operands whose shapes do not fit the operation.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A bad argument or configuration value.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// Throws ShapeError("<what>: <name_a> is <a> but <name_b> is <b>") when a != b.
inline void require_equal(std::size_t a, std::size_t b, const std::string& what, const char* name_a,
                          const char* name_b) {
  if (a != b)
    throw ShapeError(what + ": " + name_a + " is " + std::to_string(a) + " but " + name_b + " is " +
                     std::to_string(b));
}

}  // namespace phantom
