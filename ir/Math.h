// Elementwise formulas and rounding rules of the mnc ops, written once.
//
// The formulas are templates over the scalar type. The reference
// interpreter instantiates them with float; a code generator instantiates
// them with its own value type (e.g. a wrapper around an LLVM value) by
// providing, findable by argument-dependent lookup, the primitives used
// here: arithmetic operators, comparisons, construction from a double,
// `select`, `minOf`, `maxOf`, and for the transcendental ops `exp`, `log`,
// `tanh`, `sqrt` and `abs`. Each op's formula thus has exactly one spelling.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace mnc::math {

//===----------------------------------------------------------------------===//
// Primitives for scalar types. A code generator overloads these for its own
// value type.
//===----------------------------------------------------------------------===//

/// `c ? a : b`, without the short circuit, so vector types can overload it.
template <typename C, typename T> T select(const C &c, T a, T b) {
  return c ? a : b;
}
/// The larger of a and b; a NaN in `a` propagates (so relu and clamp of
/// NaN stay NaN, as in ONNX).
template <typename T> T maxOf(T a, T b) { return a < b ? b : a; }
/// The smaller of a and b; a NaN in `a` propagates.
template <typename T> T minOf(T a, T b) { return b < a ? b : a; }

//===----------------------------------------------------------------------===//
// Formulas of the elementwise ops (ir/Ops.def gives each one).
//===----------------------------------------------------------------------===//

template <typename T> T clamp(T x, T lo, T hi) {
  return minOf(maxOf(x, lo), hi);
}

template <typename T> T add(T a, T b) { return a + b; }
template <typename T> T sub(T a, T b) { return a - b; }
template <typename T> T mul(T a, T b) { return a * b; }
template <typename T> T div(T a, T b) { return a / b; }
template <typename T> T max(T a, T b) { return maxOf(a, b); }
template <typename T> T min(T a, T b) { return minOf(a, b); }

template <typename T> T prelu(T x, T slope) {
  return select(x >= T(0), x, slope * x);
}
template <typename T> T leakyRelu(T x, T alpha) { return prelu(x, alpha); }

template <typename T> T relu(T x) { return maxOf(x, T(0)); }

template <typename T> T sigmoid(T x) {
  using std::exp;
  return T(1) / (T(1) + exp(-x));
}
template <typename T> T tanhOf(T x) {
  using std::tanh;
  return tanh(x);
}
template <typename T> T expOf(T x) {
  using std::exp;
  return exp(x);
}
template <typename T> T logOf(T x) {
  using std::log;
  return log(x);
}
template <typename T> T sqrtOf(T x) {
  using std::sqrt;
  return sqrt(x);
}
template <typename T> T neg(T x) { return -x; }
template <typename T> T absOf(T x) {
  using std::abs;
  return abs(x);
}

/// ONNX HardSwish: x * clamp(x + 3, 0, 6) / 6.
template <typename T> T hardSwish(T x) {
  return x * clamp(x + T(3), T(0), T(6)) / T(6);
}
/// ONNX HardSigmoid: clamp(alpha * x + beta, 0, 1).
template <typename T> T hardSigmoid(T x, T alpha, T beta) {
  return clamp(alpha * x + beta, T(0), T(1));
}
template <typename T> T clip(T x, T lo, T hi) { return clamp(x, lo, hi); }

//===----------------------------------------------------------------------===//
// Detection.
//===----------------------------------------------------------------------===//

/// The overlap NonMaxSuppression tests against iou_threshold, as ONNX
/// Runtime computes it: intersection over union of boxes `a` and `b`
/// (corners [y1,x1,y2,x2] in either order, or [xc,yc,w,h] if
/// `centerPoint`), NaN (never above a threshold) when they do not
/// intersect or one of them or the union has no area.
template <typename T>
T boxOverlap(const T a[4], const T b[4], bool centerPoint) {
  T ax0 = a[0], ax1 = a[0], ay0 = a[0], ay1 = a[0];
  T bx0 = b[0], bx1 = b[0], by0 = b[0], by1 = b[0];
  if (centerPoint) {
    T aw = a[2] / T(2), ah = a[3] / T(2), bw = b[2] / T(2), bh = b[3] / T(2);
    ax0 = a[0] - aw, ax1 = a[0] + aw, ay0 = a[1] - ah, ay1 = a[1] + ah;
    bx0 = b[0] - bw, bx1 = b[0] + bw, by0 = b[1] - bh, by1 = b[1] + bh;
  } else {
    ax0 = minOf(a[1], a[3]), ax1 = maxOf(a[1], a[3]);
    ay0 = minOf(a[0], a[2]), ay1 = maxOf(a[0], a[2]);
    bx0 = minOf(b[1], b[3]), bx1 = maxOf(b[1], b[3]);
    by0 = minOf(b[0], b[2]), by1 = maxOf(b[0], b[2]);
  }
  // For finite floats, hi - lo > 0 exactly when hi > lo.
  T iw = minOf(ax1, bx1) - maxOf(ax0, bx0);
  T ih = minOf(ay1, by1) - maxOf(ay0, by0);
  T inter = iw * ih;
  T areaA = (ax1 - ax0) * (ay1 - ay0), areaB = (bx1 - bx0) * (by1 - by0);
  T uni = areaA + areaB - inter;
  T none = T(std::numeric_limits<float>::quiet_NaN());
  T iou = inter / uni;
  for (T positive : {iw, ih, inter, areaA, areaB, uni})
    iou = select(positive > T(0), iou, none);
  return iou;
}

