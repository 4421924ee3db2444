/* Runs a model compiled with --name net (one input, one output) with
 * net_run and with net_run_parallel on the pthread pool of runtime/ for
 * each thread count on the command line, on a fixed pseudo-random input,
 * and checks that every parallel run writes the bytes net_run writes,
 * leaves the guard bytes after NET_SCRATCH_SIZE_PARALLEL(threads) intact,
 * and uses the last task's workspace (so the formula is not larger than
 * needed). A null pool and a one-thread pool must be net_run too. Counts
 * the layers split (calls of parallel_for per run). */
#include "mnc_pthread.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if NET_NUM_INPUTS != 1 || NET_NUM_OUTPUTS != 1
#error "the driver takes models with one input and one output"
#endif

#define GUARD 256
#define PATTERN 0xA5
#define ROUNDS 3

static unsigned char *scratch, *expected, *output;
static size_t scratchBytes;

/* The pool's hook, wrapped to count its calls and check their task
 * counts. */
static mnc_parallel_for inner;
static unsigned long calls, badCounts;

static void countingFor(void *ctx, void (*task)(void *, size_t), void *arg,
                        size_t n) {
  (void)ctx;
  ++calls;
  badCounts += n < 2 || n > inner.num_threads;
  inner.parallel_for(inner.ctx, task, arg, n);
}

static void fillInput(unsigned char *x) {
  unsigned state = 12345;
  size_t i;
  for (i = 0; i < NET_INPUT0_BYTES; ++i) {
    state = state * 1103515245u + 12345u;
    x[i] = (unsigned char)(state >> 16);
  }
  /* Floats in [-2, 2) instead of arbitrary bit patterns. */
  if (strcmp(NET_INPUT0_DTYPE, "f32") == 0)
    for (i = 0; i < NET_INPUT0_BYTES / 4; ++i) {
      float v = (float)x[4 * i] / 64.0f - 2.0f;
      memcpy(x + 4 * i, &v, 4);
    }
}

/* Whether any byte of [from, to) of the scratch buffer differs from the
 * pattern. */
static int written(size_t from, size_t to) {
  for (; from < to; ++from)
    if (scratch[from] != PATTERN)
      return 1;
  return 0;
}

static int run(const void *const inputs[], const mnc_parallel_for *pool,
               size_t threads, const char *what) {
  void *outputs[1];
  size_t used = NET_SCRATCH_SIZE_PARALLEL(threads);
  int round;
  outputs[0] = output;
  calls = 0;
  for (round = 0; round < ROUNDS; ++round) {
    memset(scratch, PATTERN, scratchBytes);
    memset(output, 0, NET_OUTPUT0_BYTES);
    if (net_run_parallel(inputs, outputs, scratch, pool) != NET_OK) {
      printf("%s: net_run_parallel failed\n", what);
      return 1;
    }
    if (memcmp(output, expected, NET_OUTPUT0_BYTES) != 0) {
      printf("%s: outputs differ from net_run's\n", what);
      return 1;
    }
    if (written(used, used + GUARD)) {
      printf("%s: wrote past NET_SCRATCH_SIZE_PARALLEL(%lu)\n", what,
             (unsigned long)threads);
      return 1;
    }
  }
  if (badCounts) {
    printf("%s: %lu calls with a wrong task count\n", what, badCounts);
    return 1;
  }
  printf("%s: outputs equal net_run's, guard intact, %lu layers split", what,
         calls / ROUNDS);
  if (threads > 1 && NET_TASK_WORKSPACE_SIZE > 0)
    printf(", last task workspace %s",
           written(used - NET_TASK_WORKSPACE_SIZE, used) ? "used" : "unused");
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  static unsigned char input[NET_INPUT0_BYTES];
  const void *inputs[1];
  void *outputs[1];
  size_t most = 1;
  int i, bad = 0;
  mnc_parallel_for serial;
  for (i = 1; i < argc; ++i)
    if (strtoul(argv[i], NULL, 10) > most)
      most = strtoul(argv[i], NULL, 10);
  scratchBytes = NET_SCRATCH_SIZE_PARALLEL(most) + GUARD;
  scratch = (unsigned char *)aligned_alloc(
      NET_SCRATCH_ALIGN, (scratchBytes + NET_SCRATCH_ALIGN - 1) /
                             NET_SCRATCH_ALIGN * NET_SCRATCH_ALIGN);
  expected = (unsigned char *)malloc(NET_OUTPUT0_BYTES);
  output = (unsigned char *)malloc(NET_OUTPUT0_BYTES);
  fillInput(input);
  inputs[0] = input;
  outputs[0] = expected;
  memset(scratch, PATTERN, scratchBytes);
  if (net_run(inputs, outputs, scratch) != NET_OK) {
    printf("net_run failed\n");
    return 1;
  }
  bad |= run(inputs, NULL, 1, "null pool");
  serial.parallel_for = countingFor;
  serial.ctx = NULL;
  serial.num_threads = 1;
  inner = serial;
  inner.parallel_for = mnc_serial_for;
  bad |= run(inputs, &serial, 1, "serial pool");
  for (i = 1; i < argc; ++i) {
    size_t threads = strtoul(argv[i], NULL, 10);
    mnc_pthread_pool pool;
    mnc_parallel_for hook;
    char what[32];
    if (mnc_pthread_pool_init(&pool, threads) != MNC_OK) {
      printf("cannot start %lu threads\n", (unsigned long)threads);
      return 1;
    }
    inner = mnc_pthread_parallel_for(&pool);
    hook = inner;
    hook.parallel_for = countingFor;
    sprintf(what, "%lu threads", (unsigned long)threads);
    bad |= run(inputs, &hook, threads, what);
    mnc_pthread_pool_destroy(&pool);
  }
  return bad;
}
