// The pass pipeline: what `mnc compile`, `mnc run` and `mnc inspect` do to
// an imported module before the backend lowers it.
#pragma once

#include "ir/IR.h"
#include "passes/Passes.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mnc {

struct PipelineOptions {
  /// The target select-kernels chooses kernels for (default: portable).
  KernelTarget target;
  /// Whether the quantize pass quantizes weights (--quantize).
  bool quantizeWeights = false;
  /// The scratch budget fuse-blocks fits (--max-ram).
  std::optional<int64_t> maxRam;
  /// Print the module after every pass, or after the passes named here.
  bool printAfterAll = false;
  std::vector<std::string> printAfter;
  /// Stop after this pass (empty: run them all).
  std::string stopAfter;
  llvm::raw_ostream *printTo = &llvm::errs();
};

/// The passes of the pipeline, in the order they run.
llvm::ArrayRef<const PassInfo *> pipelinePasses();

/// Runs the pipeline on `m`, verifying the module after each pass. An
/// unknown pass name in `opts.printAfter` or `opts.stopAfter` is an error
/// listing the passes.
llvm::Error runPipeline(Module &m, const PipelineOptions &opts = {});

} // namespace mnc
