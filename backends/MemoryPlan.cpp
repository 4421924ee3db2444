// First-fit arena placement: each buffer goes at the lowest aligned offset
// that does not overlap any already placed buffer whose live range
// intersects its own. Two placement orders are tried and the smaller arena
// kept: definition order (MobileNet chains are mostly two-buffer ping-pong
// plus residual branches), and largest first, which packs the many small
// buffers of patch-by-patch segments (passes/Patches.h) into the gaps the
// large ones leave. Deterministic.
#include "backends/MemoryPlan.h"

#include "llvm/Support/MathExtras.h"

#include <fmt/format.h>

#include <limits>
#include <map>

#include <algorithm>
#include <numeric>

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
  /// The value it holds, or the op whose workspace it is.
  size_t owner;
  bool isWorkspace;
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

/// The buffers of `f` (values in the arena and workspaces) with their live
/// ranges, writing into `plan` (whose producerOf is set): offsets are
/// -1, liveBytes summed per op.
std::vector<Buffer> liveBuffers(const Function &f,
                                llvm::ArrayRef<int64_t> workspace,
                                MemoryPlan &plan) {
  plan.offsets.assign(f.valueTypes.size(), -1);
  plan.workspaceOffsets.assign(f.ops.size(), -1);
  std::vector<bool> inArena = arenaValues(f);
  std::vector<int64_t> lastUse(f.valueTypes.size(), -1);
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (ValueId o : f.ops[i].operands)
      lastUse[o] = static_cast<int64_t>(i);
  // A fused op's result lives in its producer's result buffer, which must
  // then stay live as long as the fused result; a fused result bound to a
  // caller buffer needs no arena bytes at all.
  for (size_t j = 0; j < f.ops.size(); ++j) {
    if (plan.producerOf[j] < 0)
      continue;
    ValueId produced = f.ops[plan.producerOf[j]].results[0];
    ValueId fused = f.ops[j].results[0];
    lastUse[produced] = std::max(lastUse[produced], lastUse[fused]);
    inArena[produced] = inArena[fused];
    inArena[fused] = false;
  }
  // Buffers in definition order; an op's workspace comes after its results.
  std::vector<Buffer> buffers;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    int64_t at = static_cast<int64_t>(i);
    for (ValueId r : f.ops[i].results)
      if (inArena[r])
        buffers.push_back({at, std::max(at, lastUse[r]), f.type(r).byteSize(),
                           &plan.offsets[r], r, false});
    if (int64_t bytes = workspace.empty() ? 0 : workspace[i])
      buffers.push_back({at, at, bytes, &plan.workspaceOffsets[i], i, true});
  }
  plan.liveBytes.assign(f.ops.size(), 0);
  for (const Buffer &b : buffers)
    for (int64_t i = b.first; i <= b.last; ++i)
      plan.liveBytes[i] += b.bytes;
  return buffers;
}

/// Fused results share their producer's offset.
void shareFusedOffsets(const Function &f, MemoryPlan &plan) {
  for (size_t j = 0; j < f.ops.size(); ++j)
    if (plan.producerOf[j] >= 0)
      plan.offsets[f.ops[j].results[0]] =
          plan.offsets[f.ops[plan.producerOf[j]].results[0]];
}

/// Places `buffers` first-fit in the order `order`; returns the arena size.
int64_t placeInOrder(const std::vector<Buffer> &buffers,
                     llvm::ArrayRef<size_t> order) {
  std::vector<Buffer> placed;
  int64_t size = 0;
  for (size_t k : order) {
    const Buffer &b = buffers[k];
    *b.offset = placeFirstFit(b, placed);
    size = std::max(size, *b.offset + b.bytes);
    placed.push_back(b);
  }
  return size;
}

} // namespace

