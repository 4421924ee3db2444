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

/// y[i] = fn(a[i'], b[i'']) over the broadcast result shape.
llvm::Error binary(Lowering &l, const Op &op, FloatFn floatFn, IntFn intFn) {
  codegen::IRValueScope scope(l.b);
  ValueId a = op.operands[0], bv = op.operands[1], y = op.results[0];
  llvm::ArrayRef<int64_t> shape = l.f.type(y).shape;
  auto sa = broadcastStrides(l.f.type(a).shape, shape.size());
  auto sb = broadcastStrides(l.f.type(bv).shape, shape.size());
  auto sy = stridesOf(shape);
  bool isFloat = l.f.type(y).elem == ElemKind::F32;
  l.loopNest(shape, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    llvm::Value *x0 = l.load(a, l.linear(ivs, sa));
    llvm::Value *x1 = l.load(bv, l.linear(ivs, sb));
    llvm::Value *r = isFloat ? floatFn(x0, x1).v : intFn(l.b, x0, x1);
    l.store(y, l.linear(ivs, sy), r);
  });
  return llvm::Error::success();
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
