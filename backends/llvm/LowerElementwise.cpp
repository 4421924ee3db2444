// Elementwise ops: broadcasting binary arithmetic and the unary
// activations. The f32 formulas are the ones in ir/Math.h, instantiated
// with IRValue.
#include "backends/llvm/IRValue.h"
#include "backends/llvm/Lowering.h"
#include "ir/Math.h"

namespace mnc {
using codegen::IRValue;

namespace {

using FloatFn = llvm::function_ref<IRValue(IRValue, IRValue)>;
using IntFn = llvm::function_ref<llvm::Value *(llvm::IRBuilder<> &,
                                               llvm::Value *, llvm::Value *)>;

/// A broadcast loop nest: the result shape and each operand's strides.
struct BroadcastNest {
  llvm::SmallVector<int64_t, 4> shape;
  llvm::SmallVector<llvm::SmallVector<int64_t, 4>, 3> strides;
};

/// Drops unit dims and merges each dim into the next one where every
/// operand walks both as one (e.g. H and W of a per-channel scale), so the
/// inner loop runs as long as possible and vectorizes.
BroadcastNest coalesce(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<llvm::SmallVector<int64_t, 4>> strides) {
  BroadcastNest nest;
  nest.strides.resize(strides.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    bool merges = !nest.shape.empty();
    for (size_t i = 0; i < strides.size() && merges; ++i)
      merges = nest.strides[i].back() == strides[i][d] * shape[d];
    if (merges) {
      nest.shape.back() *= shape[d];
      for (size_t i = 0; i < strides.size(); ++i)
        nest.strides[i].back() = strides[i][d];
      continue;
    }
    nest.shape.push_back(shape[d]);
    for (size_t i = 0; i < strides.size(); ++i)
      nest.strides[i].push_back(strides[i][d]);
  }
  return nest;
}

/// y[i] = fn(a[i'], b[i'']) over the broadcast result shape; quantized
/// operands are read dequantized and a quantized result is written
/// quantized (ir/Ops.def).
llvm::Error broadcastBinary(
    Lowering &l, const Op &op,
    llvm::function_ref<llvm::Value *(llvm::Value *, llvm::Value *)> fn) {
  ValueId a = op.operands[0], bv = op.operands[1], y = op.results[0];
  llvm::ArrayRef<int64_t> full = l.f.type(y).shape;
  BroadcastNest nest =
      coalesce(full, {broadcastStrides(l.f.type(a).shape, full.size()),
                      broadcastStrides(l.f.type(bv).shape, full.size()),
                      stridesOf(full)});
  auto &sa = nest.strides[0], &sb = nest.strides[1], &sy = nest.strides[2];
  l.loopNest(nest.shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    l.storeReal(y, l.linear(ivs, sy),
                fn(l.loadReal(a, l.linear(ivs, sa)),
                   l.loadReal(bv, l.linear(ivs, sb))));
  });
  return llvm::Error::success();
}

/// The arithmetic binary ops: floatFn on f32, intFn on integers.
llvm::Error binary(Lowering &l, const Op &op, FloatFn floatFn, IntFn intFn) {
  codegen::IRValueScope scope(l.b);
  const TensorType &y = l.f.type(op.results[0]);
  bool isFloat = y.elem == ElemKind::F32 || y.isQuantized();
  return broadcastBinary(l, op, [&](llvm::Value *x0, llvm::Value *x1) {
    return isFloat ? floatFn(x0, x1).v : intFn(l.b, x0, x1);
  });
}

/// y[i] = pred(a[i'], b[i'']) as u8 0/1 over the broadcast result shape.
llvm::Error compare(Lowering &l, const Op &op, llvm::CmpInst::Predicate fp,
                    llvm::CmpInst::Predicate sp, llvm::CmpInst::Predicate up) {
  ElemKind kind = l.f.type(op.operands[0]).elem;
  llvm::CmpInst::Predicate pred = kind == ElemKind::F32  ? fp
                                  : kind == ElemKind::U8 ? up
                                                         : sp;
  return broadcastBinary(l, op, [&](llvm::Value *x0, llvm::Value *x1) {
    return l.b.CreateZExt(l.b.CreateCmp(pred, x0, x1), l.b.getInt8Ty());
  });
}

/// y[i] = fn(x[i]) over f32.
llvm::Error unary(Lowering &l, const Op &op,
                  llvm::function_ref<IRValue(IRValue)> fn) {
  codegen::IRValueScope scope(l.b);
  ValueId x = op.operands[0], y = op.results[0];
  l.loop(0, l.f.type(y).numElements(),
         [&](llvm::Value *i) { l.store(y, i, fn(l.load(x, i)).v); });
  return llvm::Error::success();
}

llvm::Value *intAdd(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateAdd(x, y);
}
llvm::Value *intSub(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSub(x, y);
}
llvm::Value *intMul(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateMul(x, y);
}
llvm::Value *intDiv(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSDiv(x, y);
}
llvm::Value *intMax(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSelect(b.CreateICmpSLT(x, y), y, x);
}
llvm::Value *intMin(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSelect(b.CreateICmpSLT(y, x), y, x);
}
llvm::Value *noInt(llvm::IRBuilder<> &, llvm::Value *, llvm::Value *) {
  llvm_unreachable("type inference allows only f32 here");
}

} // namespace

