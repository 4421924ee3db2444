// The pipeline, top to bottom. Semantic rewrites come first: quantize makes
// int8 the f32 weights that calibration placed between QDQ pairs, fold-qdq
// turns QDQ convolutions into the quantized ops QOperator models import to,
// then dead-code elimination drops what the rewrites left unused. The schedule
// follows: fusion groups, the kernel of each conv and matmul, and the
// arena placement, all written into the IR, which the backend executes.
#include "compiler/Pipeline.h"
#include "ir/Errors.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "llvm/ADT/StringExtras.h"

#include <fmt/format.h>

namespace mnc {

llvm::ArrayRef<const PassInfo *> pipelinePasses() {
  static const std::vector<const PassInfo *> passes = {
      // Semantic rewrites: what is computed.
      lookupPass("quantize"),
      lookupPass("fold-qdq"),
      lookupPass("dead-code-elimination"),
      // Schedule: how. fuse-blocks splits blocks into patches (slices,
      // concats, and the patch attribute); the rest are attributes the
      // interpreter ignores.
      lookupPass("fuse-blocks"),
      lookupPass("fuse-epilogues"),
      lookupPass("select-kernels"),
      lookupPass("plan-memory"),
  };
  return passes;
}

static llvm::Error checkPassNames(const PipelineOptions &opts) {
  std::vector<llvm::StringRef> names;
  for (const PassInfo *pass : pipelinePasses())
    names.push_back(pass->flag);
  auto check = [&](llvm::StringRef flag,
                   const std::string &name) -> llvm::Error {
    if (llvm::is_contained(names, name))
      return llvm::Error::success();
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        fmt::format("--{}={}: no such pass in the pipeline; its passes are: {}",
                    flag.str(), name, llvm::join(names, ", ")));
  };
  for (const std::string &name : opts.printAfter)
    if (auto err = check("print-after", name))
      return err;
  if (!opts.stopAfter.empty())
    return check("stop-after", opts.stopAfter);
  return llvm::Error::success();
}

llvm::Error runPipeline(Module &m, const PipelineOptions &opts) {
  if (auto err = checkPassNames(opts))
    return err;
  for (const PassInfo *pass : pipelinePasses()) {
    if (auto err = pass->run(m, PassOptions{opts.target, opts.quantizeWeights, opts.maxRam}))
      return err;
    if (auto err = verifyModule(m))
      return llvm::make_error<InternalError>(
          fmt::format("the IR after pass {} does not verify: {}",
                      pass->flag.str(), llvm::toString(std::move(err))));
    if (opts.printAfterAll || llvm::is_contained(opts.printAfter, pass->flag)) {
      *opts.printTo << "// IR after " << pass->flag << "\n";
      PrintOptions print;
      print.elideConstantsLargerThan = 16;
      printModule(m, *opts.printTo, print);
    }
    if (pass->flag == opts.stopAfter)
      break;
  }
  return llvm::Error::success();
}

} // namespace mnc
