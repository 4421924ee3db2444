/* classify: ImageNet classification with an mnc-compiled MobileNet.
 *
 * Links the object mnc compiled from a MobileNet (`mnc compile MODEL.onnx
 * -o mobilenet.o --header mobilenet.h --name mobilenet`), reads a
 * preprocessed photo (float32 .npy of the model's input shape, e.g. the
 * torchvision ImageNet preprocessing of examples/data/README.md), runs the
 * model and prints the five most probable labels with their softmax
 * probabilities.
 *
 * usage: classify LABELS.txt IMAGE.npy
 */
#include "mobilenet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_CLASSES (MOBILENET_OUTPUT0_BYTES / sizeof(float))
#define TOP_K 5

/* Reads a little-endian float32 .npy (format v1 or v2, C order) holding
 * exactly `bytes` bytes of data into `data`. Returns 0 on success. */
static int read_npy(const char *path, void *data, size_t bytes) {
  FILE *f = fopen(path, "rb");
  unsigned char magic[8];
  size_t header_len;
  char *header;
  int ok;
  if (!f) {
    fprintf(stderr, "classify: cannot open %s\n", path);
    return 1;
  }
  ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, "\x93NUMPY", 6) == 0 &&
       (magic[6] == 1 || magic[6] == 2);
  if (ok && magic[6] == 1) {
    unsigned char len[2];
    ok = fread(len, 1, 2, f) == 2;
    header_len = (size_t)len[0] | (size_t)len[1] << 8;
  } else if (ok) {
    unsigned char len[4];
    ok = fread(len, 1, 4, f) == 4;
    header_len = (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 |
                 (size_t)len[3] << 24;
  }
  header = ok ? (char *)calloc(header_len + 1, 1) : NULL;
  ok = header && fread(header, 1, header_len, f) == header_len &&
       strstr(header, "'descr': '<f4'") &&
       strstr(header, "'fortran_order': False") &&
       fread(data, 1, bytes, f) == bytes && fgetc(f) == EOF;
  free(header);
  fclose(f);
  if (!ok)
    fprintf(stderr,
            "classify: %s is not a float32 C-order .npy of %zu bytes "
            "(the model's input)\n",
            path, bytes);
  return !ok;
}

/* Reads one label per line into `labels`. Returns 0 on success. */
static int read_labels(const char *path, char *labels[], size_t count) {
  FILE *f = fopen(path, "r");
  char line[256];
  size_t n = 0;
  if (!f) {
    fprintf(stderr, "classify: cannot open %s\n", path);
    return 1;
  }
  while (n < count && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    labels[n] = (char *)malloc(strlen(line) + 1);
    if (!labels[n])
      break;
    strcpy(labels[n++], line);
  }
  fclose(f);
  if (n != count)
    fprintf(stderr, "classify: %s has %zu labels, the model %zu classes\n",
            path, n, count);
  return n != count;
}

/* Softmax of `logits` in place, shifted by the maximum for stability. */
static void softmax(float *logits, size_t n) {
  float max = logits[0], sum = 0;
  size_t i;
  for (i = 1; i < n; ++i)
    if (logits[i] > max)
      max = logits[i];
  for (i = 0; i < n; ++i)
    sum += logits[i] = expf(logits[i] - max);
  for (i = 0; i < n; ++i)
    logits[i] /= sum;
}

/* Indices of the `k` largest of `p`, largest first (ties: lower index). */
static void top_k(const float *p, size_t n, size_t *best, size_t k) {
  size_t i, j;
  for (j = 0; j < k; ++j) {
    best[j] = n;
    for (i = 0; i < n; ++i) {
      size_t t;
      int taken = 0;
      for (t = 0; t < j; ++t)
        taken |= best[t] == i;
      if (!taken && (best[j] == n || p[i] > p[best[j]]))
        best[j] = i;
    }
  }
}

int main(int argc, char **argv) {
  static char *labels[NUM_CLASSES];
  float *input, *probs;
  void *scratch;
  size_t best[TOP_K], k;
  const void *inputs[1];
  void *outputs[1];
  if (argc != 3) {
    fprintf(stderr, "usage: %s LABELS.txt IMAGE.npy\n", argv[0]);
    return 1;
  }
  input = (float *)malloc(MOBILENET_INPUT0_BYTES);
  probs = (float *)malloc(MOBILENET_OUTPUT0_BYTES);
  /* aligned_alloc needs a size that is a multiple of the alignment. */
  scratch =
      aligned_alloc(MOBILENET_SCRATCH_ALIGN,
                    (MOBILENET_SCRATCH_SIZE + MOBILENET_SCRATCH_ALIGN) /
                        MOBILENET_SCRATCH_ALIGN * MOBILENET_SCRATCH_ALIGN);
  if (!input || !probs || !scratch) {
    fprintf(stderr, "classify: out of memory\n");
    return 1;
  }
  if (read_labels(argv[1], labels, NUM_CLASSES) ||
      read_npy(argv[2], input, MOBILENET_INPUT0_BYTES))
    return 1;
  inputs[0] = input;
  outputs[0] = probs;
  if (mobilenet_run(inputs, outputs, scratch) != 0) {
    fprintf(stderr, "classify: mobilenet_run failed\n");
    return 1;
  }
  softmax(probs, NUM_CLASSES);
  top_k(probs, NUM_CLASSES, best, TOP_K);
  for (k = 0; k < TOP_K; ++k)
    printf("%zu %4zu %-24s %.4f\n", k + 1, best[k], labels[best[k]],
           probs[best[k]]);
  free(scratch);
  free(probs);
  free(input);
  return 0;
}
