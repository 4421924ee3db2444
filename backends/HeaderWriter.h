// The C header that describes a generated object (ABI v1): entry point,
// tensor counts, sizes, shapes, element kinds, names and quantization of
// inputs and outputs, scratch size and alignment, and the MAC count. It
// includes only <stddef.h> and <stdint.h> and compiles as C99 and C++.
#pragma once

#include "backends/MemoryPlan.h"
#include "ir/IR.h"

#include "llvm/Support/Error.h"

#include <string>

namespace mnc {

/// Multiply-accumulates of one evaluation of `op` (conv2d and matmul count;
/// other ops count none).
int64_t opMacs(const Function &f, const Op &op);

/// Multiply-accumulates of one evaluation of `f`.
int64_t macCount(const Function &f);

/// Checks that `name` can prefix C symbols (a C identifier).
llvm::Error checkSymbolName(llvm::StringRef name);

/// The header text for `f` compiled as `name` with arena `plan`.
std::string writeHeader(const Function &f, const MemoryPlan &plan,
                        llvm::StringRef name);

} // namespace mnc
