// Constant folding: an op whose operands are all constants is evaluated once
// by the reference interpreter, so folding computes exactly what running the
// op would. Each result becomes a constant op; the ops and constants left
// without uses are then dropped. The work is bounded by the importer's
// FoldBudget: an op over it is an error rather than minutes of folding.
#include "passes/Passes.h"

#include "ir/Interpreter.h"

#include <fmt/format.h>

namespace mnc {

static llvm::Error foldFunction(Function &f, FoldBudget &budget) {
  // The value each folded or constant value holds, by ValueId.
  std::vector<std::shared_ptr<const Tensor>> known(f.valueTypes.size());
  std::vector<Op> ops;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    Op &op = f.ops[i];
    if (op.kind == OpKind::Constant) {
      known[op.results[0]] =
          std::get<std::shared_ptr<const Tensor>>(op.attrs.at("value"));
      ops.push_back(std::move(op));
      continue;
    }
    llvm::SmallVector<const Tensor *, 4> operands;
    for (ValueId v : op.operands)
      operands.push_back(known[v].get());
    if (op.operands.empty() || llvm::is_contained(operands, nullptr)) {
      ops.push_back(std::move(op));
      continue;
    }
    auto fail = [&](const std::string &message) {
      return llvm::createStringError(
          fmt::format("@{}: op {}: {}", f.name, i, message));
    };
    if (!budget.take(f, op))
      return fail(fmt::format(
          "{}: folding would cost about {} multiply-adds or element moves; "
          "the budget is {} per op and {} per module ({} spent)",
          mnemonic(op.kind).str(), evaluationWork(f, op), FoldBudget::maxOpWork,
          FoldBudget::maxTotalWork, budget.spent()));
    auto results = evaluateOp(f, op, operands);
    if (!results)
      return fail(llvm::toString(results.takeError()));
    for (size_t k = 0; k < op.results.size(); ++k) {
      ValueId r = op.results[k];
      auto value = std::make_shared<const Tensor>(std::move((*results)[k]));
      known[r] = value;
      Op constant{OpKind::Constant, {}, {r}, {}};
      constant.attrs["value"] = std::move(value);
      ops.push_back(std::move(constant));
    }
  }
  f.ops = std::move(ops);
  f.compact();
  return llvm::Error::success();
}

llvm::Error foldConstants(Module &m) {
  FoldBudget budget;
  for (Function &f : m.functions)
    if (auto err = foldFunction(f, budget))
      return err;
  return llvm::Error::success();
}

} // namespace mnc
