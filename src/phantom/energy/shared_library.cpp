#include "phantom/energy/shared_library.hpp"

#include <dlfcn.h>

namespace phantom::detail {

SharedLibrary::SharedLibrary(const std::string& path) : path_(path) {
  // RTLD_LOCAL: the vendor's symbols stay out of the global namespace.
  handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* error = ::dlerror();
    const std::string why = error ? error : "unknown error";
    // "not found" only when that is what dlopen said: a library that is there
    // but broken (a missing dependency, say) must not read as absent.
    const bool absent = why.find("No such file") != std::string::npos;
    throw LibraryUnavailable(path + (absent ? " not found" : " cannot be loaded") +
                             " (dlopen: " + why + ")");
  }
}

SharedLibrary::~SharedLibrary() {
  if (handle_) ::dlclose(handle_);
}

void* SharedLibrary::find(const char* symbol) const {
  ::dlerror();  // clear a stale error
  return ::dlsym(handle_, symbol);
}

void* SharedLibrary::require(const char* symbol) const {
  void* address = find(symbol);
  if (!address)
    throw LibraryUnavailable(path_ + " has no " + symbol +
                             " (too old, or not the vendor's library?)");
  return address;
}

}  // namespace phantom::detail
