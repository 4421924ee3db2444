// Window ops: conv2d (dense, grouped, depthwise; f32 and quantized),
// max_pool (f32 and quantized) and avg_pool.
//
// Window ops iterate kernel taps at compile time and, per tap, the output
// rows and columns whose input tap lies inside the image, computed from the
// constant shapes. The inner loop over output columns has no bounds checks
// and (for stride 1) unit stride, which the loop vectorizer widens:
//   for tap (ky, kx): for oy in rows(ky): for ox in cols(kx):
//     y[oy, ox] (+)= x[oy*sy + ky*dy - pt, ox*sx + kx*dx - pl] (* w[ky, kx])
#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/Lowering.h"
#include "backends/llvm/MathEmit.h"

#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mnc {
namespace {

/// The 2-D window geometry of a conv or pool op (NCHW).
struct Window {
  int64_t n, c, h, w;     ///< input
  int64_t oc, oh, ow;     ///< output channels and extent
  int64_t kh, kw;         ///< kernel extent
  int64_t sh, sw, dh, dw; ///< strides, dilations
  int64_t pt, pl;         ///< top and left padding
};

Window windowOf(const Function &f, const Op &op, int64_t kh, int64_t kw) {
  const TensorType &x = f.type(op.operands[0]), &y = f.type(op.results[0]);
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  int64_t dh = 1, dw = 1;
  if (op.attrs.count("dilations")) {
    dh = op.getInts("dilations")[0];
    dw = op.getInts("dilations")[1];
  }
  return {x.shape[0], x.shape[1], x.shape[2], x.shape[3], y.shape[1],
          y.shape[2], y.shape[3], kh,         kw,         strides[0],
          strides[1], dh,         dw,         pads[0],    pads[1]};
}

/// Output indices o in [0, out) with 0 <= o*stride + offset < in.
std::pair<int64_t, int64_t> validRange(int64_t in, int64_t out, int64_t stride,
                                       int64_t offset) {
  int64_t lo = std::max<int64_t>(0, llvm::divideCeilSigned(-offset, stride));
  int64_t hi =
      std::min<int64_t>(out, llvm::divideCeilSigned(in - offset, stride));
  return {lo, hi};
}

/// Per kernel tap, visits the valid output positions; `body` gets the tap,
/// the output plane offset (oy*ow + ox) and input plane offset.
void forEachTap(
    Lowering &l, const Window &g,
    llvm::function_ref<void(int64_t ky, int64_t kx)> tapSetup,
    llvm::function_ref<void(llvm::Value *outAt, llvm::Value *inAt)> body) {
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      auto [y0, y1] = validRange(g.h, g.oh, g.sh, ky * g.dh - g.pt);
      auto [x0, x1] = validRange(g.w, g.ow, g.sw, kx * g.dw - g.pl);
      if (y0 >= y1 || x0 >= x1)
        continue;
      tapSetup(ky, kx);
      l.loop(y0, y1, [&](llvm::Value *oy) {
        l.loop(x0, x1, [&](llvm::Value *ox) {
          llvm::Value *outAt = l.linear({oy, ox}, {g.ow, 1});
          llvm::Value *inAt =
              l.linear({oy, ox}, {g.sh * g.w, g.sw},
                       (ky * g.dh - g.pt) * g.w + kx * g.dw - g.pl);
          body(outAt, inAt);
        });
      });
    }
}

/// Pointer to plane (n, c) of a value's NCHW storage.
llvm::Value *plane(Lowering &l, llvm::Value *base, ElemKind kind,
                   llvm::Value *planeIndex, int64_t planeSize) {
  return l.b.CreateInBoundsGEP(l.elemType(kind), base,
                               l.b.CreateMul(planeIndex, l.idx(planeSize)));
}

/// For every (n, output channel): `perChannel(n, m, g, inPlane0)` where g
/// is the group and inPlane0 the index of the group's first input plane.
void forEachOutputChannel(
    Lowering &l, const Window &g, int64_t groups,
    llvm::function_ref<void(llvm::Value *n, llvm::Value *m,
                            llvm::Value *firstInPlane)>
        body) {
  int64_t mg = g.oc / groups, cg = g.c / groups;
  l.loop(0, g.n, [&](llvm::Value *n) {
    l.loop(0, groups, [&](llvm::Value *grp) {
      l.loop(0, mg, [&](llvm::Value *mi) {
        llvm::Value *m = l.linear({grp, mi}, {mg, 1});
        llvm::Value *first = l.linear({n, grp}, {g.c, cg});
        body(n, m, first);
      });
    });
  });
}

