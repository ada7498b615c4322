// Data x model parallelism: D replicas of a P-rank network, trained on the
// global batch, end with the parameters of one P-rank network trained on the
// same batch (in double, to 1e-12 relative), for pp, tp and megatron with SGD
// momentum and with Adam, at every (D, P) the world's size allows (2 ranks:
// (2, 1); 3 ranks: (3, 1); 4 ranks: (4, 1), (2, 2), (1, 4)); the bytes counted equal the
// formula with the data-parallel all-reduce; a restart may change D.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpi_world.hpp"
#include "phantom/comm/comm_stats.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/core/random.hpp"
#include "phantom/run/session.hpp"

namespace {

using phantom_test::world_rank;
using phantom_test::world_size;

using Session = phantom::run::Session<double>;
using M = phantom::Matrix<double>;
constexpr std::size_t kBatch = 12;  // divisible by D = 1..4

phantom::run::SessionConfig config(phantom::Strategy strategy, phantom::OptimizerKind kind,
                                   int data_parallel) {
  phantom::run::SessionConfig c;
  c.network.shape = {5, 24, 2, 3};
  c.network.strategy = strategy;
  c.network.ghost = 4;
  c.network.activation = phantom::Activation::tanh;
  c.optimizer.kind = kind;
  c.optimizer.learning_rate = kind == phantom::OptimizerKind::adam ? 0.02 : 0.1;
  c.optimizer.momentum = 0.9;
  c.seed = 11;
  c.meter_energy = false;
  c.data_parallel = data_parallel;
  return c;
}

// The global batch of step s, the same on every rank.
void batch(std::size_t step, M& x, M& y) {
  x = M("x", kBatch, 5);
  y = M("y", kBatch, 3);
  phantom::fill_uniform(phantom::DefaultSpace(), x, 100 + step, 1, 1.0);
  phantom::fill_uniform(phantom::DefaultSpace(), y, 100 + step, 2, 1.0);
}

std::vector<std::vector<double>> parameters(const Session& s) {
  std::vector<std::vector<double>> out;
  for (const auto& p : s.network().parameters()) {
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.value);
    out.emplace_back(h.data(), h.data() + h.size());
  }
  return out;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

// D x P ranks (the world) against P ranks (each group of P consecutive ranks
// trains the reference alone, so every rank holds the shard it compares).
void replicas_equal_one_model(phantom::Strategy strategy, phantom::OptimizerKind kind) {
  const int W = world_size();
  for (int D = 2; D <= W; ++D) {
    if (W % D != 0) continue;
    const int P = W / D;
    if (strategy == phantom::Strategy::megatron && P > 1 && 24 % P != 0) continue;
    phantom::MpiCommunicator world(MPI_COMM_WORLD);
    Session grid(world, MPI_COMM_WORLD, config(strategy, kind, D));
    MPI_Comm group_mpi;
    MPI_Comm_split(MPI_COMM_WORLD, world_rank() / P, world_rank() % P, &group_mpi);
    {
      phantom::MpiCommunicator group(group_mpi);
      Session one(group, group_mpi, config(strategy, kind, 1));
      ASSERT_EQ(grid.model_comm().size(), P);
      ASSERT_EQ(grid.model_comm().rank(), group.rank());
      for (std::size_t s = 0; s < 4; ++s) {
        M x, y;
        batch(s, x, y);
        const double a = grid.train_step(x, y).loss;
        const double b = one.train_step(x, y).loss;
        EXPECT_NEAR(a, b, 1e-12 * b) << "D " << D << " P " << P << " step " << s;
      }
      const auto got = parameters(grid), want = parameters(one);
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_LE(relative_difference(got[i], want[i]), 1e-12)
            << "D " << D << " P " << P << " " << grid.network().parameters()[i].name;
    }
    MPI_Comm_free(&group_mpi);
  }
}

TEST(DataParallel, PpReplicasEqualOneModelWithAdam) {
  replicas_equal_one_model(phantom::Strategy::pp, phantom::OptimizerKind::adam);
}
TEST(DataParallel, PpReplicasEqualOneModelWithSgdMomentum) {
  replicas_equal_one_model(phantom::Strategy::pp, phantom::OptimizerKind::sgd);
}
TEST(DataParallel, TpReplicasEqualOneModelWithAdam) {
  replicas_equal_one_model(phantom::Strategy::tp, phantom::OptimizerKind::adam);
}
TEST(DataParallel, TpReplicasEqualOneModelWithSgdMomentum) {
  replicas_equal_one_model(phantom::Strategy::tp, phantom::OptimizerKind::sgd);
}
TEST(DataParallel, MegatronReplicasEqualOneModelWithAdam) {
  replicas_equal_one_model(phantom::Strategy::megatron, phantom::OptimizerKind::adam);
}
TEST(DataParallel, MegatronReplicasEqualOneModelWithSgdMomentum) {
  replicas_equal_one_model(phantom::Strategy::megatron, phantom::OptimizerKind::sgd);
}

// Bytes counted in a step = the model-parallel messages of a share plus the
// ring all-reduce of every gradient, 2 (D-1)/D x parameters x 8 bytes, in
// one bucket per layer when buckets are small, in one when they are large.
TEST(DataParallel, BytesEqualTheFormulaWithTheGradientAllReduce) {
  const int W = world_size();
  for (int D = 2; D <= W; ++D) {
    if (W % D != 0) continue;
    for (const auto strategy :
         {phantom::Strategy::pp, phantom::Strategy::tp, phantom::Strategy::megatron}) {
      for (const double mb : {1e-6, 64.0}) {
        phantom::MpiCommunicator world(MPI_COMM_WORLD);
        auto c = config(strategy, phantom::OptimizerKind::adam, D);
        c.bucket_mb = mb;
        Session s(world, MPI_COMM_WORLD, c);
        M x, y;
        batch(0, x, y);
        const auto& st = s.train_step(x, y);
        const double values = double(s.network().storage().size());
        const double dp = 2.0 * (D - 1) / D * values * sizeof(double);
        const std::size_t layers = s.network().layers().size();
        EXPECT_EQ(st.data_parallel_calls, mb < 1 ? layers : 1u);
        EXPECT_NEAR(st.data_parallel_bytes, dp, 1e-9 * dp);
        EXPECT_NEAR(s.data_parallel_bytes_per_step(), dp, 1e-9 * dp);
        EXPECT_DOUBLE_EQ(st.bytes, s.bytes_per_step(kBatch));
        EXPECT_DOUBLE_EQ(st.bytes - st.data_parallel_bytes,
                         s.network().bytes_per_step(kBatch / std::size_t(D)));
      }
    }
  }
}

// A checkpoint of D replicas restarts at D' (here 1, on the model-parallel
// ranks of each replica, and D again) and continues the trajectory.
TEST(DataParallel, RestartAtAnotherReplicaCount) {
  const int W = world_size();
  if (W < 2) GTEST_SKIP() << "needs 2 ranks";
  const int D = 2, P = W / D;
  if (W % D != 0) GTEST_SKIP() << "needs an even rank count";
  const std::string ck = "data_parallel_np" + std::to_string(W) + ".h5";
  const auto strategy = phantom::Strategy::tp;
  phantom::MpiCommunicator world(MPI_COMM_WORLD);
  std::vector<std::vector<double>> straight;
  {
    Session s(world, MPI_COMM_WORLD, config(strategy, phantom::OptimizerKind::adam, D));
    for (std::size_t step = 0; step < 4; ++step) {
      M x, y;
      batch(step, x, y);
      s.train_step(x, y);
      if (step == 1) s.save(ck);
    }
    straight = parameters(s);
  }
  {  // the same D: bitwise
    Session s(world, MPI_COMM_WORLD, config(strategy, phantom::OptimizerKind::adam, D));
    EXPECT_EQ(s.load(ck), 2u);
    for (std::size_t step = 2; step < 4; ++step) {
      M x, y;
      batch(step, x, y);
      s.train_step(x, y);
    }
    EXPECT_EQ(parameters(s), straight);
  }
  MPI_Comm group_mpi;  // D = 1 on each replica's P ranks: to rounding
  MPI_Comm_split(MPI_COMM_WORLD, world_rank() / P, world_rank() % P, &group_mpi);
  {
    phantom::MpiCommunicator group(group_mpi);
    Session s(group, group_mpi, config(strategy, phantom::OptimizerKind::adam, 1));
    EXPECT_EQ(s.load(ck), 2u);
    for (std::size_t step = 2; step < 4; ++step) {
      M x, y;
      batch(step, x, y);
      s.train_step(x, y);
    }
    const auto got = parameters(s);
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_LE(relative_difference(got[i], straight[i]), 1e-12);
  }
  MPI_Comm_free(&group_mpi);
}

TEST(DataParallel, BadSettingsAreRefused) {
  phantom::MpiCommunicator world(MPI_COMM_WORLD);
  const int W = world_size();
  auto c = config(phantom::Strategy::tp, phantom::OptimizerKind::adam, W + 1);
  EXPECT_THROW((Session{world, MPI_COMM_WORLD, c}), phantom::InvalidArgument);
  if (W < 2) return;
  Session s(world, MPI_COMM_WORLD, config(phantom::Strategy::tp, phantom::OptimizerKind::adam, W));
  M x("x", W + 1, 5), y("y", W + 1, 3);  // W + 1 rows do not split into W shares
  EXPECT_THROW(s.train_step(x, y), phantom::InvalidArgument);
}

}  // namespace
