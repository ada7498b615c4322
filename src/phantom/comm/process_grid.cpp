#include "phantom/comm/process_grid.hpp"

#include <string>

namespace phantom {

ProcessGrid::ProcessGrid(Communicator& world, int model_size) {
  const int p = world.size();
  if (model_size < 1 || p % model_size != 0)
    throw InvalidArgument("phantom::ProcessGrid: model-parallel size " +
                          std::to_string(model_size) + " does not divide the " + std::to_string(p) +
                          " ranks of the world communicator");
  const int w = world.rank();
  model_ = world.split(w / model_size, w % model_size);
  data_ = world.split(w % model_size, w / model_size);
}

ProcessGrid::ProcessGrid(Communicator& world, MPI_Comm world_mpi, int model_size)
    : ProcessGrid(world, model_size) {
  const int w = world.rank();
  MPI_Comm_split(world_mpi, w / model_size, w % model_size, &model_mpi_);
  MPI_Comm_split(world_mpi, w % model_size, w / model_size, &data_mpi_);
}

ProcessGrid::~ProcessGrid() {
  if (model_mpi_ != MPI_COMM_NULL) MPI_Comm_free(&model_mpi_);
  if (data_mpi_ != MPI_COMM_NULL) MPI_Comm_free(&data_mpi_);
}

}  // namespace phantom
