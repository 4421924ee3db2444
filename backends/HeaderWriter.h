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

/// What NAME_run returns (ABI v1), as NAME_OK and NAME_ERR_* in the header.
enum RunStatus : int32_t {
  RunOk = 0,
  /// An index that arrived at run time is outside the axis it indexes;
  /// nothing was read outside the inputs and the outputs are unspecified.
  RunIndexError = 1,
};


/// Checks that `name` can prefix C symbols (a C identifier).
llvm::Error checkSymbolName(llvm::StringRef name);

/// `text` as a C string literal that means the same bytes in every C and
/// C++ dialect: '?' (which could start a trigraph), control bytes and
/// non-ASCII bytes become octal escapes, which cannot run into the next
/// character the way \x escapes do.
std::string cStringLiteral(llvm::StringRef text);

/// The header text for `f` compiled as `name` with arena `plan`, whose
/// NAME_run_parallel gives each task but the first `taskWorkspace` bytes
/// of workspace after the arena. A profiling build's `profileSteps` (the
/// op of each timed kernel call; null in other builds) add
/// NAME_run_profiled and its steps.
std::string writeHeader(const Function &f, const MemoryPlan &plan,
                        llvm::StringRef name, int64_t taskWorkspace,
                        const std::vector<size_t> *profileSteps = nullptr);

/// What profile step `op` (a kernel call) is, as the header names it:
/// "#INDEX MNEMONIC [KERNEL] OUTPUT-TYPE".
std::string profileStepName(const Function &f, size_t op);

} // namespace mnc
