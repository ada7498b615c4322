// Shared by the energy tests: a scratch directory and a handle on a fake vendor
// library (the same file the meters dlopen, so both see one state).
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace phantom_test {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "phantom-energy-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Writes `text` (and a newline, as sysfs does) to `path`, making its directories.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

// The fake library at `path`, held open for the test's lifetime.
class FakeLibrary {
 public:
  explicit FakeLibrary(const std::string& path) : handle_(::dlopen(path.c_str(), RTLD_NOW)) {
    if (!handle_) throw std::runtime_error(std::string("cannot dlopen the fake: ") + ::dlerror());
  }
  ~FakeLibrary() { ::dlclose(handle_); }
  FakeLibrary(const FakeLibrary&) = delete;
  FakeLibrary& operator=(const FakeLibrary&) = delete;
  template <class F>
  F get(const char* symbol) const {
    void* address = ::dlsym(handle_, symbol);
    if (!address) throw std::runtime_error(std::string("the fake has no ") + symbol);
    return reinterpret_cast<F>(address);
  }

 private:
  void* handle_;
};

}  // namespace phantom_test
