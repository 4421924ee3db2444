// Predicates and workspace sizes of the kernel table. Each predicate is the
// shape contract of its emitter in backends/llvm/: the emitter asserts it
// rather than checking it again.
#include "backends/Kernels.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

namespace mnc {
namespace {

bool isConstant(const Function &f, ValueId v) {
  return llvm::any_of(f.ops, [v](const Op &op) {
    return op.kind == OpKind::Constant && op.results[0] == v;
  });
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

int64_t noWorkspace(const Function &, const Op &) { return 0; }
// One group's input planes, zero-bordered, as f32 ...
int64_t directWorkspace(const Function &f, const Op &op) {
  auto d = *directGeometry(f, op);
  return d.cg * d.rows * d.pitch * 4;
}
// ... or as zero-point-shifted i16.
int64_t i8DirectWorkspace(const Function &f, const Op &op) {
  auto d = *directGeometry(f, op);
  return d.cg * d.rows * d.pitch * 2;
}
// The generic quantized conv accumulates one output plane, the quantized
// matmul one output row, in i32 before requantizing.
int64_t i8PlaneWorkspace(const Function &f, const Op &op) {
  const TensorType &y = f.type(op.results[0]);
  return y.shape[2] * y.shape[3] * 4;
}
int64_t i8RowWorkspace(const Function &f, const Op &op) {
  return f.type(op.results[0]).shape.back() * 4;
}

struct KernelRow {
  llvm::StringLiteral name;
  OpKind op;
  bool (*applies)(const Function &, const Op &);
  int64_t (*workspace)(const Function &, const Op &);
};
const KernelRow kernelRows[] = {
#define MNC_KERNEL(Name, name, Op, predicate, workspaceBytes)                  \
  {name, OpKind::Op, predicate, workspaceBytes},
#include "backends/Kernels.def"
};

const KernelRow &row(Kernel k) { return kernelRows[static_cast<unsigned>(k)]; }

/// Most taps (input channels per group x kernel extent) unrolled per
/// output vector: the 3-channel 3x3 stem conv and 5x5 depthwise fit.
constexpr int64_t kMaxUnrolledTaps = 32;

} // namespace

llvm::StringRef kernelName(Kernel k) { return row(k).name; }

std::optional<Kernel> parseKernelName(llvm::StringRef name) {
  for (unsigned i = 0; i < std::size(kernelRows); ++i)
    if (kernelRows[i].name == name)
      return static_cast<Kernel>(i);
  return std::nullopt;
}

bool kernelApplies(Kernel k, const Function &f, const Op &op) {
  return op.kind == row(k).op && row(k).applies(f, op);
}

std::optional<Kernel> selectKernel(const Function &f, const Op &op) {
  for (unsigned i = 0; i < std::size(kernelRows); ++i)
    if (kernelApplies(static_cast<Kernel>(i), f, op))
      return static_cast<Kernel>(i);
  return std::nullopt;
}

int64_t kernelWorkspace(Kernel k, const Function &f, const Op &op) {
  return row(k).workspace(f, op);
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

} // namespace mnc
