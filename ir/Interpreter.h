// The reference interpreter: runs a function of the mnc IR on concrete
// tensors, directly from the semantics in ir/Ops.def. It is the oracle for
// passes and backends and folds constant subgraphs in the importer, so it
// favours obvious code over speed (still fast enough to run MobileNetV2 in
// a few seconds). Schedule attributes added by passes do not change what it
// computes.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace mnc {

/// Runs `f` on `inputs` (one per argument, each exactly of the argument's
/// type) and returns its results in order. Errors name the function, the op
/// index and mnemonic.
llvm::Expected<std::vector<Tensor>> interpret(const Function &f,
                                              llvm::ArrayRef<Tensor> inputs);

/// Evaluates one op of `f` on `operands` (one per op operand, each of the
/// operand value's type); the results have the types of the op's result
/// values in `f`.
llvm::Expected<std::vector<Tensor>>
evaluateOp(const Function &f, const Op &op,
           llvm::ArrayRef<const Tensor *> operands);

/// An upper estimate of the work of evaluating `op` of `f`: multiply-adds
/// for reductions over windows or inner dimensions, elements touched
/// otherwise (saturating at INT64_MAX).
int64_t evaluationWork(const Function &f, const Op &op);

/// The work that folding constants (in the importer and the fold-constants
/// pass) may spend on one module, so folding stays quick whatever a model
/// asks for.
class FoldBudget {
public:
  /// No op costing more than this (about 2^32 multiply-adds, seconds in
  /// the interpreter) is folded.
  static constexpr int64_t maxOpWork = int64_t(1) << 32;
  /// And the whole module's folding stays within twice that: many ops each
  /// under the per-op cap are not folded once it is spent.
  static constexpr int64_t maxTotalWork = maxOpWork * 2;

  /// Charges the work of evaluating `op` if it is within both caps and
  /// returns whether it was.
  bool take(const Function &f, const Op &op);
  int64_t spent() const { return spentWork; }

private:
  int64_t spentWork = 0;
};

} // namespace mnc
