// fold-qdq: QDQ graphs become quantized ops. A QDQ exporter writes an int8
// convolution as dequantize -> f32 conv2d -> quantize; the integer form the
// QOperator importer produces (ONNX QLinearConv) computes the same value
// with an i32 accumulator and one requantization, so QDQ and QOperator
// models run the same int8 kernels and plan the same arena. Residual adds
// and muls become quantized add and mul, an activation of one 8-bit tensor
// a 256-entry table lookup, and reshapes and transposes move int8 elements,
// so no f32 tensor is stored between the integer ops.
#include "passes/Passes.h"

#include "ir/Interpreter.h"
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
  if (!out.isInt8PerTensor())
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
  if (!out.isInt8PerTensor() || !add || ud.uses[quantize.operands[0]] != 1 ||
      ud.uses[add->operands[0]] != 1)
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

// quantize(add(dequantize(a), dequantize(b))) = add(a, b) : the quantize's
// type, and so for mul, with a and b quantized per tensor, or one of them
// f32: the quantized op dequantizes its quantized operands, applies the f32
// op and quantizes (ir/Ops.def), so the residual adds of QDQ models and
// the SE block's scaling by its f32 gate store no f32 tensor.
std::optional<Op> foldBinary(const Function &f, const UseDef &ud,
                             const Op &quantize) {
  const TensorType &out = f.type(quantize.results[0]);
  ValueId y = quantize.operands[0];
  const Op *op = ud.defOf(f, y, OpKind::Add);
  if (!op)
    op = ud.defOf(f, y, OpKind::Mul);
  if (!op || ud.uses[y] != 1 || !out.isInt8PerTensor())
    return std::nullopt;
  auto a = dequantized(f, ud, op->operands[0], /*constant=*/false);
  auto b = dequantized(f, ud, op->operands[1], /*constant=*/false);
  if (!a && !b)
    return std::nullopt;
  return Op{op->kind,
            {a.value_or(op->operands[0]), b.value_or(op->operands[1])},
            {quantize.results[0]},
            op->attrs};
}

// quantize(m(dequantize(x))) = m(x) : the quantize's type for a reshape or
// transpose m, when the quantize has x's parameters (per tensor): it then
// gives back each element's integer, as (q - z) * s / s is within
// 255 * 2^-22 of q - z.
std::optional<Op> foldMove(const Function &f, const UseDef &ud,
                           const Op &quantize) {
  const TensorType &out = f.type(quantize.results[0]);
  int i = ud.def[quantize.operands[0]];
  if (i < 0 || ud.uses[quantize.operands[0]] != 1)
    return std::nullopt;
  const Op &m = f.ops[i];
  if (m.kind != OpKind::Reshape && m.kind != OpKind::Transpose)
    return std::nullopt;
  auto x = dequantized(f, ud, m.operands[0], /*constant=*/false);
  if (!x || f.type(*x).elem != out.elem || *f.type(*x).quant != *out.quant)
    return std::nullopt;
  return Op{m.kind, {*x}, {quantize.results[0]}, m.attrs};
}

/// An elementwise function of one 8-bit tensor: f32 ops of x's shape
/// whose leaves are dequantize(x) and scalar constants, and whose values
/// are used only inside the region (but for its root).
struct Region {
  std::optional<ValueId> x; ///< The 8-bit tensor.
  ValueId dequantized = 0;  ///< dequantize(x).
  llvm::SmallVector<int, 8> ops, constants;
};

/// The most ops a lookup's region holds, and so the deepest the search for
/// one goes: an activation written out is a handful (hard-swish as
/// x * clip(x + 3, 0, 6) / 6 is four), and a model's long chains between a
/// dequantize and a quantize must not cost a search each, or the stack.
constexpr size_t maxRegionOps = 32;

/// Adds the ops computing `v` to `r`, if they have the region's form and
/// it stays within maxRegionOps, `depth` ops below the region's root.
bool collect(const Function &f, const UseDef &ud, ValueId v,
             llvm::ArrayRef<int64_t> shape, Region &r, size_t depth = 0) {
  if (auto x = dequantized(f, ud, v, /*constant=*/false)) {
    if (r.x && (*r.x != *x || r.dequantized != v))
      return false;
    r.x = *x, r.dequantized = v;
    return llvm::ArrayRef(f.type(*x).shape) == shape;
  }
  int i = ud.def[v];
  if (i < 0)
    return false;
  if (llvm::is_contained(r.ops, i) || llvm::is_contained(r.constants, i))
    return true;
  const Op &op = f.ops[i];
  if (op.kind == OpKind::Constant) {
    if (f.type(v).numElements() != 1 || f.type(v).elem != ElemKind::F32)
      return false;
    r.constants.push_back(i);
    return true;
  }
  if (!opInfo(op.kind).elementwise ||
      llvm::ArrayRef(f.type(v).shape) != shape || depth >= maxRegionOps ||
      r.ops.size() >= maxRegionOps)
    return false;
  for (ValueId o : op.operands)
    if (!collect(f, ud, o, shape, r, depth + 1))
      return false;
  r.ops.push_back(i);
  return true;
}

