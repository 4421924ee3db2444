// Import of ONNX quantization ops. QDQ graphs keep their int8 meaning:
// QuantizeLinear/DequantizeLinear become IR quantize/dequantize (never
// folded), and int8 initializers become quantized constants. ONNX Runtime's
// QOperator ops: QLinearConv and QLinearMatMul map to quantized conv2d and
// matmul; the com.microsoft QLinear* ops compose as
// dequantize -> f32 op -> quantize.
#include "compiler/onnx/OpImporters.h"

#include "llvm/ADT/StringSwitch.h"

namespace mnc::onnximport {
namespace {

using Ints = std::vector<int64_t>;

struct QuantSpec {
  ElemKind elem;
  QuantParams params;
};

/// Quantization parameters from a constant scale input and an optional
/// constant zero-point input (default: zero of `elem`). A scale with more
/// than one element is per channel along `axis` of a tensor of `shape`,
/// one per entry of that axis.
llvm::Expected<QuantSpec> quantSpec(NodeContext &ctx, unsigned scaleInput,
                                    unsigned zeroInput, int64_t axis,
                                    llvm::ArrayRef<int64_t> shape,
                                    ElemKind elem = ElemKind::U8) {
  auto scales = ctx.constFloats(scaleInput);
  if (!scales)
    return scales.takeError();
  QuantSpec spec{elem, {*scales, {}, std::nullopt}};
  if (ctx.hasInput(zeroInput)) {
    auto zt = ctx.constInput(zeroInput);
    if (!zt)
      return zt.takeError();
    spec.elem = (*zt)->type.elem;
    for (int64_t i = 0; i < (*zt)->numElements(); ++i)
      spec.params.zeroPoints.push_back((*zt)->getAsInt(i));
  } else {
    spec.params.zeroPoints.assign(scales->size(), 0);
  }
  if (spec.elem != ElemKind::I8 && spec.elem != ElemKind::U8 &&
      spec.elem != ElemKind::I32)
    return unsupported("zero point type {} is not supported (i8, u8)",
                       elemName(spec.elem).str());
  if (spec.params.zeroPoints.size() != scales->size())
    return invalid("{} scales but {} zero points", scales->size(),
                   spec.params.zeroPoints.size());
  if (scales->empty())
    return invalid("quantization scale must not be empty");
  for (float s : *scales)
    if (!(s > 0) || std::isinf(s))
      return unsupported("quantization scale {} is not positive and finite", s);
  if (scales->size() > 1) {
    auto a = normalizeAxis(axis, shape.size());
    if (!a)
      return a.takeError();
    // Broadcasting other counts would change the result's shape.
    if (static_cast<int64_t>(scales->size()) != shape[*a])
      return invalid("{} scales for axis {} of extent {}", scales->size(), *a,
                     shape[*a]);
    spec.params.axis = *a;
  }
  return spec;
}

/// (q - z) * s in f32 arithmetic, for integer tensors that carry no
/// quantization parameters (graph inputs, computed integers).
llvm::Expected<ValueId> dequantizeRaw(NodeContext &ctx, ValueId v,
                                      const QuantParams &p) {
  const TensorType &t = ctx.typeOf(v);
  Ints shape{1};
  if (p.axis)
    shape = Ints(t.rank() - *p.axis, 1), shape[0] = p.scales.size();
  std::vector<double> z(p.zeroPoints.begin(), p.zeroPoints.end());
  std::vector<double> s(p.scales.begin(), p.scales.end());
  auto f = ctx.create(OpKind::Cast, {v}, {{"to", std::string("f32")}});
  if (!f)
    return f.takeError();
  auto centered = ctx.create(
      OpKind::Sub, {*f, ctx.constant(makeTensor(ElemKind::F32, shape, z))});
  if (!centered)
    return centered.takeError();
  return ctx.create(
      OpKind::Mul,
      {*centered, ctx.constant(makeTensor(ElemKind::F32, shape, s))});
}

/// `v` as an IR value of the quantized type `spec`: as is if it already has
/// these parameters, a quantized copy if it is a constant, and requantized
/// from f32 arithmetic if it is a raw integer tensor.
llvm::Expected<ValueId> asQuantized(NodeContext &ctx, ValueId v,
                                    const QuantSpec &spec) {
  const TensorType &t = ctx.typeOf(v);
  if (t.elem != spec.elem)
    return invalid("tensor {} does not match zero point type {}", toString(t),
                   elemName(spec.elem).str());
  if (t.quant == spec.params)
    return v;
  TensorType q(spec.elem, t.shape, spec.params);
  if (const Tensor *c = ctx.constant(v))
    return ctx.constant(Tensor(q, c->bytes));
  if (t.isQuantized())
    return unsupported("tensor {} is used with other quantization "
                       "parameters",
                       toString(t));
  auto real = dequantizeRaw(ctx, v, spec.params);
  if (!real)
    return real.takeError();
  return ctx.create(OpKind::Quantize, {*real}, {}, q);
}

/// The f32 value of quantized input `x` with parameters from inputs
/// `scale` and `zero`.
llvm::Expected<ValueId> dequantizeInput(NodeContext &ctx, unsigned x,
                                        unsigned scale, unsigned zero,
                                        int64_t axis = 1) {
  auto v = ctx.input(x);
  if (!v)
    return v.takeError();
  const TensorType &t = ctx.typeOf(*v);
  auto spec = quantSpec(ctx, scale, zero, axis, t.shape, t.elem);
  if (!spec)
    return spec.takeError();
  if (!t.isQuantized() && !ctx.constant(*v) && t.elem == spec->elem)
    return dequantizeRaw(ctx, *v, spec->params);
  auto q = asQuantized(ctx, *v, *spec);
  if (!q)
    return q.takeError();
  return ctx.create(OpKind::Dequantize, {*q});
}

/// Quantizes f32 `y` with parameters from inputs `scale` and `zero`.
llvm::Expected<ValueId> quantizeOutput(NodeContext &ctx, ValueId y,
                                       unsigned scale, unsigned zero,
                                       int64_t axis = 1) {
  const TensorType &t = ctx.typeOf(y);
  auto spec = quantSpec(ctx, scale, zero, axis, t.shape);
  if (!spec)
    return spec.takeError();
  if (spec->elem == ElemKind::I32)
    return unsupported("quantizing to i32 is not supported");
  return ctx.create(OpKind::Quantize, {y}, {},
                    TensorType(spec->elem, t.shape, spec->params));
}

llvm::Error bind(NodeContext &ctx, llvm::Expected<ValueId> y) {
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

/// The shape an op would have on f32 operands of the same shapes; the IR
/// cannot infer quantized result types, which the caller declares.
llvm::Expected<llvm::SmallVector<int64_t, 4>>
floatShape(NodeContext &ctx, OpKind kind, llvm::ArrayRef<ValueId> operands,
           const Attrs &attrs) {
  Function scratch;
  Op op{kind, {}, {}, attrs};
  for (ValueId v : operands)
    op.operands.push_back(
        scratch.newValue(TensorType(ElemKind::F32, ctx.typeOf(v).shape)));
  auto types = inferResultTypes(scratch, op);
  if (!types)
    return types.takeError();
  return types->front().shape;
}

llvm::Error checkBlockSize(NodeContext &ctx) {
  if (ctx.getInt("block_size", 0) != 0)
    return unsupported("blocked quantization is not supported");
  return llvm::Error::success();
}

} // namespace

llvm::Error importQuantizeLinear(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  if (auto err = ctx.requireFloat(0))
    return err;
  if (auto err = checkBlockSize(ctx))
    return err;
  return bind(ctx, quantizeOutput(ctx, *x, 1, 2, ctx.getInt("axis", 1)));
}

llvm::Error importDequantizeLinear(NodeContext &ctx) {
  if (auto err = checkBlockSize(ctx))
    return err;
  return bind(ctx, dequantizeInput(ctx, 0, 1, 2, ctx.getInt("axis", 1)));
}

// QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B): the bias is i32 with scale
// xs * ws and zero point 0.
llvm::Error importQLinearConv(NodeContext &ctx) {
  auto x = ctx.input(0), w = ctx.input(3);
  if (!x || !w)
    return llvm::joinErrors(x.takeError(), w.takeError());
  auto xs = quantSpec(ctx, 1, 2, 1, ctx.typeOf(*x).shape);
  auto ws = quantSpec(ctx, 4, 5, 0, ctx.typeOf(*w).shape);
  if (!xs || !ws)
    return llvm::joinErrors(xs.takeError(), ws.takeError());
  if (xs->params.axis)
    return unsupported("per-channel input quantization is not supported");
  auto xq = asQuantized(ctx, *x, *xs), wq = asQuantized(ctx, *w, *ws);
  if (!xq || !wq)
    return llvm::joinErrors(xq.takeError(), wq.takeError());
  const TensorType &wt = ctx.typeOf(*wq);
  if (wt.rank() != 4)
    return unsupported("only 2-D convolution is supported, weight is {}",
                       toString(wt));
  auto win = windowAttrs(ctx, ctx.typeOf(*xq), {wt.shape[2], wt.shape[3]});
  if (!win)
    return win.takeError();
  llvm::SmallVector<ValueId, 3> operands{*xq, *wq};
  if (ctx.hasInput(8)) {
    auto b = ctx.constInput(8);
    if (!b)
      return b.takeError();
    if ((*b)->type.elem != ElemKind::I32)
      return invalid("bias must be i32");
    QuantParams bp{{}, {}, ws->params.axis};
    for (float s : ws->params.scales)
      bp.scales.push_back(xs->params.scales[0] * s);
    bp.zeroPoints.assign(bp.scales.size(), 0);
    operands.push_back(ctx.constant(
        Tensor(TensorType(ElemKind::I32, (*b)->type.shape, bp), (*b)->bytes)));
  }
  Attrs attrs{{"dilations", win->dilations},
              {"group", ctx.getInt("group", 1)},
              {"pads", win->pads},
              {"strides", win->strides}};
  auto shape = floatShape(ctx, OpKind::Conv2d, operands, attrs);
  if (!shape)
    return shape.takeError();
  auto ys = quantSpec(ctx, 6, 7, 1, *shape);
  if (!ys)
    return ys.takeError();
  return bind(ctx, ctx.create(OpKind::Conv2d, operands, std::move(attrs),
                              TensorType(ys->elem, *shape, ys->params)));
}

// QLinearMatMul(a, as, az, b, bs, bz, ys, yz) with numpy matmul semantics;
// b may be quantized per column.
llvm::Error importQLinearMatMul(NodeContext &ctx) {
  auto a = ctx.input(0), b = ctx.input(3);
  if (!a || !b)
    return llvm::joinErrors(a.takeError(), b.takeError());
  auto matmul = [&](ValueId a2, ValueId b2) -> llvm::Expected<ValueId> {
    int64_t bRank = ctx.typeOf(b2).rank();
    auto as = quantSpec(ctx, 1, 2, -1, ctx.typeOf(a2).shape);
    auto bs = quantSpec(ctx, 4, 5, bRank - 1, ctx.typeOf(b2).shape);
    if (!as || !bs)
      return llvm::joinErrors(as.takeError(), bs.takeError());
    auto aq = asQuantized(ctx, a2, *as), bq = asQuantized(ctx, b2, *bs);
    if (!aq || !bq)
      return llvm::joinErrors(aq.takeError(), bq.takeError());
    auto shape = floatShape(ctx, OpKind::MatMul, {*aq, *bq}, {});
    if (!shape)
      return shape.takeError();
    auto ys = quantSpec(ctx, 6, 7, -1, *shape);
    if (!ys)
      return ys.takeError();
    return ctx.create(OpKind::MatMul, {*aq, *bq}, {},
                      TensorType(ys->elem, *shape, ys->params));
  };
  return bind(ctx, buildNumpyMatMul(ctx, *a, *b, matmul));
}

// com.microsoft QLinearAdd/QLinearMul(A, As, Az, B, Bs, Bz, Cs, Cz).
llvm::Error importQLinearBinary(NodeContext &ctx) {
  auto a = dequantizeInput(ctx, 0, 1, 2), b = dequantizeInput(ctx, 3, 4, 5);
  if (!a || !b)
    return llvm::joinErrors(a.takeError(), b.takeError());
  OpKind kind = ctx.node.op_type() == "QLinearAdd" ? OpKind::Add : OpKind::Mul;
  auto y = ctx.create(kind, {*a, *b});
  if (!y)
    return y.takeError();
  return bind(ctx, quantizeOutput(ctx, *y, 6, 7));
}

// com.microsoft QLinearSigmoid/QLinearLeakyRelu(X, Xs, Xz, Ys, Yz).
llvm::Error importQLinearUnary(NodeContext &ctx) {
  auto x = dequantizeInput(ctx, 0, 1, 2);
  if (!x)
    return x.takeError();
  auto y = ctx.node.op_type() == "QLinearSigmoid"
               ? ctx.create(OpKind::Sigmoid, {*x})
               : ctx.create(OpKind::LeakyRelu, {*x},
                            {{"alpha", ctx.getFloat("alpha", 0.01f)}});
  if (!y)
    return y.takeError();
  return bind(ctx, quantizeOutput(ctx, *y, 3, 4));
}

// com.microsoft QLinearGlobalAveragePool/QLinearAveragePool(X, Xs, Xz, Ys,
// Yz), NCHW only.
llvm::Error importQLinearPool(NodeContext &ctx) {
  if (ctx.getInt("channels_last", 0))
    return unsupported("channels_last is not supported");
  auto x = dequantizeInput(ctx, 0, 1, 2);
  if (!x)
    return x.takeError();
  auto y = ctx.node.op_type() == "QLinearAveragePool"
               ? buildAveragePool(ctx, *x)
               : buildGlobalPool(ctx, *x, OpKind::ReduceMean);
  if (!y)
    return y.takeError();
  return bind(ctx, quantizeOutput(ctx, *y, 3, 4));
}

// com.microsoft QLinearConcat(Ys, Yz, X0, X0s, X0z, X1, ...).
llvm::Error importQLinearConcat(NodeContext &ctx) {
  if (ctx.numInputs() < 5 || (ctx.numInputs() - 2) % 3)
    return invalid("QLinearConcat needs 2 + 3k inputs");
  llvm::SmallVector<ValueId, 4> parts;
  for (unsigned i = 2; i < ctx.numInputs(); i += 3) {
    auto x = dequantizeInput(ctx, i, i + 1, i + 2);
    if (!x)
      return x.takeError();
    parts.push_back(*x);
  }
  auto axis = normalizeAxis(ctx.getInt("axis", 0), ctx.typeOf(parts[0]).rank());
  if (!axis)
    return axis.takeError();
  auto y = ctx.create(OpKind::Concat, parts, {{"axis", *axis}});
  if (!y)
    return y.takeError();
  return bind(ctx, quantizeOutput(ctx, *y, 0, 1));
}

} // namespace mnc::onnximport
