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

} // namespace mnc
