// A shared library opened at run time (dlopen), so Phantom builds and runs on
// machines without the vendor's headers or driver. Owns the handle.
#pragma once

#include <string>

#include "phantom/core/error.hpp"

namespace phantom {

// A vendor library that is absent or lacks an entry point Phantom needs.
class LibraryUnavailable : public Error {
 public:
  using Error::Error;
};

namespace detail {

class SharedLibrary {
 public:
  // Throws LibraryUnavailable("<path> not found (dlopen: <dlerror>)").
  explicit SharedLibrary(const std::string& path);
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // The symbol's address, or nullptr when the library lacks it.
  void* find(const char* symbol) const;
  // As find, but a missing symbol throws LibraryUnavailable naming it.
  void* require(const char* symbol) const;
  // Casts a symbol to the function pointer type F (POSIX allows this cast).
  template <class F>
  F find_as(const char* symbol) const {
    return reinterpret_cast<F>(find(symbol));
  }
  template <class F>
  F require_as(const char* symbol) const {
    return reinterpret_cast<F>(require(symbol));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* handle_ = nullptr;
};

}  // namespace detail
}  // namespace phantom
