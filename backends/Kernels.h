// The kernel table (backends/Kernels.def) as data: which kernel applies to
// an op, and the workspace it needs. Target-neutral, so that the
// select-kernels and plan-memory passes decide the schedule and the LLVM
// backend only executes it.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mnc {

enum class Kernel {
#define MNC_KERNEL(Name, ...) Name,
#include "backends/Kernels.def"
};

enum class Isa {
#define MNC_ISA(Name, ...) Name,
#include "backends/Isa.def"
};

/// What select-kernels needs to know of the code generation target: the
/// instruction sets it has (a bit per Isa) and the shape of its vector
/// registers. The default is the portable target: scalar code blocked over
/// 16 floating-point registers.
struct KernelTarget {
  uint32_t isas = 1u << static_cast<unsigned>(Isa::Scalar);
  unsigned lanes = 1;            ///< f32 (and i32) lanes of a vector.
  unsigned vectorRegisters = 16; ///< Or FP registers, with 1 lane.
  /// A microcontroller (Cortex-M): RAM is what limits the model, so
  /// schedules minimize the scratch arena.
  bool microcontroller = false;

  bool has(Isa isa) const { return isas >> static_cast<unsigned>(isa) & 1; }
  /// The first ISA of backends/Isa.def the target has.
  Isa best() const;
};

/// The ISA's name, as kernel names and --help spell it.
llvm::StringRef isaName(Isa isa);
/// The architecture (LLVM triple arch name) and features an ISA requires.
llvm::StringRef isaArch(Isa isa);
llvm::StringRef isaFeatures(Isa isa);
/// Every ISA, in table order.
llvm::ArrayRef<Isa> allIsas();

/// A register tile: output channels (or rows) by pixels (or columns) of
/// accumulators. Untiled kernels have none.
struct KernelTile {
  int64_t rows = 0, cols = 0;
};

/// A kernel family of the table specialised for an ISA and a tile: what
/// the `ukernel` attribute names.
struct KernelChoice {
  Kernel kernel;
  Isa isa = Isa::Scalar;
  KernelTile tile;
};

/// The `ukernel` spelling of `c`: "family" for untiled kernels, else
/// "family__isa_RxC".
std::string kernelName(const KernelChoice &c);
/// The choice `name` spells, or nullopt.
std::optional<KernelChoice> parseKernelName(llvm::StringRef name);

/// The first kernel of the table that applies to `op`, with the best ISA
/// of `target` it can use for `op` and its tile for `target`'s registers;
/// nullopt for ops lowered by their op's generic lowering.
std::optional<KernelChoice> selectKernel(const Function &f, const Op &op,
                                         const KernelTarget &target);
/// Whether kernel family `k` applies to `op`.
bool kernelApplies(Kernel k, const Function &f, const Op &op);
/// Whether `c` can run `op` on `target`: its family applies, `target` has
/// its ISA and the ISA serves `op`, and its tile is whole vectors wide.
bool choiceFits(const KernelChoice &c, const Function &f, const Op &op,
                const KernelTarget &target);
/// Bytes of workspace the kernel `c` needs for `op`.
int64_t kernelWorkspace(const KernelChoice &c, const Function &f,
                        const Op &op);

/// Multiply-accumulates the kernel `c` executes for `op`, the lanes that
/// vector padding wastes included: a direct conv computes each output row
/// in whole vectors of `c.tile.cols` lanes.
int64_t executedMacs(const KernelChoice &c, const Function &f, const Op &op);

/// How the int8 1x1 kernel multiplies on `isa`, for weights that fit in
/// int8 (`int8Weights`, hasInt8Weights) or not: `group` input channels
/// per i32 accumulator lane and reduction step (1 widened, 2 as i16 pairs,
/// 4 as bytes or as two i16 pairs, 16 bytes of one pixel summed into one
/// i32 by MVE's vmladava), and `laneBytes` bytes of packed inputs per lane
/// and step.
struct Int8MacShape {
  int64_t group, laneBytes;
};
Int8MacShape int8MacShape(Isa isa, bool int8Weights);

/// Whether the int8 1x1 conv `op`'s zero-point-shifted weights w - zw all
/// fit in int8, as four-way dot products (vpdpbusd, sdot) need.
bool hasInt8Weights(const Function &f, const Op &op);

/// Output rows of a direct conv are padded to a multiple of this many lanes
/// in the workspace, enough for any target's vector (so the workspace size
/// does not depend on the vector width).
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
/// Whether the int8 direct conv on `isa` holds each workspace position as
/// the i16 pair of it and its right neighbour (an i32): x86 multiplies two
/// adjacent taps at once (pmaddwd), and at stride 1 the pairs of a vector
/// of outputs overlap, so no load of plain i16 planes gives them.
bool pairedDirectPlanes(const DirectGeometry &d, Isa isa);

/// Whether `op` is a 1x1, stride 1, unpadded, ungrouped conv with constant
/// weights (the pointwise GEMM kernels' shape).
bool isPointwiseConv(const Function &f, const Op &op);

} // namespace mnc
