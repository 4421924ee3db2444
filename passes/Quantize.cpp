// quantize: the weights of an fp32 model between quantized activations
// become int8. Calibration (compiler/Calibrate.cpp) writes the activation
// ranges as quantize -> dequantize pairs, the QDQ form ONNX Runtime's static
// quantization produces; this pass quantizes the constant weights and
// biases of each convolution and classifier Gemm whose input and output
// carry such pairs, so that fold-qdq turns them into the integer conv2d
// QOperator models import to and every int8 kernel, the interpreter and all
// targets run them unchanged.
//
// Weights are symmetric int8 per output channel (axis 0), which keeps
// depthwise convolutions accurate where one per-tensor scale cannot cover
// channels of very different magnitude; biases are i32 at s_x * s_w.
#include "passes/Passes.h"

#include "ir/Math.h"

#include "llvm/ADT/STLExtras.h"

namespace mnc {
namespace {

using Ints = std::vector<int64_t>;

/// Users of each value: how many, and the index of the last op using it.
struct Users {
  explicit Users(const Function &f)
      : count(f.valueTypes.size(), 0), last(f.valueTypes.size(), -1) {
    for (size_t i = 0; i < f.ops.size(); ++i)
      for (ValueId v : f.ops[i].operands)
        ++count[v], last[v] = static_cast<int>(i);
    for (ValueId v : f.results)
      ++count[v], last[v] = -1;
  }
  /// The only op using `v`, or null.
  const Op *only(const Function &f, ValueId v) const {
    return count[v] == 1 && last[v] >= 0 ? &f.ops[last[v]] : nullptr;
  }
  std::vector<int> count, last;
};

/// Whether `v` reaches a quantize as its only use, through at most one
/// relu or clip (which the quantize's saturation may absorb).
bool quantizedOutput(const Function &f, const Users &users, ValueId v) {
  const Op *user = users.only(f, v);
  if (user && (user->kind == OpKind::Relu || user->kind == OpKind::Clip))
    user = users.only(f, user->results[0]);
  return user && user->kind == OpKind::Quantize;
}

/// The per-tensor scale of `v` if it is dequantize(q) of an 8-bit q.
std::optional<float> dequantizedScale(const Function &f,
                                      const std::vector<int> &def, ValueId v) {
  if (def[v] < 0 || f.ops[def[v]].kind != OpKind::Dequantize)
    return std::nullopt;
  const TensorType &q = f.type(f.ops[def[v]].operands[0]);
  if ((q.elem != ElemKind::I8 && q.elem != ElemKind::U8) || !q.quant ||
      !q.quant->isPerTensor())
    return std::nullopt;
  return q.quant->scale(0);
}

/// The f32 constant defining `v`, or null.
const Tensor *floatConstant(const Function &f, ValueId v) {
  const Tensor *t = f.constantValue(v);
  return t && t->type.elem == ElemKind::F32 && !t->type.quant ? t : nullptr;
}

/// Appends to `ops` a constant of `t` and its dequantize to f32; returns
/// the dequantized value.
ValueId emitDequantized(Function &f, std::vector<Op> &ops, Tensor t) {
  TensorType floatType = t.type.withElem(ElemKind::F32);
  ValueId q = f.newValue(t.type);
  Op constant{OpKind::Constant, {}, {q}, {}};
  constant.attrs["value"] = std::make_shared<const Tensor>(std::move(t));
  ops.push_back(std::move(constant));
  ValueId d = f.newValue(floatType);
  ops.push_back({OpKind::Dequantize, {q}, {d}, {}});
  return d;
}

// w[c, ...] = s_c * q[c, ...] with s_c = max |w[c, ...]| / 127, q in
// [-127, 127] (symmetric, zero point 0: the integer product needs no
// weight zero-point correction).
Tensor quantizeWeights(llvm::ArrayRef<float> w, llvm::ArrayRef<int64_t> shape) {
  int64_t channels = shape[0], inner = w.size() / channels;
  QuantParams p{{}, std::vector<int32_t>(channels, 0), int64_t(0)};
  Tensor q(TensorType(ElemKind::I8, shape, p));
  std::vector<float> scales;
  for (int64_t c = 0; c < channels; ++c) {
    float absMax = 0;
    for (int64_t i = 0; i < inner; ++i)
      absMax = std::fmax(absMax, std::fabs(w[c * inner + i]));
    float s = math::symmetricScale(absMax, 127);
    scales.push_back(s);
    for (int64_t i = 0; i < inner; ++i)
      q.data<int8_t>()[c * inner + i] =
          math::quantize<int8_t>(w[c * inner + i], s, 0);
  }
  q.type.quant->scales = std::move(scales);
  return q;
}

// b[c] = (s_x * s_w[c]) * q[c]: the bias the integer conv adds to its
// accumulator of (x - z_x) * q_w products.
Tensor quantizeBias(llvm::ArrayRef<float> b, float inputScale,
                    const QuantParams &weights) {
  int64_t n = b.size();
  QuantParams p{{}, std::vector<int32_t>(n, 0), int64_t(0)};
  for (int64_t c = 0; c < n; ++c)
    p.scales.push_back(inputScale * weights.scale(c));
  Tensor q(TensorType(ElemKind::I32, {n}, p));
  for (int64_t c = 0; c < n; ++c)
    q.data<int32_t>()[c] = math::quantize<int32_t>(b[c], p.scales[c], 0);
  return q;
}

llvm::ArrayRef<float> floats(const Tensor &t) {
  return {t.data<float>(), static_cast<size_t>(t.numElements())};
}

// conv2d(dequantize(x), w, b) -> [relu|clip] -> quantize
//   = conv2d(dequantize(x), dequantize(q_w), dequantize(q_b)) -> ...
bool quantizeConv(Function &f, const std::vector<int> &def, const Users &users,
                  Op &conv, std::vector<Op> &ops) {
  auto sx = dequantizedScale(f, def, conv.operands[0]);
  const Tensor *w = floatConstant(f, conv.operands[1]);
  const Tensor *b =
      conv.operands.size() > 2 ? floatConstant(f, conv.operands[2]) : nullptr;
  if (!sx || !w || (conv.operands.size() > 2 && !b) ||
      !quantizedOutput(f, users, conv.results[0]))
    return false;
  Tensor qw = quantizeWeights(floats(*w), w->type.shape);
  if (b)
    conv.operands[2] =
        emitDequantized(f, ops, quantizeBias(floats(*b), *sx, *qw.type.quant));
  conv.operands[1] = emitDequantized(f, ops, std::move(qw));
  return true;
}

// add(matmul(dequantize(a), w), b) -> quantize, with w: [K, N] and b: [N]
// or [1, N] constants (the classifier Gemm)
//   = add(matmul(dequantize(a), transpose(dequantize(q_w))), dequantize(q_b))
// with q_w: [N, K] per output channel, the form fold-qdq folds.
bool quantizeGemm(Function &f, const std::vector<int> &def, const Users &users,
                  size_t addIndex, std::vector<std::vector<Op>> &before) {
  const Op &add = f.ops[addIndex];
  ValueId y = add.operands[0];
  if (def[y] < 0 || users.count[y] != 1 || f.ops[def[y]].kind != OpKind::MatMul)
    return false;
  Op *mm = &f.ops[def[y]];
  auto sa = dequantizedScale(f, def, mm->operands[0]);
  const Tensor *w = floatConstant(f, mm->operands[1]);
  const Tensor *b = floatConstant(f, add.operands[1]);
  if (!sa || !w || !b || w->type.rank() != 2 ||
      b->numElements() != w->type.shape[1] ||
      !quantizedOutput(f, users, add.results[0]))
    return false;
  int64_t k = w->type.shape[0], n = w->type.shape[1];
  std::vector<float> wt(k * n);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      wt[j * k + i] = w->data<float>()[i * n + j];
  Tensor qw = quantizeWeights(wt, {n, k});
  Tensor qb = quantizeBias(floats(*b), *sa, *qw.type.quant);
  // All new ops go before the matmul, which precedes the add.
  std::vector<Op> &ops = before[def[y]];
  ValueId dw = emitDequantized(f, ops, std::move(qw));
  ValueId t = f.newValue(TensorType(ElemKind::F32, {k, n}));
  ops.push_back({OpKind::Transpose, {dw}, {t}, {{"perm", Ints{1, 0}}}});
  mm->operands[1] = t;
  f.ops[addIndex].operands[1] = emitDequantized(f, ops, std::move(qb));
  return true;
}

void quantizeFunction(Function &f) {
  std::vector<int> def = f.definingOps();
  Users users(f);
  // New constants go right before the matmul or conv that uses them.
  std::vector<std::vector<Op>> before(f.ops.size());
  for (size_t i = 0; i < f.ops.size(); ++i) {
    if (f.ops[i].kind == OpKind::Conv2d)
      quantizeConv(f, def, users, f.ops[i], before[i]);
    else if (f.ops[i].kind == OpKind::Add)
      quantizeGemm(f, def, users, i, before);
  }
  std::vector<Op> ops;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    llvm::append_range(ops, std::move(before[i]));
    ops.push_back(std::move(f.ops[i]));
  }
  f.ops = std::move(ops);
  f.compact();
}

} // namespace

llvm::Error quantize(Module &m, const PassOptions &opts) {
  if (!opts.quantizeWeights)
    return llvm::Error::success();
  for (Function &f : m.functions)
    quantizeFunction(f);
  return llvm::Error::success();
}

} // namespace mnc
