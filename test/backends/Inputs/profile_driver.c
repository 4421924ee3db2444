/* tiny_run_profiled, given a clock that counts its own calls, writes the
 * bytes tiny_run writes and reads the clock exactly once before and once
 * after each of its TINY_PROFILE_STEPS steps: each step takes one tick per
 * run, and the counters accumulate over runs. The step tables of the
 * header initialize arrays of TINY_PROFILE_STEPS entries. */
#include "tiny.h"

#include <stdio.h>
#include <string.h>

static uint64_t count(void *ctx) { return (*(uint64_t *)ctx)++; }

static unsigned char scratch[TINY_SCRATCH_SIZE] __attribute__((aligned(64)));

int main(void) {
  static const char *const names[] = TINY_PROFILE_STEP_NAMES;
  static const uint64_t macs[] = TINY_PROFILE_STEP_MACS;
  float x[TINY_INPUT0_BYTES / 4], y[2][2][TINY_OUTPUT0_BYTES / 4];
  for (size_t i = 0; i < TINY_INPUT0_BYTES / 4; ++i)
    x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  const void *inputs[] = {x};
  void *plain[] = {y[0][0], y[0][1]}, *timed[] = {y[1][0], y[1][1]};
  uint64_t clock = 0, ticks[TINY_PROFILE_STEPS] = {0};
  mnc_profiler profiler = {count, &clock, ticks};
  if (tiny_run(inputs, plain, scratch) != TINY_OK)
    return 1;
  for (int run = 0; run < 2; ++run)
    if (tiny_run_profiled(inputs, timed, scratch, &profiler) != TINY_OK)
      return 1;
  int once = 1;
  for (int k = 0; k < TINY_PROFILE_STEPS; ++k)
    once &= ticks[k] == 2;
  printf("%d steps, %d names, %d MAC counts; clock read %llu times; "
         "every step 2 ticks: %s; outputs equal: %s\n",
         TINY_PROFILE_STEPS, (int)(sizeof names / sizeof *names),
         (int)(sizeof macs / sizeof *macs), (unsigned long long)clock,
         once ? "yes" : "no", memcmp(y[0], y[1], sizeof y[0]) ? "no" : "yes");
  printf("first step: %s, %llu MACs\n", names[0], (unsigned long long)macs[0]);
  return 0;
}
