/* Runs the test model compiled twice, as "tiny" and "tiny2", on a fixed
 * input: both objects must link into one program, agree exactly, and leave
 * the guard bytes around every buffer untouched. Prints the outputs so that
 * runs on different targets can be compared. Hosted or semihosted. */
#include "tiny.h"
#include "tiny2.h"

#include <stdio.h>
#include <string.h>

#define GUARD 64
#define PATTERN 0xA5

/* Each model's arena starts TINY_SCRATCH_ALIGN-aligned after its guard. */
#define ARENA_STRIDE                                                           \
  ((GUARD + TINY_SCRATCH_SIZE + GUARD + TINY_SCRATCH_ALIGN - 1) /              \
   TINY_SCRATCH_ALIGN * TINY_SCRATCH_ALIGN)
static unsigned char arena[2][ARENA_STRIDE] __attribute__((aligned(64)));
static unsigned char in[GUARD + TINY_INPUT0_BYTES + GUARD]
    __attribute__((aligned(64)));
static unsigned char out[2][2][GUARD + TINY_OUTPUT0_BYTES + GUARD]
    __attribute__((aligned(64)));

static int intact(const unsigned char *buffer, size_t size) {
  for (size_t i = 0; i < GUARD; ++i)
    if (buffer[i] != PATTERN || buffer[GUARD + size + i] != PATTERN)
      return 0;
  return 1;
}

int main(void) {
  float x[TINY_INPUT0_BYTES / 4];
  for (size_t i = 0; i < TINY_INPUT0_BYTES / 4; ++i)
    x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  memset(arena, PATTERN, sizeof arena);
  memset(in, PATTERN, sizeof in);
  memset(out, PATTERN, sizeof out);
  memcpy(in + GUARD, x, sizeof x);
  const void *inputs[] = {in + GUARD};
  for (int m = 0; m < 2; ++m) {
    void *outputs[] = {out[m][0] + GUARD, out[m][1] + GUARD};
    int rc = m == 0 ? tiny_run(inputs, outputs, arena[m] + GUARD)
                    : tiny2_run(inputs, outputs, arena[m] + GUARD);
    if (rc != 0) {
      printf("run %d returned %d\n", m, rc);
      return 1;
    }
    int ok = intact(arena[m], TINY_SCRATCH_SIZE) &&
             intact(in, TINY_INPUT0_BYTES) &&
             intact(out[m][0], TINY_OUTPUT0_BYTES) &&
             intact(out[m][1], TINY_OUTPUT1_BYTES);
    if (!ok) {
      printf("guard bytes overwritten by model %d\n", m);
      return 2;
    }
  }
  if (memcmp(out[0], out[1], sizeof out[0]) != 0) {
    printf("the two objects disagree\n");
    return 3;
  }
  for (int o = 0; o < 2; ++o) {
    float y[TINY_OUTPUT0_BYTES / 4];
    memcpy(y, out[0][o] + GUARD, sizeof y);
    printf("output %d:", o);
    for (size_t i = 0; i < TINY_OUTPUT0_BYTES / 4; ++i)
      printf(" %.6e", (double)y[i]);
    printf("\n");
  }
  printf("ok\n");
  return 0;
}