MemoryPlan planMemory(const Function &f, llvm::ArrayRef<int64_t> workspace,
                      llvm::ArrayRef<int> producerOf) {
  MemoryPlan plan;
  plan.producerOf.assign(f.ops.size(), -1);
  if (!producerOf.empty())
    plan.producerOf.assign(producerOf.begin(), producerOf.end());
  std::vector<Buffer> buffers = liveBuffers(f, workspace, plan);
  // Two orders, the smaller arena kept: largest first (small buffers
  // placed early no longer split the space large ones need), and
  // definition order.
  std::vector<size_t> inOrder(buffers.size());
  std::iota(inOrder.begin(), inOrder.end(), 0);
  std::vector<size_t> bySize = inOrder;
  llvm::stable_sort(bySize, [&](size_t a, size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });
  int64_t sizeBySize = placeInOrder(buffers, bySize);
  std::vector<int64_t> offsetsBySize;
  for (const Buffer &b : buffers)
    offsetsBySize.push_back(*b.offset);
  plan.size = placeInOrder(buffers, inOrder);
  if (sizeBySize < plan.size) {
    plan.size = sizeBySize;
    for (auto [b, offset] : llvm::zip(buffers, offsetsBySize))
      *b.offset = offset;
  }
  shareFusedOffsets(f, plan);
  return plan;
}

std::vector<int> fusionProducers(const Function &f) {
  std::vector<int> producerOf(f.ops.size(), -1);
  std::map<int64_t, int> first; // fused label -> its producer
  for (size_t i = 0; i < f.ops.size(); ++i) {
    auto it = f.ops[i].attrs.find("fused");
    if (it == f.ops[i].attrs.end())
      continue;
    auto [at, isNew] =
        first.emplace(std::get<int64_t>(it->second), static_cast<int>(i));
    if (!isNew)
      producerOf[i] = at->second;
  }
  return producerOf;
}

std::vector<int64_t> workspaceBytes(const Function &f) {
  std::vector<int64_t> bytes;
  for (const Op &op : f.ops) {
    auto it = op.attrs.find("workspace_bytes");
    bytes.push_back(it == op.attrs.end() ? 0 : std::get<int64_t>(it->second));
  }
  return bytes;
}

static llvm::Error planError(const Function &f, size_t op,
                             const std::string &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 fmt::format("@{}: op {} ({}): {}", f.name, op,
                                             mnemonic(f.ops[op].kind).str(),
                                             what));
}

llvm::Expected<MemoryPlan> readMemoryPlan(const Function &f) {
  // The attributes as written...
  std::vector<int64_t> offsets(f.valueTypes.size(), -1),
      workspaceOffsets(f.ops.size(), -1);
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op &op = f.ops[i];
    if (auto it = op.attrs.find("offsets"); it != op.attrs.end()) {
      const auto &values = std::get<std::vector<int64_t>>(it->second);
      if (values.size() != op.results.size())
        return planError(f, i, "offsets has one entry per result");
      for (size_t r = 0; r < values.size(); ++r)
        offsets[op.results[r]] = values[r];
    }
    if (auto it = op.attrs.find("workspace_offset"); it != op.attrs.end())
      workspaceOffsets[i] = std::get<int64_t>(it->second);
  }
  // ... taken for exactly the buffers the liveness says the arena holds.
  MemoryPlan plan;
  plan.producerOf = fusionProducers(f);
  std::vector<Buffer> buffers = liveBuffers(f, workspaceBytes(f), plan);
  for (const Buffer &b : buffers) {
    *b.offset = b.isWorkspace ? workspaceOffsets[b.owner] : offsets[b.owner];
    if (*b.offset < 0 || *b.offset % kScratchAlign != 0 ||
        *b.offset > std::numeric_limits<int64_t>::max() - b.bytes)
      return planError(f, b.first,
                       "has no valid arena placement; run plan-memory");
    plan.size = std::max(plan.size, *b.offset + b.bytes);
  }
  shareFusedOffsets(f, plan);
  return plan;
}

} // namespace mnc
