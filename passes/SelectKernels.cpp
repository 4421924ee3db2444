// select-kernels: names in each conv2d and matmul the kernel of the kernel
// table (backends/Kernels.def) that runs it on the target, with the ISA
// and register tile, and the workspace that kernel needs, so the choice is
// in the IR for plan-memory, lit and the backend.
#include "passes/Passes.h"

#include "backends/Kernels.h"

namespace mnc {

llvm::Error selectKernels(Module &m, const PassOptions &opts) {
  for (Function &f : m.functions)
    for (Op &op : f.ops) {
      op.attrs.erase("ukernel");
      op.attrs.erase("workspace_bytes");
      std::optional<KernelChoice> k = selectKernel(f, op, opts.target);
      if (!k)
        continue;
      op.attrs["ukernel"] = kernelName(*k);
      if (int64_t bytes = kernelWorkspace(*k, f, op))
        op.attrs["workspace_bytes"] = bytes;
    }
  return llvm::Error::success();
}

} // namespace mnc
