/* Includes a generated header alone: it must compile warning-free as C99
 * and C++ and declare everything the ABI promises. */
#include "tiny.h"

static const long shape[] = TINY_INPUT0_SHAPE;
typedef char scratch_is_sized[TINY_SCRATCH_SIZE > 0 ? 1 : -1];
typedef char abi_is_v1[TINY_ABI_VERSION == 1 ? 1 : -1];

int use(const void *const in[], void *const out[], void *scratch) {
  return tiny_run(in, out, scratch) + (int)(sizeof shape / sizeof shape[0]) -
         TINY_INPUT0_RANK + TINY_NUM_INPUTS - 1 + TINY_NUM_OUTPUTS - 2;
}
