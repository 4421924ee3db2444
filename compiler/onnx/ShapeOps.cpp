// Import of ONNX data-movement, shape and constant ops. Shape computations
// (Shape, Gather, Unsqueeze, Concat, ...) on constants fold away as they
// are built, so Reshape and friends see constant shape inputs.
#include "compiler/onnx/OpImporters.h"
#include "ir/Verifier.h"

#include "llvm/Support/MathExtras.h"

#include <limits>
#include <numeric>

namespace mnc::onnximport {
namespace {

using Ints = std::vector<int64_t>;

llvm::Error bind(NodeContext &ctx, llvm::Expected<ValueId> y) {
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

/// Axes from the attribute (before `inputSince`) or from input 1.
llvm::Expected<Ints> axesOf(NodeContext &ctx, int64_t inputSince) {
  if (ctx.opset() < inputSince)
    return ctx.getInts("axes");
  if (!ctx.hasInput(1))
    return Ints{};
  return ctx.constInts(1);
}

llvm::Error normalizeAxes(Ints &axes, int64_t rank) {
  for (int64_t &a : axes) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return n.takeError();
    a = *n;
  }
  Ints sorted = axes;
  llvm::sort(sorted);
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return invalid("axes [{}] repeat an axis", fmt::join(axes, ","));
  return llvm::Error::success();
}

llvm::Expected<ElemKind> castTarget(int64_t to) {
  // Checked before narrowing: 2^32 + 1 must not become FLOAT (1).
  if (to < 0 || to > std::numeric_limits<int32_t>::max() ||
      !onnx::TensorProto_DataType_IsValid(static_cast<int>(to)))
    return invalid("attribute 'to' is {}, not an ONNX element type", to);
  return elemKindFromOnnx(static_cast<int32_t>(to), "Cast target");
}

} // namespace

// Identity, and Dropout at inference: output 0 is the input.
llvm::Error importIdentity(NodeContext &ctx) {
  if (ctx.node.op_type() == "Dropout" && ctx.hasInput(2)) {
    auto training = ctx.constInts(2);
    if (!training)
      return training.takeError();
    if (!training->empty() && training->front())
      return unsupported("training_mode is not supported");
  }
  return bind(ctx, ctx.input(0));
}

llvm::Error importConstant(NodeContext &ctx) {
  if (ctx.node.attribute_size() != 1)
    return invalid("Constant needs exactly one attribute");
  llvm::StringRef name = ctx.node.attribute(0).name();
  if (name == "value") {
    const onnx::TensorProto *proto = ctx.getTensor("value");
    if (!proto)
      return llvm::Error::success(); // The attribute type error is reported.
    auto t = ctx.reader().read(*proto, "attribute 'value'");
    if (!t)
      return t.takeError();
    return bind(ctx, ctx.constant(std::move(*t)));
  }
  if (name == "value_float")
    return bind(ctx, ctx.constant(makeTensor(ElemKind::F32, {},
                                             {ctx.getFloat(name, 0)})));
  // Integers are stored as they are, not through double, which is exact
  // only up to 2^53.
  if (name == "value_int" || name == "value_ints") {
    Ints v =
        name == "value_int" ? Ints{ctx.getInt(name, 0)} : ctx.getInts(name);
    Ints shape;
    if (name == "value_ints")
      shape.push_back(v.size());
    Tensor t(TensorType(ElemKind::I64, shape));
    std::copy(v.begin(), v.end(), t.data<int64_t>());
    return bind(ctx, ctx.constant(std::move(t)));
  }
  if (name == "value_floats") {
    std::vector<float> v = ctx.getFloats(name);
    Tensor t(TensorType(ElemKind::F32, {static_cast<int64_t>(v.size())}));
    std::copy(v.begin(), v.end(), t.data<float>());
    return bind(ctx, ctx.constant(std::move(t)));
  }
  return unsupported("attribute '{}' is not supported", name.str());
}

llvm::Error importConstantOfShape(NodeContext &ctx) {
  auto shape = ctx.constInts(0);
  if (!shape)
    return shape.takeError();
  if (auto err = checkShape(*shape, ctx.limits(), "shape"))
    return err;
  Tensor fillValue = makeTensor(ElemKind::F32, {1}, {0.0});
  if (const onnx::TensorProto *proto = ctx.getTensor("value")) {
    auto t = ctx.reader().read(*proto, "attribute 'value'");
    if (!t)
      return t.takeError();
    if (t->numElements() != 1)
      return invalid("attribute 'value' must have one element");
    fillValue = std::move(*t);
  }
  TensorType type(fillValue.type.elem, *shape);
  if (auto err = ctx.reader().reserve(type.byteSize(), "ConstantOfShape"))
    return err;
  Tensor t(type);
  size_t size = fillValue.bytes.size();
  for (size_t off = 0; off < t.bytes.size(); off += size)
    std::copy(fillValue.bytes.begin(), fillValue.bytes.end(),
              t.bytes.begin() + off);
  return bind(ctx, ctx.constant(std::move(t)));
}

// Shape-15 takes start/end (clamped like Python slicing).
llvm::Error importShape(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  const auto &shape = ctx.typeOf(*x).shape;
  int64_t rank = shape.size();
  auto clampDim = [&](int64_t d) {
    return std::clamp<int64_t>(d < 0 ? d + rank : d, 0, rank);
  };
  int64_t start = clampDim(ctx.getInt("start", 0));
  int64_t end = clampDim(ctx.getInt("end", rank));
  std::vector<double> dims;
  for (int64_t d = start; d < end; ++d)
    dims.push_back(static_cast<double>(shape[d]));
  return bind(
      ctx, ctx.constant(makeTensor(ElemKind::I64,
                                   {static_cast<int64_t>(dims.size())}, dims)));
}

llvm::Error importCast(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto to = castTarget(ctx.getInt("to", 0));
  if (!to)
    return to.takeError();
  if (ctx.typeOf(*x).isQuantized())
    return unsupported("casting a quantized tensor is not supported");
  // To bool: x != 0, as (x == 0) == 0.
  if (ctx.getInt("to", 0) == onnx::TensorProto::BOOL &&
      ctx.typeOf(*x).elem != ElemKind::U8) {
    ElemKind kind = ctx.typeOf(*x).elem;
    auto isZero = ctx.create(OpKind::Equal,
                             {*x, ctx.constant(makeTensor(kind, {}, {0.0}))});
    if (!isZero)
      return isZero.takeError();
    return bind(ctx, ctx.create(OpKind::Equal,
                                {*isZero, ctx.constant(makeTensor(
                                              ElemKind::U8, {}, {0.0}))}));
  }
  return bind(ctx,
              ctx.create(OpKind::Cast, {*x}, {{"to", elemName(*to).str()}}));
}

// Reshape: 0 copies the input dim (unless allowzero), -1 is inferred.
llvm::Error importReshape(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto shape = ctx.constInts(1);
  if (!shape)
    return shape.takeError();
  const TensorType &xt = ctx.typeOf(*x);
  bool allowZero = ctx.getInt("allowzero", 0);
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t &d = (*shape)[i];
    if (d == 0 && !allowZero) {
      if (i >= xt.rank())
        return invalid("shape entry {} is 0 but the input has rank {}", i,
                       xt.rank());
      d = xt.shape[i];
    }
    if (d == -1) {
      if (inferred >= 0)
        return invalid("shape [{}] has more than one -1",
                       fmt::join(*shape, ","));
      inferred = i;
      continue;
    }
    if (d < 0)
      return invalid("shape entry {} is negative", d);
    if (llvm::MulOverflow(known, d, known))
      return invalid("cannot reshape {} to [{}]", toString(xt),
                     fmt::join(*shape, ","));
  }
  if (inferred >= 0) {
    if (known == 0 || xt.numElements() % known)
      return invalid("cannot reshape {} to [{}]", toString(xt),
                     fmt::join(*shape, ","));
    (*shape)[inferred] = xt.numElements() / known;
  }
  return bind(ctx, ctx.reshape(*x, *shape));
}

