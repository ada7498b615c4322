#include "phantom/comm/first_error.hpp"

namespace phantom {

std::string first_error(MPI_Comm comm, const std::string& error) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int mine = error.empty() ? size : rank, first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return {};
  std::string text = error;
  int length = int(text.size());
  MPI_Bcast(&length, 1, MPI_INT, first, comm);
  text.resize(std::size_t(length));
  MPI_Bcast(text.data(), length, MPI_CHAR, first, comm);
  return text;
}

}  // namespace phantom
