// The conv2d kernels of backends/Kernels.def: register-blocked kernels for
// the layer shapes that carry nearly all of a MobileNet's work, run where
// select-kernels chose them. Each returns false (having emitted nothing)
// when `op` does not have its shape, which the caller reports as an
// internal error: the table's predicate should have said so.
#pragma once

#include "backends/Kernels.h"
#include "backends/llvm/Lowering.h"

#include <optional>

namespace mnc {

/// 1x1, stride 1, unpadded, ungrouped conv with constant weights, f32 or
/// quantized: a GEMM Y[M, HW] = W[M, C] * X[C, HW] per image (for int8 an
/// i32-accumulating GEMM with zero points folded at compile time).
bool lowerPointwiseConv(Lowering &l, const Op &op, const KernelChoice &k);

/// Any other undilated conv of stride 1 or 2 with few taps per output
/// (stem, depthwise, grouped), f32 or quantized with constant weights:
/// accumulators in registers over zero-bordered (f32) or
/// zero-point-shifted (i16) workspace planes.
bool lowerDirectConv(Lowering &l, const Op &op, const KernelChoice &k);


/// Per output channel of a quantized conv2d: the requantization multiplier
/// sx*sw[m]/sy[m] (f32, in the reference's order of operations) and the
/// output zero point (i32), as constant tables.
struct RequantTables {
  llvm::Value *multipliers, *zeroPoints;
};
RequantTables requantTables(Lowering &l, const Op &op);

/// The multiply-add of adjacent i16 pairs into the i32 lanes of a vector of
/// `lanes` (x86 pmaddwd, exact for 16-bit factors) that ISA `isa` has, or
/// not_intrinsic.
llvm::Intrinsic::ID pairwiseMultiplyAdd(Isa isa, unsigned lanes);

/// Zero-point-shifted quantized weights w - zw as the int8 kernels store
/// them: one byte each when every value fits in i8 (symmetric int8
/// weights) and `bytes` allows, else two. Never wider, so int8 weights
/// stay int8 in flash wherever the kernel widens them in registers; only
/// the x86 pmaddwd 1x1 conv takes two bytes, for one broadcast load per
/// row and step.
struct NarrowWeights {
  llvm::Value *data;
  llvm::IntegerType *elem; ///< i8 or i16.
};
NarrowWeights narrowWeights(Lowering &l, llvm::ArrayRef<int32_t> values,
                            bool bytes = true);
/// Weight `index` sign-extended to i16, or with count 2 the two weights
/// from `index` as <2 x i16>.
llvm::Value *loadWeights(Lowering &l, const NarrowWeights &w,
                         llvm::Value *index, unsigned count = 1);

/// The alignment of one element of `type` (or of its vector).
llvm::Align elementAlign(llvm::Type *type);

/// The first `valid` lanes of a target vector, or null if all lanes are.
llvm::Value *laneMask(Lowering &l, int64_t valid);

/// Stores vector `value` at `ptr`, only the lanes of `mask` (laneMask's,
/// null: all). A masked store where the target has one for the element
/// type (AVX-512, MVE, AVX2 for 32-bit lanes); elsewhere LLVM would store
/// lane by lane, so the lanes go in the fewest plain stores of
/// power-of-two runs (7 bytes: 4, 2 and 1).
void storeLanes(Lowering &l, llvm::Value *value, llvm::Value *ptr,
                llvm::Value *mask);

} // namespace mnc
