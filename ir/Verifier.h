// Structural and type checks of IR built by the importer, the parser or a
// pass. Type rules live in inferResultTypes (ir/Infer.cpp); the verifier
// adds SSA form, topological order, arities and names around them.
#pragma once

#include "ir/IR.h"

#include "llvm/Support/Error.h"

namespace mnc {

/// Checks every function, and that function names are unique. Messages read
/// `error: @func: op N (mnemonic): problem` or `error: @func: problem`.
llvm::Error verifyModule(const Module &m);

/// Checks one function: every value defined once, before its uses; as many
/// names as arguments and results; each op as verifyOp.
llvm::Error verifyFunction(const Function &f);

/// Checks op `index` of `f` alone: result count, tensor attributes and
/// result types against inferResultTypes. Its operands must be values of
/// `f`; where they are defined is verifyFunction's business.
llvm::Error verifyOp(const Function &f, size_t index);

/// An error unless every entry of `indices` lies in [-extent, extent), the
/// range ONNX Gather allows on an `axis` of `extent`. verifyFunction checks
/// constant indices with it: the generated code trusts them, checking only
/// the indices that arrive at run time.
llvm::Error checkGatherIndices(const Tensor &indices, int64_t axis,
                               int64_t extent);

} // namespace mnc
