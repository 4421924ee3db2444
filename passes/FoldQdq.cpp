// fold-qdq: QDQ graphs become quantized ops. A QDQ exporter writes an int8
// convolution as dequantize -> f32 conv2d -> quantize; the integer form the
// QOperator importer produces (ONNX QLinearConv) computes the same value
// with an i32 accumulator and one requantization, so QDQ and QOperator
// models run the same int8 kernels and plan the same arena.
#include "passes/Passes.h"

#include "ir/Math.h"

#include <limits>

namespace mnc {
namespace {

using Ints = std::vector<int64_t>;

/// The defining op of each value and how many ops use it.
struct UseDef {
  explicit UseDef(const Function &f)
      : def(f.definingOps()), uses(f.valueTypes.size(), 0) {
    for (const Op &op : f.ops)
      for (ValueId v : op.operands)
        ++uses[v];
    for (ValueId v : f.results)
      ++uses[v];
  }
  /// The op defining `v` if it has kind `kind`, else null.
  const Op *defOf(const Function &f, ValueId v, OpKind kind) const {
    int i = def[v];
    return i >= 0 && f.ops[i].kind == kind ? &f.ops[i] : nullptr;
  }
  bool isConstant(const Function &f, ValueId v) const {
    return defOf(f, v, OpKind::Constant) != nullptr;
  }

