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

// Open MPI's MPI-IO (OMPIO) opens every file with a shared-file-pointer
// component; its "sm" choice keeps a named POSIX semaphore per file name
// (/dev/shm/sem.OMPIO_<name>). A rank killed while a checkpoint is open
// leaves it behind, taken, and every later job on that node that opens a
// file of the same name (the next run's checkpoint of the same step) waits
// on it forever. Phantom never uses shared file pointers: this excludes
// "sm" (OMPI_MCA_sharedfp = ^sm) unless the environment already chooses.
void avoid_stale_file_semaphores();

// Both of the above: what phantom-train and the tests call before MPI_Init.
void apply_mpi_defaults();

}  // namespace phantom
