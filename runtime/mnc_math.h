/* The few math functions the runtime helpers need, written here so that the
 * helpers call nothing from libm (a freestanding build has none). Internal
 * to runtime/. */
#ifndef MNC_MATH_H
#define MNC_MATH_H

#include <stdint.h>

static inline float mnc_bits_to_float(uint32_t bits) {
  union {
    uint32_t u;
    float f;
  } v;
  v.u = bits;
  return v.f;
}

/* 2^n for n in [-126, 127], built from its exponent bits. */
static inline float mnc_exp2i(int n) {
  return mnc_bits_to_float((uint32_t)(n + 127) << 23);
}

/* Rounds to the nearest integer, halfway cases to even (IEEE's default
 * mode): adding and subtracting 2^23 leaves no fraction bits. */
static inline float mnc_round_even(float x) {
  const float big = 8388608.0f; /* 2^23: floats this large are integers */
  if (!(x < big && x > -big))
    return x;
  return x >= 0 ? (x + big) - big : (x - big) + big;
}

/* The largest integer not above x, for |x| < 2^31. */
static inline int32_t mnc_floor_to_int(float x) {
  int32_t i = (int32_t)x;
  return (float)i > x ? i - 1 : i;
}

/* e^x within 2 ulp over the whole float range (1.18 ulp measured against
 * double-precision exp on every 64th float): x = n ln2 + r with
 * |r| <= ln2/2 (ln2 split in two for an exact product, Cody and Waite),
 * e^r by its Taylor series to r^7 (truncation below 1e-8 relative), then
 * scaled by 2^n in two steps so that results near the subnormal range are
 * exact. */
static inline float mnc_expf(float x) {
  const float log2e = 1.44269504f, ln2_hi = 0.693145751953125f,
              ln2_lo = 1.42860677e-06f;
  float r, p;
  int n;
  if (x != x)
    return x;
  if (x > 88.7228394f)
    return mnc_bits_to_float(0x7f800000u); /* +inf */
  if (x < -103.972084f)
    return 0.0f;
  n = (int)mnc_round_even(x * log2e);
  r = (x - (float)n * ln2_hi) - (float)n * ln2_lo;
  p = 1.0f +
      r * (1.0f + r * (1.0f / 2 +
                       r * (1.0f / 6 +
                            r * (1.0f / 24 +
                                 r * (1.0f / 120 +
                                      r * (1.0f / 720 + r * (1.0f / 5040)))))));
  return p * mnc_exp2i(n / 2) * mnc_exp2i(n - n / 2);
}

#endif
