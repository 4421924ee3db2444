// plan-memory: places every intermediate value and kernel workspace in the
// caller's scratch arena (backends/MemoryPlan.h: liveness-based first fit,
// fused results in their producer's buffer) and writes the placement into
// the IR: `offsets` per op with arena results, `workspace_offset` per op
// with a workspace. The arena size is the end of the highest placement.
#include "passes/Passes.h"

#include "backends/MemoryPlan.h"

namespace mnc {

llvm::Error planMemory(Module &m) {
  for (Function &f : m.functions) {
    for (Op &op : f.ops) {
      op.attrs.erase("offsets");
      op.attrs.erase("workspace_offset");
    }
    MemoryPlan plan = planMemory(f, workspaceBytes(f), fusionProducers(f));
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op &op = f.ops[i];
      std::vector<int64_t> offsets;
      for (ValueId r : op.results)
        offsets.push_back(plan.offsets[r]);
      if (llvm::any_of(offsets, [](int64_t o) { return o >= 0; }))
        op.attrs["offsets"] = std::move(offsets);
      if (plan.workspaceOffsets[i] >= 0)
        op.attrs["workspace_offset"] = plan.workspaceOffsets[i];
    }
  }
  return llvm::Error::success();
}

} // namespace mnc
