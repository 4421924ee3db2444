// Elementwise ops: broadcasting binary arithmetic, the unary activations,
// cast, and the quantization conversions. Every formula comes from
// ir/Math.h.
#include "ir/Math.h"
#include "ir/interp/Kernels.h"

#include <limits>

namespace mnc::interp {
namespace {

template <typename T, typename Fn>
Tensor broadcastBinary(const EvalCtx &c, Fn fn) {
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> shape = out.type.shape;
  const T *a = c.in(0).data<T>(), *b = c.in(1).data<T>();
  T *y = out.data<T>();
  std::array<llvm::SmallVector<int64_t, 4>, 3> strides = {
      broadcastStrides(c.in(0).type.shape, shape),
      broadcastStrides(c.in(1).type.shape, shape), stridesOf(shape)};
  forEachIndex(shape, strides, [&](const std::array<int64_t, 3> &o) {
    y[o[2]] = fn(a[o[0]], b[o[1]]);
  });
  return out;
}

/// A binary op on operands quantized per tensor, or one so and one f32
/// (ir/Ops.def): fn on their real values, quantized to the result's type.
template <typename Fn> Results quantizedBinary(const EvalCtx &c, Fn fn) {
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> shape = out.type.shape;
  const Tensor &a = c.in(0), &b = c.in(1);
  auto real = [](const Tensor &t, int64_t i) {
    if (!t.type.isQuantized())
      return t.data<float>()[i];
    return math::dequantize(t.getAsInt(i), t.type.quant->scale(0),
                            t.type.quant->zeroPoint(0));
  };
  std::array<llvm::SmallVector<int64_t, 4>, 3> strides = {
      broadcastStrides(a.type.shape, shape),
      broadcastStrides(b.type.shape, shape), stridesOf(shape)};
  float scale = out.type.quant->scale(0);
  int32_t zeroPoint = out.type.quant->zeroPoint(0);
  visitElem(out.type.elem, [&](auto tag) {
    using Q = decltype(tag);
    if constexpr (std::is_integral_v<Q>) {
      Q *y = out.data<Q>();
      forEachIndex(shape, strides, [&](const std::array<int64_t, 3> &o) {
        y[o[2]] = math::quantize<Q>(fn(real(a, o[0]), real(b, o[1])), scale,
                                    zeroPoint);
      });
    }
  });
  return one(std::move(out));
}

/// A binary op on f32, i32 or i64 (the kinds type inference allows), or,
/// for add and mul, on quantized operands.
template <typename Fn> Results binary(const EvalCtx &c, Fn fn) {
  if (c.resultTypes[0].isQuantized())
    return quantizedBinary(c, fn);
  switch (c.in(0).type.elem) {
  case ElemKind::F32:
    return one(
        broadcastBinary<float>(c, [&](float a, float b) { return fn(a, b); }));
  case ElemKind::I32:
    return one(broadcastBinary<int32_t>(
        c, [&](int32_t a, int32_t b) { return fn(a, b); }));
  case ElemKind::I64:
    return one(broadcastBinary<int64_t>(
        c, [&](int64_t a, int64_t b) { return fn(a, b); }));
  default:
    return fail(c, "unsupported element kind {}",
                elemName(c.in(0).type.elem).str());
  }
}

/// Integer division traps (and is undefined) for a zero divisor and for
/// MIN / -1; report those instead.
template <typename T> llvm::Error checkDivisor(const EvalCtx &c) {
  const T *a = c.in(0).data<T>(), *b = c.in(1).data<T>();
  for (int64_t i = 0, n = c.in(1).numElements(); i < n; ++i)
    if (b[i] == 0)
      return fail(c, "integer division by zero");
  for (int64_t i = 0, n = c.in(1).numElements(); i < n; ++i)
    if (b[i] == -1)
      for (int64_t j = 0, m = c.in(0).numElements(); j < m; ++j)
        if (a[j] == std::numeric_limits<T>::min())
          return fail(c, "integer division overflows");
  return llvm::Error::success();
}

template <typename Fn> Results unary(const EvalCtx &c, Fn fn) {
  Tensor out = c.newResult();
  const float *x = c.in(0).data<float>();
  float *y = out.data<float>();
  for (int64_t i = 0, n = out.numElements(); i < n; ++i)
    y[i] = fn(x[i]);
  return one(std::move(out));
}

/// A comparison of two operands of any one kind, 1 (u8) where it holds.
template <typename Fn> Results compare(const EvalCtx &c, Fn fn) {
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> shape = out.type.shape;
  std::array<llvm::SmallVector<int64_t, 4>, 3> strides = {
      broadcastStrides(c.in(0).type.shape, shape),
      broadcastStrides(c.in(1).type.shape, shape), stridesOf(shape)};
  uint8_t *y = out.data<uint8_t>();
  visitElem(c.in(0).type.elem, [&](auto t) {
    using T = decltype(t);
    const T *a = c.in(0).data<T>(), *b = c.in(1).data<T>();
    forEachIndex(shape, strides, [&](const std::array<int64_t, 3> &o) {
      y[o[2]] = fn(a[o[0]], b[o[1]]);
    });
  });
  return one(std::move(out));
}

} // namespace

Results evalAdd(const EvalCtx &c) {
  return binary(c, [](auto a, auto b) { return math::add(a, b); });
}
Results evalSub(const EvalCtx &c) {
  return binary(c, [](auto a, auto b) { return math::sub(a, b); });
}
Results evalMul(const EvalCtx &c) {
  return binary(c, [](auto a, auto b) { return math::mul(a, b); });
}
Results evalDiv(const EvalCtx &c) {
  ElemKind kind = c.in(0).type.elem;
  if (kind == ElemKind::I32)
    if (auto err = checkDivisor<int32_t>(c))
      return err;
  if (kind == ElemKind::I64)
    if (auto err = checkDivisor<int64_t>(c))
      return err;
  return binary(c, [](auto a, auto b) { return math::div(a, b); });
}
Results evalMax(const EvalCtx &c) {
  return binary(c, [](auto a, auto b) { return math::max(a, b); });
}
Results evalMin(const EvalCtx &c) {
  return binary(c, [](auto a, auto b) { return math::min(a, b); });
}
Results evalGreater(const EvalCtx &c) {
  return compare(c, [](auto a, auto b) { return a > b; });
}
Results evalLess(const EvalCtx &c) {
  return compare(c, [](auto a, auto b) { return a < b; });
}
Results evalEqual(const EvalCtx &c) {
  return compare(c, [](auto a, auto b) { return a == b; });
}
Results evalPRelu(const EvalCtx &c) {
  return binary(c, [](auto x, auto slope) { return math::prelu(x, slope); });
}

Results evalRelu(const EvalCtx &c) {
  return unary(c, [](float x) { return math::relu(x); });
}
Results evalSigmoid(const EvalCtx &c) {
  return unary(c, [](float x) { return math::sigmoid(x); });
}
Results evalTanh(const EvalCtx &c) {
  return unary(c, [](float x) { return math::tanhOf(x); });
}
Results evalExp(const EvalCtx &c) {
  return unary(c, [](float x) { return math::expOf(x); });
}
Results evalLog(const EvalCtx &c) {
  return unary(c, [](float x) { return math::logOf(x); });
}
Results evalSqrt(const EvalCtx &c) {
  return unary(c, [](float x) { return math::sqrtOf(x); });
}
Results evalNeg(const EvalCtx &c) {
  return unary(c, [](float x) { return math::neg(x); });
}
Results evalAbs(const EvalCtx &c) {
  return unary(c, [](float x) { return math::absOf(x); });
}
Results evalHardSwish(const EvalCtx &c) {
  return unary(c, [](float x) { return math::hardSwish(x); });
}
Results evalHardSigmoid(const EvalCtx &c) {
  float alpha = c.op.getFloat("alpha"), beta = c.op.getFloat("beta");
  return unary(c, [=](float x) { return math::hardSigmoid(x, alpha, beta); });
}
Results evalClip(const EvalCtx &c) {
  float lo = c.op.getFloat("min"), hi = c.op.getFloat("max");
  return unary(c, [=](float x) { return math::clip(x, lo, hi); });
}
Results evalLeakyRelu(const EvalCtx &c) {
  float alpha = c.op.getFloat("alpha");
  return unary(c, [=](float x) { return math::leakyRelu(x, alpha); });
}

// Float to integer truncates toward zero (numpy astype, which the ONNX
// Cast reference uses); out-of-range values, undefined there, saturate
// here. Integer to integer wraps modulo 2^bits like numpy astype.
Results evalCast(const EvalCtx &c) {
  Tensor out = c.newResult();
  const Tensor &x = c.in(0);
  int64_t n = x.numElements();
  visitElem(x.type.elem, [&](auto from) {
    using From = decltype(from);
    visitElem(out.type.elem, [&](auto to) {
      using To = decltype(to);
      const From *src = x.data<From>();
      To *dst = out.data<To>();
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>)
          dst[i] = math::saturateCast<To>(src[i]);
        else
          dst[i] = static_cast<To>(src[i]);
      }
    });
  });
  return one(std::move(out));
}

