/* Top-k by insertion into the sorted prefix of the k best so far: O(n k)
 * comparisons and no work buffer, which suits the k <= 10 of
 * classification over up to a few thousand classes. */
#include "mnc_runtime.h"

/* Element i of x as a float: exact for int8 and uint8. */
static float valueAt(const void *x, mnc_dtype dtype, size_t i) {
  switch (dtype) {
  case MNC_I8:
    return ((const int8_t *)x)[i];
  case MNC_U8:
    return ((const uint8_t *)x)[i];
  default:
    return ((const float *)x)[i];
  }
}

/* Whether a (seen first) ranks before b: larger, NaN last. Equal values
 * keep their order because a later element must be strictly larger. */
static int ranksBefore(float a, float b) { return a > b || (b != b && a == a); }

int mnc_topk(const void *x, mnc_dtype dtype, size_t n, size_t k,
             size_t *indices) {
  size_t i, filled = 0;
  if (!x || !indices || (unsigned)dtype > MNC_U8 || k == 0 || k > n)
    return MNC_ERR_ARGUMENT;
  for (i = 0; i < n; ++i) {
    float v = valueAt(x, dtype, i);
    size_t at = filled;
    while (at > 0 && ranksBefore(v, valueAt(x, dtype, indices[at - 1])))
      --at;
    if (at == k)
      continue;
    if (filled < k)
      ++filled;
    {
      size_t j;
      for (j = filled - 1; j > at; --j)
        indices[j] = indices[j - 1];
    }
    indices[at] = i;
  }
  return MNC_OK;
}