llvm::Error importFlatten(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  const TensorType &xt = ctx.typeOf(*x);
  int64_t rank = xt.rank(), axis = ctx.getInt("axis", 1);
  if (axis < -rank || axis > rank)
    return invalid("axis {} is out of range for rank {}", axis, rank);
  if (axis < 0)
    axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= xt.shape[d];
  return bind(ctx, ctx.reshape(*x, {outer, inner}));
}

llvm::Error importSqueeze(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto axes = axesOf(ctx, 13);
  if (!axes)
    return axes.takeError();
  const auto &in = ctx.typeOf(*x).shape;
  if (auto err = normalizeAxes(*axes, in.size()))
    return err;
  Ints shape;
  for (size_t d = 0; d < in.size(); ++d) {
    bool listed = llvm::is_contained(*axes, static_cast<int64_t>(d));
    if (listed && in[d] != 1)
      return invalid("cannot squeeze dim {} of extent {}", d, in[d]);
    if (!(listed || (axes->empty() && in[d] == 1)))
      shape.push_back(in[d]);
  }
  return bind(ctx, ctx.reshape(*x, shape));
}

llvm::Error importUnsqueeze(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto axes = axesOf(ctx, 13);
  if (!axes)
    return axes.takeError();
  const auto &in = ctx.typeOf(*x).shape;
  // Bounded before the axes are normalized and searched once per dim.
  if (in.size() + axes->size() > ctx.limits().maxRank)
    return invalid("{} axes on rank {} exceed the rank limit of {}",
                   axes->size(), in.size(), ctx.limits().maxRank);
  int64_t rank = in.size() + axes->size();
  if (auto err = normalizeAxes(*axes, rank))
    return err;
  Ints shape;
  auto next = in.begin();
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(llvm::is_contained(*axes, d) ? 1 : *next++);
  return bind(ctx, ctx.reshape(*x, shape));
}

