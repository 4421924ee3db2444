// Predicates and workspace sizes of the kernel table. Each predicate is the
// shape contract of its emitter in backends/llvm/: the emitter asserts it
// rather than checking it again.
#include "backends/Kernels.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <fmt/format.h>

#include <algorithm>

namespace mnc {
namespace {

bool isConstant(const Function &f, ValueId v) {
  return f.constantValue(v) != nullptr;
}

bool isQuantized(const Function &f, const Op &op) {
  return f.type(op.operands[0]).isQuantized();
}
bool isF32(const Function &f, const Op &op) {
  const TensorType &x = f.type(op.operands[0]);
  return !x.isQuantized() && x.elem == ElemKind::F32;
}
bool isF32Pointwise(const Function &f, const Op &op) {
  return isF32(f, op) && isPointwiseConv(f, op);
}
bool isI8Pointwise(const Function &f, const Op &op) {
  return isQuantized(f, op) && isPointwiseConv(f, op);
}
bool isI8OnePixel(const Function &f, const Op &op) {
  const TensorType &x = f.type(op.operands[0]);
  return isI8Pointwise(f, op) && x.shape[2] * x.shape[3] == 1;
}
bool isF32Direct(const Function &f, const Op &op) {
  return isF32(f, op) && directGeometry(f, op);
}
bool isI8Direct(const Function &f, const Op &op) {
  return isQuantized(f, op) && directGeometry(f, op) &&
         isConstant(f, op.operands[1]);
}
bool isF32ConstantMatMul(const Function &f, const Op &op) {
  const TensorType &a = f.type(op.operands[0]), &b = f.type(op.operands[1]);
  return isF32(f, op) && isConstant(f, op.operands[1]) && a.rank() >= 2 &&
         b.rank() == 2 && b.numElements() > 0;
}
bool anyOperands(const Function &, const Op &) { return true; }

int64_t noWorkspace(const Function &, const Op &, const KernelChoice &) {
  return 0;
}
// One i32 index per element of the sorted axis (top_k); per box, an i32
// index and the four f32 coordinates of the kept boxes, one array per
// coordinate so that the overlap tests against them vectorize (nms).
int64_t sortWorkspace(const Function &f, const Op &op, const KernelChoice &) {
  const TensorType &x = f.type(op.operands[0]);
  if (op.kind == OpKind::TopK)
    return 4 * x.shape[op.getInt("axis")];
  return 5 * 4 * x.shape[1];
}
// One group's input planes, zero-bordered, as f32 ...
int64_t directWorkspace(const Function &f, const Op &op, const KernelChoice &) {
  auto d = *directGeometry(f, op);
  return d.cg * d.rows * d.pitch * 4;
}
// ... or as zero-point-shifted i16, single or paired.
int64_t i8DirectWorkspace(const Function &f, const Op &op,
                          const KernelChoice &c) {
  auto d = *directGeometry(f, op);
  return d.cg * d.rows * d.pitch * (pairedDirectPlanes(d, c.isa) ? 4 : 2);
}
// The generic quantized conv accumulates one output plane, the quantized
// matmul one output row, in i32 before requantizing.
int64_t i8PlaneWorkspace(const Function &f, const Op &op, const KernelChoice &) {
  const TensorType &y = f.type(op.results[0]);
  return y.shape[2] * y.shape[3] * 4;
}
int64_t i8RowWorkspace(const Function &f, const Op &op, const KernelChoice &) {
  return f.type(op.results[0]).shape.back() * 4;
}
// The int8 1x1 conv packs a tile's width of pixels of X, all channels, as
// its multiply-accumulates take them (backends/llvm/LowerPointwise.cpp).
int64_t i8PanelWorkspace(const Function &f, const Op &op,
                         const KernelChoice &c) {
  Int8MacShape mac = int8MacShape(c.isa, hasInt8Weights(f, op));
  int64_t channels = f.type(op.operands[0]).shape[1];
  return llvm::divideCeil(channels, mac.group) * c.tile.cols * mac.laneBytes;
}

// Register tiles. A 1x1 conv keeps rows x vectors accumulators, `vectors`
// input registers and a broadcast weight in the vector registers (the f32
// kernel computes a 1x1 image as a panel GEMM).
KernelTile panelGemmTile(const KernelTarget &t, int64_t rows, int64_t n) {
  int64_t r = std::min<int64_t>(rows, t.vectorRegisters >= 32 ? 4 : 2);
  // Eight vectors per row keep enough independent sums in flight to cover
  // the multiply-add latency.
  int64_t fit = (int64_t(t.vectorRegisters) - 1) / (r + 1);
  int64_t vectors = std::min<int64_t>(std::clamp<int64_t>(fit, 1, 8),
                                      llvm::divideCeil(n, int64_t(t.lanes)));
  return {r, vectors * t.lanes};
}
// With 32 registers, 8 rows by 3 vectors; an image of up to 4 vectors but
// more than 3 (7x7 with 16 lanes) takes 6 by 4, all its pixels in one
// block: the weights stream once, and no tail block of one vector runs
// 8 multiply-adds per load. MVE's 8 registers hold 3 rows by 2 vectors
// and the 2 input vectors: its vfma multiplies by a scalar register.
KernelTile gemmTile(const Function &f, const Op &op, const KernelTarget &t) {
  const TensorType &x = f.type(op.operands[0]);
  int64_t pixels = x.shape[2] * x.shape[3];
  if (t.vectorRegisters >= 32 && pixels > 3 * t.lanes && pixels <= 4 * t.lanes)
    return {6, 4 * t.lanes};
  if (t.vectorRegisters >= 32)
    return {8, 3 * t.lanes};
  if (t.vectorRegisters >= 16)
    return {6, 2 * t.lanes};
  return {3, 2 * t.lanes};
}
// The int8 kernel keeps a step's weights for all rows in a register and
// broadcasts one row's with an index vector, two registers the f32 kernel
// (broadcasting from memory) does not need: with 16 vector registers, 5
// rows. Without vector registers it accumulates in the 13 general-purpose
// registers of a Cortex-M, which also hold its pointers: a 2x2 tile (the
// f32 one blocks over floating-point registers). MVE's vmladava sums a
// row's products with one pixel into a general-purpose register, an even
// one: 2 rows by 4 pixels take all eight, at the price of some moves
// between registers, and still run fewer instructions than 1 by 4; its
// widened multiplies (weights wider than int8) keep 2 rows by 2 vectors
// in its 8 vector registers.
KernelTile i8GemmTile(const Function &f, const Op &op, const KernelTarget &t) {
  if (t.lanes == 1)
    return {2, 2};
  if (t.best() == Isa::Mve && hasInt8Weights(f, op))
    return {2, t.lanes};
  if (t.vectorRegisters == 16)
    return {5, 2 * t.lanes};
  if (t.vectorRegisters < 16)
    return {2, 2 * t.lanes};
  return gemmTile(f, op, t);
}
KernelTile pointwiseTile(const Function &f, const Op &op,
                         const KernelTarget &t) {
  const TensorType &x = f.type(op.operands[0]);
  if (x.shape[2] * x.shape[3] == 1)
    return panelGemmTile(t, x.shape[0], f.type(op.operands[1]).shape[0]);
  return gemmTile(f, op, t);
}
// A direct conv keeps a block of output channels' accumulators, the tap
// vector and a broadcast weight in registers, one vector along a row. MVE
// multiplies by a weight in a general-purpose register: a row costs only
// its accumulator (4 rows of the stem: 0.83 instructions per MAC on the
// Cortex-M55 against 1.12 with 1; 6 or 8 rows spill and run more).
KernelTile directTile(const Function &f, const Op &op, const KernelTarget &t) {
  auto d = *directGeometry(f, op);
  int64_t perRow = t.best() == Isa::Mve ? 1 : 3;
  return {std::min<int64_t>(
              d.mg, std::clamp<int64_t>(
                        (int64_t(t.vectorRegisters) - 4) / perRow, 1, 8)),
          t.lanes};
}
KernelTile panelTile(const Function &f, const Op &op, const KernelTarget &t) {
  const TensorType &a = f.type(op.operands[0]), &b = f.type(op.operands[1]);
  return panelGemmTile(t, a.numElements() / b.shape[0], b.shape[1]);
}
constexpr KernelTile (*untiled)(const Function &, const Op &,
                                const KernelTarget &) = nullptr;

struct KernelRow {
  llvm::StringLiteral name;
  OpKind op;
  bool (*applies)(const Function &, const Op &);
  int64_t (*workspace)(const Function &, const Op &, const KernelChoice &);
  KernelTile (*tile)(const Function &, const Op &, const KernelTarget &);
};
const KernelRow kernelRows[] = {
#define MNC_KERNEL(Name, name, Op, predicate, workspaceBytes, tile)            \
  {name, OpKind::Op, predicate, workspaceBytes, tile},
#include "backends/Kernels.def"
};

const KernelRow &row(Kernel k) { return kernelRows[static_cast<unsigned>(k)]; }

struct IsaRow {
  llvm::StringLiteral name, arch, features;
};
const IsaRow isaRows[] = {
#define MNC_ISA(Name, name, arch, features) {name, arch, features},
#include "backends/Isa.def"
};
const Isa isaList[] = {
#define MNC_ISA(Name, ...) Isa::Name,
#include "backends/Isa.def"
};

const IsaRow &row(Isa isa) { return isaRows[static_cast<unsigned>(isa)]; }

/// Whether kernel `k` has a form for `isa` that serves `op`: the dot
/// products have int8 1x1 convs only, and only with int8 weights; DSP
/// also has the int8 direct conv. The int8 panel conv needs vectors, and
/// on MVE weights too wide for its reductions: the 1x1 conv's vmladava
/// reduces one pixel's channels as well as many.
bool servesOp(Isa isa, Kernel k, const Function &f, const Op &op) {
  bool int8Gemm = k == Kernel::I8Conv1x1 || k == Kernel::I8PanelConv;
  switch (isa) {
  case Isa::Avx512Vnni:
  case Isa::AvxVnni:
  case Isa::NeonDot:
    return int8Gemm && hasInt8Weights(f, op);
  case Isa::Mve:
    return k != Kernel::I8PanelConv || !hasInt8Weights(f, op);
  case Isa::Dsp:
    return k == Kernel::I8Conv1x1 || k == Kernel::I8DirectConv;
  case Isa::Scalar:
    return k != Kernel::I8PanelConv;
  default:
    return true;
  }
}

/// Most taps (input channels per group x kernel extent) unrolled per
/// output vector: the 3-channel 3x3 stem conv and 5x5 depthwise fit.
constexpr int64_t kMaxUnrolledTaps = 32;

} // namespace

Isa KernelTarget::best() const {
  for (Isa isa : isaList)
    if (has(isa))
      return isa;
  return Isa::Scalar;
}

llvm::StringRef isaName(Isa isa) { return row(isa).name; }
llvm::StringRef isaArch(Isa isa) { return row(isa).arch; }
llvm::StringRef isaFeatures(Isa isa) { return row(isa).features; }
llvm::ArrayRef<Isa> allIsas() { return isaList; }

std::string kernelName(const KernelChoice &c) {
  if (!row(c.kernel).tile)
    return row(c.kernel).name.str();
  return fmt::format("{}__{}_{}x{}", row(c.kernel).name.str(),
                     isaName(c.isa).str(), c.tile.rows, c.tile.cols);
}

std::optional<KernelChoice> parseKernelName(llvm::StringRef name) {
  auto [family, spec] = name.split("__");
  auto [isa, tile] = spec.rsplit('_');
  auto [rows, cols] = tile.split('x');
  for (unsigned i = 0; i < std::size(kernelRows); ++i) {
    if (kernelRows[i].name != family)
      continue;
    KernelChoice c{static_cast<Kernel>(i), Isa::Scalar, {}};
    if (!kernelRows[i].tile)
      return spec.empty() ? std::optional(c) : std::nullopt;
    auto known = llvm::find_if(isaList, [&](Isa a) { return isaName(a) == isa; });
    if (known == std::end(isaList) || rows.getAsInteger(10, c.tile.rows) ||
        cols.getAsInteger(10, c.tile.cols) || c.tile.rows <= 0 ||
        c.tile.cols <= 0)
      return std::nullopt;
    c.isa = *known;
    return c;
  }
  return std::nullopt;
}

bool kernelApplies(Kernel k, const Function &f, const Op &op) {
  return op.kind == row(k).op && row(k).applies(f, op);
}

bool choiceFits(const KernelChoice &c, const Function &f, const Op &op,
                const KernelTarget &target) {
  if (!kernelApplies(c.kernel, f, op))
    return false;
  if (!row(c.kernel).tile)
    return true;
  return target.has(c.isa) && servesOp(c.isa, c.kernel, f, op) &&
         c.tile.cols % target.lanes == 0;
}

std::optional<KernelChoice> selectKernel(const Function &f, const Op &op,
                                         const KernelTarget &target) {
  for (unsigned i = 0; i < std::size(kernelRows); ++i) {
    auto k = static_cast<Kernel>(i);
    if (!kernelApplies(k, f, op))
      continue;
    KernelChoice c{k, Isa::Scalar, {}};
    if (!row(k).tile)
      return c;
    auto isa = llvm::find_if(isaList, [&](Isa isa) {
      return target.has(isa) && servesOp(isa, k, f, op);
    });
    if (isa == std::end(isaList))
      continue;
    c.isa = *isa;
    c.tile = row(k).tile(f, op, target);
    return c;
  }
  return std::nullopt;
}

int64_t kernelWorkspace(const KernelChoice &c, const Function &f,
                        const Op &op) {
  return row(c.kernel).workspace(f, op, c);
}

int64_t executedMacs(const KernelChoice &c, const Function &f,
                     const Op &op) {
  int64_t macs = opMacs(f, op);
  if (c.kernel != Kernel::F32DirectConv && c.kernel != Kernel::I8DirectConv)
    return macs;
  int64_t ow = f.type(op.results[0]).shape[3];
  return macs / ow * llvm::alignTo(ow, c.tile.cols);
}

Int8MacShape int8MacShape(Isa isa, bool int8Weights) {
  switch (isa) {
  case Isa::Avx512Vnni:
  case Isa::AvxVnni:
  case Isa::NeonDot:
    return {4, 4};
  case Isa::Dsp:
    return {4, 8};
  case Isa::Mve:
    return int8Weights ? Int8MacShape{16, 16} : Int8MacShape{1, 4};
  default:
    return {isaArch(isa) == "x86_64" ? 2 : 1, 4};
  }
}

bool hasInt8Weights(const Function &f, const Op &op) {
  const Tensor *w = f.constantValue(op.operands[1]);
  const TensorType &wt = f.type(op.operands[1]);
  if (!w || !wt.quant)
    return false;
  if (wt.elem == ElemKind::I8 &&
      llvm::all_of(wt.quant->zeroPoints, [](int32_t z) { return z == 0; }))
    return true;
  if (wt.elem != ElemKind::U8 && wt.elem != ElemKind::I8)
    return false;
  // Scanned once per query, and select-kernels asks for every patch of a
  // conv: bytes, not getAsInt.
  int64_t n = wt.numElements(), perChannel = n / wt.shape[0];
  for (int64_t c = 0; c < wt.shape[0]; ++c) {
    int32_t z = wt.quant->zeroPoint(c);
    for (int64_t i = c * perChannel; i < (c + 1) * perChannel; ++i) {
      int32_t v = wt.elem == ElemKind::U8 ? int32_t(w->bytes[i])
                                          : int32_t(int8_t(w->bytes[i]));
      if (!llvm::isInt<8>(v - z))
        return false;
    }
  }
  return true;
}

bool isPointwiseConv(const Function &f, const Op &op) {
  if (op.kind != OpKind::Conv2d || !isConstant(f, op.operands[1]))
    return false;
  const TensorType &w = f.type(op.operands[1]);
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  return op.getInt("group") == 1 && w.shape[2] == 1 && w.shape[3] == 1 &&
         strides[0] == 1 && strides[1] == 1 &&
         llvm::all_of(pads, [](int64_t p) { return p == 0; });
}

std::optional<DirectGeometry> directGeometry(const Function &f, const Op &op) {
  if (op.kind != OpKind::Conv2d)
    return std::nullopt;
  const TensorType &x = f.type(op.operands[0]), &wt = f.type(op.operands[1]),
                   &y = f.type(op.results[0]);
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  bool dilated =
      op.attrs.count("dilations") &&
      llvm::any_of(op.getInts("dilations"), [](int64_t d) { return d != 1; });
  // The taps of one output vector are unrolled into straight-line code,
  // so convs with many input channels per group stay on the generic path.
  if (dilated || strides[0] != strides[1] ||
      (strides[0] != 1 && strides[0] != 2) ||
      wt.shape[1] * wt.shape[2] * wt.shape[3] > kMaxUnrolledTaps)
    return std::nullopt;
  int64_t groups = op.getInt("group");
  DirectGeometry d{
      x.shape[0], x.shape[1], x.shape[2],  x.shape[3],  y.shape[1],
      y.shape[2], y.shape[3], wt.shape[2], wt.shape[3], strides[0],
      pads[0],    pads[1],    groups,      wt.shape[1], y.shape[1] / groups,
      0,          0};
  d.rows = (d.oh - 1) * d.stride + d.kh;
  d.pitch = llvm::alignTo(d.ow, kDirectMaxLanes) * d.stride + d.kw;
  return d;
}

bool pairedDirectPlanes(const DirectGeometry &d, Isa isa) {
  return d.stride == 1 && isa != Isa::Scalar && isaArch(isa) == "x86_64";
}

} // namespace mnc
