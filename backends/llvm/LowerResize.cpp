// resize: the per-dim source taps (ir/ResizeTaps.h) are computed at compile
// time and emitted as constant tables of input offsets and weights, so the
// generated loop nest over the result only gathers and blends. Unresized
// dims index the input directly.
#include "backends/llvm/Lowering.h"
#include "ir/ResizeTaps.h"

namespace mnc {
namespace {

/// The constant tables of one resized dim: input offsets (in elements,
/// already multiplied by the dim's stride) of the low and high tap, and the
/// weight of the high tap.
struct DimTables {
  size_t dim;
  llvm::Value *lo, *hi, *frac;
};

DimTables emitTables(Lowering &l, const Op &op, size_t d, int64_t inLen,
                     int64_t stride, bool linear) {
  std::vector<int32_t> lo, hi;
  std::vector<float> frac;
  for (const ResizeTap &t : resizeTaps(op, inLen, d)) {
    lo.push_back(static_cast<int32_t>(t.lo * stride));
    hi.push_back(static_cast<int32_t>(t.hi * stride));
    frac.push_back(static_cast<float>(t.frac));
  }
  if (!linear)
    return {d, l.constantI32(lo), nullptr, nullptr};
  return {d, l.constantI32(lo), l.constantI32(hi), l.constantF32(frac)};
}

llvm::Value *tableOffset(Lowering &l, llvm::Value *table, llvm::Value *i) {
  return l.b.CreateSExt(l.loadAt(table, ElemKind::I32, i), l.idxTy);
}

/// n-linear interpolation as nested lerps, one resized dim per level:
/// blend(k, off) = (1 - w_k) * blend(k + 1, off + lo_k)
///               + w_k * blend(k + 1, off + hi_k).
llvm::Value *blend(Lowering &l, ValueId x, llvm::ArrayRef<DimTables> dims,
                   llvm::ArrayRef<llvm::Value *> ivs, llvm::Value *offset) {
  if (dims.empty())
    return l.load(x, offset);
  const DimTables &t = dims.front();
  llvm::Value *i = ivs[t.dim];
  llvm::IRBuilder<> &b = l.b;
  llvm::Value *w = l.loadAt(t.frac, ElemKind::F32, i);
  llvm::Value *lo = blend(l, x, dims.drop_front(), ivs,
                          b.CreateAdd(offset, tableOffset(l, t.lo, i)));
  llvm::Value *hi = blend(l, x, dims.drop_front(), ivs,
                          b.CreateAdd(offset, tableOffset(l, t.hi, i)));
  return b.CreateFAdd(b.CreateFMul(b.CreateFSub(l.f32(1), w), lo),
                      b.CreateFMul(w, hi));
}

} // namespace

llvm::Error lowerResize(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  llvm::ArrayRef<int64_t> inShape = l.f.type(x).shape;
  llvm::ArrayRef<int64_t> shape = l.f.type(y).shape;
  bool linear = op.getString("mode") == "linear";
  auto inStrides = stridesOf(inShape);
  // Unresized dims keep their stride; resized ones read through tables.
  llvm::SmallVector<int64_t, 4> direct(inStrides.begin(), inStrides.end());
  llvm::SmallVector<DimTables, 4> dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (isResizeIdentityDim(op, inShape[d], d))
      continue;
    direct[d] = 0;
    dims.push_back(emitTables(l, op, d, inShape[d], inStrides[d], linear));
  }
  auto yStrides = stridesOf(shape);
  l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    llvm::Value *offset = l.linear(ivs, direct);
    llvm::Value *value;
    if (linear) {
      value = blend(l, x, dims, ivs, offset);
    } else {
      for (const DimTables &t : dims)
        offset = l.b.CreateAdd(offset, tableOffset(l, t.lo, ivs[t.dim]));
      value = l.load(x, offset);
    }
    l.store(y, l.linear(ivs, yStrides), value);
  });
  return llvm::Error::success();
}

} // namespace mnc
