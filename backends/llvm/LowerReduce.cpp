// Reductions along axes: reduce_mean/max/sum (sums over trailing axes, the
// global pools, vectorized), arg_max, softmax and log_softmax.
#include "backends/llvm/Lowering.h"
#include "backends/llvm/MathEmit.h"

#include <limits>

namespace mnc {
namespace {

/// Strides into the reduced result for each input dim (0 on reduced dims).
llvm::SmallVector<int64_t, 4> reducedStrides(llvm::ArrayRef<int64_t> shape,
                                             llvm::ArrayRef<int64_t> axes) {
  llvm::SmallVector<int64_t, 4> kept(shape.begin(), shape.end());
  for (int64_t a : axes)
    kept[a] = 1;
  llvm::SmallVector<int64_t, 4> strides = stridesOf(kept);
  for (int64_t a : axes)
    strides[a] = 0;
  return strides;
}

llvm::Error
reduce(Lowering &l, const Op &op, float init,
       llvm::function_ref<llvm::Value *(llvm::Value *, llvm::Value *)> combine,
       bool mean) {
  ValueId x = op.operands[0], y = op.results[0];
  llvm::ArrayRef<int64_t> shape = l.f.type(x).shape;
  auto axes = op.getInts("axes");
  int64_t outCount = l.f.type(y).numElements();
  int64_t count = l.f.type(x).numElements() / std::max<int64_t>(outCount, 1);
  l.loop(0, outCount, [&](llvm::Value *i) { l.store(y, i, l.f32(init)); });
  auto xStrides = stridesOf(shape), yStrides = reducedStrides(shape, axes);
  l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    llvm::Value *at = l.linear(ivs, yStrides);
    l.store(y, at,
            combine(l.load(y, at), l.loadReal(x, l.linear(ivs, xStrides))));
  });
  if (mean)
    l.loop(0, outCount, [&](llvm::Value *i) {
      l.store(y, i, l.b.CreateFDiv(l.load(y, i), l.f32(double(count))));
    });
  return llvm::Error::success();
}