/// Applies a fused epilogue to the finished result, in place.
void epiloguePass(Lowering &l, const Op &op) {
  const Op *epilogue = l.epilogueOf(op);
  if (!epilogue)
    return;
  ValueId dest = l.destination(op);
  l.loop(0, l.f.type(dest).numElements(), [&](llvm::Value *i) {
    llvm::Value *value =
        applyEpilogue(l, epilogue, op.results[0], l.load(dest, i), i);
    l.store(dest, i, value);
  });
}

llvm::Error lowerConvF32(Lowering &l, const Op &op, const Window &g,
                         int64_t groups) {
  ValueId x = op.operands[0], w = op.operands[1], y = l.destination(op);
  int64_t cg = g.c / groups, outPlane = g.oh * g.ow;
  forEachOutputChannel(
      l, g, groups, [&](llvm::Value *n, llvm::Value *m, llvm::Value *firstIn) {
        llvm::Value *yp = plane(l, l.ptr(y), ElemKind::F32,
                                l.linear({n, m}, {g.oc, 1}), outPlane);
        llvm::Value *init =
            op.operands.size() > 2 ? l.load(op.operands[2], m) : l.f32(0.0);
        l.loop(0, outPlane,
               [&](llvm::Value *i) { l.storeAt(yp, ElemKind::F32, i, init); });
        l.loop(0, cg, [&](llvm::Value *c) {
          llvm::Value *xp = plane(l, l.ptr(x), ElemKind::F32,
                                  l.b.CreateAdd(firstIn, c), g.h * g.w);
          llvm::Value *wBase =
              l.linear({m, c}, {cg * g.kh * g.kw, g.kh * g.kw});
          llvm::Value *wv = nullptr;
          forEachTap(
              l, g,
              [&](int64_t ky, int64_t kx) {
                wv = l.load(w, l.b.CreateAdd(wBase, l.idx(ky * g.kw + kx)));
              },
              [&](llvm::Value *outAt, llvm::Value *inAt) {
                llvm::Value *acc = l.loadAt(yp, ElemKind::F32, outAt);
                llvm::Value *prod =
                    l.b.CreateFMul(l.loadAt(xp, ElemKind::F32, inAt), wv);
                l.storeAt(yp, ElemKind::F32, outAt, l.b.CreateFAdd(acc, prod));
              });
        });
      });
  epiloguePass(l, op);
  return llvm::Error::success();
}

std::vector<int32_t> zeroPointsOf(const TensorType &t, int64_t channels) {
  std::vector<int32_t> result;
  for (int64_t m = 0; m < channels; ++m)
    result.push_back(t.quant->zeroPoint(m));
  return result;
}

