// The training session: gradient clipping counts each parameter once at any
// rank count (tp on p ranks against the dense network on one, which hold the
// same global weights), and a restart with a schedule, clipping and weight
// decay continues the trajectory bitwise.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpi_world.hpp"
#include "phantom/comm/mpi_communicator.hpp"
#include "phantom/comm/single_rank_communicator.hpp"
#include "phantom/data/teacher.hpp"
#include "phantom/run/session.hpp"

namespace {

using phantom_test::world_size;

using Session = phantom::run::Session<double>;
using M = phantom::Matrix<double>;

phantom::run::SessionConfig config(phantom::Strategy strategy) {
  phantom::run::SessionConfig c;
  c.network.shape = {5, 24, 2, 3};
  c.network.strategy = strategy;
  c.network.ghost = 4;
  c.network.activation = phantom::Activation::tanh;
  c.optimizer.kind = phantom::OptimizerKind::adam;
  c.optimizer.learning_rate = 0.02;
  c.optimizer.weight_decay = 0.01;
  c.schedule.kind = phantom::ScheduleKind::cosine;
  c.schedule.warmup_steps = 2;
  c.schedule.decay_steps = 6;
  c.schedule.min_learning_rate = 0.002;
  c.clip_norm = 0.05;  // below the gradient norms here: clipping acts every step
  c.seed = 11;
  c.energy.meter = "model";
  return c;
}

phantom::Dataset<double> data() {
  phantom::TeacherConfig t;
  t.samples = 64;
  t.input_dim = 5;
  t.output_dim = 3;
  t.seed = 4;
  return phantom::make_teacher_dataset<double, phantom::DefaultSpace>(t);
}

TEST(Session, ClippingCountsEachParameterOnceAtAnyRankCount) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  Session tp(comm, MPI_COMM_WORLD, config(phantom::Strategy::tp));
  tp.set_data(data(), 8, true, 3);
  phantom::SingleRankCommunicator self;
  Session dense(self, MPI_COMM_SELF, config(phantom::Strategy::dense));
  dense.set_data(data(), 8, true, 3);
  for (int s = 0; s < 8; ++s) {
    const auto a = tp.train_step();
    const auto b = dense.train_step();
    EXPECT_GT(b.gradient_norm, 0.05) << "step " << s << ": clipping must act";
    EXPECT_NEAR(a.gradient_norm, b.gradient_norm, 1e-10 * b.gradient_norm) << "step " << s;
    EXPECT_NEAR(a.loss, b.loss, 1e-10 * b.loss) << "step " << s;
    EXPECT_EQ(a.learning_rate, b.learning_rate);
    EXPECT_DOUBLE_EQ(a.learning_rate,
                     phantom::learning_rate_at(config(phantom::Strategy::tp).schedule, 0.02, s));
  }
}

TEST(Session, RestartWithScheduleClippingAndWeightDecayIsBitwise) {
  const auto strategy = world_size() == 1 ? phantom::Strategy::dense : phantom::Strategy::pp;
  const std::string ck = "session_restart_np" + std::to_string(world_size()) + ".h5";
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  std::vector<double> straight, resumed;
  {
    Session s(comm, MPI_COMM_WORLD, config(strategy));
    s.set_data(data(), 8, true, 3);
    for (int i = 0; i < 4; ++i) s.train_step();
    s.save(ck);
    for (int i = 0; i < 4; ++i) straight.push_back(s.train_step().loss);
  }
  {
    Session s(comm, MPI_COMM_WORLD, config(strategy));
    s.set_data(data(), 8, true, 3);
    EXPECT_EQ(s.load(ck), 4u);
    for (int i = 0; i < 4; ++i) resumed.push_back(s.train_step().loss);
  }
  EXPECT_EQ(straight, resumed);
}

TEST(Session, ValidationLossIsTheMeanOverTheHeldOutSetInAnyBatching) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  Session s(comm, MPI_COMM_WORLD, config(phantom::Strategy::tp));
  s.set_data(data(), 8, true, 3);
  s.train_step();
  phantom::TeacherConfig t;
  t.samples = 21;  // batches of 8: 8 + 8 + 5
  t.input_dim = 5;
  t.output_dim = 3;
  t.seed = 9;
  const auto held = phantom::make_teacher_dataset<double, phantom::DefaultSpace>(t);
  s.set_validation(held, 8);
  const double batched = s.validation_loss();
  EXPECT_TRUE(s.last_step().validated);
  EXPECT_EQ(s.last_step().validation_loss, batched);
  M dy("dy", 21, 3);
  const double whole = phantom::loss_and_gradient(phantom::DefaultSpace(), phantom::Loss::mse,
                                                  s.predict(held.x), held.y, dy);
  EXPECT_NEAR(batched, whole, 1e-14 * whole);
  EXPECT_EQ(s.validation_loss(), batched);  // the model is unchanged by it
}

TEST(Session, BadSettingsAreRefusedBeforeTraining) {
  phantom::MpiCommunicator comm(MPI_COMM_WORLD);
  auto c = config(phantom::Strategy::tp);
  c.clip_norm = -1;
  EXPECT_THROW((Session{comm, MPI_COMM_WORLD, c}), phantom::InvalidArgument);
  c = config(phantom::Strategy::tp);
  c.schedule.decay_steps = 0;
  EXPECT_THROW((Session{comm, MPI_COMM_WORLD, c}), phantom::InvalidArgument);
  Session s(comm, MPI_COMM_WORLD, config(phantom::Strategy::tp));
  EXPECT_THROW(s.train_step(), phantom::InvalidArgument);  // no data
}

}  // namespace
