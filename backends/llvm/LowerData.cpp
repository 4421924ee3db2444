// Data movement and index ops: constant, concat, split, reshape,
// transpose, slice, pad, gather and cast. Each is a loop nest over the
// result (or operand) shape with a linear index map into the other side;
// all strides are compile-time constants.
#include "backends/HeaderWriter.h"
#include "backends/llvm/Lowering.h"
#include "backends/llvm/MathEmit.h"

namespace mnc {

llvm::Error lowerConstant(Lowering &l, const Op &op) {
  const Tensor &value = op.getTensor("value");
  l.setPtr(op.results[0], l.constantData(value.bytes));
  return llvm::Error::success();
}

/// y[i] = x[i] for the flat element range of `x`.
static void copyFlat(Lowering &l, ValueId x, ValueId y) {
  l.loop(0, l.f.type(x).numElements(),
         [&](llvm::Value *i) { l.store(y, i, l.load(x, i)); });
}

llvm::Error lowerReshape(Lowering &l, const Op &op) {
  copyFlat(l, op.operands[0], op.results[0]);
  return llvm::Error::success();
}

llvm::Error lowerConcat(Lowering &l, const Op &op) {
  int64_t axis = op.getInt("axis");
  ValueId y = op.results[0];
  auto yStrides = stridesOf(l.f.type(y).shape);
  int64_t offset = 0;
  for (ValueId x : op.operands) {
    llvm::ArrayRef<int64_t> shape = l.f.type(x).shape;
    auto xStrides = stridesOf(shape);
    l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
      l.store(y, l.linear(ivs, yStrides, offset * yStrides[axis]),
              l.load(x, l.linear(ivs, xStrides)));
    });
    offset += shape[axis];
  }
  return llvm::Error::success();
}

llvm::Error lowerSplit(Lowering &l, const Op &op) {
  int64_t axis = op.getInt("axis");
  ValueId x = op.operands[0];
  auto xStrides = stridesOf(l.f.type(x).shape);
  int64_t offset = 0;
  for (ValueId y : op.results) {
    llvm::ArrayRef<int64_t> shape = l.f.type(y).shape;
    auto yStrides = stridesOf(shape);
    l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
      l.store(y, l.linear(ivs, yStrides),
              l.load(x, l.linear(ivs, xStrides, offset * xStrides[axis])));
    });
    offset += shape[axis];
  }
  return llvm::Error::success();
}

llvm::Error lowerTranspose(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  auto perm = op.getInts("perm");
  auto xStrides = stridesOf(l.f.type(x).shape);
  llvm::SmallVector<int64_t, 4> permuted;
  for (int64_t p : perm)
    permuted.push_back(xStrides[p]);
  llvm::ArrayRef<int64_t> shape = l.f.type(y).shape;
  auto yStrides = stridesOf(shape);
  l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    l.store(y, l.linear(ivs, yStrides), l.load(x, l.linear(ivs, permuted)));
  });
  return llvm::Error::success();
}

llvm::Error lowerSlice(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  auto starts = op.getInts("starts"), steps = op.getInts("steps");
  auto xStrides = stridesOf(l.f.type(x).shape);
  llvm::SmallVector<int64_t, 4> strides;
  int64_t base = 0;
  for (size_t d = 0; d < xStrides.size(); ++d) {
    base += starts[d] * xStrides[d];
    strides.push_back(steps[d] * xStrides[d]);
  }
  llvm::ArrayRef<int64_t> shape = l.f.type(y).shape;
  auto yStrides = stridesOf(shape);
  l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    l.store(y, l.linear(ivs, yStrides),
            l.load(x, l.linear(ivs, strides, base)));
  });
  return llvm::Error::success();
}

llvm::Error lowerPad(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  llvm::ArrayRef<int64_t> inShape = l.f.type(x).shape;
  auto pads = op.getInts("pads");
  llvm::StringRef mode = op.getString("mode");
  ElemKind kind = l.f.type(y).elem;
  auto &b = l.b;
  auto xStrides = stridesOf(inShape);
  llvm::ArrayRef<int64_t> shape = l.f.type(y).shape;
  auto yStrides = stridesOf(shape);
  llvm::Value *fill =
      kind == ElemKind::F32
          ? l.f32(op.getFloat("value"))
          : llvm::ConstantInt::get(l.elemType(kind),
                                   static_cast<int64_t>(op.getFloat("value")));
  // An empty input has no element to clamp to (mode "constant" only: the
  // verifier rejects edge and reflect padding of an empty axis).
  if (l.f.type(x).numElements() == 0) {
    l.loop(0, l.f.type(y).numElements(),
           [&](llvm::Value *i) { l.store(y, i, fill); });
    return llvm::Error::success();
  }
  l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    llvm::Value *inside = b.getTrue(), *at = l.idx(0);
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t n = inShape[d];
      llvm::Value *i = b.CreateSub(ivs[d], l.idx(pads[d]));
      llvm::Value *low = b.CreateICmpSLT(i, l.idx(0));
      llvm::Value *high = b.CreateICmpSGE(i, l.idx(n));
      inside = b.CreateAnd(inside, b.CreateNot(b.CreateOr(low, high)));
      // In range for the pads that the verifier admits: reflect needs
      // pads < n, edge n >= 1.
      if (mode == "reflect") {
        i = b.CreateSelect(low, b.CreateNeg(i), i);
        i = b.CreateSelect(high, b.CreateSub(l.idx(2 * (n - 1)), i), i);
      } else {
        // "edge", and "constant" (whose clamped load is discarded).
        i = b.CreateSelect(low, l.idx(0), i);
        i = b.CreateSelect(high, l.idx(n - 1), i);
      }
      at = b.CreateAdd(at, b.CreateMul(i, l.idx(xStrides[d])));
    }
    llvm::Value *v = l.load(x, at);
    if (mode == "constant")
      v = b.CreateSelect(inside, v, fill);
    l.store(y, l.linear(ivs, yStrides), v);
  });
  return llvm::Error::success();
}

