// A 2-D grid of P = model_size x data_size ranks over a world communicator.
// Model-parallel groups are runs of consecutive world ranks (PP or TP shards of
// one model replica, which talk most, stay close together); data-parallel
// groups join the ranks holding the same shard of every replica:
//   world rank w:  model group w / model_size, model rank w % model_size
//                  data group  w % model_size, data rank  w / model_size
// Example P = 4, model_size = 2: model groups {0,1} {2,3}, data groups {0,2} {1,3}.
// Given the world's MPI communicator too, the grid also holds the groups' MPI
// communicators (for what needs MPI itself: MPI-IO checkpoints, host
// reductions), split with the same colours and freed with the grid.
#pragma once

#include <mpi.h>

#include <memory>

#include "phantom/comm/communicator.hpp"

namespace phantom {

class ProcessGrid {
 public:
  // Collective over world. Throws InvalidArgument unless model_size divides world.size().
  ProcessGrid(Communicator& world, int model_size);
  // Also splits world_mpi (the same ranks as world) into the groups' MPI
  // communicators.
  ProcessGrid(Communicator& world, MPI_Comm world_mpi, int model_size);
  ~ProcessGrid();
  ProcessGrid(const ProcessGrid&) = delete;
  ProcessGrid& operator=(const ProcessGrid&) = delete;

  int model_size() const { return model_->size(); }
  int data_size() const { return data_->size(); }
  int model_rank() const { return model_->rank(); }
  int data_rank() const { return data_->rank(); }
  Communicator& model() const { return *model_; }
  Communicator& data() const { return *data_; }
  // MPI_COMM_NULL unless built with world_mpi.
  MPI_Comm model_mpi() const { return model_mpi_; }
  MPI_Comm data_mpi() const { return data_mpi_; }

 private:
  std::unique_ptr<Communicator> model_;
  std::unique_ptr<Communicator> data_;
  MPI_Comm model_mpi_ = MPI_COMM_NULL, data_mpi_ = MPI_COMM_NULL;
};

}  // namespace phantom