llvm::Error lowerAdd(Lowering &l, const Op &op) {
  return binary(l, op, math::add<IRValue>, intAdd);
}
llvm::Error lowerSub(Lowering &l, const Op &op) {
  return binary(l, op, math::sub<IRValue>, intSub);
}
llvm::Error lowerMul(Lowering &l, const Op &op) {
  return binary(l, op, math::mul<IRValue>, intMul);
}
llvm::Error lowerDiv(Lowering &l, const Op &op) {
  return binary(l, op, math::div<IRValue>, intDiv);
}
llvm::Error lowerMax(Lowering &l, const Op &op) {
  return binary(l, op, math::max<IRValue>, intMax);
}
llvm::Error lowerMin(Lowering &l, const Op &op) {
  return binary(l, op, math::min<IRValue>, intMin);
}
llvm::Error lowerGreater(Lowering &l, const Op &op) {
  return compare(l, op, llvm::CmpInst::FCMP_OGT, llvm::CmpInst::ICMP_SGT,
                 llvm::CmpInst::ICMP_UGT);
}
llvm::Error lowerLess(Lowering &l, const Op &op) {
  return compare(l, op, llvm::CmpInst::FCMP_OLT, llvm::CmpInst::ICMP_SLT,
                 llvm::CmpInst::ICMP_ULT);
}
llvm::Error lowerEqual(Lowering &l, const Op &op) {
  return compare(l, op, llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::ICMP_EQ,
                 llvm::CmpInst::ICMP_EQ);
}
llvm::Error lowerPRelu(Lowering &l, const Op &op) {
  return binary(l, op, math::prelu<IRValue>, noInt);
}

llvm::Error lowerRelu(Lowering &l, const Op &op) {
  return unary(l, op, math::relu<IRValue>);
}
llvm::Error lowerSigmoid(Lowering &l, const Op &op) {
  return unary(l, op, math::sigmoid<IRValue>);
}
llvm::Error lowerTanh(Lowering &l, const Op &op) {
  return unary(l, op, math::tanhOf<IRValue>);
}
llvm::Error lowerExp(Lowering &l, const Op &op) {
  return unary(l, op, math::expOf<IRValue>);
}
llvm::Error lowerLog(Lowering &l, const Op &op) {
  return unary(l, op, math::logOf<IRValue>);
}
llvm::Error lowerSqrt(Lowering &l, const Op &op) {
  return unary(l, op, math::sqrtOf<IRValue>);
}
llvm::Error lowerNeg(Lowering &l, const Op &op) {
  return unary(l, op, math::neg<IRValue>);
}
llvm::Error lowerAbs(Lowering &l, const Op &op) {
  return unary(l, op, math::absOf<IRValue>);
}
llvm::Error lowerHardSwish(Lowering &l, const Op &op) {
  return unary(l, op, math::hardSwish<IRValue>);
}
llvm::Error lowerHardSigmoid(Lowering &l, const Op &op) {
  codegen::IRValueScope scope(l.b);
  IRValue alpha(double(op.getFloat("alpha"))),
      beta(double(op.getFloat("beta")));
  return unary(l, op, [&](IRValue x) {
    return math::hardSigmoid<IRValue>(x, alpha, beta);
  });
}
llvm::Error lowerClip(Lowering &l, const Op &op) {
  codegen::IRValueScope scope(l.b);
  IRValue lo(double(op.getFloat("min"))), hi(double(op.getFloat("max")));
  return unary(l, op,
               [&](IRValue x) { return math::clip<IRValue>(x, lo, hi); });
}
llvm::Error lowerLeakyRelu(Lowering &l, const Op &op) {
  codegen::IRValueScope scope(l.b);
  IRValue alpha(double(op.getFloat("alpha")));
  return unary(l, op,
               [&](IRValue x) { return math::leakyRelu<IRValue>(x, alpha); });
}

} // namespace mnc
