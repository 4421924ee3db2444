// Conv epilogues: the elementwise ops after a conv (bias-free activations,
// hard_swish written as x * hard_sigmoid(x), residual adds) evaluated on the
// conv's accumulators before they are stored, so that they never make a
// second pass over memory. The formulas are the ones of ir/Math.h.
#include "backends/llvm/IRValue.h"
#include "backends/llvm/Lowering.h"
#include "ir/Math.h"

#include "llvm/ADT/DenseMap.h"

namespace mnc {
using codegen::IRValue;

namespace {

/// Evaluates an epilogue on one accumulator (scalar or vector).
class EpilogueEmitter {
public:
  EpilogueEmitter(Lowering &l, ValueId produced, llvm::Value *acc,
                  llvm::Value *index, llvm::Value *mask)
      : l(l), producer(l.definingOp(produced)), acc(acc), index(index),
        mask(mask) {
    values[produced] = acc;
  }

  llvm::Value *valueOf(ValueId v);

private:
  llvm::Value *compute(const Op &op);
  llvm::Value *loadOperand(ValueId v);

  Lowering &l;
  const Op *producer;
  llvm::Value *acc, *index, *mask;
  llvm::DenseMap<ValueId, llvm::Value *> values;
};

llvm::Value *EpilogueEmitter::valueOf(ValueId v) {
  if (llvm::Value *known = values.lookup(v))
    return known;
  const Op *def = l.definingOp(v);
  bool member = def && l.plan.producerOf[def - l.f.ops.data()] ==
                           producer - l.f.ops.data();
  llvm::Value *result = member ? compute(*def) : loadOperand(v);
  values[v] = result;
  return result;
}

llvm::Value *EpilogueEmitter::loadOperand(ValueId v) {
  llvm::Type *type = acc->getType();
  const Tensor *t = l.constantOf(v);
  if (t && t->type.numElements() == 1)
    return llvm::ConstantFP::get(
        type, reinterpret_cast<const float *>(t->bytes.data())[0]);
  llvm::Value *at = l.b.CreateInBoundsGEP(l.b.getFloatTy(), l.ptr(v), index);
  if (mask)
    return l.b.CreateMaskedLoad(type, at, llvm::Align(4), mask);
  return l.b.CreateAlignedLoad(type, at, llvm::Align(4));
}

llvm::Value *EpilogueEmitter::compute(const Op &op) {
  auto x = [&](unsigned i) { return IRValue(valueOf(op.operands[i])); };
  auto attr = [&](llvm::StringRef name) {
    return IRValue(double(op.getFloat(name)));
  };
  switch (op.kind) {
  case OpKind::Relu:
    return math::relu<IRValue>(x(0));
  case OpKind::Clip:
    return math::clip<IRValue>(x(0), attr("min"), attr("max"));
  case OpKind::LeakyRelu:
    return math::leakyRelu<IRValue>(x(0), attr("alpha"));
  case OpKind::HardSigmoid:
    return math::hardSigmoid<IRValue>(x(0), attr("alpha"), attr("beta"));
  case OpKind::HardSwish:
    return math::hardSwish<IRValue>(x(0));
  case OpKind::Sigmoid:
    return math::sigmoid<IRValue>(x(0));
  case OpKind::Add:
    return math::add<IRValue>(x(0), x(1));
  case OpKind::Sub:
    return math::sub<IRValue>(x(0), x(1));
  case OpKind::Mul:
    return math::mul<IRValue>(x(0), x(1));
  case OpKind::Max:
    return math::max<IRValue>(x(0), x(1));
  case OpKind::Min:
    return math::min<IRValue>(x(0), x(1));
  default:
    llvm_unreachable("not an epilogue op");
  }
}

} // namespace

llvm::Value *applyEpilogue(Lowering &l, const Op *epilogue, ValueId produced,
                           llvm::Value *acc, llvm::Value *index,
                           llvm::Value *mask) {
  if (!epilogue)
    return acc;
  codegen::IRValueScope scope(l.b, acc->getType());
  return EpilogueEmitter(l, produced, acc, index, mask)
      .valueOf(epilogue->results[0]);
}

} // namespace mnc