/// reduce_sum/reduce_mean over trailing axes (a global pool): each result
/// element sums one contiguous run, in one vector of partial sums added up
/// at the end; a quantized operand is dequantized a vector at a time.
/// Returns false, emitting nothing, for other axes.
bool reduceTrailingSum(Lowering &l, const Op &op, bool mean) {
  ValueId x = op.operands[0], y = op.results[0];
  const TensorType &xt = l.f.type(x);
  auto axes = op.getInts("axes");
  llvm::SmallVector<int64_t, 4> sorted(axes.begin(), axes.end());
  llvm::sort(sorted);
  int64_t rank = xt.rank();
  if (sorted.empty() ||
      sorted.front() != rank - int64_t(sorted.size()) ||
      std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return false;
  int64_t run = 1;
  for (int64_t a : sorted)
    run *= xt.shape[a];
  int64_t outCount = l.f.type(y).numElements();
  if (run == 0)
    return false;
  auto &b = l.b;
  auto *vecTy = llvm::FixedVectorType::get(b.getFloatTy(), l.lanes);
  auto *elemTy = l.elemType(xt.elem);
  auto *loadTy = llvm::FixedVectorType::get(elemTy, l.lanes);
  llvm::Value *slot = l.local(vecTy);
  auto at = [&](llvm::Value *index) {
    return b.CreateInBoundsGEP(elemTy, l.ptr(x), index);
  };
  // The f32 values of `lanes` elements from `index`, zero where `mask` is
  // false.
  auto real = [&](llvm::Value *index, llvm::Constant *mask) {
    llvm::Align align(elemTy->getPrimitiveSizeInBits() / 8);
    llvm::Value *v =
        mask ? static_cast<llvm::Value *>(
                   b.CreateMaskedLoad(loadTy, at(index), align, mask,
                                      llvm::Constant::getNullValue(loadTy)))
             : b.CreateAlignedLoad(loadTy, at(index), align);
    if (!xt.isQuantized())
      return v;
    auto *i32Ty = llvm::FixedVectorType::get(b.getInt32Ty(), l.lanes);
    v = xt.elem == ElemKind::U8 ? b.CreateZExt(v, i32Ty)
                                : b.CreateSExt(v, i32Ty);
    v = l.dequantize(v, b.CreateVectorSplat(l.lanes, l.i32(xt.quant->zeroPoint(0))),
                     b.CreateVectorSplat(l.lanes, l.f32(xt.quant->scale(0))));
    return mask ? b.CreateSelect(mask, v, llvm::ConstantFP::get(vecTy, 0.0)) : v;
  };
  auto accumulate = [&](llvm::Value *v) {
    b.CreateStore(b.CreateFAdd(b.CreateLoad(vecTy, slot), v), slot);
  };
  l.loop(0, outCount, [&](llvm::Value *o) {
    llvm::Value *base = b.CreateMul(o, l.idx(run));
    b.CreateStore(llvm::ConstantFP::get(vecTy, 0.0), slot);
    l.loop(0, run / l.lanes, [&](llvm::Value *v) {
      accumulate(
          real(b.CreateAdd(base, b.CreateMul(v, l.idx(l.lanes))), nullptr));
    });
    if (int64_t tail = run % l.lanes) {
      llvm::SmallVector<llvm::Constant *, 16> bits;
      for (unsigned i = 0; i < l.lanes; ++i)
        bits.push_back(b.getInt1(i < tail));
      accumulate(real(b.CreateAdd(base, l.idx(run - tail)),
                      llvm::ConstantVector::get(bits)));
    }
    // The partial sums may be added in any order.
    auto *sum = b.CreateFAddReduce(l.f32(0.0), b.CreateLoad(vecTy, slot));
    llvm::FastMathFlags reassoc;
    reassoc.setAllowReassoc();
    sum->setFastMathFlags(reassoc);
    llvm::Value *result = sum;
    if (mean)
      result = b.CreateFDiv(result, l.f32(double(run)));
    l.store(y, o, result);
  });
  return true;
}

/// Splits a shape at `axis` into (outer, length, inner) element counts.
struct AxisSplit {
  int64_t outer = 1, length, inner = 1;
};
AxisSplit splitAt(llvm::ArrayRef<int64_t> shape, int64_t axis) {
  AxisSplit s;
  s.length = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    s.outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    s.inner *= shape[d];
  return s;
}

llvm::Error softmax(Lowering &l, const Op &op, bool logarithm) {
  ValueId x = op.operands[0], y = op.results[0];
  AxisSplit s = splitAt(l.f.type(x).shape, op.getInt("axis"));
  auto &b = l.b;
  llvm::Value *maxSlot = l.local(b.getFloatTy());
  llvm::Value *sumSlot = l.local(b.getFloatTy());
  l.loop(0, s.outer, [&](llvm::Value *o) {
    l.loop(0, s.inner, [&](llvm::Value *in) {
      llvm::Value *base = l.linear({o, in}, {s.length * s.inner, 1});
      auto at = [&](llvm::Value *j) {
        return b.CreateAdd(base, b.CreateMul(j, l.idx(s.inner)));
      };
      b.CreateStore(l.f32(-std::numeric_limits<float>::infinity()), maxSlot);
      l.loop(0, s.length, [&](llvm::Value *j) {
        b.CreateStore(
            emitMax(b, l.load(x, at(j)), b.CreateLoad(b.getFloatTy(), maxSlot)),
            maxSlot);
      });
      llvm::Value *max = b.CreateLoad(b.getFloatTy(), maxSlot);
      b.CreateStore(l.f32(0.0), sumSlot);
      l.loop(0, s.length, [&](llvm::Value *j) {
        llvm::Value *e = emitExp(b, b.CreateFSub(l.load(x, at(j)), max));
        if (!logarithm)
          l.store(y, at(j), e);
        b.CreateStore(b.CreateFAdd(b.CreateLoad(b.getFloatTy(), sumSlot), e),
                      sumSlot);
      });
      llvm::Value *sum = b.CreateLoad(b.getFloatTy(), sumSlot);
      llvm::Value *logSum = logarithm ? emitLog(b, sum) : nullptr;
      l.loop(0, s.length, [&](llvm::Value *j) {
        llvm::Value *v =
            logarithm
                ? b.CreateFSub(b.CreateFSub(l.load(x, at(j)), max), logSum)
                : b.CreateFDiv(l.load(y, at(j)), sum);
        l.store(y, at(j), v);
      });
    });
  });
  return llvm::Error::success();
}

} // namespace

