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

bool isPlainF32(const TensorType &t) {
  return t.elem == ElemKind::F32 && !t.isQuantized();
}

bool isEpilogueKind(OpKind kind) {
  switch (kind) {
  case OpKind::Relu:
  case OpKind::Clip:
  case OpKind::LeakyRelu:
  case OpKind::HardSigmoid:
  case OpKind::HardSwish:
  case OpKind::Sigmoid:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Max:
  case OpKind::Min:
    return true;
  default:
    return false;
  }
}

bool isScalarConstant(const Function &f, ValueId v, llvm::ArrayRef<int> defs) {
  return defs[v] >= 0 && f.ops[defs[v]].kind == OpKind::Constant &&
         isPlainF32(f.type(v)) && f.type(v).numElements() == 1;
}

/// Builds the epilogue groups greedily in op order, then cuts each group
/// back to its longest prefix whose values, all but the last, are used only
/// inside the prefix (the producer stores only the last one).
class EpiloguePlanner {
public:
  explicit EpiloguePlanner(const Function &f)
      : f(f), defs(f.definingOps()), uses(f.valueTypes.size(), 0),
        groupOf(f.valueTypes.size(), -1), producerOf(f.ops.size(), -1) {
    for (const Op &op : f.ops)
      for (ValueId v : op.operands)
        ++uses[v];
    for (ValueId v : f.results)
      uses[v] += 2; // A returned value must keep its own bytes.
  }

  std::vector<int> plan() {
    for (size_t j = 0; j < f.ops.size(); ++j) {
      const Op &op = f.ops[j];
      if (op.kind == OpKind::Conv2d && isPlainF32(f.type(op.results[0])))
        groupOf[op.results[0]] = static_cast<int>(j);
      else if (int p = groupFor(op); p >= 0) {
        producerOf[j] = p;
        groupOf[op.results[0]] = p;
      }
    }
    for (size_t i = 0; i < f.ops.size(); ++i)
      if (f.ops[i].kind == OpKind::Conv2d)
        trim(static_cast<int>(i));
    return producerOf;
  }

private:
  /// The group `op` can join, or -1.
  int groupFor(const Op &op) const {
    if (!isEpilogueKind(op.kind) || op.results.size() != 1)
      return -1;
    // The latest producer among the operands' groups; values of earlier
    // groups are then operands like any other.
    int group = -1;
    for (ValueId v : op.operands)
      group = std::max(group, groupOf[v]);
    if (group < 0)
      return -1;
    const TensorType &produced = f.type(f.ops[group].results[0]);
    if (f.type(op.results[0]).shape != produced.shape ||
        !isPlainF32(f.type(op.results[0])))
      return -1;
    // Other operands must exist when the producer runs and be read element
    // for element (or be one constant).
    for (ValueId v : op.operands)
      if (groupOf[v] != group && !isScalarConstant(f, v, defs) &&
          !(defs[v] < group && isPlainF32(f.type(v)) &&
            f.type(v).shape == produced.shape))
        return -1;
    return group;
  }

  void trim(int producer) {
    llvm::SmallVector<int, 4> members{producer};
    for (size_t j = producer + 1; j < f.ops.size(); ++j)
      if (producerOf[j] == producer)
        members.push_back(static_cast<int>(j));
    size_t keep = members.size();
    while (keep > 1 && !selfContained(llvm::ArrayRef(members).take_front(keep)))
      --keep;
    for (int j : llvm::ArrayRef(members).drop_front(keep)) {
      producerOf[j] = -1;
      groupOf[f.ops[j].results[0]] = -1;
    }
  }

  /// Whether every member's result but the last is used only by members.
  bool selfContained(llvm::ArrayRef<int> members) const {
    for (int m : members.drop_back()) {
      ValueId v = f.ops[m].results[0];
      int inside = 0;
      for (int user : members)
        inside += llvm::count(f.ops[user].operands, v);
      if (inside != uses[v])
        return false;
    }
    return true;
  }

  const Function &f;
  std::vector<int> defs, uses;
  std::vector<int> groupOf; ///< Per value: the producer of its group, or -1.
  std::vector<int> producerOf;
};

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

std::vector<int> planEpilogues(const Function &f) {
  return EpiloguePlanner(f).plan();
}

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
