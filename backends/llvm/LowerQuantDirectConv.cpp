// Direct (window) conv for quantized convs that are not pointwise:
// depthwise and other undilated stride 1 or 2 convs with few taps per
// output, the integer twin of LowerDirectConv.cpp. Per group, the group's
// input planes are copied as u = x (u8) or x + 128 (i8), in [0, 255], into
// i16 workspace planes whose border holds the zero point in the same
// form, uz; padding thus contributes nothing and every tap of every output
// vector is an unconditional load. With w' = w - zw:
//   acc[m, oy, ox..ox+V) = b[m] - uz * sum(w'[m])
//       + sum_{ci,ky,kx} w'[m, ci, ky, kx]
//           * padded[ci][(oy*s + ky) * pitch + (ox..ox+V)*s + kx]
// Non-negative 16-bit inputs times 16-bit weights let the target multiply
// in 16 bits (x86 pmaddwd); a block of output channels accumulates in i32
// registers (exact, as in the reference), then is requantized and stored
// once.
#include "backends/llvm/ConvKernels.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <optional>

namespace mnc {
namespace {

using QDirect = DirectGeometry;
constexpr int64_t kMaxLanes = kDirectMaxLanes;

std::optional<QDirect> quantDirectShape(const Function &f, const Op &op) {
  if (op.kind != OpKind::Conv2d || !f.type(op.operands[0]).isQuantized())
    return std::nullopt;
  return directGeometry(f, op);
}

class QuantDirectEmitter {
public:
  QuantDirectEmitter(Lowering &l, const Op &op, const QDirect &d,
                     const KernelChoice &k, const RequantTables &tables,
                     NarrowWeights weights, llvm::Value *offsets)
      : l(l), b(l.b), op(op), d(d), isa(k.isa), tile(k.tile), tables(tables),
        weights(weights),
        offsets(offsets),
        vecTy(llvm::FixedVectorType::get(b.getInt32Ty(), l.lanes)) {}

