// fuse-epilogues: a conv2d and the chain of f32 elementwise ops after it
// (activations, hard_swish written as x * hard_sigmoid(x), a residual add)
// become one fusion group, labelled by the `fused` attribute: the backend
// evaluates the chain on the conv's accumulators before it stores them, so
// the chain never makes a second pass over memory.
#include "passes/Passes.h"

#include "llvm/ADT/STLExtras.h"

namespace mnc {
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

} // namespace

llvm::Error fuseEpilogues(Module &m) {
  for (Function &f : m.functions) {
    for (Op &op : f.ops)
      op.attrs.erase("fused");
    std::vector<int> producerOf = EpiloguePlanner(f).plan();
    std::vector<int64_t> label(f.ops.size(), -1);
    int64_t groups = 0;
    for (size_t j = 0; j < f.ops.size(); ++j) {
      int p = producerOf[j];
      if (p < 0)
        continue;
      if (label[p] < 0)
        f.ops[p].attrs["fused"] = label[p] = groups++;
      f.ops[j].attrs["fused"] = label[p];
    }
  }
  return llvm::Error::success();
}

} // namespace mnc
