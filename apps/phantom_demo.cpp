// phantom-demo: trains the single-rank FFN on the synthetic teacher problem
// and prints the loss as it falls. The mini-app phantom-train will replace it
// as the quick-start.
#include <chrono>
#include <cstdio>
#include <exception>

#include "phantom/phantom.hpp"

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    using Scalar = float;
    using M = phantom::Matrix<Scalar>;
    const std::size_t batch = 64, steps = 400;
    phantom::TeacherConfig data_config;
    data_config.samples = 2048;
    data_config.input_dim = 16;
    data_config.output_dim = 4;
    auto data = phantom::make_teacher_dataset<Scalar>(data_config);

    phantom::FFNShape shape{data_config.input_dim, 128, 2, data_config.output_dim};
    phantom::SequentialFFN<Scalar> model(shape, phantom::Activation::tanh);
    model.initialize(42);
    phantom::OptimizerConfig opt_config;
    opt_config.kind = phantom::OptimizerKind::adam;
    opt_config.learning_rate = 1e-3;
    phantom::Optimizer<Scalar, phantom::DefaultSpace> opt(opt_config);

    std::printf("phantom-demo: dense FFN %zu -> %zu x %zu -> %zu (%zu parameters), "
                "teacher data N=%zu, batch %zu, adam lr %g\n",
                shape.input_dim, shape.width, shape.depth, shape.output_dim,
                model.parameter_count(), data.size(), batch, opt_config.learning_rate);
    M xb("x", batch, shape.input_dim), yb("y", batch, shape.output_dim);
    phantom::BatchSampler sampler(data.size(), batch, /*shuffle=*/false, /*seed=*/0);
    const auto t0 = std::chrono::steady_clock::now();
    double first = 0, loss = 0;
    for (std::size_t step = 0; step < steps; ++step) {
      phantom::gather_batch(data, sampler.rows_for_step(step), xb, yb);
      loss = model.train_step(xb, yb, phantom::Loss::mse, opt);
      if (step == 0) first = loss;
      if (step % 50 == 0 || step + 1 == steps)
        std::printf("step %4zu  loss %.6e\n", step, loss);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("loss fell %.1fx in %zu steps (%.3f s, %.2f ms/step)\n", first / loss, steps,
                seconds, 1e3 * seconds / steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "phantom-demo: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
