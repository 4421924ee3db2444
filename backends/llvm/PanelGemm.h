// Products of a few rows with a constant matrix: fully connected layers
// (matmul with a constant right operand) and 1x1 convs on a 1x1 image (the
// squeeze-excite layers of MobileNetV3), see PanelGemm.cpp.
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

} // namespace mnc
