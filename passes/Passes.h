// Passes over the mnc IR: each a function Module -> Module declared in
// passes/Passes.def, with a flag of the same name in mnc-opt.
#pragma once

#include "backends/Kernels.h"
#include "ir/IR.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace mnc {

/// What passes may know of the compilation: the target the module is
/// compiled for, and whether the user asked for post-training quantization
/// (which the quantize pass does only then: a model's own QDQ pairs around
/// f32 weights mean f32 weights). Passes that need neither take the module
/// alone.
struct PassOptions {
  KernelTarget target;
  bool quantizeWeights = false;
  /// The scratch budget in bytes (--max-ram), if the user set one.
  std::optional<int64_t> maxRam;
};

/// Drops ops that no function result depends on and renumbers values.
llvm::Error deadCodeElimination(Module &m);

/// Evaluates every op whose operands are all constants with the reference
/// interpreter and replaces it by constant ops, then drops dead ops; an
/// error if that work exceeds FoldBudget. Assumes a verified module.
llvm::Error foldConstants(Module &m);

/// Replaces the f32 constant weights and bias of each conv2d, and of each
/// matmul + add (Gemm), whose input is dequantize(q) and whose output
/// (through an optional relu or clip) only feeds a quantize, by dequantized
/// per-output-channel symmetric int8 weights and an i32 bias at s_x * s_w,
/// so that fold-qdq makes them integer ops. Calibration writes the QDQ
/// pairs of the activations; patterns that do not match stay f32. Nothing
/// unless `opts.quantizeWeights`.
llvm::Error quantize(Module &m, const PassOptions &opts);

/// Rewrites quantize(conv2d(dequantize(x), dequantize(w), dequantize(b)))
/// (with an optional relu or clip the output saturation absorbs) into a
/// quantized conv2d on x, w and b, the form QOperator models import to.
/// Assumes a verified module; patterns that do not match stay as they are.
llvm::Error foldQdq(Module &m);

/// Runs chains of blocks patch by patch (passes/Patches.h) where that is
/// needed for the arena to fit `opts.maxRam`, with the least extra
/// work (recomputed MACs and idle vector lanes, executedMacs); an error giving the smallest arena mnc can schedule when none
/// fits. Without a budget, only microcontroller targets are patched, for
/// the smallest arena. Run after fold-qdq and before the schedule passes,
/// whose choices it predicts.
llvm::Error fuseBlocks(Module &m, const PassOptions &opts);
/// Labels each f32 conv2d and the chain of elementwise ops after it that
/// its kernel can compute on its accumulators with one `fused` value (see
/// ir/Ops.def). A schedule pass: what is computed does not change.
llvm::Error fuseEpilogues(Module &m);

/// Writes into each conv2d and matmul the `ukernel` of backends/Kernels.def
/// that runs it on `opts.target` (family, ISA and register tile) and its
/// `workspace_bytes`. A schedule pass.
llvm::Error selectKernels(Module &m, const PassOptions &opts);

/// Places each intermediate value and workspace in the scratch arena and
/// writes the `offsets` and `workspace_offset` attributes. Assumes
/// fuse-epilogues and select-kernels ran (their attributes, or none). A
/// schedule pass.
llvm::Error planMemory(Module &m);

/// A registered pass.
struct PassInfo {
  llvm::StringRef flag;
  llvm::StringRef description;
  llvm::Error (*run)(Module &m, const PassOptions &opts);
};

/// Every pass of passes/Passes.def, in table order.
llvm::ArrayRef<PassInfo> allPasses();
/// The pass with flag `flag`, or null.
const PassInfo *lookupPass(llvm::StringRef flag);

} // namespace mnc
