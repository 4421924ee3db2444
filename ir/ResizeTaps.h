// The coordinate mapping of the resize op (ONNX Resize, opset 11-13
// semantics), computed once per dim from constant shapes. The reference
// interpreter and the LLVM backend both read their source elements from
// these taps, so the formula lives here only.
#pragma once

#include "ir/IR.h"

#include <vector>

namespace mnc {

/// Where output index i of one dim reads: elements lo and hi, with weights
/// (1 - frac) and frac. Nearest and unresized dims have lo == hi, frac 0.
struct ResizeTap {
  int64_t lo, hi;
  double frac;
};

/// The taps of dim `d` of resize op `op`, whose operand has `inLen`
/// elements along that dim: one per output index.
std::vector<ResizeTap> resizeTaps(const Op &op, int64_t inLen, size_t d);

/// Whether dim `d` of `op` maps every output index to the same input index.
bool isResizeIdentityDim(const Op &op, int64_t inLen, size_t d);

} // namespace mnc
