// Depthwise conv (one filter per channel), vectorized along output rows.
// Per channel, the input plane is copied into a zero-bordered workspace
// plane, so every tap of every output vector is an unconditional load; the
// taps accumulate in one register per output vector, then the bias and
// epilogue are applied and the vector is stored once:
//   padded[(iy + pt) * pitch + ix + pl] = x[c, iy, ix]   (zeros elsewhere)
//   y[c, oy, ox..ox+V) = sum_{ky,kx} w[c, ky, kx] *
//       padded[(oy*s + ky) * pitch + (ox..ox+V)*s + kx]
// Stride 2 loads 2V consecutive floats and keeps the even lanes.
#include "backends/llvm/ConvKernels.h"

#include "llvm/Support/MathExtras.h"

#include <optional>

namespace mnc {
namespace {

/// Output rows are padded to a multiple of this many lanes in the
/// workspace, enough for any target's vector (so the workspace size, which
/// the memory plan needs before the target is known, is target-neutral).
constexpr int64_t kMaxLanes = 16;

struct Depthwise {
  int64_t n, c, h, w, oh, ow, kh, kw, stride, pt, pl;
  int64_t rows, pitch; ///< Workspace plane extent.
};

std::optional<Depthwise> depthwiseShape(const Function &f, const Op &op) {
  const TensorType &x = f.type(op.operands[0]), &wt = f.type(op.operands[1]),
                   &y = f.type(op.results[0]);
  if (x.isQuantized() || x.elem != ElemKind::F32)
    return std::nullopt;
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  bool dilated =
      op.attrs.count("dilations") &&
      llvm::any_of(op.getInts("dilations"), [](int64_t d) { return d != 1; });
  if (dilated || op.getInt("group") != x.shape[1] ||
      wt.shape[0] != x.shape[1] || wt.shape[1] != 1 ||
      strides[0] != strides[1] || (strides[0] != 1 && strides[0] != 2))
    return std::nullopt;
  Depthwise d{x.shape[0], x.shape[1], x.shape[2],  x.shape[3],
              y.shape[2], y.shape[3], wt.shape[2], wt.shape[3],
              strides[0], pads[0],    pads[1],     0,
              0};
  d.rows = (d.oh - 1) * d.stride + d.kh;
  d.pitch = llvm::alignTo(d.ow, kMaxLanes) * d.stride + d.kw;
  return d;
}

class DepthwiseEmitter {
public:
  DepthwiseEmitter(Lowering &l, const Op &op, const Depthwise &d)
      : l(l), b(l.b), op(op), d(d),
        vecTy(llvm::FixedVectorType::get(b.getFloatTy(), l.lanes)) {}