//===----------------------------------------------------------------------===//
// Rounding and saturation of quantized arithmetic, for float and double.
//===----------------------------------------------------------------------===//

/// Round to nearest, ties to even (numpy.rint, std::nearbyint in the
/// default rounding mode, llvm.roundeven), independent of the floating-point
/// environment.
template <typename F> F roundHalfToEven(F x) {
  static_assert(std::is_floating_point_v<F>);
  F r = std::floor(x);
  F diff = x - r;
  if (diff > F(0.5) || (diff == F(0.5) && std::fmod(r, F(2)) != 0))
    r += 1;
  return r;
}

/// Converts x to the integer type I, clamping to its range; NaN becomes 0
/// (it has no meaningful integer value and the plain conversion is
/// undefined behaviour).
template <typename I, typename F> I saturateCast(F x) {
  static_assert(std::is_integral_v<I> && std::is_floating_point_v<F>);
  if (std::isnan(x))
    return 0;
  // The limits of I are exactly representable for 8- and 16-bit types; for
  // wider types compare against the power of two above the maximum.
  constexpr F lo = static_cast<F>(std::numeric_limits<I>::min());
  constexpr F hiBound =
      static_cast<F>(std::numeric_limits<I>::max() / 2 + 1) * 2;
  if (x <= lo)
    return std::numeric_limits<I>::min();
  if (x >= hiBound)
    return std::numeric_limits<I>::max();
  return static_cast<I>(x);
}

/// Clamps an integer to the range of I.
template <typename I> I saturateInt(int64_t x) {
  static_assert(std::is_integral_v<I>);
  if (x < static_cast<int64_t>(std::numeric_limits<I>::min()))
    return std::numeric_limits<I>::min();
  if (x > static_cast<int64_t>(std::numeric_limits<I>::max()))
    return std::numeric_limits<I>::max();
  return static_cast<I>(x);
}

/// The affine quantization of ONNX QuantizeLinear, computed in float as
/// ONNX Runtime does: saturate(rne(x / scale) + zeroPoint).
template <typename Q> Q quantize(float x, float scale, int32_t zeroPoint) {
  return saturateCast<Q>(roundHalfToEven(x / scale) +
                         static_cast<float>(zeroPoint));
}

/// ONNX DequantizeLinear: (q - zeroPoint) * scale.
inline float dequantize(int64_t q, float scale, int32_t zeroPoint) {
  return static_cast<float>(q - zeroPoint) * scale;
}

/// Scales an integer accumulator by a float multiplier and adds the output
/// zero point, as ONNX Runtime's requantization does (MlasRequantizeOutput):
/// saturate(rne(float(acc) * multiplier) + zeroPoint).
template <typename Q>
Q requantize(int64_t acc, float multiplier, int32_t zeroPoint) {
  return saturateCast<Q>(roundHalfToEven(static_cast<float>(acc) * multiplier) +
                         static_cast<float>(zeroPoint));
}

/// Parameters of an affine quantization to [qmin, qmax].
struct AffineParams {
  float scale;
  int32_t zeroPoint;
};

/// The affine parameters that map the range [lo, hi], widened to hold 0 (so
/// zero padding and relu are exact), onto [qmin, qmax]: scale = (hi - lo) /
/// (qmax - qmin), zeroPoint = qmin - rne(lo / scale), as ONNX Runtime's
/// static quantization computes them. An empty range gets scale 1.
inline AffineParams affineParams(float lo, float hi, int32_t qmin,
                                 int32_t qmax) {
  lo = std::fmin(lo, 0.0f);
  hi = std::fmax(hi, 0.0f);
  float scale = (hi - lo) / static_cast<float>(qmax - qmin);
  if (!(scale > 0) || !std::isfinite(scale))
    return {1.0f, 0};
  float z = static_cast<float>(qmin) - roundHalfToEven(lo / scale);
  return {scale, static_cast<int32_t>(
                     std::fmax(static_cast<float>(qmin),
                               std::fmin(static_cast<float>(qmax), z)))};
}

/// The scale of a symmetric quantization of values in [-absMax, absMax] to
/// [-qmax, qmax] with zero point 0 (weights); 1 if absMax is 0.
inline float symmetricScale(float absMax, int32_t qmax) {
  float scale = absMax / static_cast<float>(qmax);
  return scale > 0 && std::isfinite(scale) ? scale : 1.0f;
}

} // namespace mnc::math
