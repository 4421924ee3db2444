// Fast paths of f32 conv2d: register-blocked kernels for the layer shapes
// that carry nearly all of a MobileNet's work. Each returns false (having
// emitted nothing) when `op` does not have its shape, so the caller falls
// back to the generic loop nest.
#pragma once

#include "backends/llvm/Lowering.h"

namespace mnc {

/// 1x1, stride 1, unpadded, ungrouped conv with constant weights: a GEMM
/// Y[M, HW] = W[M, C] * X[C, HW] per image.
bool lowerPointwiseConv(Lowering &l, const Op &op);

/// Any other undilated conv of stride 1 or 2 (stem, depthwise, grouped).
bool lowerDirectConv(Lowering &l, const Op &op);
/// Bytes of workspace lowerDirectConv needs for `op` (0: not its shape).
int64_t directConvWorkspace(const Function &f, const Op &op);

} // namespace mnc
