/* Times one mnc-compiled model the way tools/ort/bench.mjs times ONNX
 * Runtime: in-process wall clock around net_run after warm-up, median of
 * RUNS runs; with THREADS above 1, net_run_parallel on a pool of that many
 * threads (runtime/mnc_pthread.h). Built by bench/run.sh against the
 * header `net.h` of a model compiled with `--name net`; prints one JSON
 * line.
 *
 * Built with -DFUSED and a second build of the same model compiled with
 * `--name fused` (another schedule), it times both in one process, ten
 * runs of each in turn, so that the machine's drift over time weighs on
 * both alike; it prints a JSON line per model, net's first. */
#define _POSIX_C_SOURCE 199309L
#include "mnc_pthread.h"
#include "net.h"
#ifdef FUSED
#include "fused.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if NET_NUM_INPUTS != 1 || NET_NUM_OUTPUTS != 1
#error "the benchmark harness takes models with one input and one output"
#endif

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Reads the raw data of a little-endian .npy file into `dst`. */
static int readNpy(const char *path, void *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  unsigned char head[10];
  if (!f || fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6)) {
    fprintf(stderr, "bench: cannot read %s as .npy\n", path);
    return 1;
  }
  long headerLen = head[6] == 1 ? head[8] | head[9] << 8 : -1;
  if (headerLen < 0 || fseek(f, 10 + headerLen, SEEK_SET) ||
      fread(dst, 1, bytes, f) != bytes) {
    fprintf(stderr, "bench: %s does not hold %zu bytes of data\n", path, bytes);
    return 1;
  }
  fclose(f);
  return 0;
}

/* A build under test: its entry points, scratch and run times. */
typedef struct {
  int (*run)(const void *const[], void *const[], void *);
  int (*runParallel)(const void *const[], void *const[], void *,
                     const mnc_parallel_for *);
  size_t scratchBytes, scratchAlign;
  void *scratch;
  double *times;
} Build;

/* One run: run, or runParallel on `pool`. */
static int run(const Build *m, const void *const inputs[],
               void *const outputs[], const mnc_parallel_for *pool) {
  return pool ? m->runParallel(inputs, outputs, m->scratch, pool)
              : m->run(inputs, outputs, m->scratch);
}

static void printMedian(const Build *m, int runs, size_t threads) {
  qsort(m->times, runs, sizeof(double), compareDoubles);
  double median = runs % 2 ? m->times[runs / 2]
                           : (m->times[runs / 2 - 1] + m->times[runs / 2]) / 2;
  printf("{\"median_ms\":%.4f,\"min_ms\":%.4f,\"threads\":%zu,\"runs\":%d}\n",
         median, m->times[0], threads, runs);
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: bench INPUT.npy RUNS WARMUP [THREADS]\n");
    return 2;
  }
  int runs = atoi(argv[2]), warmup = atoi(argv[3]);
  size_t threads = argc == 5 ? strtoul(argv[4], NULL, 10) : 1;
  mnc_pthread_pool pool;
  mnc_parallel_for hook, *parallel = NULL;
  if (threads > 1) {
    if (mnc_pthread_pool_init(&pool, threads) != MNC_OK) {
      fprintf(stderr, "bench: cannot start %zu threads\n", threads);
      return 1;
    }
    hook = mnc_pthread_parallel_for(&pool);
    parallel = &hook;
  }
  Build builds[] = {
      {net_run, net_run_parallel, NET_SCRATCH_SIZE_PARALLEL(threads),
       NET_SCRATCH_ALIGN, NULL, NULL},
#ifdef FUSED
      {fused_run, fused_run_parallel, FUSED_SCRATCH_SIZE_PARALLEL(threads),
       FUSED_SCRATCH_ALIGN, NULL, NULL},
#endif
  };
  size_t count = sizeof builds / sizeof builds[0];
  void *input = aligned_alloc(64, (NET_INPUT0_BYTES + 63) / 64 * 64);
  void *outputs[1] = {malloc(NET_OUTPUT0_BYTES)};
  const void *inputs[1] = {input};
  if (readNpy(argv[1], input, NET_INPUT0_BYTES))
    return 1;
  for (size_t m = 0; m < count; ++m) {
    Build *b = &builds[m];
    b->scratch =
        aligned_alloc(b->scratchAlign, (b->scratchBytes + b->scratchAlign) /
                                           b->scratchAlign * b->scratchAlign);
    b->times = malloc(sizeof(double) * runs);
    for (int i = 0; i < warmup; ++i)
      run(b, inputs, outputs, parallel);
  }
  /* In turn by rounds of ROUND runs, each after one untimed run that
   * brings its build's weights back into the caches. */
  enum { ROUND = 10 };
  for (int i = 0; i < runs; i += ROUND)
    for (size_t m = 0; m < count; ++m) {
      if (count > 1)
        run(&builds[m], inputs, outputs, parallel);
      for (int j = i; j < runs && j < i + ROUND; ++j) {
        double start = nowMs();
        if (run(&builds[m], inputs, outputs, parallel) != 0)
          return 1;
        builds[m].times[j] = nowMs() - start;
      }
    }
  if (parallel)
    mnc_pthread_pool_destroy(&pool);
  for (size_t m = 0; m < count; ++m)
    printMedian(&builds[m], runs, threads);
  return 0;
}
