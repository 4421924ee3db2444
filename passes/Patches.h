// Patch-by-patch execution of a chain of spatial layers, as an IR rewrite.
//
// A *cut* is a point of a function's op list where exactly one computed
// tensor is live, an NCHW image: a block boundary of a MobileNet. Between
// two cuts runs a *segment*: convs, elementwise ops and (de/re)quantization
// that read nothing from outside but the tensor at the first cut and
// constants. A segment run on a grid of patches computes its output one
// rectangle at a time: each layer computes only the region that the layers
// after it need for the rectangle (the halo of each kxk conv recomputed),
// reading a slice of the segment input, and the rectangles are
// concatenated. Each output element is computed by the same ops on the
// same operand values as before, so the result is identical; what changes
// is that no layer's whole output tensor ever exists.
#pragma once

#include "ir/IR.h"

#include <cstdint>
#include <vector>

namespace mnc {

/// A cut: after op `after` (-1: before the first op) only `value` is live.
struct Cut {
  int after;
  ValueId value;
};

/// The cuts of `f` in op order where the live tensor is no larger than at
/// the cuts beside them (and the first and last cut). Consecutive cuts
/// bound the *blocks*; a cut pair bounds a segment when every block
/// between them is tileable.
std::vector<Cut> findCuts(const Function &f);

/// Whether the ops between cuts `from` and `to` can run patch by patch.
bool isTileable(const Function &f, const Cut &from, const Cut &to);

/// A segment of `f` between two cuts, run on a grid of rows x cols patches
/// of its output.
struct PatchSchedule {
  Cut from, to;
  int64_t rows = 1, cols = 1;
};

/// Rewrites `f` so that each schedule (non-overlapping, in op order, cuts
/// as findCuts returned them for `f`) runs patch by patch. Ops of the k-th
/// schedule's patch p carry `patch=[k, p, rows, cols]`. Errors name the op
/// whose patch could not be built (a bug: findCuts and isTileable admit
/// only what the rewrite handles).
llvm::Error runInPatches(Function &f, llvm::ArrayRef<PatchSchedule> schedules);

} // namespace mnc