  void emit();

private:
  void fillPlane(llvm::Value *plane, int64_t ci);
  void channelBlock(llvm::Value *image, llvm::Value *m0, int64_t count);
  llvm::Value *loadTap(llvm::Value *at);
  /// in * w for non-negative 16-bit `in` and 16-bit `w` (as i32 vectors):
  /// with pmaddwd, the high halves of `in` are zero and add nothing.
  llvm::Value *multiply(llvm::Value *in, llvm::Value *w);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const QDirect &d;
  Isa isa;
  KernelTile tile; ///< Output channels per block by one vector.
  const RequantTables &tables;
  NarrowWeights weights; ///< w' as i8 or i16, [M, taps].
  llvm::Value *offsets;  ///< -uz * sum(w'[m]) as i32, [M].
  llvm::FixedVectorType *vecTy;
};

llvm::Value *QuantDirectEmitter::loadTap(llvm::Value *at) {
  llvm::Value *ptr = b.CreateInBoundsGEP(b.getInt16Ty(), l.workspace(op), at);
  auto *narrow = llvm::FixedVectorType::get(b.getInt16Ty(), l.lanes);
  if (d.stride == 1)
    return b.CreateZExt(b.CreateAlignedLoad(narrow, ptr, llvm::Align(2)),
                        vecTy);
  auto *wide = llvm::FixedVectorType::get(b.getInt16Ty(), l.lanes * 2);
  llvm::Value *pair = b.CreateAlignedLoad(wide, ptr, llvm::Align(2));
  llvm::SmallVector<int, 16> even;
  for (unsigned i = 0; i < l.lanes; ++i)
    even.push_back(2 * i);
  return b.CreateZExt(b.CreateShuffleVector(pair, even), vecTy);
}

llvm::Value *QuantDirectEmitter::multiply(llvm::Value *in, llvm::Value *w) {
  llvm::Intrinsic::ID pairs = pairwiseMultiplyAdd(isa, l.lanes);
  if (!pairs)
    return b.CreateMul(in, w, "", false, true);
  auto *halves = llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes);
  return b.CreateIntrinsic(
      vecTy, pairs, {b.CreateBitCast(in, halves), b.CreateBitCast(w, halves)});
}

void QuantDirectEmitter::fillPlane(llvm::Value *plane, int64_t ci) {
  ValueId x = op.operands[0];
  bool xUnsigned = l.f.type(x).elem == ElemKind::U8;
  l.loop(0, d.h, [&](llvm::Value *iy) {
    llvm::Value *src = b.CreateMul(iy, l.idx(d.w));
    llvm::Value *dst =
        l.linear({iy}, {d.pitch}, (ci * d.rows + d.pt) * d.pitch + d.pl);
    l.loop(0, d.w, [&](llvm::Value *ix) {
      llvm::Value *q = l.loadAt(plane, l.f.type(x).elem, b.CreateAdd(src, ix));
      q = xUnsigned ? b.CreateZExt(q, b.getInt32Ty())
                    : b.CreateSExt(q, b.getInt32Ty());
      b.CreateAlignedStore(
          b.CreateTrunc(b.CreateAdd(q, l.i32(xUnsigned ? 0 : 128)),
                        b.getInt16Ty()),
          b.CreateInBoundsGEP(b.getInt16Ty(), l.workspace(op),
                              b.CreateAdd(dst, ix)),
          llvm::Align(2));
    });
  });
}

void QuantDirectEmitter::channelBlock(llvm::Value *image, llvm::Value *m0,
                                      int64_t count) {
  ValueId y = op.results[0];
  ElemKind yKind = l.f.type(y).elem;
  int64_t taps = d.cg * d.kh * d.kw;
  llvm::SmallVector<llvm::Value *, 8> bias, mult, zero;
  for (int64_t r = 0; r < count; ++r) {
    llvm::Value *m = b.CreateAdd(m0, l.idx(r));
    llvm::Value *init = l.loadAt(offsets, ElemKind::I32, m);
    if (op.operands.size() > 2)
      init = b.CreateAdd(init, l.loadI32(op.operands[2], m));
    bias.push_back(b.CreateVectorSplat(l.lanes, init));
    mult.push_back(b.CreateVectorSplat(
        l.lanes, l.loadAt(tables.multipliers, ElemKind::F32, m)));
    zero.push_back(b.CreateVectorSplat(
        l.lanes, l.loadAt(tables.zeroPoints, ElemKind::I32, m)));
  }
  llvm::Value *firstPlane = b.CreateAdd(b.CreateMul(image, l.idx(d.m)), m0);
  l.loop(0, d.oh, [&](llvm::Value *oy) {
    llvm::Value *rowBase = b.CreateMul(oy, l.idx(d.stride * d.pitch));
    auto vector = [&](llvm::Value *ox, int64_t valid) {
      llvm::SmallVector<llvm::Value *, 8> acc(bias.begin(), bias.end());
      llvm::Value *col = b.CreateAdd(rowBase, b.CreateMul(ox, l.idx(d.stride)));
      for (int64_t ci = 0; ci < d.cg; ++ci)
        for (int64_t ky = 0; ky < d.kh; ++ky)
          for (int64_t kx = 0; kx < d.kw; ++kx) {
            llvm::Value *in = loadTap(
                b.CreateAdd(col, l.idx((ci * d.rows + ky) * d.pitch + kx)));
            int64_t tap = (ci * d.kh + ky) * d.kw + kx;
            for (int64_t r = 0; r < count; ++r) {
              // Splat in i16, then widen: both factors visibly fit 16 bits.
              llvm::Value *wv = b.CreateSExt(
                  b.CreateVectorSplat(
                      l.lanes,
                      loadWeights(
                          l, weights,
                          b.CreateAdd(b.CreateMul(b.CreateAdd(m0, l.idx(r)),
                                                  l.idx(taps)),
                                      l.idx(tap)))),
                  vecTy);
              acc[r] = b.CreateAdd(acc[r], multiply(in, wv));
            }
          }
      llvm::Value *mask = laneMask(l, valid);
      for (int64_t r = 0; r < count; ++r) {
        llvm::Value *plane = b.CreateAdd(firstPlane, l.idx(r));
        llvm::Value *at = b.CreateAdd(
            b.CreateMul(b.CreateAdd(b.CreateMul(plane, l.idx(d.oh)), oy),
                        l.idx(d.ow)),
            ox);
        llvm::Value *q = requantizeVector(l, acc[r], mult[r], zero[r], yKind);
        llvm::Value *ptr = b.CreateInBoundsGEP(b.getInt8Ty(), l.ptr(y), at);
        if (mask)
          b.CreateMaskedStore(q, ptr, llvm::Align(1), mask);
        else
          b.CreateAlignedStore(q, ptr, llvm::Align(1));
      }
    };
    int64_t full = d.ow / l.lanes;
    l.loop(0, full, [&](llvm::Value *v) {
      vector(b.CreateMul(v, l.idx(l.lanes)), l.lanes);
    });
    if (d.ow % l.lanes)
      vector(l.idx(full * l.lanes), d.ow % l.lanes);
  });
}

void QuantDirectEmitter::emit() {
  ValueId x = op.operands[0];
  ElemKind xKind = l.f.type(x).elem;
  int64_t block = tile.rows;
  // The border stays uz for every group: only the interior is copied.
  const TensorType &xt = l.f.type(x);
  int64_t uz = xt.quant->zeroPoint(0) + (xt.elem == ElemKind::U8 ? 0 : 128);
  l.loop(0, d.cg * d.rows * d.pitch, [&](llvm::Value *i) {
    b.CreateAlignedStore(
        b.getInt16(uz), b.CreateInBoundsGEP(b.getInt16Ty(), l.workspace(op), i),
        llvm::Align(2));
  });
  l.loop(0, d.n * d.groups, [&](llvm::Value *p) {
    llvm::Value *image = b.CreateUDiv(p, l.idx(d.groups));
    llvm::Value *group = b.CreateURem(p, l.idx(d.groups));
    llvm::Value *firstIn = b.CreateAdd(b.CreateMul(image, l.idx(d.c)),
                                       b.CreateMul(group, l.idx(d.cg)));
    for (int64_t ci = 0; ci < d.cg; ++ci)
      fillPlane(b.CreateInBoundsGEP(l.elemType(xKind), l.ptr(x),
                                    b.CreateMul(b.CreateAdd(firstIn, l.idx(ci)),
                                                l.idx(d.h * d.w))),
                ci);
    llvm::Value *firstOut = b.CreateMul(group, l.idx(d.mg));
    l.loop(0, d.mg / block, [&](llvm::Value *mb) {
      channelBlock(image, b.CreateAdd(firstOut, b.CreateMul(mb, l.idx(block))),
                   block);
    });
    if (d.mg % block)
      channelBlock(image, b.CreateAdd(firstOut, l.idx(d.mg - d.mg % block)),
                   d.mg % block);
  });
}

} // namespace

bool lowerQuantDirectConv(Lowering &l, const Op &op, const KernelChoice &k) {
  auto d = quantDirectShape(l.f, op);
  const Tensor *w = l.constantOf(op.operands[1]);
  if (!d || !w || kMaxLanes % l.lanes != 0)
    return false;
  const TensorType &wt = l.f.type(op.operands[1]);
  int64_t taps = d->cg * d->kh * d->kw;
  const TensorType &xt = l.f.type(op.operands[0]);
  int32_t uz = xt.quant->zeroPoint(0) + (xt.elem == ElemKind::U8 ? 0 : 128);
  std::vector<int32_t> weights(d->m * taps);
  std::vector<int32_t> offsets(d->m);
  for (int64_t m = 0; m < d->m; ++m) {
    int32_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      int32_t wv = int32_t(w->getAsInt(m * taps + t)) - wt.quant->zeroPoint(m);
      weights[m * taps + t] = wv;
      sum += wv;
    }
    offsets[m] = -uz * sum;
  }
  RequantTables tables = requantTables(l, op);
  QuantDirectEmitter(l, op, *d, k, tables, narrowWeights(l, weights),
                     l.constantI32(offsets))
      .emit();
  return true;
}

} // namespace mnc
