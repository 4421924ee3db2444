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

/// A lowered function and what its header needs to know of the lowering.
struct LoweredModule {
  std::unique_ptr<llvm::Module> module;
  /// Bytes of workspace each task of NAME_run_parallel but the first takes
  /// after the arena (0 if no split kernel has a workspace).
  int64_t taskWorkspace = 0;
  /// A profiling build's steps: the op of each kernel call, in order.
  std::vector<size_t> profileSteps;
};

/// Builds `int NAME_run_parallel(const void *const inputs[], void *const
/// outputs[], void *scratch, const mnc_parallel_for *pool)` for `f` with
/// the placements of `plan`, and `int NAME_run(inputs, outputs, scratch)`
/// calling it without a pool, unoptimized. With `profile`, also `int
/// NAME_run_profiled(inputs, outputs, scratch, const mnc_profiler *)`.
llvm::Expected<LoweredModule>
lowerFunction(const Function &f, const MemoryPlan &plan, llvm::StringRef name,
              llvm::TargetMachine &tm, llvm::LLVMContext &ctx,
              bool profile = false);

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
