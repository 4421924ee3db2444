// Reductions: reduce_mean/max/sum over a set of axes, arg_max and the
// numerically stable softmax / log_softmax along one axis.
#include "ir/Math.h"
#include "ir/interp/Kernels.h"

#include <cmath>
#include <limits>
#include <optional>

namespace mnc::interp {
namespace {

/// Folds every input element into the accumulator of its output element
/// with `step(acc, x)`, then writes `finish(acc, count)`.
template <typename Step, typename Finish>
Results reduce(const EvalCtx &c, double init, Step step, Finish finish) {
  const Tensor &x = c.in(0);
  llvm::ArrayRef<int64_t> shape = x.type.shape;
  auto axes = c.op.getInts("axes");
  // Output strides over the input's dims; reduced dims do not move.
  llvm::SmallVector<int64_t, 4> kept;
  for (size_t d = 0; d < shape.size(); ++d)
    kept.push_back(llvm::is_contained(axes, int64_t(d)) ? 1 : shape[d]);
  std::array<llvm::SmallVector<int64_t, 4>, 2> strides = {
      stridesOf(shape), broadcastStrides(kept, shape)};
  Tensor out = c.newResult();
  std::vector<double> acc(out.numElements(), init);
  // A quantized operand is reduced dequantized (ir/Ops.def).
  std::optional<QuantIndexer> q;
  if (x.type.isQuantized())
    q.emplace(x.type);
  auto at = [&](int64_t i) {
    return q ? math::dequantize(x.getAsInt(i), q->scale(i), q->zeroPoint(i))
             : x.data<float>()[i];
  };
  forEachIndex(shape, strides, [&](const std::array<int64_t, 2> &o) {
    acc[o[1]] = step(acc[o[1]], double(at(o[0])));
  });
  int64_t count = x.numElements() / std::max<int64_t>(out.numElements(), 1);
  float *y = out.data<float>();
  for (size_t i = 0; i < acc.size(); ++i)
    y[i] = static_cast<float>(finish(acc[i], count));
  return one(std::move(out));
}

/// Sizes of the dims before, at and after `axis`.
struct AxisSplit {
  int64_t outer, extent, inner;
  AxisSplit(llvm::ArrayRef<int64_t> shape, int64_t axis)
      : outer(product(shape, 0, axis)), extent(shape[axis]),
        inner(product(shape, axis + 1, shape.size())) {}
};

} // namespace

Results evalReduceMean(const EvalCtx &c) {
  return reduce(
      c, 0.0, [](double a, double x) { return a + x; },
      [](double a, int64_t n) { return a / n; });
}

Results evalReduceSum(const EvalCtx &c) {
  return reduce(
      c, 0.0, [](double a, double x) { return a + x; },
      [](double a, int64_t) { return a; });
}

Results evalReduceMax(const EvalCtx &c) {
  return reduce(
      c, -std::numeric_limits<double>::infinity(),
      [](double a, double x) { return math::maxOf(x, a); },
      [](double a, int64_t) { return a; });
}

Results evalArgMax(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  AxisSplit s(x.type.shape, c.op.getInt("axis"));
  bool last = c.op.getInt("select_last_index");
  Tensor out = c.newResult();
  int64_t *y = out.data<int64_t>();
  visitElem(x.type.elem, [&](auto tag) {
    using T = decltype(tag);
    const T *in = x.data<T>();
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        const T *row = in + o * s.extent * s.inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < s.extent; ++k) {
          T v = row[k * s.inner], b = row[best * s.inner];
          if (v > b || (last && v == b))
            best = k;
        }
        y[o * s.inner + i] = best;
      }
  });
  return one(std::move(out));
}

namespace {

/// Softmax along `axis`: y = exp(x - max) / sum(exp(x - max)), or its log,
/// x - max - log(sum(exp(x - max))); subtracting the max keeps exp finite.
Results softmax(const EvalCtx &c, bool log) {
  const Tensor &x = c.in(0);
  AxisSplit s(x.type.shape, c.op.getInt("axis"));
  Tensor out = c.newResult();
  const float *in = x.data<float>();
  float *y = out.data<float>();
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      int64_t base = o * s.extent * s.inner + i;
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < s.extent; ++k)
        max = math::maxOf(in[base + k * s.inner], max);
      double sum = 0;
      for (int64_t k = 0; k < s.extent; ++k)
        sum += math::expOf(in[base + k * s.inner] - max);
      float logSum = static_cast<float>(std::log(sum));
      for (int64_t k = 0; k < s.extent; ++k) {
        float shifted = in[base + k * s.inner] - max;
        y[base + k * s.inner] =
            log ? shifted - logSum
                : static_cast<float>(math::expOf(shifted) / sum);
      }
    }
  return one(std::move(out));
}

} // namespace

Results evalSoftmax(const EvalCtx &c) { return softmax(c, /*log=*/false); }
Results evalLogSoftmax(const EvalCtx &c) { return softmax(c, /*log=*/true); }

} // namespace mnc::interp
