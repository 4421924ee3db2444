// Products of a few rows with a constant matrix: fully connected layers
// (matmul with a constant right operand) and 1x1 convs on a 1x1 image (the
// classifier and squeeze-excite layers), f32 and int8, see PanelGemm.cpp.
#pragma once

#include "backends/Kernels.h"
#include "backends/llvm/Lowering.h"

#include <optional>

namespace mnc {

struct PanelGemmShape {
  int64_t rows, k, n;
};

/// Emits Y[rows, n] = X[rows, k] * B[k, n] (+ bias[n]) followed by `op`'s
/// epilogue, where X is `op`'s first operand, Y its result (both row-major)
/// and `bAt(k, j)` the constant B[k, j], with a register tile of
/// `tile.rows` rows by `tile.cols` columns (whole vectors).
void emitPanelGemm(Lowering &l, const Op &op, const PanelGemmShape &s,
                   llvm::function_ref<float(int64_t, int64_t)> bAt,
                   std::optional<ValueId> bias, const KernelTile &tile);

/// The int8 form for the quantized 1x1 conv `op` on a 1x1 image with
/// constant weights `w` ([n, k], B = w^T): i32 accumulators with the zero
/// points folded at compile time, multiplied as `isa` does (Int8Mac),
/// requantized per output channel before the only store.
void emitInt8PanelGemm(Lowering &l, const Op &op, const PanelGemmShape &s,
                       const Tensor &w, Isa isa, const KernelTile &tile);

} // namespace mnc
