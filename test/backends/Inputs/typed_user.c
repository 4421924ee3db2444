/* Runs the model of tiny.mnir (compiled as "tiny") through tiny_run and
 * through the typed wrapper tiny_run_typed on the same input and checks the
 * outputs are identical. Valid C99 and C++. */
#include "tiny.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float image[TINY_INPUT0_BYTES / sizeof(float)];
static float probs[2][TINY_OUTPUT0_BYTES / sizeof(float)];
static float logprobs[2][TINY_OUTPUT1_BYTES / sizeof(float)];

int main(void) {
  unsigned char *block =
      (unsigned char *)malloc(TINY_SCRATCH_SIZE + TINY_SCRATCH_ALIGN);
  void *scratch;
  const void *inputs[1];
  void *outputs[2];
  size_t i;
  int same;
  if (!block)
    return 2;
  scratch = block + (TINY_SCRATCH_ALIGN - (size_t)block % TINY_SCRATCH_ALIGN) %
                        TINY_SCRATCH_ALIGN;
  for (i = 0; i < sizeof image / sizeof image[0]; ++i)
    image[i] = (float)(i % 7) * 0.25f - 0.5f;
  inputs[0] = image;
  outputs[0] = probs[0];
  outputs[1] = logprobs[0];
  if (tiny_run(inputs, outputs, scratch) != 0 ||
      tiny_run_typed(image, probs[1], logprobs[1], scratch) != 0)
    return 3;
  same = memcmp(probs[0], probs[1], sizeof probs[0]) == 0 &&
         memcmp(logprobs[0], logprobs[1], sizeof logprobs[0]) == 0;
  printf("typed wrapper: %s\n", same ? "same outputs" : "different outputs");
  free(block);
  return !same;
}
