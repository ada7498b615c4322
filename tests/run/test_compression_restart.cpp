// Restarts with compressed messages continue the straight run bitwise, for
// every compression method: quantizers hold no state, the autoencoder's
// weights are parameters, and TopK's error-feedback remainders (state that
// is not a parameter) travel in the checkpoint, also across data-parallel
// replicas. A restart at another rank count starts the remainders from zero
// and says so.
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "mpi_world.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/core/random.hpp"
#include "phantom/run/session.hpp"

namespace {

using phantom_test::world_size;

using Session = phantom::run::Session<float>;
using M = phantom::Matrix<float>;
using phantom::CompressionMethod;

constexpr std::size_t kBatch = 12;  // divisible by D = 1..4

phantom::run::SessionConfig config(phantom::Strategy strategy, phantom::CompressionConfig z,
                                   int data_parallel = 1) {
  phantom::run::SessionConfig c;
  c.network.shape = {5, 24, 4, 3};  // megatron needs an even depth
  c.network.strategy = strategy;
  c.network.activation = phantom::Activation::tanh;
  c.network.compression = z;
  c.optimizer.kind = phantom::OptimizerKind::adam;
  c.optimizer.learning_rate = 0.02;
  c.seed = 11;
  c.meter_energy = false;
  c.data_parallel = data_parallel;
  // The checkpoint's deck, which the restart checks of an autoencoder read.
  c.description = std::string("[model]\nstrategy = \"") + phantom::to_string(strategy) +
                  "\"\ndepth = 4\n" + "[compression]\nmethod = \"" + phantom::to_string(z.method) +
                  "\"\nae_dim = " + std::to_string(z.ae_dim) + "\nmessages = \"" +
                  (z.messages == phantom::CompressedMessages::forward ? "forward" : "both") +
                  "\"\n";
  return c;
}

phantom::CompressionConfig compression(CompressionMethod method, bool feedback = false) {
  phantom::CompressionConfig z;
  z.method = method;
  z.topk_fraction = 0.25;
  z.error_feedback = feedback;
  z.ae_dim = 6;
  return z;
}

void batch(std::size_t step, M& x, M& y) {
  x = M("x", kBatch, 5);
  y = M("y", kBatch, 3);
  phantom::fill_uniform(phantom::DefaultSpace(), x, 100 + step, 1, 1.0f);
  phantom::fill_uniform(phantom::DefaultSpace(), y, 100 + step, 2, 1.0f);
}

std::vector<std::vector<float>> parameters(const Session& s) {
  std::vector<std::vector<float>> out;
  for (const auto& p : s.network().parameters()) {
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.value);
    out.emplace_back(h.data(), h.data() + h.size());
  }
  return out;
}

void train(Session& s, std::size_t from, std::size_t to, std::vector<double>& losses) {
  for (std::size_t step = from; step < to; ++step) {
    M x, y;
    batch(step, x, y);
    losses.push_back(s.train_step(x, y).loss);
  }
}

// Six steps straight against three, a checkpoint, a new session and three more.
void restarts_bitwise(phantom::Strategy strategy, phantom::CompressionConfig z, int D = 1) {
  const std::string ck = "compression_restart_np" + std::to_string(world_size()) + ".h5";
  phantom::MpiCommunicator world(MPI_COMM_WORLD);
  std::vector<double> straight, resumed, ignored;
  std::vector<std::vector<float>> straight_parameters;
  {
    Session s(world, MPI_COMM_WORLD, config(strategy, z, D));
    train(s, 0, 3, ignored);
    s.save(ck);
    train(s, 3, 6, straight);
    straight_parameters = parameters(s);
  }
  Session s(world, MPI_COMM_WORLD, config(strategy, z, D));
  EXPECT_EQ(s.load(ck), 3u);
  EXPECT_FALSE(s.feedback_from_zero());
  if (z.error_feedback && s.model_comm().size() > 1) {
    std::size_t restored = 0;
    for (auto* r : s.network().feedback_remainders()) restored += r->size();
    EXPECT_GT(restored, 0u) << "the checkpoint restored no remainder";
  }
  train(s, 3, 6, resumed);
  EXPECT_EQ(resumed, straight) << to_string(z.method) << (z.error_feedback ? " + feedback" : "");
  EXPECT_EQ(parameters(s), straight_parameters);
}

TEST(CompressionRestart, EveryMethodContinuesBitwise) {
  // The quantizers hold no state: tp's all-gather and reduce-scatter carry them.
  for (auto m : {CompressionMethod::int8, CompressionMethod::int4, CompressionMethod::int2,
                 CompressionMethod::fp16, CompressionMethod::bf16})
    restarts_bitwise(phantom::Strategy::tp, compression(m));
  for (auto strategy : {phantom::Strategy::tp, phantom::Strategy::megatron}) {
    if (strategy == phantom::Strategy::megatron && 24 % world_size() != 0) continue;
    restarts_bitwise(strategy, compression(CompressionMethod::topk));
    restarts_bitwise(strategy, compression(CompressionMethod::topk, true));
  }
  if (24 % world_size() == 0) {
    auto ae = compression(CompressionMethod::ae);
    ae.messages = phantom::CompressedMessages::forward;  // ae compresses forward only
    restarts_bitwise(phantom::Strategy::megatron, ae);
  }
}

TEST(CompressionRestart, ErrorFeedbackOfEveryReplicaContinuesBitwise) {
  if (world_size() != 4) GTEST_SKIP() << "needs 4 ranks (2 replicas of 2: messages to compress)";
  restarts_bitwise(phantom::Strategy::tp, compression(CompressionMethod::topk, true), 2);
  restarts_bitwise(phantom::Strategy::megatron, compression(CompressionMethod::topk, true), 2);
}

TEST(CompressionRestart, TheRemaindersMatterAndStartFromZeroAtAnotherRankCount) {
  if (world_size() < 2) GTEST_SKIP() << "needs 2 ranks (messages to compress)";
  const std::string ck = "compression_feedback_np" + std::to_string(world_size()) + ".h5";
  const auto z = compression(CompressionMethod::topk, true);
  phantom::MpiCommunicator world(MPI_COMM_WORLD);
  std::vector<double> straight, from_zero, ignored;
  {
    Session s(world, MPI_COMM_WORLD, config(phantom::Strategy::tp, z));
    train(s, 0, 3, ignored);
    s.save(ck);
    train(s, 3, 6, straight);
  }
  {  // the same model without its remainders: not the straight run (they matter)
    Session s(world, MPI_COMM_WORLD, config(phantom::Strategy::tp, z));
    s.load(ck);
    std::size_t restored = 0;
    for (auto* r : s.network().feedback_remainders()) {
      restored += r->size();
      r->clear();
    }
    EXPECT_GT(restored, 0u) << "the checkpoint restored no remainder";
    train(s, 3, 6, from_zero);
    EXPECT_NE(from_zero, straight);
  }
  // Each rank alone (p = 1, D = 1): the file's remainders are for p ranks.
  phantom::MpiCommunicator self(MPI_COMM_SELF);
  Session s(self, MPI_COMM_SELF, config(phantom::Strategy::tp, z));
  EXPECT_EQ(s.load(ck), 3u);
  EXPECT_TRUE(s.feedback_from_zero());
  for (auto* r : s.network().feedback_remainders()) EXPECT_TRUE(r->empty());
}

}  // namespace
