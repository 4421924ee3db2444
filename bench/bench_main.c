/* Times one mnc-compiled model the way tools/ort/bench.mjs times ONNX
 * Runtime: in-process wall clock around net_run after warm-up, median of
 * RUNS runs; with THREADS above 1, net_run_parallel on a pool of that many
 * threads (runtime/mnc_pthread.h). Built by bench/run.sh against the
 * header `net.h` of a model compiled with `--name net`; prints one JSON
 * line. */
#define _POSIX_C_SOURCE 199309L
#include "mnc_pthread.h"
#include "net.h"

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

/* One run: net_run, or net_run_parallel on `pool`. */
static int run(const void *const inputs[], void *const outputs[], void *scratch,
               const mnc_parallel_for *pool) {
  return pool ? net_run_parallel(inputs, outputs, scratch, pool)
              : net_run(inputs, outputs, scratch);
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
  size_t scratchBytes = NET_SCRATCH_SIZE_PARALLEL(threads);
  void *input = aligned_alloc(64, (NET_INPUT0_BYTES + 63) / 64 * 64);
  void *scratch = aligned_alloc(NET_SCRATCH_ALIGN,
                                (scratchBytes + NET_SCRATCH_ALIGN) /
                                    NET_SCRATCH_ALIGN * NET_SCRATCH_ALIGN);
  void *outputs[1] = {malloc(NET_OUTPUT0_BYTES)};
  const void *inputs[1] = {input};
  if (readNpy(argv[1], input, NET_INPUT0_BYTES))
    return 1;
  for (int i = 0; i < warmup; ++i)
    run(inputs, outputs, scratch, parallel);
  double *times = malloc(sizeof(double) * runs);
  for (int i = 0; i < runs; ++i) {
    double start = nowMs();
    if (run(inputs, outputs, scratch, parallel) != 0)
      return 1;
    times[i] = nowMs() - start;
  }
  if (parallel)
    mnc_pthread_pool_destroy(&pool);
  qsort(times, runs, sizeof(double), compareDoubles);
  double median =
      runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
  printf("{\"median_ms\":%.4f,\"min_ms\":%.4f,\"threads\":%zu,\"runs\":%d}\n",
         median, times[0], threads, runs);
  return 0;
}
