// A training step in steady state allocates no Kokkos memory: after a few
// warm-up steps, Kokkos Tools' allocation callback sees nothing during the
// next steps of a session (batch gather, forward, loss, backward, collectives,
// data-parallel averaging, clipping, the optimizer), for every strategy, with
// compression and with data parallelism, at 1-4 ranks.
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "mpi_world.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/data/teacher.hpp"
#include "phantom/run/session.hpp"

namespace {

using phantom_test::world_size;
using Session = phantom::run::Session<float>;

// The labels of the Kokkos allocations made while it is alive.
class AllocationRecorder {
 public:
  AllocationRecorder() {
    labels().clear();
    Kokkos::Tools::Experimental::set_allocate_data_callback(&on_allocate);
  }
  ~AllocationRecorder() { Kokkos::Tools::Experimental::set_allocate_data_callback(nullptr); }
  static std::vector<std::string>& labels() {
    static std::vector<std::string> v;
    return v;
  }

 private:
  static void on_allocate(Kokkos::Profiling::SpaceHandle, const char* label, const void*,
                          std::uint64_t) {
    labels().emplace_back(label);
  }
};

struct Case {
  const char* name;
  phantom::Strategy strategy;
  phantom::CompressionMethod compression = phantom::CompressionMethod::none;
  int data_parallel = 1;
};

phantom::run::SessionConfig config(const Case& k) {
  phantom::run::SessionConfig c;
  c.network.shape = {6, 48, 2, 3};
  c.network.strategy = k.strategy;
  c.network.ghost = 4;
  c.network.activation = phantom::Activation::gelu;
  c.network.compression.method = k.compression;
  c.network.compression.error_feedback = k.compression == phantom::CompressionMethod::topk;
  c.network.compression.ae_dim = 8;
  if (k.compression == phantom::CompressionMethod::ae)
    c.network.compression.messages = phantom::CompressedMessages::forward;
  c.optimizer.kind = phantom::OptimizerKind::adam;
  c.optimizer.learning_rate = 0.01;
  c.optimizer.weight_decay = 0.01;
  c.schedule.kind = phantom::ScheduleKind::cosine;
  c.schedule.decay_steps = 20;
  c.clip_norm = 0.5;
  c.data_parallel = k.data_parallel;
  c.bucket_mb = 0.001;  // several buckets
  c.meter_energy = false;
  return c;
}

TEST(SteadyState, TrainingStepsAllocateNothing) {
  const int p = world_size();
  std::vector<Case> cases = {
      {"pp", phantom::Strategy::pp},
      {"tp", phantom::Strategy::tp},
      {"megatron", phantom::Strategy::megatron},
      {"tp int8", phantom::Strategy::tp, phantom::CompressionMethod::int8},
      {"tp topk", phantom::Strategy::tp, phantom::CompressionMethod::topk},
      {"megatron ae", phantom::Strategy::megatron, phantom::CompressionMethod::ae}};
  if (p % 2 == 0)
    cases.push_back({"tp, 2 replicas", phantom::Strategy::tp, phantom::CompressionMethod::none, 2});
  phantom::TeacherConfig t;
  t.samples = 96;
  t.input_dim = 6;
  t.output_dim = 3;
  t.seed = 2;
  for (const Case& k : cases) {
    if (p == 1 && k.compression != phantom::CompressionMethod::none) continue;  // nothing sent
    phantom::MpiCommunicator comm(MPI_COMM_WORLD);
    Session s(comm, MPI_COMM_WORLD, config(k));
    s.set_data(phantom::make_teacher_dataset<float, phantom::DefaultSpace>(t), 16, true, 5);
    for (int i = 0; i < 3; ++i) s.train_step();  // first steps size the buffers
    std::vector<std::string> seen;
    {
      AllocationRecorder recorder;
      for (int i = 0; i < 4; ++i) s.train_step();  // crosses an epoch (6 steps of 16)
      seen = AllocationRecorder::labels();
    }
    std::string list;
    for (const auto& l : seen) list += " " + l;
    EXPECT_TRUE(seen.empty()) << k.name << ": " << seen.size() << " allocations:" << list;
  }
}

// The recorder itself sees an allocation (so an empty list above means none).
TEST(SteadyState, RecorderSeesAllocations) {
  AllocationRecorder recorder;
  Kokkos::View<float*> v("phantom::test::allocation", 10);
  ASSERT_EQ(AllocationRecorder::labels().size(), 1u);
  EXPECT_EQ(AllocationRecorder::labels()[0], "phantom::test::allocation");
}

}  // namespace
