// Conv epilogues: a relu, clip or residual add applied to the conv's
// accumulators before they are stored, so that the activation never makes a
// second pass over memory. The formulas are the ones of ir/Math.h.
#include "backends/llvm/IRValue.h"
#include "backends/llvm/Lowering.h"
#include "ir/Math.h"

namespace mnc {
using codegen::IRValue;

namespace {

bool isPlainF32(const TensorType &t) {
  return t.elem == ElemKind::F32 && !t.isQuantized();
}

/// Whether `op` (consuming `produced`, the result of op `producer`) can be
/// computed by the producer while it stores `produced`.
bool fusible(const Function &f, const Op &op, ValueId produced, int producer,
             llvm::ArrayRef<int> defs) {
  switch (op.kind) {
  case OpKind::Relu:
  case OpKind::Clip:
    return true;
  case OpKind::Add: {
    ValueId other =
        op.operands[0] == produced ? op.operands[1] : op.operands[0];
    // The other addend must exist when the producer runs and be read
    // element for element.
    return other != produced && defs[other] < producer &&
           isPlainF32(f.type(other)) &&
           f.type(other).shape == f.type(produced).shape &&
           f.type(op.results[0]).shape == f.type(produced).shape;
  }
  default:
    return false;
  }
}

} // namespace

std::vector<int> planEpilogues(const Function &f) {
  std::vector<int> producerOf(f.ops.size(), -1);
  std::vector<int> defs = f.definingOps();
  std::vector<int> uses(f.valueTypes.size(), 0);
  for (const Op &op : f.ops)
    for (ValueId v : op.operands)
      ++uses[v];
  for (ValueId v : f.results)
    uses[v] += 2; // A returned value must keep its own bytes.
  for (size_t j = 0; j < f.ops.size(); ++j) {
    const Op &op = f.ops[j];
    for (ValueId v : op.operands) {
      int i = defs[v];
      if (i < 0 || f.ops[i].kind != OpKind::Conv2d || uses[v] != 1 ||
          !isPlainF32(f.type(v)) || !fusible(f, op, v, i, defs))
        continue;
      producerOf[j] = i;
      break;
    }
  }
  return producerOf;
}

llvm::Value *applyEpilogue(Lowering &l, const Op *epilogue, ValueId produced,
                           llvm::Value *acc, llvm::Value *index,
                           llvm::Value *mask) {
  if (!epilogue)
    return acc;
  codegen::IRValueScope scope(l.b);
  llvm::Type *type = acc->getType();
  auto constant = [&](double v) {
    return IRValue(llvm::ConstantFP::get(type, v));
  };
  switch (epilogue->kind) {
  case OpKind::Relu:
    // math::relu, with a vector zero.
    return codegen::maxOf(IRValue(acc), constant(0.0));
  case OpKind::Clip:
    return math::clip<IRValue>(acc, constant(epilogue->getFloat("min")),
                               constant(epilogue->getFloat("max")));
  case OpKind::Add: {
    bool first = epilogue->operands[0] == produced;
    ValueId other = epilogue->operands[first ? 1 : 0];
    llvm::Value *at =
        l.b.CreateInBoundsGEP(l.b.getFloatTy(), l.ptr(other), index);
    llvm::Value *addend =
        mask ? static_cast<llvm::Value *>(
                   l.b.CreateMaskedLoad(type, at, llvm::Align(4), mask))
             : l.b.CreateAlignedLoad(type, at, llvm::Align(4));
    // Float addition commutes exactly; keep the op's order anyway.
    return first ? l.b.CreateFAdd(acc, addend) : l.b.CreateFAdd(addend, acc);
  }
  default:
    llvm_unreachable("not an epilogue op");
  }
}

} // namespace mnc