/// Makes the kernel return RunIndexError before anything is read if an
/// entry of `indices` (known only at run time; the verifier checks
/// constant ones) is outside [-n, n). The compare is in the indices' own
/// type, so that no i64 index truncates into range on a 32-bit target.
static void checkIndices(Lowering &l, ValueId indices, int64_t n) {
  auto &b = l.b;
  llvm::Type *type = l.elemType(l.f.type(indices).elem);
  llvm::Value *bad = l.local(b.getInt1Ty());
  b.CreateStore(b.getFalse(), bad);
  l.loop(0, l.f.type(indices).numElements(), [&](llvm::Value *j) {
    llvm::Value *k = l.load(indices, j);
    llvm::Value *out =
        b.CreateOr(b.CreateICmpSLT(k, llvm::ConstantInt::get(type, -n)),
                   b.CreateICmpSGE(k, llvm::ConstantInt::get(type, n)));
    b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt1Ty(), bad), out), bad);
  });
  l.returnIf(b.CreateLoad(b.getInt1Ty(), bad), l.i32(RunIndexError));
}

llvm::Error lowerGather(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], indices = op.operands[1], y = op.results[0];
  llvm::ArrayRef<int64_t> shape = l.f.type(x).shape;
  int64_t axis = op.getInt("axis"), outer = 1, inner = 1, n = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t count = l.f.type(indices).numElements();
  auto &b = l.b;
  if (!l.constantOf(indices))
    checkIndices(l, indices, n);
  l.loop(0, outer, [&](llvm::Value *o) {
    l.loop(0, count, [&](llvm::Value *j) {
      llvm::Value *k = b.CreateSExtOrTrunc(l.load(indices, j), l.idxTy);
      k = b.CreateSelect(b.CreateICmpSLT(k, l.idx(0)), b.CreateAdd(k, l.idx(n)),
                         k);
      llvm::Value *src =
          b.CreateMul(b.CreateAdd(b.CreateMul(o, l.idx(n)), k), l.idx(inner));
      llvm::Value *dst = l.linear({o, j}, {count * inner, inner});
      l.loop(0, inner, [&](llvm::Value *i) {
        l.store(y, b.CreateAdd(dst, i), l.load(x, b.CreateAdd(src, i)));
      });
    });
  });
  return llvm::Error::success();
}

llvm::Error lowerLookup(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], table = op.operands[1];
  int64_t min = l.f.type(x).elem == ElemKind::I8 ? -128 : 0;
  l.loop(0, l.f.type(x).numElements(), [&](llvm::Value *i) {
    llvm::Value *k =
        l.b.CreateSExt(l.b.CreateSub(l.loadI32(x, i), l.i32(min)), l.idxTy);
    l.store(op.results[0], i, l.load(table, k));
  });
  return llvm::Error::success();
}

/// Converts one element between kinds: float to integer truncates toward
/// zero and saturates (as ir/Math.h saturateCast); integers wrap. 64-bit
/// integers convert through i32 so that 32-bit targets need no runtime
/// library helpers.
static llvm::Value *convert(Lowering &l, llvm::Value *v, ElemKind from,
                            ElemKind to) {
  auto &b = l.b;
  if (from == to)
    return v;
  if (from == ElemKind::F32) {
    if (to == ElemKind::I8 || to == ElemKind::U8) {
      bool u = to == ElemKind::U8;
      v = emitClamp(b, v, u ? 0.0f : -128.0f, u ? 255.0f : 127.0f);
    } else {
      v = emitClamp(b, v, -2147483648.0f, 2147483520.0f);
    }
    return b.CreateSExtOrTrunc(b.CreateFPToSI(v, b.getInt32Ty()),
                               l.elemType(to));
  }
  if (from == ElemKind::U8)
    v = b.CreateZExt(v, b.getInt32Ty());
  else if (from == ElemKind::I64)
    v = b.CreateTrunc(v, b.getInt32Ty());
  if (to == ElemKind::F32)
    return b.CreateSIToFP(b.CreateSExtOrTrunc(v, b.getInt32Ty()),
                          b.getFloatTy());
  return b.CreateSExtOrTrunc(v, l.elemType(to));
}

llvm::Error lowerCast(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  ElemKind from = l.f.type(x).elem, to = l.f.type(y).elem;
  l.loop(0, l.f.type(y).numElements(), [&](llvm::Value *i) {
    l.store(y, i, convert(l, l.load(x, i), from, to));
  });
  return llvm::Error::success();
}

} // namespace mnc