llvm::Error lowerConvQuantized(Lowering &l, const Op &op, const Window &g,
                               int64_t groups) {
  ValueId x = op.operands[0], w = op.operands[1], y = op.results[0];
  const TensorType &xt = l.f.type(x), &wt = l.f.type(w), &yt = l.f.type(y);
  int64_t cg = g.c / groups, outPlane = g.oh * g.ow;
  auto [multipliers, yZero] = requantTables(l, op);
  llvm::Value *wZero = l.constantI32(zeroPointsOf(wt, g.oc));
  llvm::Value *xZero = l.i32(xt.quant->zeroPoints[0]);
  llvm::Value *acc = l.workspace(op);
  forEachOutputChannel(
      l, g, groups, [&](llvm::Value *n, llvm::Value *m, llvm::Value *firstIn) {
        llvm::Value *init =
            op.operands.size() > 2 ? l.loadI32(op.operands[2], m) : l.i32(0);
        l.loop(0, outPlane,
               [&](llvm::Value *i) { l.storeAt(acc, ElemKind::I32, i, init); });
        llvm::Value *zw = l.loadAt(wZero, ElemKind::I32, m);
        l.loop(0, cg, [&](llvm::Value *c) {
          llvm::Value *inPlane =
              l.b.CreateMul(l.b.CreateAdd(firstIn, c), l.idx(g.h * g.w));
          llvm::Value *wBase =
              l.linear({m, c}, {cg * g.kh * g.kw, g.kh * g.kw});
          llvm::Value *wv = nullptr;
          forEachTap(
              l, g,
              [&](int64_t ky, int64_t kx) {
                wv = l.b.CreateSub(
                    l.loadI32(w, l.b.CreateAdd(wBase, l.idx(ky * g.kw + kx))),
                    zw);
              },
              [&](llvm::Value *outAt, llvm::Value *inAt) {
                llvm::Value *xv = l.b.CreateSub(
                    l.loadI32(x, l.b.CreateAdd(inPlane, inAt)), xZero);
                llvm::Value *sum = l.b.CreateAdd(
                    l.loadAt(acc, ElemKind::I32, outAt), l.b.CreateMul(xv, wv));
                l.storeAt(acc, ElemKind::I32, outAt, sum);
              });
        });
        llvm::Value *mult = l.loadAt(multipliers, ElemKind::F32, m);
        llvm::Value *zy = l.loadAt(yZero, ElemKind::I32, m);
        llvm::Value *outBase =
            l.b.CreateMul(l.linear({n, m}, {g.oc, 1}), l.idx(outPlane));
        l.loop(0, outPlane, [&](llvm::Value *i) {
          llvm::Value *q =
              l.requantize(l.loadAt(acc, ElemKind::I32, i), mult, zy, yt.elem);
          l.store(y, l.b.CreateAdd(outBase, i), q);
        });
      });
  return llvm::Error::success();
}

} // namespace

RequantTables requantTables(Lowering &l, const Op &op) {
  const TensorType &x = l.f.type(op.operands[0]), &w = l.f.type(op.operands[1]),
                   &y = l.f.type(op.results[0]);
  std::vector<float> multipliers;
  std::vector<int32_t> zeroPoints;
  for (int64_t m = 0; m < y.shape[1]; ++m) {
    multipliers.push_back(x.quant->scales[0] * w.quant->scale(m) /
                          y.quant->scale(m));
    zeroPoints.push_back(y.quant->zeroPoint(m));
  }
  return {l.constantF32(multipliers), l.constantI32(zeroPoints)};
}

llvm::Error lowerConv2d(Lowering &l, const Op &op) {
  auto kernel = l.kernelOf(op);
  if (!kernel)
    return kernel.takeError();
  const TensorType &wt = l.f.type(op.operands[1]);
  Window g = windowOf(l.f, op, wt.shape[2], wt.shape[3]);
  int64_t groups = op.getInt("group");
  switch (kernel->kernel) {
  case Kernel::F32Conv1x1:
  case Kernel::I8PanelConv:
  case Kernel::I8Conv1x1:
    return l.emitted(lowerPointwiseConv(l, op, *kernel), op);
  case Kernel::F32DirectConv:
  case Kernel::I8DirectConv:
    return l.emitted(lowerDirectConv(l, op, *kernel), op);
  case Kernel::F32Conv:
    return lowerConvF32(l, op, g, groups);
  case Kernel::I8Conv:
    return lowerConvQuantized(l, op, g, groups);
  default:
    return l.emitted(false, op);
  }
}

