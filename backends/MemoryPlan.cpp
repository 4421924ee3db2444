// First-fit arena placement: buffers are placed in definition order at the
// lowest aligned offset that does not overlap any already placed buffer
// whose live range intersects theirs. Simple, deterministic, and within a
// few percent of optimal on MobileNet-style chains (which are mostly
// two-buffer ping-pong plus residual branches).
#include "backends/MemoryPlan.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

namespace mnc {

std::vector<bool> arenaValues(const Function &f) {
  std::vector<bool> inArena(f.valueTypes.size(), false);
  for (const Op &op : f.ops)
    if (op.kind != OpKind::Constant)
      for (ValueId r : op.results)
        inArena[r] = true;
  for (ValueId r : f.results)
    inArena[r] = false;
  return inArena;
}

namespace {
struct Buffer {
  int64_t first, last; ///< Live range in op indices, inclusive.
  int64_t bytes;
  int64_t *offset; ///< Where the chosen offset goes.
};

int64_t placeFirstFit(const Buffer &b, const std::vector<Buffer> &placed) {
  std::vector<std::pair<int64_t, int64_t>> busy;
  for (const Buffer &p : placed)
    if (p.first <= b.last && b.first <= p.last)
      busy.push_back({*p.offset, *p.offset + p.bytes});
  std::sort(busy.begin(), busy.end());
  int64_t offset = 0;
  for (auto [lo, hi] : busy) {
    if (offset + b.bytes <= lo)
      break;
    offset = std::max(offset,
                      static_cast<int64_t>(llvm::alignTo(hi, kScratchAlign)));
  }
  return offset;
}
} // namespace

MemoryPlan planMemory(const Function &f, WorkspaceFn workspace,
                      llvm::ArrayRef<int> producerOf) {
  MemoryPlan plan;
  plan.offsets.assign(f.valueTypes.size(), -1);
  plan.workspaceOffsets.assign(f.ops.size(), -1);
  plan.producerOf.assign(f.ops.size(), -1);
  if (!producerOf.empty())
    plan.producerOf.assign(producerOf.begin(), producerOf.end());
  std::vector<bool> inArena = arenaValues(f);
  std::vector<int64_t> lastUse(f.valueTypes.size(), -1);
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (ValueId o : f.ops[i].operands)
      lastUse[o] = static_cast<int64_t>(i);
  // A fused op's result lives in its producer's result buffer, which must
  // then stay live as long as the fused result; a fused result bound to a
  // caller buffer needs no arena bytes at all.
  std::vector<ValueId> sharesWith(f.valueTypes.size(), ~ValueId(0));
  for (size_t j = 0; j < f.ops.size(); ++j) {
    if (plan.producerOf[j] < 0)
      continue;
    ValueId produced = f.ops[plan.producerOf[j]].results[0];
    ValueId fused = f.ops[j].results[0];
    lastUse[produced] = std::max(lastUse[produced], lastUse[fused]);
    inArena[produced] = inArena[fused];
    if (inArena[fused])
      sharesWith[fused] = produced;
    inArena[fused] = false;
  }

  // Buffers in definition order; an op's workspace comes after its results.
  std::vector<Buffer> buffers;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    int64_t at = static_cast<int64_t>(i);
    for (ValueId r : f.ops[i].results)
      if (inArena[r])
        buffers.push_back({at, std::max(at, lastUse[r]), f.type(r).byteSize(),
                           &plan.offsets[r]});
    if (int64_t bytes = workspace(f, f.ops[i]))
      buffers.push_back({at, at, bytes, &plan.workspaceOffsets[i]});
  }
  plan.liveBytes.assign(f.ops.size(), 0);
  std::vector<Buffer> placed;
  for (const Buffer &b : buffers) {
    for (int64_t i = b.first; i <= b.last; ++i)
      plan.liveBytes[i] += b.bytes;
    *b.offset = placeFirstFit(b, placed);
    plan.size = std::max(plan.size, *b.offset + b.bytes);
    placed.push_back(b);
  }
  for (ValueId v = 0; v < f.valueTypes.size(); ++v)
    if (sharesWith[v] != ~ValueId(0))
      plan.offsets[v] = plan.offsets[sharesWith[v]];
  return plan;
}

} // namespace mnc