llvm::Error lowerReduceMean(Lowering &l, const Op &op) {
  if (reduceTrailingSum(l, op, /*mean=*/true))
    return llvm::Error::success();
  return reduce(
      l, op, 0.0f,
      [&](llvm::Value *a, llvm::Value *v) { return l.b.CreateFAdd(a, v); },
      /*mean=*/true);
}

llvm::Error lowerReduceSum(Lowering &l, const Op &op) {
  if (reduceTrailingSum(l, op, /*mean=*/false))
    return llvm::Error::success();
  return reduce(
      l, op, 0.0f,
      [&](llvm::Value *a, llvm::Value *v) { return l.b.CreateFAdd(a, v); },
      /*mean=*/false);
}

llvm::Error lowerReduceMax(Lowering &l, const Op &op) {
  return reduce(
      l, op, -std::numeric_limits<float>::infinity(),
      [&](llvm::Value *a, llvm::Value *v) { return emitMax(l.b, v, a); },
      /*mean=*/false);
}

llvm::Error lowerSoftmax(Lowering &l, const Op &op) {
  return softmax(l, op, /*logarithm=*/false);
}

llvm::Error lowerLogSoftmax(Lowering &l, const Op &op) {
  return softmax(l, op, /*logarithm=*/true);
}

llvm::Error lowerArgMax(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  AxisSplit s = splitAt(l.f.type(x).shape, op.getInt("axis"));
  ElemKind kind = l.f.type(x).elem;
  bool last = op.getInt("select_last_index");
  auto &b = l.b;
  llvm::Value *bestSlot = l.local(l.elemType(kind));
  llvm::Value *indexSlot = l.local(l.idxTy);
  auto better = [&](llvm::Value *v, llvm::Value *best) -> llvm::Value * {
    if (kind == ElemKind::F32)
      return last ? b.CreateFCmpOGE(v, best) : b.CreateFCmpOGT(v, best);
    if (kind == ElemKind::U8)
      return last ? b.CreateICmpUGE(v, best) : b.CreateICmpUGT(v, best);
    return last ? b.CreateICmpSGE(v, best) : b.CreateICmpSGT(v, best);
  };
  l.loop(0, s.outer, [&](llvm::Value *o) {
    l.loop(0, s.inner, [&](llvm::Value *in) {
      llvm::Value *base = l.linear({o, in}, {s.length * s.inner, 1});
      b.CreateStore(l.load(x, base), bestSlot);
      b.CreateStore(l.idx(0), indexSlot);
      l.loop(1, s.length, [&](llvm::Value *j) {
        llvm::Value *v =
            l.load(x, b.CreateAdd(base, b.CreateMul(j, l.idx(s.inner))));
        llvm::Value *best = b.CreateLoad(l.elemType(kind), bestSlot);
        llvm::Value *take = better(v, best);
        b.CreateStore(b.CreateSelect(take, v, best), bestSlot);
        b.CreateStore(b.CreateSelect(take, j, b.CreateLoad(l.idxTy, indexSlot)),
                      indexSlot);
      });
      llvm::Value *index =
          b.CreateSExt(b.CreateLoad(l.idxTy, indexSlot), b.getInt64Ty());
      l.store(y, l.linear({o, in}, {s.inner, 1}), index);
    });
  });
  return llvm::Error::success();
}

} // namespace mnc