/// The region computing `root`, if it has the form of Region and nothing
/// outside it uses a value inside it.
std::optional<Region> regionOf(const Function &f, const UseDef &ud,
                               ValueId root) {
  Region r;
  if (ud.def[root] < 0 || !collect(f, ud, root, f.type(root).shape, r) ||
      !r.x || r.ops.empty())
    return std::nullopt;
  llvm::sort(r.ops);
  std::vector<int> inside(f.valueTypes.size(), 0);
  for (int i : r.ops)
    for (ValueId o : f.ops[i].operands)
      ++inside[o];
  for (int i : r.ops) {
    ValueId v = f.ops[i].results[0];
    if (v != root && inside[v] != ud.uses[v])
      return std::nullopt;
  }
  return ud.uses[root] == 1 ? std::optional(r) : std::nullopt;
}

/// The 256 values quantize(region(dequantize(x))) takes, one per value of
/// x's 8-bit type from its minimum up, computed by the reference
/// interpreter.
std::optional<Tensor> lookupTable(const Function &f, const Region &r,
                                  const TensorType &out) {
  const TensorType &x = f.type(*r.x);
  Function table;
  table.args = {table.newValue(x.withShape({256}))};
  table.argNames = {"x"};
  std::vector<ValueId> map(f.valueTypes.size());
  map[r.dequantized] = table.newValue(TensorType(ElemKind::F32, {256}));
  table.ops.push_back(
      {OpKind::Dequantize, {table.args[0]}, {map[r.dequantized]}, {}});
  for (int i : r.constants) {
    const Tensor &c = f.ops[i].getTensor("value");
    Tensor scalar(c.type.withShape({1}), c.bytes);
    ValueId v = map[f.ops[i].results[0]] = table.newValue(scalar.type);
    Op constant{OpKind::Constant, {}, {v}, {}};
    constant.attrs["value"] = std::make_shared<const Tensor>(std::move(scalar));
    table.ops.push_back(std::move(constant));
  }
  for (int i : r.ops) {
    Op op = f.ops[i];
    for (ValueId &o : op.operands)
      o = map[o];
    op.results = {map[op.results[0]] =
                      table.newValue(TensorType(ElemKind::F32, {256}))};
    table.ops.push_back(std::move(op));
  }
  ValueId q = table.newValue(out.withShape({256}));
  table.ops.push_back(
      {OpKind::Quantize, {map[f.ops[r.ops.back()].results[0]]}, {q}, {}});
  table.results = {q};
  table.resultNames = {"table"};
  std::vector<uint8_t> bytes(256);
  int min = x.elem == ElemKind::I8 ? -128 : 0;
  for (int k = 0; k < 256; ++k)
    bytes[k] = static_cast<uint8_t>(k + min);
  auto results = interpret(table, {Tensor(table.type(0), std::move(bytes))});
  if (!results) {
    llvm::consumeError(results.takeError());
    return std::nullopt;
  }
  return std::move((*results)[0]);
}

// quantize(g(dequantize(x))) = lookup(x, table) for g a function of x
// alone made of elementwise ops (hard-swish, sigmoid, x * hard_sigmoid(x),
// ...) and x and the result 8-bit per tensor: x takes 256 values, so the
// table of the 256 results the f32 ops compute is the whole function.
std::optional<std::vector<Op>> foldLookup(Function &f, const UseDef &ud,
                                          const Op &quantize) {
  // Copies: f.newValue below may move the types.
  const TensorType out = f.type(quantize.results[0]);
  if (!out.isInt8PerTensor())
    return std::nullopt;
  auto region = regionOf(f, ud, quantize.operands[0]);
  if (!region)
    return std::nullopt;
  auto table = lookupTable(f, *region, out);
  if (!table)
    return std::nullopt;
  ValueId t = f.newValue(table->type);
  Op constant{OpKind::Constant, {}, {t}, {}};
  constant.attrs["value"] = std::make_shared<const Tensor>(std::move(*table));
  return std::vector<Op>{
      std::move(constant),
      {OpKind::Lookup, {*region->x, t}, {quantize.results[0]}, {}}};
}

/// The ops that replace op `i`, or nullopt.
std::optional<std::vector<Op>> fold(Function &f, const UseDef &ud, size_t i) {
  if (auto reduction = foldReduction(f, ud, f.ops[i]))
    return std::vector<Op>{std::move(*reduction)};
  if (f.ops[i].kind != OpKind::Quantize)
    return std::nullopt;
  if (auto conv = foldConv(f, ud, f.ops[i]))
    return std::vector<Op>{std::move(*conv)};
  if (auto lookup = foldLookup(f, ud, f.ops[i]))
    return lookup;
  if (auto binary = foldBinary(f, ud, f.ops[i]))
    return std::vector<Op>{std::move(*binary)};
  if (auto move = foldMove(f, ud, f.ops[i]))
    return std::vector<Op>{std::move(*move)};
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
