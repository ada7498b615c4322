// The C API (phantom/phantom.h) against the C++ session it wraps: the same
// deck and data give the same losses bitwise; conversions, checkpoints and
// statistics; every error path returns its code and a message naming it.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "corrupt_dataset.hpp"
#include "mpi_world.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/io/deck.hpp"
#include "phantom/phantom.h"
#include "phantom/run/deck_config.hpp"
#include "phantom/run/session.hpp"

namespace {

using phantom_test::world_rank;
using phantom_test::world_size;

constexpr int kIn = 6, kOut = 3, kBatch = 8;

// A deck file for this rank count (rank 0 writes it; every rank reads it).
std::string write_deck(const std::string& name, const std::string& strategy,
                       const std::string& extra = "", int width = 24) {
  const std::string path = "c_api_" + name + "_np" + std::to_string(world_size()) + ".toml";
  if (world_rank() == 0) {
    std::ofstream f(path);
    f << "[model]\nstrategy = \"" << strategy << "\"\ninput_dim = " << kIn << "\nwidth = " << width
      << "\ndepth = 2\noutput_dim = " << kOut << "\nghost = 4\nactivation = \"tanh\"\n"
      << "[train]\noptimizer = \"adam\"\nlearning_rate = 0.01\nseed = 7\n"
      << "[energy]\nmeter = \"model\"\n"
      << extra;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

// Batch s of a smooth regression problem, row-major, exactly representable in float.
void batch(int s, std::vector<float>& x, std::vector<float>& y) {
  x.resize(kBatch * kIn);
  y.resize(kBatch * kOut);
  for (int b = 0; b < kBatch; ++b) {
    for (int i = 0; i < kIn; ++i)
      x[b * kIn + i] = float((b * 7 + i * 3 + s * 5) % 17) / 16.0f - 0.5f;
    for (int j = 0; j < kOut; ++j) {
      double v = 0;
      for (int i = 0; i < kIn; ++i) v += x[b * kIn + i] * ((i + j) % 3 - 1);
      y[b * kOut + j] = float(std::round(std::tanh(v) * 1024) / 1024);
    }
  }
}

std::string strategy_for_ranks() {
  return world_size() == 1 ? "dense" : "pp";
}

TEST(CApi, LossTrajectoryEqualsTheCppSessionBitwise) {
  for (const std::string& strategy : {strategy_for_ranks(), std::string("tp")}) {
    const std::string deck_path = write_deck("trajectory_" + strategy, strategy);
    phantom_model_t m = nullptr;
    ASSERT_EQ(phantom_create(&m, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK)
        << phantom_last_error();
    std::vector<double> c_losses, cpp_losses;
    std::vector<float> x, y;
    for (int s = 0; s < 6; ++s) {
      batch(s, x, y);
      double loss = -1;
      ASSERT_EQ(phantom_train_step(m, x.data(), y.data(), kBatch, PHANTOM_FLOAT, &loss), PHANTOM_OK)
          << phantom_last_error();
      c_losses.push_back(loss);
    }
    EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);

    phantom::MpiCommunicator comm(MPI_COMM_WORLD);
    const phantom::Deck deck = phantom::load_deck(deck_path);
    phantom::run::Session<float> session(comm, MPI_COMM_WORLD,
                                         phantom::run::session_config(deck, comm.size()));
    phantom::Matrix<float> xm("x", kBatch, kIn), ym("y", kBatch, kOut);
    auto hx = Kokkos::create_mirror_view(xm);
    auto hy = Kokkos::create_mirror_view(ym);
    for (int s = 0; s < 6; ++s) {
      batch(s, x, y);
      for (int b = 0; b < kBatch; ++b) {
        for (int i = 0; i < kIn; ++i) hx(b, i) = x[b * kIn + i];
        for (int j = 0; j < kOut; ++j) hy(b, j) = y[b * kOut + j];
      }
      Kokkos::deep_copy(xm, hx);
      Kokkos::deep_copy(ym, hy);
      cpp_losses.push_back(session.train_step(xm, ym).loss);
    }
    EXPECT_EQ(c_losses, cpp_losses) << strategy;
    EXPECT_LT(c_losses.back(), c_losses.front()) << strategy;
  }
}

TEST(CApi, DoubleInputToAFloatModelIsConverted) {
  const std::string deck_path = write_deck("dtype", "tp");
  phantom_model_t a = nullptr, b = nullptr;
  ASSERT_EQ(phantom_create(&a, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  ASSERT_EQ(phantom_create(&b, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  std::vector<float> x, y;
  for (int s = 0; s < 3; ++s) {
    batch(s, x, y);
    const std::vector<double> xd(x.begin(), x.end()), yd(y.begin(), y.end());
    double la = 0, lb = 1;
    ASSERT_EQ(phantom_train_step(a, x.data(), y.data(), kBatch, PHANTOM_FLOAT, &la), PHANTOM_OK);
    ASSERT_EQ(phantom_train_step(b, xd.data(), yd.data(), kBatch, PHANTOM_DOUBLE, &lb), PHANTOM_OK);
    EXPECT_EQ(la, lb);
  }
  batch(9, x, y);
  std::vector<float> pa(kBatch * kOut);
  std::vector<double> xd(x.begin(), x.end()), pb(kBatch * kOut);
  ASSERT_EQ(phantom_predict(a, x.data(), pa.data(), kBatch, PHANTOM_FLOAT), PHANTOM_OK);
  ASSERT_EQ(phantom_predict(b, xd.data(), pb.data(), kBatch, PHANTOM_DOUBLE), PHANTOM_OK);
  for (int i = 0; i < kBatch * kOut; ++i) EXPECT_EQ(double(pa[i]), pb[i]) << i;
  EXPECT_EQ(phantom_destroy(a), PHANTOM_OK);
  EXPECT_EQ(phantom_destroy(b), PHANTOM_OK);
}

TEST(CApi, PredictIsTheSessionsForwardPassRowMajor) {
  const std::string deck_path = write_deck("predict", strategy_for_ranks());
  phantom_model_t m = nullptr;
  ASSERT_EQ(phantom_create(&m, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  std::vector<float> x, y, out(kBatch * kOut);
  batch(3, x, y);
  ASSERT_EQ(phantom_predict(m, x.data(), out.data(), kBatch, PHANTOM_FLOAT), PHANTOM_OK);
  EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);

  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  phantom::run::Session<float> session(
      comm, MPI_COMM_WORLD,
      phantom::run::session_config(phantom::load_deck(deck_path), comm.size()));
  phantom::Matrix<float> xm("x", kBatch, kIn);
  auto hx = Kokkos::create_mirror_view(xm);
  for (int b = 0; b < kBatch; ++b)
    for (int i = 0; i < kIn; ++i) hx(b, i) = x[b * kIn + i];
  Kokkos::deep_copy(xm, hx);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), session.predict(xm));
  for (int b = 0; b < kBatch; ++b)
    for (int j = 0; j < kOut; ++j) EXPECT_EQ(out[b * kOut + j], h(b, j)) << b << "," << j;
}

// The losses of steps [from, to) (batches `from`...), through the C API.
std::vector<double> train_steps(phantom_model_t m, int from, int to) {
  std::vector<float> x, y;
  std::vector<double> losses;
  for (int s = from; s < to; ++s) {
    batch(s, x, y);
    double loss = 0;
    EXPECT_EQ(phantom_train_step(m, x.data(), y.data(), kBatch, PHANTOM_FLOAT, &loss), PHANTOM_OK);
    losses.push_back(loss);
  }
  return losses;
}

TEST(CApi, SaveLoadAndDeckRestartContinueBitwise) {
  const std::string deck_path = write_deck("restart", strategy_for_ranks());
  const std::string ck = "c_api_restart_np" + std::to_string(world_size()) + ".h5";
  std::vector<double> resumed, from_deck;
  phantom_model_t m = nullptr;
  ASSERT_EQ(phantom_create(&m, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  train_steps(m, 0, 3);
  ASSERT_EQ(phantom_save(m, ck.c_str()), PHANTOM_OK) << phantom_last_error();
  const std::vector<double> straight = train_steps(m, 3, 5);
  phantom_stats_t st{};
  ASSERT_EQ(phantom_get_stats(m, &st), PHANTOM_OK);
  EXPECT_EQ(st.step, 5);
  EXPECT_EQ(st.loss, straight.back());
  EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);

  ASSERT_EQ(phantom_create(&m, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  int64_t step = -1;
  ASSERT_EQ(phantom_load(m, ck.c_str(), &step), PHANTOM_OK) << phantom_last_error();
  EXPECT_EQ(step, 3);
  resumed = train_steps(m, 3, 5);
  EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);
  EXPECT_EQ(resumed, straight);

  // checkpoint.restart in the deck is honoured by phantom_create.
  const std::string restart_deck =
      write_deck("restart_deck", strategy_for_ranks(), "[checkpoint]\nrestart = \"" + ck + "\"\n");
  ASSERT_EQ(phantom_create(&m, restart_deck.c_str(), MPI_COMM_WORLD), PHANTOM_OK)
      << phantom_last_error();
  ASSERT_EQ(phantom_get_stats(m, &st), PHANTOM_OK);
  EXPECT_EQ(st.step, 3);
  from_deck = train_steps(m, 3, 5);
  EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);
  EXPECT_EQ(from_deck, straight);
}

TEST(CApi, StatsFollowTheDocumentedFormulas) {
  const std::string deck_path = write_deck("stats", "tp");
  phantom_model_t m = nullptr;
  ASSERT_EQ(phantom_create(&m, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  phantom_stats_t st{};
  ASSERT_EQ(phantom_get_stats(m, &st), PHANTOM_OK);
  EXPECT_EQ(st.step, 0);
  EXPECT_EQ(st.bytes_per_step, 0.0);  // no step yet: no batch size
  std::vector<float> x, y;
  batch(0, x, y);
  ASSERT_EQ(phantom_train_step(m, x.data(), y.data(), kBatch, PHANTOM_FLOAT, nullptr), PHANTOM_OK);
  ASSERT_EQ(phantom_get_stats(m, &st), PHANTOM_OK);
  // Parameters: (6*24 + 24) + (24*24 + 24) * 2 + (24*3 + 3), each once.
  EXPECT_EQ(st.parameters, (kIn * 24 + 24) + 2 * (24 * 24 + 24) + (24 * kOut + kOut));
  // The formula (docs/communicators.md) equals what the counters saw.
  EXPECT_EQ(st.bytes_per_step, st.bytes_last_step);
  if (world_size() > 1) {
    EXPECT_GT(st.bytes_per_step, 0.0);
  }
  EXPECT_GT(st.step_seconds, 0.0);
  EXPECT_EQ(st.energy_measured, 0);  // energy.meter = "model"
  EXPECT_GT(st.energy_j, 0.0);
  EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);
}

int expect_error(int code, int expected, const std::string& needle) {
  EXPECT_EQ(code, expected) << phantom_last_error();
  EXPECT_NE(std::string(phantom_last_error()).find(needle), std::string::npos)
      << "message: " << phantom_last_error() << "\nwanted: " << needle;
  return code;
}

TEST(CApi, EveryErrorPathReturnsItsCodeAndNamesTheProblem) {
  phantom_model_t m = nullptr;
  expect_error(phantom_create(nullptr, "x.toml", MPI_COMM_WORLD), PHANTOM_ERR_ARGUMENT,
               "model pointer is NULL");
  expect_error(phantom_create(&m, nullptr, MPI_COMM_WORLD), PHANTOM_ERR_ARGUMENT,
               "deck_path is NULL");
  EXPECT_EQ(m, nullptr);
  expect_error(phantom_create(&m, "no_such_deck.toml", MPI_COMM_WORLD), PHANTOM_ERR_DECK,
               "no_such_deck.toml");
  expect_error(phantom_create(&m, "x.toml", MPI_COMM_NULL), PHANTOM_ERR_ARGUMENT, "MPI_COMM_NULL");
  const std::string bad_value = write_deck("bad_value", "tp", "[compression]\nmethod = \"zip\"\n");
  expect_error(phantom_create(&m, bad_value.c_str(), MPI_COMM_WORLD), PHANTOM_ERR_DECK, "zip");
  if (world_size() > 1) {  // 25 hidden features do not split over 2, 3 or 4 ranks
    const std::string odd = write_deck("odd", "tp", "", 25);
    expect_error(phantom_create(&m, odd.c_str(), MPI_COMM_WORLD), PHANTOM_ERR_DECK,
                 "model.width = 25 is not divisible by the rank count");
  }
  EXPECT_EQ(m, nullptr);

  const std::string deck_path = write_deck("errors", strategy_for_ranks());
  ASSERT_EQ(phantom_create(&m, deck_path.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
  std::vector<float> x, y, out(kBatch * kOut);
  batch(0, x, y);
  expect_error(phantom_train_step(m, x.data(), y.data(), 0, PHANTOM_FLOAT, nullptr),
               PHANTOM_ERR_ARGUMENT, "batch = 0");
  expect_error(phantom_train_step(m, x.data(), y.data(), -3, PHANTOM_FLOAT, nullptr),
               PHANTOM_ERR_ARGUMENT, "batch = -3");
  expect_error(phantom_train_step(m, nullptr, y.data(), kBatch, PHANTOM_FLOAT, nullptr),
               PHANTOM_ERR_ARGUMENT, "x is NULL");
  expect_error(phantom_train_step(m, x.data(), nullptr, kBatch, PHANTOM_FLOAT, nullptr),
               PHANTOM_ERR_ARGUMENT, "y is NULL");
  expect_error(phantom_train_step(m, x.data(), y.data(), kBatch, phantom_dtype_t(7), nullptr),
               PHANTOM_ERR_ARGUMENT, "dtype = 7");
  expect_error(phantom_train_step(m, x.data(), y.data(), kBatch, phantom_dtype_t(-1), nullptr),
               PHANTOM_ERR_ARGUMENT, "dtype = -1");  // any int a C caller passes is refused
  expect_error(phantom_predict(m, x.data(), nullptr, kBatch, PHANTOM_FLOAT), PHANTOM_ERR_ARGUMENT,
               "y is NULL");
  expect_error(phantom_train_step(nullptr, x.data(), y.data(), kBatch, PHANTOM_FLOAT, nullptr),
               PHANTOM_ERR_ARGUMENT, "model is NULL");
  expect_error(phantom_save(m, ""), PHANTOM_ERR_ARGUMENT, "path is NULL or empty");
  expect_error(phantom_save(m, "no_such_dir/ck.h5"), PHANTOM_ERR_CHECKPOINT, "no_such_dir/ck.h5");
  expect_error(phantom_load(m, "no_such_checkpoint.h5", nullptr), PHANTOM_ERR_CHECKPOINT,
               "no_such_checkpoint.h5");
  expect_error(phantom_get_stats(m, nullptr), PHANTOM_ERR_ARGUMENT, "stats is NULL");

  // A checkpoint of another network does not fit: named, nothing loaded.
  {
    const std::string wide = write_deck("wide", strategy_for_ranks(), "", 48);
    phantom_model_t other = nullptr;
    ASSERT_EQ(phantom_create(&other, wide.c_str(), MPI_COMM_WORLD), PHANTOM_OK);
    const std::string ck = "c_api_wide_np" + std::to_string(world_size()) + ".h5";
    ASSERT_EQ(phantom_save(other, ck.c_str()), PHANTOM_OK);
    EXPECT_EQ(phantom_destroy(other), PHANTOM_OK);
    expect_error(phantom_load(m, ck.c_str(), nullptr), PHANTOM_ERR_CHECKPOINT,
                 "model.width is 48 in the checkpoint but 24 here");
  }
  // A bit flipped in a saved weight: refused by its checksum, named.
  {
    const std::string ck = "c_api_flipped_np" + std::to_string(world_size()) + ".h5";
    ASSERT_EQ(phantom_save(m, ck.c_str()), PHANTOM_OK);
    if (world_rank() == 0) phantom_test::flip_bit_in_dataset(ck, "model/layer_000/weight");
    MPI_Barrier(MPI_COMM_WORLD);
    expect_error(phantom_load(m, ck.c_str(), nullptr), PHANTOM_ERR_CHECKPOINT,
                 "is corrupt: dataset /model/layer_000/weight does not match its checksum");
  }
  expect_error(phantom_finalize(), PHANTOM_ERR_ARGUMENT, "1 model(s) still exist");
  EXPECT_EQ(phantom_destroy(m), PHANTOM_OK);
  expect_error(phantom_destroy(nullptr), PHANTOM_ERR_ARGUMENT, "model is NULL");
  // Success leaves the last error in place (as errno does).
  EXPECT_EQ(phantom_get_stats(nullptr, nullptr), PHANTOM_ERR_ARGUMENT);
  EXPECT_NE(std::string(phantom_last_error()), "");
}

// [parallel] data = D from the deck: D replicas of tp on ranks / D ranks
// train as tp on all ranks does (to float rounding), and the statistics
// count the gradient all-reduce; a batch that does not split is refused.
TEST(CApi, DataParallelFromTheDeck) {
  const int W = world_size();
  if (W < 2) GTEST_SKIP() << "needs 2 ranks";
  const std::string replicas =
      write_deck("replicas", "tp", "[parallel]\ndata = " + std::to_string(W) + "\n");
  const std::string one = write_deck("one_model", "tp");
  phantom_model_t a = nullptr, b = nullptr;
  ASSERT_EQ(phantom_create(&a, replicas.c_str(), MPI_COMM_WORLD), PHANTOM_OK)
      << phantom_last_error();
  ASSERT_EQ(phantom_create(&b, one.c_str(), MPI_COMM_WORLD), PHANTOM_OK) << phantom_last_error();
  std::vector<float> x, y;
  batch(0, x, y);
  if (kBatch % W != 0) {
    expect_error(phantom_train_step(a, x.data(), y.data(), kBatch, PHANTOM_FLOAT, nullptr),
                 PHANTOM_ERR_ARGUMENT,
                 "is not divisible by the deck's parallel.data = " + std::to_string(W));
  } else {
    for (int s = 0; s < 6; ++s) {
      batch(s, x, y);
      double la = 0, lb = 0;
      ASSERT_EQ(phantom_train_step(a, x.data(), y.data(), kBatch, PHANTOM_FLOAT, &la), PHANTOM_OK)
          << phantom_last_error();
      ASSERT_EQ(phantom_train_step(b, x.data(), y.data(), kBatch, PHANTOM_FLOAT, &lb), PHANTOM_OK);
      EXPECT_NEAR(la, lb, 1e-5 * lb) << "step " << s;
    }
    phantom_stats_t st{};
    ASSERT_EQ(phantom_get_stats(a, &st), PHANTOM_OK);
    EXPECT_EQ(st.bytes_per_step, st.bytes_last_step);
    // P = 1: only the gradients move, 2 (W-1)/W of them in float.
    EXPECT_DOUBLE_EQ(st.bytes_per_step, 2.0 * (W - 1) * (double(st.parameters) * 4) / W);
  }
  EXPECT_EQ(phantom_destroy(a), PHANTOM_OK);
  EXPECT_EQ(phantom_destroy(b), PHANTOM_OK);
}

}  // namespace
