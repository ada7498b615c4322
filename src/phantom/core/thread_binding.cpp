#include "phantom/core/thread_binding.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

namespace phantom {

int usable_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
  return 0;
}

std::string thread_binding_warning(int threads) {
  const int cpus = usable_cpus();
  if (threads <= 1 || cpus == 0 || cpus >= threads) return "";
  return std::to_string(threads) + " threads per rank share " + std::to_string(cpus) +
         (cpus == 1 ? " core" : " cores") +
         " (this rank's CPU affinity): launch threaded ranks unbound (mpiexec --bind-to none) or "
         "with a core per thread (Open MPI: mpiexec --map-by slot:PE=" +
         std::to_string(threads) + "), or set OMP_NUM_THREADS=" + std::to_string(cpus);
}

}  // namespace phantom
