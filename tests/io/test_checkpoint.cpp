// Checkpoints through parallel HDF5: round trip, bitwise restart, corrupt and
// truncated files, a flipped byte caught by the checksums, and a tp
// checkpoint restarted at another rank count.
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>

#include "corrupt_dataset.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/io/checkpoint.hpp"
#include "phantom/model/distributed_ffn.hpp"

namespace {

using Space = phantom::DefaultSpace;
namespace fs = std::filesystem;

// A directory all ranks share, removed at the end of the test.
class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    long id = rank_ == 0 ? long(::getpid()) : 0;
    MPI_Bcast(&id, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    dir_ = fs::temp_directory_path() /
           ("phantom-ckpt-" + std::to_string(id) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    if (rank_ == 0) fs::create_directories(dir_);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank_ == 0) fs::remove_all(dir_);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  int rank_ = 0;
  fs::path dir_;
};

phantom::NetworkConfig small(phantom::Strategy s) {
  phantom::NetworkConfig c;
  c.shape = {5, 12, 2, 3};
  c.strategy = s;
  c.ghost = 2;
  c.activation = phantom::Activation::tanh;
  return c;
}

template <class Scalar>
struct Trainer {
  phantom::DistributedFFN<Scalar, Space> net;
  phantom::Optimizer<Scalar, Space> opt;
  Trainer(phantom::Communicator& comm, const phantom::NetworkConfig& c, phantom::OptimizerKind k)
      : net(comm, c), opt([k] {
          phantom::OptimizerConfig oc;
          oc.kind = k;
          oc.learning_rate = 0.01;
          oc.momentum = k == phantom::OptimizerKind::sgd ? 0.9 : 0.0;
          return oc;
        }()) {
    net.initialize(17);
  }
  // Step t trains on a batch drawn from (t): the same batch at any rank count.
  double step(int t) {
    phantom::Matrix<Scalar, Space> x("x", 4, 5), y("y", 4, 3);
    phantom::fill_uniform(Space(), x, 1000 + t, 0, 1.0);
    phantom::fill_uniform(Space(), y, 1000 + t, 1, 1.0);
    return net.train_step(x, y, phantom::Loss::mse, opt);
  }
  phantom::CheckpointInfo info(int step) const {
    phantom::CheckpointInfo i;
    i.strategy = phantom::to_string(net.config().strategy);
    i.step = step;
    return i;
  }
  std::vector<std::vector<double>> state() {
    std::vector<std::vector<double>> out;
    for (auto& p : net.parameters()) out.push_back(phantom::detail::host_values(p.value));
    for (auto& m : opt.first_moments()) out.push_back(phantom::detail::host_values(m));
    for (auto& v : opt.second_moments()) out.push_back(phantom::detail::host_values(v));
    return out;
  }
};

TEST_F(CheckpointTest, RoundTripIsBitwise) {
  auto comm = phantom::make_world_communicator();
  for (auto s : {phantom::Strategy::pp, phantom::Strategy::tp, phantom::Strategy::megatron}) {
    Trainer<float> a(*comm, small(s), phantom::OptimizerKind::adam);
    a.step(0);
    a.step(1);
    const std::string path = file(std::string("rt_") + phantom::to_string(s) + ".h5");
    phantom::save_checkpoint(path, MPI_COMM_WORLD, a.info(2), a.net.parameters(), a.opt);
    EXPECT_FALSE(fs::exists(path + ".tmp"));
    Trainer<float> b(*comm, small(s), phantom::OptimizerKind::adam);
    b.net.initialize(99);  // different weights, overwritten by the load
    const auto info = phantom::read_checkpoint_info(path, MPI_COMM_WORLD);
    EXPECT_EQ(info.step, 2);
    EXPECT_EQ(info.optimizer, "adam");
    EXPECT_EQ(info.optimizer_steps, 2);
    phantom::load_checkpoint(path, MPI_COMM_WORLD, info, b.net.parameters(), b.opt);
    EXPECT_EQ(a.state(), b.state()) << phantom::to_string(s);
    EXPECT_EQ(b.opt.steps(), 2);
  }
}

// Megatron with compression autoencoders: their encoders (one per rank) and
// decoders (replicated) are parameters, so they round trip with the rest.
TEST_F(CheckpointTest, AutoencoderWeightsRoundTrip) {
  auto comm = phantom::make_world_communicator();
  auto cfg = small(phantom::Strategy::megatron);
  cfg.compression.method = phantom::CompressionMethod::ae;
  cfg.compression.ae_dim = 4;
  cfg.compression.messages = phantom::CompressedMessages::forward;
  Trainer<double> a(*comm, cfg, phantom::OptimizerKind::adam);
  a.step(0);
  a.step(1);
  std::size_t ae = 0;
  for (const auto& p : a.net.parameters()) ae += p.name.find(".ae_") != std::string::npos;
  EXPECT_EQ(ae, 2u);  // layer_001's encoder and decoder
  const std::string path = file("ae.h5");
  phantom::save_checkpoint(path, MPI_COMM_WORLD, a.info(2), a.net.parameters(), a.opt);
  Trainer<double> b(*comm, cfg, phantom::OptimizerKind::adam);
  b.net.initialize(99);
  phantom::load_checkpoint(path, MPI_COMM_WORLD,
                           phantom::read_checkpoint_info(path, MPI_COMM_WORLD), b.net.parameters(),
                           b.opt);
  EXPECT_EQ(a.state(), b.state());
  EXPECT_EQ(a.step(2), b.step(2));
}

TEST_F(CheckpointTest, RestartIsBitwiseIdentical) {
  auto comm = phantom::make_world_communicator();
  for (auto kind : {phantom::OptimizerKind::adam, phantom::OptimizerKind::sgd}) {
    Trainer<float> straight(*comm, small(phantom::Strategy::pp), kind);
    std::vector<double> losses;
    for (int t = 0; t < 6; ++t) losses.push_back(straight.step(t));

    Trainer<float> first(*comm, small(phantom::Strategy::pp), kind);
    for (int t = 0; t < 3; ++t) EXPECT_EQ(first.step(t), losses[t]);
    const std::string path = file("half.h5");
    phantom::save_checkpoint(path, MPI_COMM_WORLD, first.info(3), first.net.parameters(),
                             first.opt);
    Trainer<float> second(*comm, small(phantom::Strategy::pp), kind);
    phantom::load_checkpoint(path, MPI_COMM_WORLD,
                             phantom::read_checkpoint_info(path, MPI_COMM_WORLD),
                             second.net.parameters(), second.opt);
    for (int t = 3; t < 6; ++t) EXPECT_EQ(second.step(t), losses[t]) << "step " << t;
    EXPECT_EQ(second.state(), straight.state());
  }
}

TEST_F(CheckpointTest, CorruptAndTruncatedFilesAreClearErrors) {
  auto comm = phantom::make_world_communicator();
  Trainer<double> a(*comm, small(phantom::Strategy::tp), phantom::OptimizerKind::sgd);
  a.step(0);
  const std::string good = file("good.h5"), cut = file("cut.h5"), junk = file("junk.h5");
  phantom::save_checkpoint(good, MPI_COMM_WORLD, a.info(1), a.net.parameters(), a.opt);
  if (rank_ == 0) {
    fs::copy_file(good, cut);
    fs::resize_file(cut, fs::file_size(good) / 2);
    std::ofstream(junk) << "this is not an HDF5 file";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto expect_error = [&](const std::string& path, const std::string& text) {
    Trainer<double> b(*comm, small(phantom::Strategy::tp), phantom::OptimizerKind::sgd);
    try {
      const auto info = phantom::read_checkpoint_info(path, MPI_COMM_WORLD);
      phantom::load_checkpoint(path, MPI_COMM_WORLD, info, b.net.parameters(), b.opt);
      ADD_FAILURE() << "no error for " << path;
    } catch (const phantom::CheckpointError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(text), std::string::npos) << what;
    }
  };
  expect_error(cut, "truncated or corrupt");
  expect_error(junk, "not a readable HDF5 file");
  expect_error(file("missing.h5"), "no such file");
  // The earlier, intact checkpoint still loads.
  Trainer<double> c(*comm, small(phantom::Strategy::tp), phantom::OptimizerKind::sgd);
  phantom::load_checkpoint(good, MPI_COMM_WORLD,
                           phantom::read_checkpoint_info(good, MPI_COMM_WORLD), c.net.parameters(),
                           c.opt);
  EXPECT_EQ(c.state(), a.state());
}

// A byte of a weight changed after writing (a bit flip on disk): the
// dataset's Fletcher32 checksum refuses it, naming the dataset. Without the
// checksum the file would load as if nothing happened.
TEST_F(CheckpointTest, AFlippedByteIsRefusedNamingTheDataset) {
  auto comm = phantom::make_world_communicator();
  Trainer<double> a(*comm, small(phantom::Strategy::tp), phantom::OptimizerKind::adam);
  a.step(0);
  const std::string good = file("good.h5"), flipped = file("flipped.h5");
  phantom::save_checkpoint(good, MPI_COMM_WORLD, a.info(1), a.net.parameters(), a.opt);
  EXPECT_TRUE(phantom::read_checkpoint_info(good, MPI_COMM_WORLD).checksummed);
  const std::string target = "model/layer_001/weight";
  if (rank_ == 0) {
    fs::copy_file(good, flipped);
    phantom_test::flip_bit_in_dataset(flipped, target);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  Trainer<double> b(*comm, small(phantom::Strategy::tp), phantom::OptimizerKind::adam);
  try {
    phantom::load_checkpoint(flipped, MPI_COMM_WORLD,
                             phantom::read_checkpoint_info(flipped, MPI_COMM_WORLD),
                             b.net.parameters(), b.opt);
    ADD_FAILURE() << "a flipped byte loaded";
  } catch (const phantom::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint " + flipped + " is corrupt: dataset /" +
                                         target + " does not match its checksum"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CheckpointTest, ShapeMismatchNamesTheDataset) {
  auto comm = phantom::make_world_communicator();
  Trainer<double> a(*comm, small(phantom::Strategy::tp), phantom::OptimizerKind::sgd);
  const std::string path = file("narrow.h5");
  phantom::save_checkpoint(path, MPI_COMM_WORLD, a.info(0), a.net.parameters(), a.opt);
  auto wide = small(phantom::Strategy::tp);
  wide.shape.width = 24;
  Trainer<double> b(*comm, wide, phantom::OptimizerKind::sgd);
  try {
    phantom::load_checkpoint(path, MPI_COMM_WORLD,
                             phantom::read_checkpoint_info(path, MPI_COMM_WORLD),
                             b.net.parameters(), b.opt);
    ADD_FAILURE() << "no error";
  } catch (const phantom::CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset /model/layer_000/weight is 12 x 5 but the model "
                                         "needs 24 x 5"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CheckpointTest, TensorParallelRestartsAtAnotherRankCount) {
  int p = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  if (p == 1) GTEST_SKIP() << "needs two rank counts";
  // The first q = p - 1 ranks train and save; then all p ranks restart from it.
  const int q = p - 1;
  MPI_Comm sub;
  MPI_Comm_split(MPI_COMM_WORLD, rank_ < q ? 0 : MPI_UNDEFINED, rank_, &sub);
  const std::string path = file("tp.h5");
  auto cfg = small(phantom::Strategy::tp);
  cfg.shape.width = 12;  // divisible by 1, 2, 3 and 4
  double next_loss = 0;
  if (rank_ < q) {
    {
      phantom::MpiCommunicator group(sub);
      Trainer<double> a(group, cfg, phantom::OptimizerKind::adam);
      for (int t = 0; t < 3; ++t) a.step(t);
      phantom::save_checkpoint(path, sub, a.info(3), a.net.parameters(), a.opt);
      next_loss = a.step(3);
    }
    MPI_Comm_free(&sub);
  }
  MPI_Bcast(&next_loss, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  auto world = phantom::make_world_communicator();
  Trainer<double> b(*world, cfg, phantom::OptimizerKind::adam);
  phantom::load_checkpoint(path, MPI_COMM_WORLD,
                           phantom::read_checkpoint_info(path, MPI_COMM_WORLD), b.net.parameters(),
                           b.opt);
  EXPECT_NEAR(b.step(3), next_loss, 1e-12 * next_loss) << "q = " << q << ", p = " << p;
}

}  // namespace
