// Kokkos Tools keeps one push-region and one pop-region callback; a training
// run has two listeners (energy per region, the clock plan's phases). RegionHooks
// installs the callbacks while any listener is registered and forwards every
// region to each, in registration order.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <vector>

namespace phantom::run {

class RegionListener {
 public:
  virtual ~RegionListener() = default;
  virtual void push(const char* region) = 0;
  virtual void pop() = 0;
};

class RegionHooks {
 public:
  static void add(RegionListener* l) {
    if (listeners().empty()) {
      Kokkos::Tools::Experimental::set_push_region_callback(&RegionHooks::on_push);
      Kokkos::Tools::Experimental::set_pop_region_callback(&RegionHooks::on_pop);
    }
    listeners().push_back(l);
  }
  static void remove(RegionListener* l) {
    auto& v = listeners();
    v.erase(std::remove(v.begin(), v.end(), l), v.end());
    if (v.empty()) {
      Kokkos::Tools::Experimental::set_push_region_callback(nullptr);
      Kokkos::Tools::Experimental::set_pop_region_callback(nullptr);
    }
  }

 private:
  static std::vector<RegionListener*>& listeners() {
    static std::vector<RegionListener*> v;
    return v;
  }
  static void on_push(const char* region) {
    for (auto* l : listeners()) l->push(region);
  }
  static void on_pop() {
    for (auto* l : listeners()) l->pop();
  }
};

}  // namespace phantom::run
