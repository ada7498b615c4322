// Whether a rank's host threads each have a core. Open MPI binds a rank to
// one core when there are no more ranks than cores (mpiexec --report-bindings
// shows [B/.]), so a rank launched that way with OpenMP threads runs all of
// them on that one core, slower than one thread. docs/backends.md says how to
// launch threaded ranks.
#pragma once

#include <string>

namespace phantom {

// CPUs this process may run on (its affinity mask), 0 where that is unknown.
int usable_cpus();

// "" when `threads` host threads fit the CPUs this process may use; otherwise
// a warning naming both numbers and the launch options that give each thread
// a core.
std::string thread_binding_warning(int threads);

}  // namespace phantom
