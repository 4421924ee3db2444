// Sliding-window and product ops: conv2d and matmul (f32 and quantized with
// int32 accumulation) and max/average pooling.
//
// Loops are ordered so the innermost one walks one output row against one
// input row with a scalar weight: plain, cache friendly and fast enough to
// run MobileNetV2 (300 M MACs) in under a second (Release build).
#include "ir/Math.h"
#include "ir/interp/Kernels.h"

#include <limits>

namespace mnc::interp {
namespace {

/// The output positions o in [0, outExtent) whose input position
/// o * stride + offset lies in [0, inExtent), as a half-open range.
std::pair<int64_t, int64_t> validRange(int64_t offset, int64_t stride,
                                       int64_t inExtent, int64_t outExtent) {
  // o * stride + offset >= 0  <=>  o >= ceil(-offset / stride).
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  // o * stride + offset <= inExtent - 1.
  int64_t last = inExtent - 1 - offset;
  int64_t hi = last < 0 ? 0 : last / stride + 1;
  return {std::min(lo, outExtent), std::min(hi, outExtent)};
}

/// Shape and attributes of a 2-D window op on NCHW tensors.
struct Window {
  int64_t n, ch, h, w;    // input
  int64_t oh, ow;         // output spatial extent
  int64_t kh, kw;         // kernel
  int64_t sh, sw, dh, dw; // strides, dilations
  int64_t pt, pl, pb, pr; // pads

  Window(const EvalCtx &c, llvm::ArrayRef<int64_t> kernel) {
    llvm::ArrayRef<int64_t> x = c.in(0).type.shape, y = c.resultTypes[0].shape;
    n = x[0], ch = x[1], h = x[2], w = x[3];
    oh = y[2], ow = y[3];
    kh = kernel[0], kw = kernel[1];
    auto strides = c.op.getInts("strides"), pads = c.op.getInts("pads");
    sh = strides[0], sw = strides[1];
    pt = pads[0], pl = pads[1], pb = pads[2], pr = pads[3];
    dh = dw = 1;
    if (c.op.attrs.count("dilations"))
      dh = c.op.getInts("dilations")[0], dw = c.op.getInts("dilations")[1];
  }
};

/// Adds w * x over the kernel taps of one (output channel, input channel)
/// pair into the output plane `acc`. Acc is float or int32; x and w are
/// already offset by their zero points through `xAt`/`wAt`.
template <typename Acc, typename XAt>
void accumulatePlane(const Window &g, Acc *acc, XAt xAt,
                     llvm::function_ref<Acc(int64_t, int64_t)> wAt) {
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    auto [ohLo, ohHi] = validRange(ky * g.dh - g.pt, g.sh, g.h, g.oh);
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      int64_t xOff = kx * g.dw - g.pl;
      auto [owLo, owHi] = validRange(xOff, g.sw, g.w, g.ow);
      Acc wv = wAt(ky, kx);
      for (int64_t oy = ohLo; oy < ohHi; ++oy) {
        int64_t iy = oy * g.sh + ky * g.dh - g.pt;
        Acc *row = acc + oy * g.ow;
        for (int64_t ox = owLo; ox < owHi; ++ox)
          row[ox] += wv * xAt(iy * g.w + ox * g.sw + xOff);
      }
    }
  }
}

Results convF32(const EvalCtx &c, const Window &g) {
  Tensor out = c.newResult();
  const Tensor &wt = c.in(1);
  int64_t m = wt.type.shape[0], cg = wt.type.shape[1];
  int64_t mg = m / c.op.getInt("group");
  const float *x = c.in(0).data<float>(), *w = wt.data<float>();
  const float *bias = c.operands.size() > 2 ? c.in(2).data<float>() : nullptr;
  float *y = out.data<float>();
  int64_t plane = g.oh * g.ow, inPlane = g.h * g.w;
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t oc = 0; oc < m; ++oc) {
      float *acc = y + (b * m + oc) * plane;
      std::fill(acc, acc + plane, bias ? bias[oc] : 0.0f);
      for (int64_t ic = 0; ic < cg; ++ic) {
        const float *in = x + (b * g.ch + oc / mg * cg + ic) * inPlane;
        const float *k = w + (oc * cg + ic) * g.kh * g.kw;
        accumulatePlane<float>(
            g, acc, [in](int64_t i) { return in[i]; },
            [&](int64_t ky, int64_t kx) { return k[ky * g.kw + kx]; });
      }
    }
  return one(std::move(out));
}