  void emit();

private:
  void fillPlane(llvm::Value *plane);
  /// Output row `oy` of plane `planeIndex` (image * C + channel).
  void outputRow(llvm::Value *planeIndex, llvm::Value *oy,
                 llvm::ArrayRef<llvm::Value *> taps, llvm::Value *bias);
  /// The V taps at padded (row, col + i*stride) for i in [0, V).
  llvm::Value *loadTap(llvm::Value *at);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const Depthwise &d;
  llvm::FixedVectorType *vecTy;
};

llvm::Value *DepthwiseEmitter::loadTap(llvm::Value *at) {
  llvm::Value *ptr = b.CreateInBoundsGEP(b.getFloatTy(), l.workspace(op), at);
  if (d.stride == 1)
    return b.CreateAlignedLoad(vecTy, ptr, llvm::Align(4));
  auto *wide = llvm::FixedVectorType::get(b.getFloatTy(), l.lanes * 2);
  llvm::Value *pair = b.CreateAlignedLoad(wide, ptr, llvm::Align(4));
  llvm::SmallVector<int, 16> even;
  for (unsigned i = 0; i < l.lanes; ++i)
    even.push_back(2 * i);
  return b.CreateShuffleVector(pair, even);
}

void DepthwiseEmitter::fillPlane(llvm::Value *plane) {
  l.loop(0, d.h, [&](llvm::Value *iy) {
    llvm::Value *src = b.CreateMul(iy, l.idx(d.w));
    llvm::Value *dst = l.linear({iy}, {d.pitch}, d.pt * d.pitch + d.pl);
    l.loop(0, d.w, [&](llvm::Value *ix) {
      l.storeAt(l.workspace(op), ElemKind::F32, b.CreateAdd(dst, ix),
                l.loadAt(plane, ElemKind::F32, b.CreateAdd(src, ix)));
    });
  });
}

void DepthwiseEmitter::outputRow(llvm::Value *planeIndex, llvm::Value *oy,
                                 llvm::ArrayRef<llvm::Value *> taps,
                                 llvm::Value *bias) {
  const Op *epilogue = l.epilogueOf(op);
  ValueId dest = l.destination(op);
  llvm::Value *rowBase = b.CreateMul(oy, l.idx(d.stride * d.pitch));
  llvm::Value *outRow = b.CreateAdd(b.CreateMul(planeIndex, l.idx(d.oh * d.ow)),
                                    b.CreateMul(oy, l.idx(d.ow)));
  auto vector = [&](llvm::Value *ox, int64_t valid) {
    llvm::Value *acc = bias;
    llvm::Value *col = b.CreateAdd(rowBase, b.CreateMul(ox, l.idx(d.stride)));
    for (int64_t ky = 0; ky < d.kh; ++ky)
      for (int64_t kx = 0; kx < d.kw; ++kx) {
        llvm::Value *in = loadTap(b.CreateAdd(col, l.idx(ky * d.pitch + kx)));
        acc = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy},
                                {taps[ky * d.kw + kx], in, acc});
      }
    llvm::Value *mask = nullptr;
    if (valid < l.lanes) {
      llvm::SmallVector<llvm::Constant *, 16> bits;
      for (unsigned i = 0; i < l.lanes; ++i)
        bits.push_back(b.getInt1(i < valid));
      mask = llvm::ConstantVector::get(bits);
    }
    llvm::Value *at = b.CreateAdd(outRow, ox);
    acc = applyEpilogue(l, epilogue, op.results[0], acc, at, mask);
    llvm::Value *ptr = b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(dest), at);
    if (mask)
      b.CreateMaskedStore(acc, ptr, llvm::Align(4), mask);
    else
      b.CreateAlignedStore(acc, ptr, llvm::Align(4));
  };
  int64_t full = d.ow / l.lanes;
  l.loop(0, full, [&](llvm::Value *v) {
    vector(b.CreateMul(v, l.idx(l.lanes)), l.lanes);
  });
  if (d.ow % l.lanes)
    vector(l.idx(full * l.lanes), d.ow % l.lanes);
}

void DepthwiseEmitter::emit() {
  ValueId x = op.operands[0], w = op.operands[1];
  // The border stays zero for every channel: only the interior is copied.
  l.loop(0, d.rows * d.pitch, [&](llvm::Value *i) {
    l.storeAt(l.workspace(op), ElemKind::F32, i, l.f32(0.0));
  });
  l.loop(0, d.n * d.c, [&](llvm::Value *p) {
    llvm::Value *plane = b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(x),
                                             b.CreateMul(p, l.idx(d.h * d.w)));
    fillPlane(plane);
    llvm::Value *channel = b.CreateURem(p, l.idx(d.c));
    llvm::SmallVector<llvm::Value *, 9> taps;
    for (int64_t k = 0; k < d.kh * d.kw; ++k)
      taps.push_back(b.CreateVectorSplat(
          l.lanes, l.load(w, l.linear({channel}, {d.kh * d.kw}, k))));
    llvm::Value *bias = llvm::ConstantFP::get(vecTy, 0.0);
    if (op.operands.size() > 2)
      bias = b.CreateVectorSplat(l.lanes, l.load(op.operands[2], channel));
    l.loop(0, d.oh, [&](llvm::Value *oy) { outputRow(p, oy, taps, bias); });
  });
}

} // namespace

int64_t depthwiseWorkspace(const Function &f, const Op &op) {
  auto d = depthwiseShape(f, op);
  return d ? d->rows * d->pitch * 4 : 0;
}

bool lowerDepthwiseConv(Lowering &l, const Op &op) {
  auto d = depthwiseShape(l.f, op);
  if (!d || kMaxLanes % l.lanes != 0)
    return false;
  DepthwiseEmitter(l, op, *d).emit();
  return true;
}

} // namespace mnc
