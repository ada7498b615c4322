// A 2-D grid of P = model_size x data_size ranks over a world communicator.
// Model-parallel groups are runs of consecutive world ranks (PP or TP shards of
// one model replica, which talk most, stay close together); data-parallel
// groups join the ranks holding the same shard of every replica:
//   world rank w:  model group w / model_size, model rank w % model_size
//                  data group  w % model_size, data rank  w / model_size
// Example P = 4, model_size = 2: model groups {0,1} {2,3}, data groups {0,2} {1,3}.
#pragma once

#include <memory>

#include "phantom/comm/communicator.hpp"

namespace phantom {

class ProcessGrid {
 public:
  // Collective over world. Throws InvalidArgument unless model_size divides world.size().
  ProcessGrid(Communicator& world, int model_size);

  int model_size() const { return model_->size(); }
  int data_size() const { return data_->size(); }
  int model_rank() const { return model_->rank(); }
  int data_rank() const { return data_->rank(); }
  Communicator& model() const { return *model_; }
  Communicator& data() const { return *data_; }

 private:
  std::unique_ptr<Communicator> model_;
  std::unique_ptr<Communicator> data_;
};

}  // namespace phantom