/// Writes y = saturate(rne(acc * sx*sw/sy) + zy) for every element of the
/// int32 accumulator; `wChannel` maps an output index to the weight's
/// quantization channel.
template <typename WChannel>
void requantizeInto(Tensor &out, llvm::ArrayRef<int32_t> acc,
                    const TensorType &x, const TensorType &w,
                    WChannel wChannel) {
  QuantIndexer qy(out.type);
  float sx = x.quant->scales[0];
  visitElem(out.type.elem, [&](auto tag) {
    using Q = decltype(tag);
    if constexpr (std::is_integral_v<Q>) {
      Q *y = out.data<Q>();
      for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
        // Multiplier in float, in ONNX Runtime's order of operations.
        float multiplier = sx * w.quant->scale(wChannel(i)) / qy.scale(i);
        y[i] = math::requantize<Q>(acc[i], multiplier, qy.zeroPoint(i));
      }
    }
  });
}

template <typename TX, typename TW>
Results convQuantizedTyped(const EvalCtx &c, const Window &g) {
  const Tensor &xt = c.in(0), &wt = c.in(1);
  int64_t m = wt.type.shape[0], cg = wt.type.shape[1];
  int64_t mg = m / c.op.getInt("group");
  const TX *x = xt.data<TX>();
  const TW *w = wt.data<TW>();
  const int32_t *bias =
      c.operands.size() > 2 ? c.in(2).data<int32_t>() : nullptr;
  int32_t zx = xt.type.quant->zeroPoints[0];
  int64_t plane = g.oh * g.ow, inPlane = g.h * g.w;
  std::vector<int32_t> acc(c.resultTypes[0].numElements());
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t oc = 0; oc < m; ++oc) {
      int32_t *plane0 = acc.data() + (b * m + oc) * plane;
      std::fill(plane0, plane0 + plane, bias ? bias[oc] : 0);
      int32_t zw = wt.type.quant->zeroPoint(oc);
      for (int64_t ic = 0; ic < cg; ++ic) {
        const TX *in = x + (b * g.ch + oc / mg * cg + ic) * inPlane;
        const TW *k = w + (oc * cg + ic) * g.kh * g.kw;
        accumulatePlane<int32_t>(
            g, plane0, [in, zx](int64_t i) { return int32_t(in[i]) - zx; },
            [&](int64_t ky, int64_t kx) {
              return int32_t(k[ky * g.kw + kx]) - zw;
            });
      }
    }
  Tensor out = c.newResult();
  requantizeInto(out, acc, xt.type, wt.type,
                 [&](int64_t i) { return (i / plane) % m; });
  return one(std::move(out));
}

/// Calls f(TX(), TW()) for 8-bit operand kinds, or fails.
template <typename F>
Results visit8Bit(const EvalCtx &c, ElemKind a, ElemKind b, F f) {
  auto is8 = [](ElemKind k) { return k == ElemKind::I8 || k == ElemKind::U8; };
  if (!is8(a) || !is8(b))
    return fail(c, "quantized operands must be i8 or u8, got {} and {}",
                elemName(a).str(), elemName(b).str());
  if (a == ElemKind::U8)
    return b == ElemKind::U8 ? f(uint8_t(), uint8_t()) : f(uint8_t(), int8_t());
  return b == ElemKind::U8 ? f(int8_t(), uint8_t()) : f(int8_t(), int8_t());
}

} // namespace

Results evalConv2d(const EvalCtx &c) {
  const TensorType &w = c.in(1).type;
  Window g(c, {w.shape[2], w.shape[3]});
  if (!c.in(0).type.isQuantized())
    return convF32(c, g);
  return visit8Bit(c, c.in(0).type.elem, w.elem, [&](auto x, auto wt) {
    return convQuantizedTyped<decltype(x), decltype(wt)>(c, g);
  });
}

namespace {

/// Batched matmul with numpy broadcasting of the batch dims: calls
/// `body(aOffset, bOffset, yOffset)` for each batch, offsets in elements.
template <typename Body> void forEachBatch(const EvalCtx &c, Body body) {
  llvm::ArrayRef<int64_t> as = c.in(0).type.shape, bs = c.in(1).type.shape,
                          ys = c.resultTypes[0].shape;
  llvm::ArrayRef<int64_t> batch = ys.drop_back(2);
  // Strides in whole matrices, scaled to elements.
  auto scaled = [&](llvm::ArrayRef<int64_t> s, int64_t matrix) {
    llvm::SmallVector<int64_t, 4> st = broadcastStrides(s.drop_back(2), batch);
    for (int64_t &v : st)
      v *= matrix;
    return st;
  };
  int64_t m = ys[ys.size() - 2], n = ys.back(), k = as.back();
  std::array<llvm::SmallVector<int64_t, 4>, 3> strides = {
      scaled(as, m * k), scaled(bs, k * n), scaled(ys, m * n)};
  forEachIndex(batch, strides, [&](const std::array<int64_t, 3> &o) {
    body(o[0], o[1], o[2]);
  });
}

template <typename TA, typename TB>
Results matMulQuantizedTyped(const EvalCtx &c) {
  const Tensor &at = c.in(0), &bt = c.in(1);
  llvm::ArrayRef<int64_t> ys = c.resultTypes[0].shape;
  int64_t m = ys[ys.size() - 2], n = ys.back(), k = at.type.shape.back();
  const TA *a = at.data<TA>();
  const TB *b = bt.data<TB>();
  int32_t za = at.type.quant->zeroPoints[0];
  const QuantParams &qb = *bt.type.quant;
  std::vector<int32_t> acc(c.resultTypes[0].numElements(), 0);
  forEachBatch(c, [&](int64_t ao, int64_t bo, int64_t yo) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) {
        int32_t av = int32_t(a[ao + i * k + p]) - za;
        const TB *brow = b + bo + p * n;
        int32_t *yrow = acc.data() + yo + i * n;
        for (int64_t j = 0; j < n; ++j)
          yrow[j] += av * (int32_t(brow[j]) - qb.zeroPoint(j));
      }
  });
  Tensor out = c.newResult();
  requantizeInto(out, acc, at.type, bt.type, [&](int64_t i) { return i % n; });
  return one(std::move(out));
}

} // namespace