llvm::Error importTranspose(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  Ints perm(ctx.typeOf(*x).rank());
  std::iota(perm.rbegin(), perm.rend(), 0);
  perm = ctx.getInts("perm", perm);
  return bind(ctx, ctx.create(OpKind::Transpose, {*x}, {{"perm", perm}}));
}

llvm::Error importConcat(NodeContext &ctx) {
  llvm::SmallVector<ValueId, 4> in;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    auto v = ctx.input(i);
    if (!v)
      return v.takeError();
    in.push_back(*v);
  }
  if (in.empty())
    return invalid("Concat needs at least one input");
  auto axis = normalizeAxis(ctx.getInt("axis", 0), ctx.typeOf(in[0]).rank());
  if (!axis)
    return axis.takeError();
  return bind(ctx, ctx.create(OpKind::Concat, in, {{"axis", *axis}}));
}

// Split sizes come from the `split` attribute (before opset 13), the split
// input, or an even division (ceil-sized parts with num_outputs, opset 18).
llvm::Error importSplit(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  const TensorType &xt = ctx.typeOf(*x);
  auto axis = normalizeAxis(ctx.getInt("axis", 0), xt.rank());
  if (!axis)
    return axis.takeError();
  int64_t dim = xt.shape[*axis], n = ctx.node.output_size();
  if (n == 0)
    return invalid("Split needs at least one output");
  if (n > ctx.limits().maxOutputs)
    return invalid("{} outputs exceed the limit of {}", n,
                   ctx.limits().maxOutputs);
  if (ctx.opset() >= 18 && ctx.attr("num_outputs") &&
      ctx.getInt("num_outputs", n) != n)
    return invalid("num_outputs {} does not match the {} outputs",
                   ctx.getInt("num_outputs", n), n);
  Ints sizes;
  if (ctx.opset() < 13) {
    sizes = ctx.getInts("split");
  } else if (ctx.hasInput(1)) {
    auto v = ctx.constInts(1);
    if (!v)
      return v.takeError();
    sizes = std::move(*v);
  }
  if (sizes.empty()) {
    int64_t part = (dim + n - 1) / n;
    if (ctx.opset() < 18 && dim % n)
      return invalid("dim {} does not split into {} equal parts", dim, n);
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(part, dim - i * part)));
  }
  if (static_cast<int64_t>(sizes.size()) != n)
    return invalid("{} split sizes for {} outputs", sizes.size(), n);
  auto ys =
      ctx.createMulti(OpKind::Split, {*x}, {{"axis", *axis}, {"sizes", sizes}});
  if (!ys)
    return ys.takeError();
  for (unsigned i = 0; i < ys->size(); ++i)
    ctx.setOutput(i, (*ys)[i]);
  return llvm::Error::success();
}

// ONNX Slice clamps starts/ends to the valid range for the sign of the
// step; the IR op takes them already clamped, one entry per dim.
llvm::Error importSlice(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  const auto &in = ctx.typeOf(*x).shape;
  int64_t rank = in.size();
  Ints starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.getInts("starts");
    ends = ctx.getInts("ends");
    axes = ctx.getInts("axes");
  } else {
    for (auto [i, out] :
         {std::pair{1u, &starts}, {2u, &ends}, {3u, &axes}, {4u, &steps}}) {
      if (!ctx.hasInput(i))
        continue;
      auto v = ctx.constInts(i);
      if (!v)
        return v.takeError();
      *out = std::move(*v);
    }
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return invalid("starts, ends, axes and steps differ in length");
  if (auto err = normalizeAxes(axes, rank))
    return err;
  Ints s(rank, 0), e(in.begin(), in.end()), st(rank, 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t d = axes[k], n = in[d], step = steps[k];
    if (step == 0)
      return invalid("slice step must not be 0");
    // A step beyond the extent takes one element at most, as the extent
    // itself does; the IR keeps steps within it, so step * stride cannot
    // overflow.
    step = std::clamp<int64_t>(step, -std::max<int64_t>(n, 1),
                               std::max<int64_t>(n, 1));
    int64_t b = starts[k] < 0 ? starts[k] + n : starts[k];
    int64_t f = ends[k] < 0 ? ends[k] + n : ends[k];
    if (step > 0) {
      b = std::clamp<int64_t>(b, 0, n);
      f = std::clamp<int64_t>(f, 0, n);
    } else {
      b = std::min(std::max<int64_t>(b, 0), n - 1);
      f = std::min(std::max<int64_t>(f, -1), n - 1);
    }
    s[d] = b, e[d] = f, st[d] = step;
  }
  return bind(ctx, ctx.create(OpKind::Slice, {*x},
                              {{"ends", e}, {"starts", s}, {"steps", st}}));
}