namespace {

/// y = reduce over window taps of x, per (n, c) plane: init, combine per
/// valid tap, then finish per output element.
void poolPlanes(
    Lowering &l, const Op &op, const Window &g,
    llvm::function_ref<llvm::Value *()> init,
    llvm::function_ref<llvm::Value *(llvm::Value *, llvm::Value *)> combine,
    llvm::function_ref<llvm::Value *(llvm::Value *, llvm::Value *oy,
                                     llvm::Value *ox)>
        finish) {
  ValueId x = op.operands[0], y = op.results[0];
  ElemKind kind = l.f.type(y).elem;
  l.loop(0, g.n * g.c, [&](llvm::Value *p) {
    llvm::Value *yp = plane(l, l.ptr(y), kind, p, g.oh * g.ow);
    llvm::Value *xp = plane(l, l.ptr(x), kind, p, g.h * g.w);
    llvm::Value *start = init();
    l.loop(0, g.oh * g.ow,
           [&](llvm::Value *i) { l.storeAt(yp, kind, i, start); });
    forEachTap(
        l, g, [](int64_t, int64_t) {},
        [&](llvm::Value *outAt, llvm::Value *inAt) {
          l.storeAt(
              yp, kind, outAt,
              combine(l.loadAt(yp, kind, outAt), l.loadAt(xp, kind, inAt)));
        });
    if (!finish)
      return;
    l.loop(0, g.oh, [&](llvm::Value *oy) {
      l.loop(0, g.ow, [&](llvm::Value *ox) {
        llvm::Value *at = l.linear({oy, ox}, {g.ow, 1});
        l.storeAt(yp, kind, at, finish(l.loadAt(yp, kind, at), oy, ox));
      });
    });
  });
}

/// Number of window elements along one dim for output index o: within the
/// padded input (count_include_pad) or within the input.
llvm::Value *windowCount(Lowering &l, llvm::Value *o, int64_t in,
                         int64_t stride, int64_t k, int64_t padBegin,
                         int64_t padEnd, bool includePad) {
  auto &b = l.b;
  llvm::Value *start =
      b.CreateSub(b.CreateMul(o, l.idx(stride)), l.idx(padBegin));
  llvm::Value *end = b.CreateAdd(start, l.idx(k));
  llvm::Value *limit = l.idx(includePad ? in + padEnd : in);
  end = b.CreateSelect(b.CreateICmpSLT(end, limit), end, limit);
  if (!includePad)
    start = b.CreateSelect(b.CreateICmpSLT(start, l.idx(0)), l.idx(0), start);
  return b.CreateSub(end, start);
}

} // namespace

llvm::Error lowerMaxPool(Lowering &l, const Op &op) {
  auto kernel = op.getInts("kernel");
  Window g = windowOf(l.f, op, kernel[0], kernel[1]);
  ElemKind kind = l.f.type(op.results[0]).elem;
  auto &b = l.b;
  auto init = [&]() -> llvm::Value * {
    switch (kind) {
    case ElemKind::F32:
      return l.f32(-std::numeric_limits<float>::infinity());
    case ElemKind::U8:
      return b.getInt8(0);
    case ElemKind::I8:
      return b.getInt8(-128);
    case ElemKind::I32:
      return b.getInt32(std::numeric_limits<int32_t>::min());
    case ElemKind::I64:
      return b.getInt64(std::numeric_limits<int64_t>::min());
    }
    llvm_unreachable("unknown element kind");
  };
  auto combine = [&](llvm::Value *acc, llvm::Value *v) -> llvm::Value * {
    llvm::Value *less = kind == ElemKind::F32  ? b.CreateFCmpOLT(acc, v)
                        : kind == ElemKind::U8 ? b.CreateICmpULT(acc, v)
                                               : b.CreateICmpSLT(acc, v);
    return b.CreateSelect(less, v, acc);
  };
  poolPlanes(l, op, g, init, combine, nullptr);
  return llvm::Error::success();
}

llvm::Error lowerAvgPool(Lowering &l, const Op &op) {
  auto kernel = op.getInts("kernel"), pads = op.getInts("pads");
  Window g = windowOf(l.f, op, kernel[0], kernel[1]);
  bool includePad = op.getInt("count_include_pad");
  auto &b = l.b;
  poolPlanes(
      l, op, g, [&] { return l.f32(0.0); },
      [&](llvm::Value *acc, llvm::Value *v) { return b.CreateFAdd(acc, v); },
      [&](llvm::Value *sum, llvm::Value *oy, llvm::Value *ox) {
        llvm::Value *count = b.CreateMul(
            windowCount(l, oy, g.h, g.sh, g.kh, pads[0], pads[2], includePad),
            windowCount(l, ox, g.w, g.sw, g.kw, pads[1], pads[3], includePad));
        return b.CreateFDiv(sum, b.CreateSIToFP(count, b.getFloatTy()));
      });
  return llvm::Error::success();
}

} // namespace mnc