Results evalMatMul(const EvalCtx &c) {
  if (c.in(0).type.isQuantized())
    return visit8Bit(c, c.in(0).type.elem, c.in(1).type.elem,
                     [&](auto a, auto b) {
                       return matMulQuantizedTyped<decltype(a), decltype(b)>(c);
                     });
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> ys = out.type.shape;
  int64_t m = ys[ys.size() - 2], n = ys.back(), k = c.in(0).type.shape.back();
  const float *a = c.in(0).data<float>(), *b = c.in(1).data<float>();
  float *y = out.data<float>();
  forEachBatch(c, [&](int64_t ao, int64_t bo, int64_t yo) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) {
        float av = a[ao + i * k + p];
        const float *brow = b + bo + p * n;
        float *yrow = y + yo + i * n;
        for (int64_t j = 0; j < n; ++j)
          yrow[j] += av * brow[j];
      }
  });
  return one(std::move(out));
}

namespace {

/// Calls `f(plane, oy, ox)` for every output position; `plane` indexes the
/// N*C input and output planes.
template <typename F> void forEachWindow(const Window &g, F f) {
  for (int64_t p = 0; p < g.n * g.ch; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox)
        f(p, oy, ox);
}

template <typename T> Results maxPoolTyped(const EvalCtx &c, const Window &g) {
  Tensor out = c.newResult();
  const T *x = c.in(0).data<T>();
  T *y = out.data<T>();
  forEachWindow(g, [&](int64_t p, int64_t oy, int64_t ox) {
    const T *in = x + p * g.h * g.w;
    // Padding never wins: start below every value, -inf included.
    T best = std::numeric_limits<T>::has_infinity
                 ? -std::numeric_limits<T>::infinity()
                 : std::numeric_limits<T>::lowest();
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      if (iy < 0 || iy >= g.h)
        continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        int64_t ix = ox * g.sw - g.pl + kx * g.dw;
        if (ix >= 0 && ix < g.w)
          best = math::maxOf(in[iy * g.w + ix], best);
      }
    }
    y[(p * g.oh + oy) * g.ow + ox] = best;
  });
  return one(std::move(out));
}

} // namespace

Results evalMaxPool(const EvalCtx &c) {
  Window g(c, c.op.getInts("kernel"));
  return visitElem(c.in(0).type.elem,
                   [&](auto tag) { return maxPoolTyped<decltype(tag)>(c, g); });
}

Results evalAvgPool(const EvalCtx &c) {
  Window g(c, c.op.getInts("kernel"));
  bool includePad = c.op.getInt("count_include_pad");
  Tensor out = c.newResult();
  const float *x = c.in(0).data<float>();
  float *y = out.data<float>();
  forEachWindow(g, [&](int64_t p, int64_t oy, int64_t ox) {
    // The window clipped to the padded input, then to the real input.
    int64_t y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
    int64_t y1 = std::min(y0 + g.kh, g.h + g.pb);
    int64_t x1 = std::min(x0 + g.kw, g.w + g.pr);
    int64_t padded = (y1 - y0) * (x1 - x0);
    y0 = std::max<int64_t>(y0, 0), x0 = std::max<int64_t>(x0, 0);
    y1 = std::min(y1, g.h), x1 = std::min(x1, g.w);
    const float *in = x + p * g.h * g.w;
    double sum = 0;
    for (int64_t iy = y0; iy < y1; ++iy)
      for (int64_t ix = x0; ix < x1; ++ix)
        sum += in[iy * g.w + ix];
    int64_t count = includePad ? padded : (y1 - y0) * (x1 - x0);
    y[(p * g.oh + oy) * g.ow + ox] = static_cast<float>(sum / count);
  });
  return one(std::move(out));
}

} // namespace mnc::interp
