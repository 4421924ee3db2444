// From a planned mnc Function to optimized LLVM IR and to object or
// assembly bytes for one TargetMachine.
#pragma once

#include "backends/MemoryPlan.h"
#include "ir/IR.h"

#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace mnc {

/// Builds `int NAME_run(const void *const inputs[], void *const outputs[],
/// void *scratch)` for `f` with the placements of `plan`, unoptimized.
llvm::Expected<std::unique_ptr<llvm::Module>>
lowerFunction(const Function &f, const MemoryPlan &plan, llvm::StringRef name,
              llvm::TargetMachine &tm, llvm::LLVMContext &ctx);

/// Full: LLVM's O3 pipeline with the target's cost model and without any
/// library function, so no loop becomes a memset/memcpy call. Constants:
/// only drop unused globals and merge identical constants, which is what
/// the object's read-only data size depends on (for `mnc inspect`).
enum class Optimization { Full, Constants };
void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                    Optimization level = Optimization::Full);

enum class FileKind { Object, Assembly };

/// Emits the module's machine code.
llvm::Expected<std::string>
emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm, FileKind kind);

} // namespace mnc
