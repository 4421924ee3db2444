// The interpreter driver: checks inputs, walks a function's ops in order,
// dispatches each through the op table to its kernel in ir/interp/, and
// frees intermediate tensors after their last use.
#include "ir/Interpreter.h"
#include "ir/interp/Kernels.h"

#include "llvm/Support/MathExtras.h"

#include <fmt/format.h>

#include <limits>

namespace mnc {
namespace interp {

llvm::SmallVector<int64_t, 4> broadcastStrides(llvm::ArrayRef<int64_t> in,
                                               llvm::ArrayRef<int64_t> out) {
  llvm::SmallVector<int64_t, 4> strides(out.size(), 0);
  llvm::SmallVector<int64_t, 4> inStrides = stridesOf(in);
  size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    if (in[d] != 1)
      strides[lead + d] = inStrides[d];
  return strides;
}

QuantIndexer::QuantIndexer(const TensorType &type) : q(*type.quant) {
  if (q.axis) {
    dim = type.shape[*q.axis];
    inner = product(type.shape, *q.axis + 1, type.rank());
  }
}

} // namespace interp

namespace {

template <typename... Args>
llvm::Error error(fmt::format_string<Args...> format, Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format(format, std::forward<Args>(args)...));
}

llvm::Expected<std::vector<Tensor>> dispatch(const interp::EvalCtx &c) {
  using Eval = interp::Results (*)(const interp::EvalCtx &);
  static constexpr Eval evals[] = {
#define MNC_OP(Name, mnemonic, minOperands, maxOperands, numResults, Rule)     \
  interp::eval##Name,
#include "ir/Ops.def"
  };
  return evals[static_cast<unsigned>(c.op.kind)](c);
}

/// Checks that the tensor's bytes fit its type, so kernels can trust it.
llvm::Error checkTensor(const Tensor &t, const TensorType &expected,
                        llvm::StringRef what) {
  if (t.type != expected)
    return error("{} has type {}, expected {}", what.str(), toString(t.type),
                 toString(expected));
  if (static_cast<int64_t>(t.bytes.size()) != expected.byteSize())
    return error("{} holds {} bytes, its type {} needs {}", what.str(),
                 t.bytes.size(), toString(expected), expected.byteSize());
  return llvm::Error::success();
}

/// evaluateOp without the op name in error messages.
llvm::Expected<std::vector<Tensor>>
evaluate(const Function &f, const Op &op,
         llvm::ArrayRef<const Tensor *> operands) {
  if (operands.size() != op.operands.size())
    return error("got {} operands, the op has {}", operands.size(),
                 op.operands.size());
  for (size_t i = 0; i < operands.size(); ++i)
    if (auto err = checkTensor(*operands[i], f.type(op.operands[i]),
                               fmt::format("operand {}", i)))
      return err;
  llvm::SmallVector<TensorType, 1> resultTypes;
  for (ValueId r : op.results)
    resultTypes.push_back(f.type(r));
  return dispatch(interp::EvalCtx{op, operands, resultTypes});
}

} // namespace

llvm::Expected<std::vector<Tensor>>
evaluateOp(const Function &f, const Op &op,
           llvm::ArrayRef<const Tensor *> operands) {
  auto results = evaluate(f, op, operands);
  if (!results)
    return error("{}: {}", mnemonic(op.kind).str(),
                 llvm::toString(results.takeError()));
  return results;
}

int64_t evaluationWork(const Function &f, const Op &op) {
  int64_t out = 0, perOutput = 1;
  for (ValueId r : op.results)
    out += f.type(r).numElements();
  if (op.kind == OpKind::MatMul && !f.type(op.operands[0]).shape.empty())
    perOutput = f.type(op.operands[0]).shape.back();
  if (op.kind == OpKind::Conv2d) {
    const TensorType &w = f.type(op.operands[1]);
    perOutput = w.numElements() / std::max<int64_t>(1, w.shape[0]);
  }
  if ((op.kind == OpKind::MaxPool || op.kind == OpKind::AvgPool) &&
      op.attrs.count("kernel"))
    for (int64_t k : op.getInts("kernel"))
      perOutput *= k; // Each is below 2^31 (verified).
  int64_t work = 0;
  if (llvm::MulOverflow(out, perOutput, work))
    return std::numeric_limits<int64_t>::max();
  for (ValueId v : op.operands)
    if (llvm::AddOverflow(work, f.type(v).numElements(), work))
      return std::numeric_limits<int64_t>::max();
  return work;
}

bool FoldBudget::take(const Function &f, const Op &op) {
  int64_t work = evaluationWork(f, op);
  if (work > maxOpWork || work > maxTotalWork - spentWork)
    return false;
  spentWork += work;
  return true;
}

llvm::Expected<std::vector<Tensor>> interpret(const Function &f,
                                              llvm::ArrayRef<Tensor> inputs) {
  auto prefix = [&](size_t opIndex, const Op &op) {
    return fmt::format("@{}: op {} ({})", f.name, opIndex,
                       mnemonic(op.kind).str());
  };
  if (inputs.size() != f.args.size())
    return error("@{}: expects {} inputs, got {}", f.name, f.args.size(),
                 inputs.size());
  std::vector<std::optional<Tensor>> values(f.valueTypes.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (auto err = checkTensor(
            inputs[i], f.type(f.args[i]),
            fmt::format("@{}: input {} ('{}')", f.name, i, f.argNames[i])))
      return err;
    values[f.args[i]] = inputs[i];
  }

  // Index of the last op reading each value; results are never freed.
  std::vector<size_t> lastUse(f.valueTypes.size(), 0);
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (ValueId v : f.ops[i].operands)
      lastUse[v] = i;
  for (ValueId v : f.results)
    lastUse[v] = f.ops.size();

  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op &op = f.ops[i];
    llvm::SmallVector<const Tensor *, 4> operands;
    for (ValueId v : op.operands) {
      if (v >= values.size() || !values[v])
        return error("{}: operand %{} has no value", prefix(i, op), v);
      operands.push_back(&*values[v]);
    }
    auto results = evaluate(f, op, operands);
    if (!results)
      return error("{}: {}", prefix(i, op),
                   llvm::toString(results.takeError()));
    for (size_t r = 0; r < op.results.size(); ++r)
      values[op.results[r]] = std::move((*results)[r]);
    for (ValueId v : op.operands)
      if (lastUse[v] == i)
        values[v].reset();
  }

  std::vector<Tensor> results;
  for (ValueId v : f.results) {
    if (!values[v])
      return error("@{}: result %{} has no value", f.name, v);
    results.push_back(*values[v]);
  }
  return results;
}

} // namespace mnc
