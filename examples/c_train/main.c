/* Trains a phantom-parallel network from C through Phantom's C API on its own
 * data (y = sin(2 x0) cos(x1) + x2 x3 on random points; every rank makes the
 * same batches), predicts, saves a checkpoint and prints the statistics.
 * Exits 0 when the loss fell at least 4x.
 *
 *   mpiexec -n 2 c_train deck.toml [steps] */
#include <math.h>
#include <mpi.h>
#include <phantom/phantom.h>
#include <stdio.h>
#include <stdlib.h>

enum { IN = 4, OUT = 1, BATCH = 64 };

static unsigned long long state = 12345; /* the same sequence on every rank */
static float uniform(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((state >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

static void make_batch(float* x, float* y) {
  for (int b = 0; b < BATCH; ++b) {
    float* r = x + b * IN; /* row-major: x[b * IN + i] */
    for (int i = 0; i < IN; ++i) r[i] = uniform();
    y[b] = sinf(2 * r[0]) * cosf(r[1]) + r[2] * r[3];
  }
}

#define CHECK(call)                                                             \
  do {                                                                          \
    if ((call) != PHANTOM_OK) {                                                 \
      fprintf(stderr, "c_train: %s failed: %s\n", #call, phantom_last_error()); \
      MPI_Abort(MPI_COMM_WORLD, 1);                                             \
    }                                                                           \
  } while (0)

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char* deck = argc > 1 ? argv[1] : "deck.toml";
  const int steps = argc > 2 ? atoi(argv[2]) : 300;

  phantom_model_t model;
  CHECK(phantom_create(&model, deck, MPI_COMM_WORLD));
  float x[BATCH * IN], y[BATCH * OUT];
  double first = 0, last = 0, window = 0;
  for (int step = 0; step < steps; ++step) {
    double loss = 0;
    make_batch(x, y);
    CHECK(phantom_train_step(model, x, y, BATCH, PHANTOM_FLOAT, &loss));
    window += loss;
    if ((step + 1) % 20 == 0) { /* the mean of 20 steps: batches are noisy */
      if (first == 0) first = window / 20;
      last = window / 20;
      if (rank == 0) printf("step %4d  loss %.5f\n", step + 1, last);
      window = 0;
    }
  }

  float prediction[BATCH * OUT];
  make_batch(x, y);
  CHECK(phantom_predict(model, x, prediction, BATCH, PHANTOM_FLOAT));
  double err = 0;
  for (int b = 0; b < BATCH; ++b) err += fabs(prediction[b] - y[b]) / BATCH;
  CHECK(phantom_save(model, "c_train.h5"));

  phantom_stats_t s;
  CHECK(phantom_get_stats(model, &s));
  if (rank == 0) {
    printf("held-out mean |error| %.4f over %d new points\n", err, BATCH);
    printf("%lld steps, %lld parameters, %.0f bytes per step per rank, %.3f J (%s)\n",
           (long long)s.step, (long long)s.parameters, s.bytes_per_step, s.energy_j,
           s.energy_measured ? "measured" : "modelled");
    printf("loss %.5f -> %.5f (%.1fx)\n", first, last, first / last);
  }
  CHECK(phantom_destroy(model));
  CHECK(phantom_finalize());
  MPI_Finalize();
  return first >= 4 * last ? 0 : 1;
}
