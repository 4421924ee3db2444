/* Runs a model compiled with --name model once: reads its only input from
 * the .npy file INPUT_PATH (version 1 header, raw little-endian data),
 * writes its only output's raw bytes to OUTPUT_PATH. Hosted, or bare metal
 * with newlib semihosting file I/O (the paths are host paths either way),
 * so firmware and host runs can be compared byte for byte.
 *
 * With -DSYSTICK_TICKS (Cortex-M firmware only, bench/arm.sh, which links
 * examples/firmware/systick.c) it also prints "ticks N": the SysTick ticks
 * of the processor clock that model_run took. Under qemu-system-arm
 * -icount shift=0 every instruction takes 1 ns of virtual time, so N times
 * the tick period in ns is the instruction count. With -DSYSTICK_PROFILE
 * as well (a model compiled with --profile) it runs model_run_profiled
 * instead and prints a line "step TICKS MACS NAME" per kernel call. */
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef SYSTICK_TICKS
#include "systick.h"
#endif

static unsigned char scratch[MODEL_SCRATCH_SIZE]
    __attribute__((aligned(MODEL_SCRATCH_ALIGN)));
static unsigned char input[MODEL_INPUT0_BYTES] __attribute__((aligned(64)));
static unsigned char output[MODEL_OUTPUT0_BYTES] __attribute__((aligned(64)));

static int readNpy(const char *path, unsigned char *data, size_t size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  /* Magic (6 bytes), version (2), header length (2, little-endian). */
  unsigned char prefix[10];
  int ok = fread(prefix, 1, sizeof prefix, f) == sizeof prefix &&
           memcmp(prefix, "\x93NUMPY\x01", 7) == 0 &&
           fseek(f, (long)(sizeof prefix + prefix[8] + 256u * prefix[9]),
                 SEEK_SET) == 0 &&
           fread(data, 1, size, f) == size;
  fclose(f);
  return ok;
}

#ifdef SYSTICK_PROFILE
static uint64_t systickClock(void *context) {
  (void)context;
  return systick_ticks();
}
#endif

int main(void) {
  if (!readNpy(INPUT_PATH, input, sizeof input)) {
    printf("cannot read %s\n", INPUT_PATH);
    return 1;
  }
  const void *inputs[] = {input};
  void *outputs[] = {output};
#ifdef SYSTICK_TICKS
  systick_start();
  uint64_t start = systick_ticks();
#endif
#ifdef SYSTICK_PROFILE
  static uint64_t steps[MODEL_PROFILE_STEPS];
  static const char *const names[] = MODEL_PROFILE_STEP_NAMES;
  static const long long macs[] = MODEL_PROFILE_STEP_MACS;
  mnc_profiler profiler = {systickClock, NULL, steps};
  int rc = model_run_profiled(inputs, outputs, scratch, &profiler);
#else
  int rc = model_run(inputs, outputs, scratch);
#endif
#ifdef SYSTICK_TICKS
  uint64_t stop = systick_ticks();
  printf("ticks %lu\n", (unsigned long)(stop - start));
#endif
#ifdef SYSTICK_PROFILE
  for (int k = 0; k < MODEL_PROFILE_STEPS; ++k)
    printf("step %lu %lld %s\n", (unsigned long)steps[k], macs[k], names[k]);
#endif
  if (rc != 0) {
    printf("model_run returned %d\n", rc);
    return 2;
  }
  FILE *f = fopen(OUTPUT_PATH, "wb");
  if (!f || fwrite(output, 1, sizeof output, f) != sizeof output ||
      fclose(f) != 0) {
    printf("cannot write %s\n", OUTPUT_PATH);
    return 3;
  }
  printf("ok\n");
  return 0;
}
