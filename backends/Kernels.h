// The kernel table (backends/Kernels.def) as data: which kernel applies to
// an op, and the workspace it needs. Target-neutral, so that the
// select-kernels and plan-memory passes decide the schedule and the LLVM
// backend only executes it.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mnc {

enum class Kernel {
#define MNC_KERNEL(Name, ...) Name,
#include "backends/Kernels.def"
};

/// The kernel's name, as the `ukernel` attribute spells it.
llvm::StringRef kernelName(Kernel k);
/// The kernel named `name`, or nullopt.
std::optional<Kernel> parseKernelName(llvm::StringRef name);

/// The first kernel of the table that applies to `op`, or nullopt for ops
/// lowered by their op's generic lowering.
std::optional<Kernel> selectKernel(const Function &f, const Op &op);
/// Whether kernel `k` applies to `op`.
bool kernelApplies(Kernel k, const Function &f, const Op &op);
/// Bytes of workspace kernel `k` needs for `op`.
int64_t kernelWorkspace(Kernel k, const Function &f, const Op &op);

/// Output rows of a direct conv are padded to a multiple of this many lanes
/// in the workspace, enough for any target's vector (so the workspace size
/// is target-neutral).
constexpr int64_t kDirectMaxLanes = 16;

/// Geometry of a conv2d the direct kernels (f32 and quantized) take.
struct DirectGeometry {
  int64_t n, c, h, w, m, oh, ow, kh, kw, stride, pt, pl, groups;
  int64_t cg, mg;      ///< Input and output channels per group.
  int64_t rows, pitch; ///< Workspace plane extent.
};
/// The geometry of `op` if it is an undilated conv2d of stride 1 or 2 with
/// few enough taps per output to unroll, whatever its element kinds.
std::optional<DirectGeometry> directGeometry(const Function &f, const Op &op);

/// Whether `op` is a 1x1, stride 1, unpadded, ungrouped conv with constant
/// weights (the pointwise GEMM kernels' shape).
bool isPointwiseConv(const Function &f, const Op &op);

} // namespace mnc
