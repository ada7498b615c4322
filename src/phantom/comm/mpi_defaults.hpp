// MPI settings Phantom prefers, applied before MPI_Init by the programs that
// own it (phantom-train, the tests); an embedding code may call it too.
#pragma once

namespace phantom {

// Open MPI 4.1's libnbc picks, for a large non-blocking all-reduce on few
// ranks, algorithms that do most of the work inside MPI_Iallreduce itself, so
// data parallelism's buckets could not overlap the backward pass (measured:
// perf/data_parallel.py, docs/results.md). The ring algorithm starts and
// returns: this selects it (OMPI_MCA_coll_libnbc_iallreduce_algorithm = 1)
// unless the environment already chooses. Other MPI libraries ignore it.
void prefer_overlapping_collectives();

}  // namespace phantom
