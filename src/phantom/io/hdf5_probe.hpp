// HDF5 1.10 trusts a file's metadata: some damage (a local heap claiming 47
// TB, which malloc refuses and HDF5 then writes through the NULL) makes it
// crash instead of failing (found by tests/fuzz). The readers of data sets
// and checkpoints therefore first walk a file, metadata and values, in a
// child process: if the child dies, the file is refused with a message
// naming it, and the reading process never runs the code that would have
// crashed it.
#pragma once

#include <hdf5.h>

#include <functional>
#include <string>
#include <vector>

namespace phantom {
namespace detail {

// In a forked child with its output silenced (no MPI, no Kokkos there):
// opens `path` with HDF5's serial driver; opens each of `datasets` with its
// dataspace, type, layout and chunk index and reads all its values (a slab
// at a time); then runs `extra` on the open file: what the reader itself will
// do. Returns "" when the child finished, whatever HDF5 reported (the real
// reads report errors), else how it ended ("signal 11", "no end after 60
// s": the limit grows with the file's size). Where fork fails, returns ""
// (reads unprobed).
std::string hdf5_read_crash(const std::string& path, const std::vector<std::string>& datasets,
                            const std::function<void(hid_t file)>& extra = {});

}  // namespace detail
}  // namespace phantom