  std::vector<int> def;
  std::vector<int> uses;
};

bool isInt8(ElemKind k) { return k == ElemKind::I8 || k == ElemKind::U8; }

/// Whether quantizing clip(y, lo, hi) to `t` equals quantizing y: rounding
/// is monotone, so quantize(clip(y, lo, hi)) = clamp(quantize(y), q(lo),
/// q(hi)), and the clamp is the saturation itself when q(lo) <= qmin and
/// q(hi) >= qmax.
bool clampIsSaturation(const TensorType &t, float lo, float hi) {
  const QuantParams &q = *t.quant;
  float s = q.scale(0);
  int32_t z = q.zeroPoint(0);
  int32_t qmin = t.elem == ElemKind::I8 ? -128 : 0;
  int32_t qmax = t.elem == ElemKind::I8 ? 127 : 255;
  auto atLeast = [&](float x, int32_t bound) {
    return std::isinf(x) || math::roundHalfToEven(x / s) + z >= bound;
  };
  auto atMost = [&](float x, int32_t bound) {
    return std::isinf(x) || math::roundHalfToEven(x / s) + z <= bound;
  };
  return atMost(lo, qmin) && atLeast(hi, qmax);
}

/// The activation between a conv2d and its quantize, if the output
/// saturation absorbs it: relu, or clip. Returns the activation's input
/// (the value itself when there is none), or nullopt.
std::optional<ValueId> skipAbsorbedActivation(const Function &f,
                                              const UseDef &ud, ValueId y,
                                              const TensorType &out) {
  int i = ud.def[y];
  if (i < 0 || ud.uses[y] != 1)
    return std::nullopt;
  const Op &op = f.ops[i];
  float inf = std::numeric_limits<float>::infinity();
  if (op.kind == OpKind::Relu)
    return clampIsSaturation(out, 0, inf) ? std::optional(op.operands[0])
                                          : std::nullopt;
  if (op.kind == OpKind::Clip)
    return clampIsSaturation(out, op.getFloat("min"), op.getFloat("max"))
               ? std::optional(op.operands[0])
               : std::nullopt;
  return y;
}

/// The quantized value `v` dequantizes, if `v = dequantize(q)` with q of an
/// 8-bit per-tensor type (or, for weights, a constant of any granularity).
std::optional<ValueId> dequantized(const Function &f, const UseDef &ud,
                                   ValueId v, bool constant) {
  const Op *dq = ud.defOf(f, v, OpKind::Dequantize);
  if (!dq)
    return std::nullopt;
  ValueId q = dq->operands[0];
  const TensorType &t = f.type(q);
  if (!isInt8(t.elem) || !t.quant)
    return std::nullopt;
  if (constant ? !ud.isConstant(f, q) : !t.quant->isPerTensor())
    return std::nullopt;
  return q;
}

/// The i32 bias constant that `v` dequantizes, if its scale is s_x * s_w
/// per channel with zero point 0, the bias the integer conv adds to its
/// accumulator.
std::optional<ValueId> integerBias(const Function &f, const UseDef &ud,
                                   ValueId v, const TensorType &x,
                                   const TensorType &w) {
  const Op *dq = ud.defOf(f, v, OpKind::Dequantize);
  if (!dq || !ud.isConstant(f, dq->operands[0]))
    return std::nullopt;
  ValueId b = dq->operands[0];
  const TensorType &t = f.type(b);
  if (t.elem != ElemKind::I32 || !t.quant)
    return std::nullopt;
  for (int64_t c = 0; c < t.shape[0]; ++c)
    if (t.quant->zeroPoint(c) != 0 ||
        t.quant->scale(c) != x.quant->scale(0) * w.quant->scale(c))
      return std::nullopt;
  return b;
}

// quantize(act(conv2d(dequantize(x), dequantize(w), dequantize(b))))
//   = conv2d(x, w, b) : the quantize's type
// where w and b are constants, b = round(bias / (s_x * s_w)) as QDQ
// exporters write it, and act (optional relu or clip) is absorbed by the
// output's saturation. Returns the rewritten op, or nullopt.
std::optional<Op> foldConv(const Function &f, const UseDef &ud,
                           const Op &quantize) {
  const TensorType &out = f.type(quantize.results[0]);
  if (!isInt8(out.elem) || !out.quant || !out.quant->isPerTensor())
    return std::nullopt;
  auto y = skipAbsorbedActivation(f, ud, quantize.operands[0], out);
  const Op *conv = y ? ud.defOf(f, *y, OpKind::Conv2d) : nullptr;
  if (!conv || ud.uses[*y] != 1)
    return std::nullopt;
  auto x = dequantized(f, ud, conv->operands[0], /*constant=*/false);
  auto w = dequantized(f, ud, conv->operands[1], /*constant=*/true);
  if (!x || !w)
    return std::nullopt;
  const QuantParams &wq = *f.type(*w).quant;
  if (!wq.isPerTensor() && *wq.axis != 0)
    return std::nullopt;
  Op folded{OpKind::Conv2d, {*x, *w}, {quantize.results[0]}, conv->attrs};
  if (conv->operands.size() > 2) {
    auto b = integerBias(f, ud, conv->operands[2], f.type(*x), f.type(*w));
    if (!b)
      return std::nullopt;
    folded.operands.push_back(*b);
  }
  return folded;
}

/// The constant [N, K] weight that `v` dequantizes and transposes, if `v` =
/// transpose(dequantize(w)) as Gemm(transB=1) imports.
std::optional<ValueId> transposedWeight(const Function &f, const UseDef &ud,
                                        ValueId v) {
  const Op *t = ud.defOf(f, v, OpKind::Transpose);
  if (!t || t->getInts("perm") != llvm::ArrayRef<int64_t>{1, 0})
    return std::nullopt;
  auto w = dequantized(f, ud, t->operands[0], /*constant=*/true);
  if (!w || (!f.type(*w).quant->isPerTensor() && f.type(*w).quant->axis != 0))
    return std::nullopt;
  return w;
}

// quantize(add(matmul(dequantize(a), transpose(dequantize(w))),
//              dequantize(b)))
//   = reshape(conv2d(reshape(a, [1,K,1,1]), w as [N,K,1,1], b), [1,N])
// for a: [1,K] and w: [N,K] a constant, the classifier Gemm of QDQ models:
// the same integer product and requantization as the conv rule above.
std::optional<std::vector<Op>> foldGemm(Function &f, const UseDef &ud,
                                        const Op &quantize) {
  // Copies: f.newValue below may move the types.
  const TensorType out = f.type(quantize.results[0]);
  const Op *add = ud.defOf(f, quantize.operands[0], OpKind::Add);
  if (!isInt8(out.elem) || !out.quant || !out.quant->isPerTensor() || !add ||
      ud.uses[quantize.operands[0]] != 1 || ud.uses[add->operands[0]] != 1)
    return std::nullopt;
  const Op *mm = ud.defOf(f, add->operands[0], OpKind::MatMul);
  if (!mm || out.rank() != 2 || out.shape[0] != 1)
    return std::nullopt;
  auto a = dequantized(f, ud, mm->operands[0], /*constant=*/false);
  auto w = transposedWeight(f, ud, mm->operands[1]);
  if (!a || !w)
    return std::nullopt;
  auto b = integerBias(f, ud, add->operands[1], f.type(*a), f.type(*w));
  const TensorType wt = f.type(*w), at = f.type(*a);
  if (!b || f.type(*b).rank() != 1 || f.type(*b).shape[0] != wt.shape[0])
    return std::nullopt;
  int64_t n = wt.shape[0], k = wt.shape[1];
  const Tensor &weights = f.ops[ud.def[*w]].getTensor("value");
  ValueId w4 = f.newValue(wt.withShape({n, k, 1, 1}));
  ValueId a4 = f.newValue(at.withShape({1, k, 1, 1}));
  ValueId y4 = f.newValue(out.withShape({1, n, 1, 1}));
  Op constant{OpKind::Constant, {}, {w4}, {}};
  constant.attrs["value"] =
      std::make_shared<const Tensor>(Tensor(f.type(w4), weights.bytes));
  std::vector<Op> ops;
  ops.push_back(std::move(constant));
  ops.push_back({OpKind::Reshape, {*a}, {a4}, {{"shape", Ints{1, k, 1, 1}}}});
  ops.push_back({OpKind::Conv2d,
                 {a4, w4, *b},
                 {y4},
                 {{"dilations", Ints{1, 1}},
                  {"group", int64_t(1)},
                  {"pads", Ints{0, 0, 0, 0}},
                  {"strides", Ints{1, 1}}}});
  ops.push_back(
      {OpKind::Reshape, {y4}, {quantize.results[0]}, {{"shape", Ints{1, n}}}});
  return ops;
}

// reduce_mean(dequantize(q)) = reduce_mean(q) for q quantized per tensor,
// and so for reduce_sum: the reduction dequantizes each element as it
// reads it (ir/Ops.def), so the f32 copy of a global pool's input, the
// largest tensor of a classifier's tail, is never stored.
std::optional<Op> foldReduction(const Function &f, const UseDef &ud,
                                const Op &reduce) {
  if (reduce.kind != OpKind::ReduceMean && reduce.kind != OpKind::ReduceSum)
    return std::nullopt;
  auto q = dequantized(f, ud, reduce.operands[0], /*constant=*/false);
  if (!q || ud.uses[reduce.operands[0]] != 1)
    return std::nullopt;
  Op folded = reduce;
  folded.operands[0] = *q;
  return folded;
}

/// The ops that replace op `i`, or nullopt.
std::optional<std::vector<Op>> fold(Function &f, const UseDef &ud, size_t i) {
  if (auto reduction = foldReduction(f, ud, f.ops[i]))
    return std::vector<Op>{std::move(*reduction)};
  if (f.ops[i].kind != OpKind::Quantize)
    return std::nullopt;
  if (auto conv = foldConv(f, ud, f.ops[i]))
    return std::vector<Op>{std::move(*conv)};
  return foldGemm(f, ud, f.ops[i]);
}

void foldFunction(Function &f) {
  UseDef ud(f);
  // Each replacement reads only ops before the op it replaces, so
  // all are matched on the unchanged function, then spliced in.
  std::vector<std::optional<std::vector<Op>>> replacements;
  for (size_t i = 0; i < f.ops.size(); ++i)
    replacements.push_back(fold(f, ud, i));
  std::vector<Op> ops;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    if (replacements[i])
      llvm::append_range(ops, std::move(*replacements[i]));
    else
      ops.push_back(std::move(f.ops[i]));
  }
  f.ops = std::move(ops);
  f.compact();
}

} // namespace

llvm::Error foldQdq(Module &m) {
  for (Function &f : m.functions)
    foldFunction(f);
  return llvm::Error::success();
}

} // namespace mnc