Results evalQuantize(const EvalCtx &c) {
  Tensor out = c.newResult();
  QuantIndexer q(out.type);
  const float *x = c.in(0).data<float>();
  visitElem(out.type.elem, [&](auto tag) {
    using Q = decltype(tag);
    if constexpr (std::is_integral_v<Q>) {
      Q *y = out.data<Q>();
      for (int64_t i = 0, n = out.numElements(); i < n; ++i)
        y[i] = math::quantize<Q>(x[i], q.scale(i), q.zeroPoint(i));
    }
  });
  return one(std::move(out));
}

Results evalDequantize(const EvalCtx &c) {
  Tensor out = c.newResult();
  const Tensor &x = c.in(0);
  QuantIndexer q(x.type);
  float *y = out.data<float>();
  for (int64_t i = 0, n = out.numElements(); i < n; ++i)
    y[i] = math::dequantize(x.getAsInt(i), q.scale(i), q.zeroPoint(i));
  return one(std::move(out));
}

Results evalRequantize(const EvalCtx &c) {
  Tensor out = c.newResult();
  const Tensor &x = c.in(0);
  QuantIndexer qx(x.type), qy(out.type);
  visitElem(out.type.elem, [&](auto tag) {
    using Q = decltype(tag);
    if constexpr (std::is_integral_v<Q>) {
      Q *y = out.data<Q>();
      for (int64_t i = 0, n = out.numElements(); i < n; ++i)
        y[i] = math::requantize<Q>(x.getAsInt(i) - qx.zeroPoint(i),
                                   qx.scale(i) / qy.scale(i), qy.zeroPoint(i));
    }
  });
  return one(std::move(out));
}

} // namespace mnc::interp
