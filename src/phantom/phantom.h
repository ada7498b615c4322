/* Phantom's C API: train and run a distributed feed-forward network from C,
 * Fortran (the `phantom` module is built on this) or any language that calls
 * C. No C++ type appears here; link the CMake target Phantom::phantom_c.
 *
 *   phantom_model_t m;
 *   if (phantom_create(&m, "deck.toml", MPI_COMM_WORLD) != PHANTOM_OK)
 *     fprintf(stderr, "%s\n", phantom_last_error());
 *   phantom_train_step(m, x, y, batch, PHANTOM_FLOAT, &loss);
 *   phantom_destroy(m);
 *   phantom_finalize();
 *
 * The deck's [model], [train], [checkpoint] and [energy] sections apply; the
 * caller supplies the data, so [data] is ignored. Every call on a model is
 * collective over its communicator: each rank passes the same arguments.
 * Arrays are row-major: x[b * input_dim + i], y[b * output_dim + j]. Host
 * pointers always work; on a CUDA build device pointers do too (docs/embedding.md).
 * Every function returns PHANTOM_OK or an error code, with the message in
 * phantom_last_error(); none throws or aborts. docs/embedding.md has the
 * details and a complete example. */
#ifndef PHANTOM_PHANTOM_H
#define PHANTOM_PHANTOM_H

#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. */
enum {
  PHANTOM_OK = 0,
  PHANTOM_ERR_ARGUMENT = 1,   /* a null pointer, a batch of 0, an unknown dtype, ... */
  PHANTOM_ERR_DECK = 2,       /* the deck is unreadable, wrong, or does not fit the ranks */
  PHANTOM_ERR_CHECKPOINT = 3, /* a checkpoint could not be read, written, or does not fit */
  PHANTOM_ERR_MPI = 4,        /* MPI is not initialised, or an MPI call failed */
  PHANTOM_ERR_DEVICE = 5,     /* the execution space (Kokkos) failed */
  PHANTOM_ERR_INTERNAL = 6    /* anything else: a bug, please report it */
};

/* The last two make every int a value of the type, so that C++ (which
 * implements this API) may read any value a C or Fortran caller passes and
 * refuse it with PHANTOM_ERR_ARGUMENT; without them a value such as 7 is
 * undefined behaviour in C++. They are not data types. */
typedef enum {
  PHANTOM_FLOAT = 0,
  PHANTOM_DOUBLE = 1,
  PHANTOM_DTYPE_INT_MIN_ = -2147483647 - 1,
  PHANTOM_DTYPE_INT_MAX_ = 2147483647
} phantom_dtype_t;

/* An opaque model: network, optimizer, step count, energy meter. */
typedef struct phantom_model* phantom_model_t;

typedef struct {
  int64_t step;           /* training steps done (after a load: the checkpoint's) */
  double loss;            /* the last training step's loss (0 before the first) */
  int64_t parameters;     /* global parameter count, each parameter once */
  double bytes_per_step;  /* bytes received per rank per step at the last batch (formula) */
  double bytes_last_step; /* bytes this rank received in the last step (counted) */
  double step_seconds;    /* wall time of the last step on this rank */
  double comm_seconds;    /* of which issuing and waiting for collectives */
  double energy_j;        /* all ranks, all steps so far */
  int energy_measured;    /* 1: a hardware meter; 0: modelled (docs/energy.md) */
} phantom_stats_t;

/* Builds the model the deck describes on the ranks of comm (collective).
 * MPI must be initialised; Kokkos is initialised here if the caller has not. */
int phantom_create(phantom_model_t* model, const char* deck_path, MPI_Comm comm);
/* The same with a Fortran communicator handle (MPI_Comm_c2f). */
int phantom_create_f(phantom_model_t* model, const char* deck_path, MPI_Fint comm);

/* One optimizer step on `batch` rows; *loss gets its loss (loss may be NULL). */
int phantom_train_step(phantom_model_t model, const void* x, const void* y, int64_t batch,
                       phantom_dtype_t dtype, double* loss);
/* The network's output for `batch` rows of x, written to y. */
int phantom_predict(phantom_model_t model, const void* x, void* y, int64_t batch,
                    phantom_dtype_t dtype);

/* A checkpoint of the model, the optimizer and the step (collective). */
int phantom_save(phantom_model_t model, const char* path);
/* Restores a checkpoint that fits the model; *step gets its step (may be NULL). */
int phantom_load(phantom_model_t model, const char* path, int64_t* step);

int phantom_get_stats(phantom_model_t model, phantom_stats_t* stats);
/* The deck's model.input_dim and model.output_dim (either pointer may be NULL). */
int phantom_get_dims(phantom_model_t model, int64_t* input_dim, int64_t* output_dim);
int phantom_destroy(phantom_model_t model);

/* The calling thread's last error message ("" if none). */
const char* phantom_last_error(void);
/* Ends what Phantom started (Kokkos, if phantom_create initialised it); every
 * model must have been destroyed. MPI is the caller's. */
int phantom_finalize(void);

#ifdef __cplusplus
}
#endif

#endif /* PHANTOM_PHANTOM_H */