// Pad-2 takes pads/value attributes; Pad-11 inputs; Pad-18 optional axes.
llvm::Error importPad(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  int64_t rank = ctx.typeOf(*x).rank();
  std::string mode = ctx.getString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return unsupported("mode \"{}\" is not supported", mode);
  Ints pads;
  float value = 0;
  if (ctx.opset() < 11) {
    pads = ctx.getInts("pads");
    value = ctx.getFloat("value", 0);
  } else {
    auto p = ctx.constInts(1);
    if (!p)
      return p.takeError();
    pads = std::move(*p);
    if (ctx.hasInput(2)) {
      auto v = ctx.constFloats(2);
      if (!v)
        return v.takeError();
      if (v->size() == 1)
        value = v->front();
    }
    if (ctx.hasInput(3)) {
      auto axes = ctx.constInts(3);
      if (!axes)
        return axes.takeError();
      if (auto err = normalizeAxes(*axes, rank))
        return err;
      if (pads.size() != 2 * axes->size())
        return invalid("{} pads for {} axes", pads.size(), axes->size());
      Ints full(2 * rank, 0);
      for (size_t k = 0; k < axes->size(); ++k) {
        full[(*axes)[k]] = pads[k];
        full[(*axes)[k] + rank] = pads[k + axes->size()];
      }
      pads = std::move(full);
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return invalid("pads has {} entries, input rank is {}", pads.size(), rank);
  return bind(ctx,
              ctx.create(OpKind::Pad, {*x},
                         {{"mode", mode}, {"pads", pads}, {"value", value}}));
}

// Tile(x, repeats) with constant repeats: along each axis d, a gather of
// the indices 0..n-1 repeated repeats[d] times (index i % n). Axes repeated
// 0 times go first, so no intermediate result outgrows the final one; once
// the tensor is empty, a reshape gives it the result shape.
llvm::Error importTile(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto repeats = ctx.constInts(1);
  if (!repeats)
    return repeats.takeError();
  Ints in(ctx.typeOf(*x).shape.begin(), ctx.typeOf(*x).shape.end());
  if (repeats->size() != in.size())
    return invalid("repeats has {} entries, the input has rank {}",
                   repeats->size(), in.size());
  Ints out = in;
  for (size_t d = 0; d < in.size(); ++d) {
    if ((*repeats)[d] < 0)
      return invalid("repeats [{}] has a negative entry",
                     fmt::join(*repeats, ","));
    if (llvm::MulOverflow(in[d], (*repeats)[d], out[d]))
      return invalid("repeats [{}] of {} overflow the element count",
                     fmt::join(*repeats, ","), toString(ctx.typeOf(*x)));
  }
  if (auto err = checkShape(out, ctx.limits(), "Tile result"))
    return err;
  Ints axes(in.size());
  std::iota(axes.begin(), axes.end(), 0);
  std::stable_partition(axes.begin(), axes.end(),
                        [&](int64_t d) { return out[d] == 0; });
  ValueId y = *x;
  for (int64_t d : axes) {
    if (ctx.typeOf(y).numElements() == 0)
      break;
    if (out[d] == in[d])
      continue;
    if (auto err = ctx.reader().reserve(4 * out[d], "Tile indices"))
      return err;
    Tensor indices(TensorType(ElemKind::I32, {out[d]}));
    for (int64_t i = 0; i < out[d]; ++i)
      indices.data<int32_t>()[i] = static_cast<int32_t>(i % in[d]);
    auto g = ctx.create(OpKind::Gather, {y, ctx.constant(std::move(indices))},
                        {{"axis", d}});
    if (!g)
      return g.takeError();
    y = *g;
  }
  return bind(ctx, ctx.reshape(y, out));
}

llvm::Error importGather(NodeContext &ctx) {
  auto x = ctx.input(0), idx = ctx.input(1);
  if (!x || !idx)
    return llvm::joinErrors(x.takeError(), idx.takeError());
  auto axis = normalizeAxis(ctx.getInt("axis", 0), ctx.typeOf(*x).rank());
  if (!axis)
    return axis.takeError();
  auto y = ctx.create(OpKind::Gather, {*x, *idx}, {{"axis", *axis}});
  if (!y)
    return y.takeError();
  // Constant indices (of an integer type: create checked) are rejected
  // here, where the node is known, rather than by the verifier after import.
  if (const Tensor *indices = ctx.constant(*idx))
    if (auto err =
            checkGatherIndices(*indices, *axis, ctx.typeOf(*x).shape[*axis]))
      return err;
  return bind(ctx, *y);
}

} // namespace mnc::onnximport
