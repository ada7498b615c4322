// Agreeing on an error across ranks: when a step can fail on some ranks only
// (a library missing on one node, a file one rank cannot write), every rank
// must fail alike, or the others wait forever in the next collective.
#pragma once

#include <mpi.h>

#include <string>

namespace phantom {

// Collective over comm: "" when no rank passed an error, else the error of the
// lowest rank that did, on every rank.
std::string first_error(MPI_Comm comm, const std::string& error);

}  // namespace phantom
