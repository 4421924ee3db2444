// Import of the neural-network ONNX ops: convolution, pooling, batch norm,
// activations, elementwise arithmetic, reductions, Gemm/MatMul, softmax.
// Compositions (BatchNormalization, Gemm, variadic Max/Min/Sum) are
// expanded into core IR ops here.
#include "compiler/onnx/OpImporters.h"

#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>
#include <numeric>

namespace mnc::onnximport {
namespace {

using Ints = std::vector<int64_t>;

llvm::Expected<ValueId> binary(NodeContext &ctx, OpKind kind, ValueId a,
                               ValueId b) {
  return ctx.create(kind, {a, b});
}

/// Shape [C, 1, ...] that broadcasts a per-channel vector against dim 1 of
/// a tensor of rank `rank`.
Ints channelShape(int64_t channels, size_t rank) {
  Ints shape{channels};
  shape.resize(rank > 1 ? rank - 1 : 1, 1);
  return shape;
}

OpKind unaryKind(llvm::StringRef opType) {
  return llvm::StringSwitch<OpKind>(opType)
      .Case("Relu", OpKind::Relu)
      .Case("Sigmoid", OpKind::Sigmoid)
      .Case("Tanh", OpKind::Tanh)
      .Case("Exp", OpKind::Exp)
      .Case("Log", OpKind::Log)
      .Case("Sqrt", OpKind::Sqrt)
      .Case("Neg", OpKind::Neg)
      .Case("Abs", OpKind::Abs)
      .Case("HardSwish", OpKind::HardSwish);
}

OpKind binaryKind(llvm::StringRef opType) {
  return llvm::StringSwitch<OpKind>(opType)
      .Case("Add", OpKind::Add)
      .Case("Sub", OpKind::Sub)
      .Case("Mul", OpKind::Mul)
      .Case("Div", OpKind::Div)
      .Case("PRelu", OpKind::PRelu)
      .Case("Max", OpKind::Max)
      .Case("Min", OpKind::Min)
      .Case("Sum", OpKind::Add);
}

llvm::Error checkArithmeticType(NodeContext &ctx, ValueId v, bool floatOnly) {
  const TensorType &t = ctx.typeOf(v);
  bool ok =
      !t.isQuantized() &&
      (t.elem == ElemKind::F32 ||
       (!floatOnly && (t.elem == ElemKind::I32 || t.elem == ElemKind::I64)));
  if (!ok)
    return unsupported("element type {} is not supported{}", toString(t),
                       floatOnly ? " (f32 only)" : " (f32, i32, i64 are)");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<Window> windowAttrs(NodeContext &ctx, const TensorType &x,
                                   Ints kernel) {
  if (x.rank() != 4)
    return unsupported("only 2-D windows (rank 4 input) are supported, input "
                       "is {}",
                       toString(x));
  Window w{std::move(kernel), ctx.getInts("strides", {1, 1}),
           ctx.getInts("dilations", {1, 1}), ctx.getInts("pads", {0, 0, 0, 0})};
  if (w.kernel.size() != 2 || w.strides.size() != 2 ||
      w.dilations.size() != 2 || w.pads.size() != 4)
    return invalid("kernel_shape, strides, dilations and pads must have 2, "
                   "2, 2 and 4 entries");
  for (int i = 0; i < 2; ++i)
    if (w.kernel[i] < 1 || w.strides[i] < 1 || w.dilations[i] < 1)
      return invalid("kernel_shape, strides and dilations must be positive");
  std::string autoPad = ctx.getString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    w.pads = {0, 0, 0, 0};
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return unsupported("auto_pad \"{}\" is not supported", autoPad);
  // ONNX SAME padding: output = ceil(input / stride); an odd total goes at
  // the end for SAME_UPPER and at the beginning for SAME_LOWER.
  for (int i = 0; i < 2; ++i) {
    int64_t in = x.shape[2 + i];
    int64_t out = (in + w.strides[i] - 1) / w.strides[i];
    int64_t total =
        std::max<int64_t>(0, (out - 1) * w.strides[i] +
                                 (w.kernel[i] - 1) * w.dilations[i] + 1 - in);
    int64_t small = total / 2, large = total - small;
    w.pads[i] = autoPad == "SAME_UPPER" ? small : large;
    w.pads[2 + i] = autoPad == "SAME_UPPER" ? large : small;
  }
  return w;
}

llvm::Error importConv(NodeContext &ctx) {
  auto x = ctx.input(0), w = ctx.input(1);
  if (!x || !w)
    return llvm::joinErrors(x.takeError(), w.takeError());
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    if (ctx.hasInput(i))
      if (auto err = ctx.requireFloat(i))
        return err;
  const TensorType &wt = ctx.typeOf(*w);
  if (wt.rank() != 4)
    return unsupported("only 2-D convolution is supported, weight is {}",
                       toString(wt));
  Ints kernel{wt.shape[2], wt.shape[3]};
  if (ctx.getInts("kernel_shape", kernel) != kernel)
    return invalid("kernel_shape does not match weight {}", toString(wt));
  auto win = windowAttrs(ctx, ctx.typeOf(*x), kernel);
  if (!win)
    return win.takeError();
  llvm::SmallVector<ValueId, 3> operands{*x, *w};
  if (ctx.hasInput(2))
    operands.push_back(*ctx.input(2));
  auto y = ctx.create(OpKind::Conv2d, operands,
                      {{"dilations", win->dilations},
                       {"group", ctx.getInt("group", 1)},
                       {"pads", win->pads},
                       {"strides", win->strides}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

// y = (x - mean) / sqrt(var + eps) * scale + bias = x * s + t
//   with s = scale / sqrt(var + eps), t = bias - mean * s.
llvm::Error importBatchNorm(NodeContext &ctx) {
  if (ctx.getInt("training_mode", 0) != 0 || ctx.getInt("spatial", 1) != 1)
    return unsupported("training_mode and spatial=0 are not supported");
  llvm::SmallVector<ValueId, 5> in;
  for (unsigned i = 0; i < 5; ++i) {
    auto v = ctx.input(i);
    if (!v)
      return v.takeError();
    if (auto err = ctx.requireFloat(i))
      return err;
    in.push_back(*v);
  }
  const TensorType xt = ctx.typeOf(in[0]); // Copy: values are added below.
  if (xt.rank() < 2)
    return invalid("input must have rank >= 2, got {}", toString(xt));
  float eps = ctx.getFloat("epsilon", 1e-5f);
  auto varEps = binary(ctx, OpKind::Add, in[4], ctx.scalar(eps));
  if (!varEps)
    return varEps.takeError();
  auto root = ctx.create(OpKind::Sqrt, {*varEps});
  if (!root)
    return root.takeError();
  auto s = binary(ctx, OpKind::Div, in[1], *root);
  if (!s)
    return s.takeError();
  auto meanS = binary(ctx, OpKind::Mul, in[3], *s);
  if (!meanS)
    return meanS.takeError();
  auto t = binary(ctx, OpKind::Sub, in[2], *meanS);
  if (!t)
    return t.takeError();
  Ints shape = channelShape(xt.shape[1], xt.rank());
  auto s2 = ctx.reshape(*s, shape), t2 = ctx.reshape(*t, shape);
  if (!s2 || !t2)
    return llvm::joinErrors(s2.takeError(), t2.takeError());
  auto scaled = binary(ctx, OpKind::Mul, in[0], *s2);
  if (!scaled)
    return scaled.takeError();
  auto y = binary(ctx, OpKind::Add, *scaled, *t2);
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error importUnary(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  auto y = ctx.create(unaryKind(ctx.node.op_type()), {*x});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error importHardSigmoid(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  auto y = ctx.create(OpKind::HardSigmoid, {*x},
                      {{"alpha", ctx.getFloat("alpha", 0.2f)},
                       {"beta", ctx.getFloat("beta", 0.5f)}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error importLeakyRelu(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  auto y = ctx.create(OpKind::LeakyRelu, {*x},
                      {{"alpha", ctx.getFloat("alpha", 0.01f)}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

// Clip-6 takes min/max attributes, Clip-11 optional scalar inputs.
llvm::Error importClip(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  if (ctx.opset() < 11) {
    lo = ctx.getFloat("min", lo);
    hi = ctx.getFloat("max", hi);
  } else {
    for (unsigned i : {1u, 2u}) {
      if (!ctx.hasInput(i))
        continue;
      auto v = ctx.constFloats(i);
      if (!v)
        return v.takeError();
      if (v->size() != 1)
        return invalid("input {} must be a scalar", i);
      (i == 1 ? lo : hi) = v->front();
    }
  }
  if (lo > hi)
    return unsupported("min {} > max {} is not supported", lo, hi);
  auto y = ctx.create(OpKind::Clip, {*x}, {{"max", hi}, {"min", lo}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error importBinary(NodeContext &ctx) {
  auto a = ctx.input(0), b = ctx.input(1);
  if (!a || !b)
    return llvm::joinErrors(a.takeError(), b.takeError());
  OpKind kind = binaryKind(ctx.node.op_type());
  for (ValueId v : {*a, *b})
    if (auto err = checkArithmeticType(ctx, v, kind == OpKind::PRelu))
      return err;
  auto y = binary(ctx, kind, *a, *b);
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

// Max/Min/Sum of N inputs fold left over the binary op.
llvm::Error importVariadic(NodeContext &ctx) {
  OpKind kind = binaryKind(ctx.node.op_type());
  auto acc = ctx.input(0);
  if (!acc)
    return acc.takeError();
  if (auto err = checkArithmeticType(ctx, *acc, false))
    return err;
  for (unsigned i = 1; i < ctx.numInputs(); ++i) {
    auto v = ctx.input(i);
    if (!v)
      return v.takeError();
    if (auto err = checkArithmeticType(ctx, *v, false))
      return err;
    acc = binary(ctx, kind, *acc, *v);
    if (!acc)
      return acc.takeError();
  }
  ctx.setOutput(0, *acc);
  return llvm::Error::success();
}

llvm::Error importMaxPool(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  const TensorType &xt = ctx.typeOf(*x);
  if (xt.elem != ElemKind::F32 && !xt.isQuantized())
    return unsupported("input type {} is not supported (f32 or quantized)",
                       toString(xt));
  if (ctx.getInt("storage_order", 0) != 0)
    return unsupported("storage_order 1 is not supported");
  auto win = windowAttrs(ctx, xt, ctx.getInts("kernel_shape"));
  if (!win)
    return win.takeError();
  auto y = ctx.create(OpKind::MaxPool, {*x},
                      {{"ceil_mode", ctx.getInt("ceil_mode", 0)},
                       {"dilations", win->dilations},
                       {"kernel", win->kernel},
                       {"pads", win->pads},
                       {"strides", win->strides}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Expected<ValueId> buildAveragePool(NodeContext &ctx, ValueId x) {
  if (ctx.getInts("dilations", {1, 1}) != Ints{1, 1})
    return unsupported("dilations other than 1 are not supported");
  auto win = windowAttrs(ctx, ctx.typeOf(x), ctx.getInts("kernel_shape"));
  if (!win)
    return win.takeError();
  return ctx.create(OpKind::AvgPool, {x},
                    {{"ceil_mode", ctx.getInt("ceil_mode", 0)},
                     {"count_include_pad", ctx.getInt("count_include_pad", 0)},
                     {"kernel", win->kernel},
                     {"pads", win->pads},
                     {"strides", win->strides}});
}

llvm::Error importAveragePool(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  auto y = buildAveragePool(ctx, *x);
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Expected<ValueId> buildGlobalPool(NodeContext &ctx, ValueId x,
                                        OpKind kind) {
  size_t rank = ctx.typeOf(x).rank();
  if (rank < 3)
    return invalid("input must have rank >= 3");
  Ints axes(rank - 2);
  std::iota(axes.begin(), axes.end(), 2);
  return ctx.create(kind, {x}, {{"axes", axes}, {"keepdims", int64_t(1)}});
}

llvm::Error importGlobalPool(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  auto y = buildGlobalPool(ctx, *x,
                           ctx.node.op_type() == "GlobalMaxPool"
                               ? OpKind::ReduceMax
                               : OpKind::ReduceMean);
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

// ReduceSum takes axes as an input from opset 13, the other reductions from
// opset 18; before that they are an attribute.
llvm::Expected<Ints> namedReduceAxes(NodeContext &ctx) {
  int64_t inputSince = ctx.node.op_type() == "ReduceSum" ? 13 : 18;
  if (ctx.opset() < inputSince)
    return ctx.getInts("axes");
  if (!ctx.hasInput(1))
    return Ints{};
  return ctx.constInts(1);
}

llvm::Expected<Ints> reductionAxes(Ints axes, int64_t rank) {
  if (axes.empty()) {
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
  }
  for (int64_t &a : axes) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return n.takeError();
    a = *n;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

llvm::Error importReduce(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  llvm::StringRef opType = ctx.node.op_type();
  auto named = namedReduceAxes(ctx);
  if (!named)
    return named.takeError();
  if (named->empty() && ctx.getInt("noop_with_empty_axes", 0)) {
    ctx.setOutput(0, *x);
    return llvm::Error::success();
  }
  auto normalized = reductionAxes(*named, ctx.typeOf(*x).rank());
  if (!normalized)
    return normalized.takeError();
  Ints axes = std::move(*normalized);
  if (axes.empty()) { // A scalar reduces to itself.
    ctx.setOutput(0, *x);
    return llvm::Error::success();
  }
  OpKind kind = llvm::StringSwitch<OpKind>(opType)
                    .Case("ReduceMean", OpKind::ReduceMean)
                    .Case("ReduceMax", OpKind::ReduceMax)
                    .Case("ReduceSum", OpKind::ReduceSum);
  auto y = ctx.create(
      kind, {*x},
      {{"axes", axes},
       {"keepdims", ctx.getInt("keepdims", 1) ? int64_t(1) : int64_t(0)}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error importArgMax(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  auto axis = normalizeAxis(ctx.getInt("axis", 0), ctx.typeOf(*x).rank());
  if (!axis)
    return axis.takeError();
  auto y = ctx.create(
      OpKind::ArgMax, {*x},
      {{"axis", *axis},
       {"keepdims", ctx.getInt("keepdims", 1) ? int64_t(1) : int64_t(0)},
       {"select_last_index", ctx.getInt("select_last_index", 0)}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

// Gemm: y = alpha * A' B' + beta * C, A' = transA ? A^T : A, likewise B'.
llvm::Error importGemm(NodeContext &ctx) {
  llvm::SmallVector<ValueId, 3> in;
  for (unsigned i = 0; i < 3; ++i) {
    if (i == 2 && !ctx.hasInput(2))
      break;
    auto v = ctx.input(i);
    if (!v)
      return v.takeError();
    if (auto err = ctx.requireFloat(i))
      return err;
    in.push_back(*v);
  }
  for (unsigned i = 0; i < 2; ++i) {
    if (ctx.typeOf(in[i]).rank() != 2)
      return invalid("input {} must have rank 2, got {}", i,
                     toString(ctx.typeOf(in[i])));
    if (!ctx.getInt(i == 0 ? "transA" : "transB", 0))
      continue;
    auto t = ctx.create(OpKind::Transpose, {in[i]}, {{"perm", Ints{1, 0}}});
    if (!t)
      return t.takeError();
    in[i] = *t;
  }
  auto y = ctx.create(OpKind::MatMul, {in[0], in[1]});
  if (!y)
    return y.takeError();
  float alpha = ctx.getFloat("alpha", 1.0f), beta = ctx.getFloat("beta", 1.0f);
  if (alpha != 1.0f)
    y = binary(ctx, OpKind::Mul, *y, ctx.scalar(alpha));
  if (y && in.size() == 3 && beta != 0.0f) {
    auto c = beta == 1.0f ? llvm::Expected<ValueId>(in[2])
                          : binary(ctx, OpKind::Mul, in[2], ctx.scalar(beta));
    if (!c)
      return c.takeError();
    y = binary(ctx, OpKind::Add, *y, *c);
  }
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Expected<ValueId> buildNumpyMatMul(NodeContext &ctx, ValueId a, ValueId b,
                                         MatMulBuilder matmul) {
  Ints as(ctx.typeOf(a).shape.begin(), ctx.typeOf(a).shape.end());
  Ints bs(ctx.typeOf(b).shape.begin(), ctx.typeOf(b).shape.end());
  if (as.empty() || bs.empty())
    return invalid("operands must have rank >= 1");
  bool aVec = as.size() == 1, bVec = bs.size() == 1;
  auto a2 = aVec ? ctx.reshape(a, {1, as[0]}) : a;
  if (!a2)
    return a2.takeError();
  auto b2 = bVec ? ctx.reshape(b, {bs[0], 1}) : b;
  if (!b2)
    return b2.takeError();
  auto y = matmul(*a2, *b2);
  if (!y || !(aVec || bVec))
    return y;
  Ints shape(ctx.typeOf(*y).shape.begin(), ctx.typeOf(*y).shape.end());
  if (bVec)
    shape.pop_back();
  if (aVec)
    shape.erase(shape.end() - (bVec ? 1 : 2));
  return ctx.reshape(*y, shape);
}

llvm::Error importMatMul(NodeContext &ctx) {
  auto a = ctx.input(0), b = ctx.input(1);
  if (!a || !b)
    return llvm::joinErrors(a.takeError(), b.takeError());
  for (unsigned i = 0; i < 2; ++i)
    if (auto err = ctx.requireFloat(i))
      return err;
  auto y = buildNumpyMatMul(ctx, *a, *b, [&](ValueId a2, ValueId b2) {
    return ctx.create(OpKind::MatMul, {a2, b2});
  });
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

// Softmax before opset 13 flattens the input to 2-D at `axis` (default 1);
// from opset 13 it works along one axis (default -1).
llvm::Error importSoftmax(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  OpKind kind =
      ctx.node.op_type() == "Softmax" ? OpKind::Softmax : OpKind::LogSoftmax;
  const TensorType xt = ctx.typeOf(*x);
  int64_t rank = xt.rank();
  bool legacy = ctx.opset() < 13;
  auto axis = normalizeAxis(ctx.getInt("axis", legacy ? 1 : -1), rank);
  if (!axis)
    return axis.takeError();
  if (!legacy) {
    auto y = ctx.create(kind, {*x}, {{"axis", *axis}});
    if (!y)
      return y.takeError();
    ctx.setOutput(0, *y);
    return llvm::Error::success();
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < *axis ? outer : inner) *= xt.shape[d];
  auto flat = ctx.reshape(*x, {outer, inner});
  if (!flat)
    return flat.takeError();
  auto y = ctx.create(kind, {*flat}, {{"axis", int64_t(1)}});
  if (!y)
    return y.takeError();
  auto back = ctx.reshape(*y, xt.shape);
  if (!back)
    return back.takeError();
  ctx.setOutput(0, *back);
  return llvm::Error::success();
}

} // namespace mnc::onnximport
