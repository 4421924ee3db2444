// Static placement of intermediate tensors in the caller's scratch arena.
// Every value that is neither a function argument, a constant nor bound to
// a function result gets an offset; two values share bytes only if their
// live ranges (definition to last use, inclusive) are disjoint, so an op
// never writes over its own operands.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mnc {

/// Alignment of every placement and of the arena itself (one cache line,
/// and enough for any vector load).
constexpr int64_t kScratchAlign = 64;

struct MemoryPlan {
  /// Byte offset per ValueId in the arena, or -1 when not in the arena.
  std::vector<int64_t> offsets;
  /// Offset of each op's workspace (temporary bytes it needs while it
  /// runs), or -1 when it needs none.
  std::vector<int64_t> workspaceOffsets;
  /// Per op: the index of the op that computes it as its epilogue (and
  /// writes its result), or -1. An op computed that way is not lowered on
  /// its own; its result shares the storage of the producer's result.
  std::vector<int> producerOf;
  /// Per op: arena bytes live while it runs (its operands, results and
  /// workspace included), the sum that fragmentation rounds up to `size`.
  std::vector<int64_t> liveBytes;
  /// Exact arena size: the end of the highest placement.
  int64_t size = 0;
};

/// Liveness-based first-fit placement of `f`'s intermediate values (the
/// smaller arena of two placement orders), with
/// `workspace[i]` bytes of workspace for op i. `producerOf` (empty, or one
/// entry per op as in MemoryPlan) names ops fused into an earlier op; each
/// such op must have one result, and the results of a producer and of the
/// ops fused into it, but the last of those, must be used only by those
/// ops.
MemoryPlan planMemory(const Function &f, llvm::ArrayRef<int64_t> workspace,
                      llvm::ArrayRef<int> producerOf = {});

/// Per op, the op that computes it as its epilogue (the first op of its
/// `fused` group when that is not the op itself), or -1.
std::vector<int> fusionProducers(const Function &f);
/// Per op, its `workspace_bytes` attribute, or 0.
std::vector<int64_t> workspaceBytes(const Function &f);

/// The plan plan-memory wrote into `f`'s `offsets` and `workspace_offset`
/// attributes, checked: every arena value and workspace placed, inside a
/// non-negative range.
llvm::Expected<MemoryPlan> readMemoryPlan(const Function &f);

/// Whether a value lives in the arena: defined by a non-constant op and not
/// written straight into a result buffer.
std::vector<bool> arenaValues(const Function &f);

} // namespace mnc
