/* Runs the tiny model (test/backends/Inputs/tiny.mnir) on the .npy input
 * argv[1] and writes its outputs as DIR/<output name>.npy for DIR = argv[2],
 * as `mnc run --output-dir DIR` does. */
#include "tiny.h"

#include <stdio.h>
#include <string.h>

static unsigned char scratch[TINY_SCRATCH_SIZE]
    __attribute__((aligned(TINY_SCRATCH_ALIGN)));
static float input[TINY_INPUT0_BYTES / 4];
static float probs[TINY_OUTPUT0_BYTES / 4];
static float logprobs[TINY_OUTPUT1_BYTES / 4];

static int readNpy(const char *path, void *data, size_t size) {
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

/* A version 1 .npy of a little-endian f32 [1, n] array: 10 bytes of magic,
 * version and length, then the header padded with spaces and ending in a
 * newline so that the data starts at byte 128. */
static int writeNpy(const char *dir, const char *name, const float *data,
                    int n) {
  char path[4096], header[128 - 10];
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  int len = snprintf(header, sizeof header,
                     "{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (1, %d), }",
                     n);
  memset(header + len, ' ', sizeof header - len);
  header[sizeof header - 1] = '\n';
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M',           'P',
                              'Y',  1,   0,   sizeof header, 0};
  int ok = fwrite(prefix, 1, 10, f) == 10 &&
           fwrite(header, 1, sizeof header, f) == sizeof header &&
           fwrite(data, sizeof *data, n, f) == (size_t)n;
  return fclose(f) == 0 && ok;
}

int main(int argc, char **argv) {
  if (argc != 3 || !readNpy(argv[1], input, sizeof input)) {
    fprintf(stderr, "usage: %s INPUT.npy OUTPUT_DIR\n", argv[0]);
    return 1;
  }
  if (tiny_run_typed(input, probs, logprobs, scratch) != 0)
    return 2;
  if (!writeNpy(argv[2], TINY_OUTPUT0_NAME, probs, TINY_OUTPUT0_BYTES / 4) ||
      !writeNpy(argv[2], TINY_OUTPUT1_NAME, logprobs, TINY_OUTPUT1_BYTES / 4))
    return 3;
  puts("ok");
  return 0;
}
