// Import of detection post-processing: NonZero, TopK, NonMaxSuppression,
// GatherND, the comparisons, Range, Expand, Ceil and the ReduceMin and
// ReduceProd of shape values, and the rules that carry data-dependent
// lengths through the other ops (importBounded).
//
// A data-dependent length is a compile-time capacity plus a count computed
// at run time (a Bound on the value, see NodeContext.h); a shape value
// taken from such a tensor has run-time elements (RuntimeInts) whose
// constant stand-ins are their upper bounds. Each rule below computes the
// capacity form with the op's ordinary import and then says where the
// count goes; a rule that cannot say reports the node as unsupported.
#include "compiler/onnx/OpImporters.h"

#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>
#include <numeric>

namespace mnc::onnximport {
namespace {

using Ints = std::vector<int64_t>;

ValueId output(NodeContext &ctx, unsigned k) {
  return ctx.state().values.lookup(ctx.node.output(k));
}

ValueId i32Constant(NodeContext &ctx, int64_t v) {
  return ctx.constant(makeTensor(ElemKind::I32, {}, {double(v)}));
}

/// Element `i` of an integer input as an i32[] value: its run-time value,
/// or its constant (the bound stand-in holds the constant elements).
ValueId element(NodeContext &ctx, ValueId v, const RuntimeInts *ints,
                size_t i) {
  if (ints && (*ints)[i])
    return *(*ints)[i];
  return i32Constant(ctx, ctx.constant(v)->getAsInt(i));
}

/// Whether input `i` is an integer tensor with run-time elements.
bool hasRuntimeInts(NodeContext &ctx, unsigned i) {
  return ctx.runtimeIntsOf(i) != nullptr;
}

llvm::Error bindBound(NodeContext &ctx, unsigned k, Bound b) {
  ctx.setBound(output(ctx, k), b);
  return llvm::Error::success();
}

llvm::Expected<int64_t> axisAttr(NodeContext &ctx, int64_t def, int64_t rank) {
  return normalizeAxis(ctx.getInt("axis", def), rank);
}

/// The one bound shared by the bounded inputs, aligned to an output of
/// rank `rank` (numpy broadcasting aligns dims to the right).
llvm::Expected<Bound> sharedBound(NodeContext &ctx, size_t rank) {
  std::optional<Bound> shared;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    const Bound *b = ctx.boundOf(i);
    if (!b)
      continue;
    auto x = ctx.input(i);
    if (!x)
      return x.takeError();
    Bound aligned{b->axis + int64_t(rank - ctx.typeOf(*x).rank()), b->count};
    if (shared &&
        (shared->axis != aligned.axis || shared->count != aligned.count))
      return unsupported("inputs have different data-dependent lengths");
    shared = aligned;
  }
  if (!shared)
    return unsupported("a run-time length mixed with tensor data");
  return *shared;
}

/// Ops whose output element i depends on input elements i alone (after
/// broadcasting): the output keeps the inputs' bound.
llvm::Error boundedElementwise(NodeContext &ctx, ImportFn plain) {
  if (auto err = plain(ctx))
    return err;
  ValueId y = output(ctx, 0);
  const TensorType &t = ctx.typeOf(y);
  auto aligned = sharedBound(ctx, t.rank());
  if (!aligned)
    return aligned.takeError();
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    if (const Bound *ib = ctx.boundOf(i))
      if (ctx.typeOf(*ctx.input(i)).shape[ib->axis] != t.shape[aligned->axis])
        return unsupported("a data-dependent length broadcasts");
  return bindBound(ctx, 0, *aligned);
}

/// Elementwise arithmetic and comparisons of shape values with run-time
/// elements, one i32 op per element.
llvm::Error runtimeElementwise(NodeContext &ctx, ImportFn plain) {
  llvm::StringRef type = ctx.node.op_type();
  if (auto err = plain(ctx)) // The bound stand-in.
    return err;
  ValueId y = output(ctx, 0);
  int64_t n = ctx.typeOf(y).numElements();
  RuntimeInts out(n);
  if (type == "Cast" || type == "Identity") {
    if (ctx.typeOf(*ctx.input(0)).numElements() != n)
      return unsupported("shape value of another size");
    const RuntimeInts *in = ctx.runtimeIntsOf(0);
    if (type == "Cast" && ctx.typeOf(y).elem == ElemKind::F32)
      return unsupported("casting a run-time length to a float");
    // Casting a length (>= 0) to bool is `length > 0`.
    bool toBool = type == "Cast" && ctx.getInt("to", 0) == 9;
    for (int64_t i = 0; i < n; ++i) {
      if (!(*in)[i])
        continue;
      out[i] = (*in)[i];
      if (toBool) {
        auto gt = ctx.create(OpKind::Greater, {*out[i], i32Constant(ctx, 0)});
        if (!gt)
          return gt.takeError();
        auto c = ctx.create(OpKind::Cast, {*gt}, {{"to", std::string("i32")}});
        if (!c)
          return c.takeError();
        out[i] = *c;
      }
    }
    ctx.setRuntimeInts(y, std::move(out));
    return llvm::Error::success();
  }
  std::optional<OpKind> kind = llvm::StringSwitch<std::optional<OpKind>>(type)
                                   .Case("Add", OpKind::Add)
                                   .Case("Sub", OpKind::Sub)
                                   .Case("Mul", OpKind::Mul)
                                   .Case("Max", OpKind::Max)
                                   .Case("Min", OpKind::Min)
                                   .Case("Equal", OpKind::Equal)
                                   .Case("Greater", OpKind::Greater)
                                   .Case("Less", OpKind::Less)
                                   .Default(std::nullopt);
  if (!kind || ctx.numInputs() != 2)
    return unsupported("{} of a run-time length is not supported", type.str());
  ValueId a = *ctx.input(0), b = *ctx.input(1);
  const RuntimeInts *ia = ctx.runtimeIntsOf(0), *ib = ctx.runtimeIntsOf(1);
  int64_t na = ctx.typeOf(a).numElements(), nb = ctx.typeOf(b).numElements();
  if ((na != n && na != 1) || (nb != n && nb != 1) ||
      (!ia && !ctx.constant(a)) || (!ib && !ctx.constant(b)))
    return unsupported("{} of a run-time length is not supported", type.str());
  bool compares = *kind == OpKind::Equal || *kind == OpKind::Greater ||
                  *kind == OpKind::Less;
  for (int64_t i = 0; i < n; ++i) {
    size_t ea = na == 1 ? 0 : i, eb = nb == 1 ? 0 : i;
    if (!(ia && (*ia)[ea]) && !(ib && (*ib)[eb]))
      continue;
    auto r =
        ctx.create(*kind, {element(ctx, a, ia, ea), element(ctx, b, ib, eb)});
    if (r && compares)
      r = ctx.create(OpKind::Cast, {*r}, {{"to", std::string("i32")}});
    if (!r)
      return r.takeError();
    out[i] = *r;
  }
  ctx.setRuntimeInts(y, std::move(out));
  return llvm::Error::success();
}

/// Shape of a bounded tensor: its capacity, with the count at the bounded
/// dim.
llvm::Error boundedShape(NodeContext &ctx, ImportFn plain) {
  const Bound *b = ctx.boundOf(0);
  if (auto err = plain(ctx))
    return err;
  ValueId y = output(ctx, 0);
  int64_t rank = ctx.typeOf(*ctx.input(0)).rank();
  if (ctx.typeOf(y).numElements() != rank)
    return unsupported("Shape with start or end of a data-dependent tensor");
  RuntimeInts ints(rank);
  ints[b->axis] = b->count;
  ctx.setRuntimeInts(y, std::move(ints));
  return llvm::Error::success();
}

llvm::Error boundedGather(NodeContext &ctx, ImportFn plain) {
  const RuntimeInts *ints = ctx.runtimeIntsOf(0);
  const Bound *data = ctx.boundOf(0), *indices = ctx.boundOf(1);
  if (hasRuntimeInts(ctx, 1))
    return unsupported("Gather with indices computed from a run-time length");
  auto x = ctx.input(0), idx = ctx.input(1);
  if (!x || !idx)
    return x ? idx.takeError() : x.takeError();
  int64_t rank = ctx.typeOf(*x).rank();
  auto axis = axisAttr(ctx, 0, rank);
  if (!axis)
    return axis.takeError();
  if (ints) {
    auto where = ctx.constInts(1);
    if (!where)
      return where.takeError();
    RuntimeInts picked;
    for (int64_t i : *where) {
      int64_t n = ctx.typeOf(*x).numElements();
      if (rank != 1 || i < -n || i >= n)
        return unsupported("Gather of a shape value");
      picked.push_back((*ints)[i < 0 ? i + n : i]);
    }
    if (auto err = plain(ctx))
      return err;
    ctx.setRuntimeInts(output(ctx, 0), std::move(picked));
    return llvm::Error::success();
  }
  if (data && !indices && data->axis == *axis)
    return unsupported("Gather with static indices along a data-dependent "
                       "length");
  if (data && indices && data->axis != *axis)
    return unsupported("Gather gives a tensor with two data-dependent "
                       "lengths");
  if (auto err = plain(ctx))
    return err;
  int64_t idxRank = ctx.typeOf(*idx).rank();
  if (indices)
    return bindBound(ctx, 0, {*axis + indices->axis, indices->count});
  return bindBound(ctx, 0,
                   {data->axis < *axis ? data->axis : data->axis + idxRank - 1,
                    data->count});
}

/// Ops that keep the row-major element order (Reshape, Flatten, Squeeze,
/// Unsqueeze, Identity): the bounded dim is the output dim with the same
/// extent and the same number of elements before it.
llvm::Error boundedReshape(NodeContext &ctx, ImportFn plain) {
  for (unsigned i = 1; i < ctx.numInputs(); ++i)
    if (ctx.isDataDependent(i) && (ctx.boundOf(i) || hasRuntimeInts(ctx, i)))
      return unsupported("a shape known only at run time");
  const RuntimeInts *ints = ctx.runtimeIntsOf(0);
  const Bound *b = ctx.boundOf(0);
  if (auto err = plain(ctx))
    return err;
  ValueId y = output(ctx, 0);
  if (ints) {
    ctx.setRuntimeInts(y, *ints);
    return llvm::Error::success();
  }
  llvm::ArrayRef<int64_t> in = ctx.typeOf(*ctx.input(0)).shape,
                          out = ctx.typeOf(y).shape;
  int64_t before = 1;
  for (int64_t d = 0; d < b->axis; ++d)
    before *= in[d];
  int64_t prefix = 1;
  for (size_t d = 0; d < out.size(); ++d) {
    if (prefix == before && out[d] == in[b->axis])
      return bindBound(ctx, 0, {int64_t(d), b->count});
    prefix *= out[d];
  }
  return unsupported("a reshape that splits or merges a data-dependent "
                     "length");
}

llvm::Error boundedTranspose(NodeContext &ctx, ImportFn plain) {
  const Bound *b = ctx.boundOf(0);
  if (auto err = plain(ctx))
    return err;
  int64_t rank = ctx.typeOf(*ctx.input(0)).rank();
  Ints perm = ctx.getInts("perm");
  if (perm.empty())
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  auto at = llvm::find(perm, b->axis);
  return bindBound(ctx, 0, {int64_t(at - perm.begin()), b->count});
}

llvm::Error boundedSplit(NodeContext &ctx, ImportFn plain) {
  const Bound *b = ctx.boundOf(0);
  auto axis = axisAttr(ctx, 0, ctx.typeOf(*ctx.input(0)).rank());
  if (!axis)
    return axis.takeError();
  if (*axis == b->axis)
    return unsupported("Split along a data-dependent length");
  if (auto err = plain(ctx))
    return err;
  for (int k = 0; k < ctx.node.output_size(); ++k)
    if (ctx.wantsOutput(k))
      ctx.setBound(output(ctx, k), *b);
  return llvm::Error::success();
}

/// Concat of shape values joins their elements; of bounded tensors along
/// the bounded dim it is concat_valid (along dim 0), along another dim the
/// operands must share the count.
llvm::Error boundedConcat(NodeContext &ctx, ImportFn plain) {
  bool anyInts = false;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    anyInts |= hasRuntimeInts(ctx, i);
  if (anyInts) {
    if (auto err = plain(ctx))
      return err;
    RuntimeInts joined;
    for (unsigned i = 0; i < ctx.numInputs(); ++i) {
      const RuntimeInts *ints = ctx.runtimeIntsOf(i);
      if (ctx.boundOf(i))
        return unsupported("Concat of a shape value and a bounded tensor");
      int64_t n = ctx.typeOf(*ctx.input(i)).numElements();
      for (int64_t k = 0; k < n; ++k)
        joined.push_back(ints ? (*ints)[k] : std::nullopt);
    }
    ctx.setRuntimeInts(output(ctx, 0), std::move(joined));
    return llvm::Error::success();
  }
  auto first = ctx.input(0);
  if (!first)
    return first.takeError();
  auto axis = axisAttr(ctx, 0, ctx.typeOf(*first).rank());
  if (!axis)
    return axis.takeError();
  bool alongBound = false;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    if (const Bound *b = ctx.boundOf(i))
      alongBound |= b->axis == *axis;
  if (!alongBound)
    return boundedElementwise(ctx, plain);
  if (*axis != 0)
    return unsupported("Concat along a data-dependent length other than "
                       "dim 0");
  llvm::SmallVector<ValueId, 8> data, counts;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    auto x = ctx.input(i);
    if (!x)
      return x.takeError();
    const Bound *b = ctx.boundOf(i);
    if (b && b->axis != 0)
      return unsupported("Concat of tensors bounded along different dims");
    data.push_back(*x);
    counts.push_back(b ? b->count : i32Constant(ctx, ctx.typeOf(*x).shape[0]));
  }
  data.append(counts.begin(), counts.end());
  auto r = ctx.createMulti(OpKind::ConcatValid, data, {});
  if (!r)
    return r.takeError();
  ctx.setOutput(0, (*r)[0]);
  auto shared = ctx.state().concatCounts.try_emplace(
      std::vector<ValueId>(counts.begin(), counts.end()), (*r)[1]);
  return bindBound(ctx, 0, {0, shared.first->second});
}

/// Slice from 0 along a bounded dim keeps min(count, end) entries.
llvm::Error boundedSlice(NodeContext &ctx, ImportFn plain) {
  const Bound *b = ctx.boundOf(0);
  for (unsigned i = 1; i < ctx.numInputs(); ++i)
    if (ctx.boundOf(i) || hasRuntimeInts(ctx, i))
      return unsupported("Slice bounds known only at run time");
  if (auto err = plain(ctx))
    return err;
  ValueId y = output(ctx, 0);
  const Op &slice = ctx.state().f.ops.back();
  if (slice.kind != OpKind::Slice || slice.results[0] != y)
    return unsupported("Slice of a data-dependent length");
  int64_t start = slice.getInts("starts")[b->axis];
  int64_t end = slice.getInts("ends")[b->axis];
  int64_t step = slice.getInts("steps")[b->axis];
  int64_t capacity = ctx.typeOf(*ctx.input(0)).shape[b->axis];
  // A negative end counts from the run-time length, not the capacity.
  Ints ends = ctx.opset() < 10 ? ctx.getInts("ends") : Ints{};
  if (ctx.opset() >= 10) {
    auto e = ctx.constInts(2);
    if (!e)
      return e.takeError();
    ends = *e;
  }
  if (start != 0 || step != 1 ||
      llvm::any_of(ends, [](int64_t e) { return e < 0; }))
    return unsupported("Slice of a data-dependent length must start at 0 "
                       "with step 1 and a non-negative end");
  if (end >= capacity)
    return bindBound(ctx, 0, *b);
  auto count = ctx.create(OpKind::Min, {b->count, i32Constant(ctx, end)});
  if (!count)
    return count.takeError();
  return bindBound(ctx, 0, {b->axis, *count});
}

/// The axes a reduction node reduces, normalized and sorted.
llvm::Expected<Ints> reduceAxes(NodeContext &ctx, int64_t rank) {
  auto named = namedReduceAxes(ctx);
  if (!named)
    return named.takeError();
  return reductionAxes(std::move(*named), rank);
}

/// The i32 op combining two elements of a reduction of integers.
std::optional<OpKind> reduceKind(llvm::StringRef type) {
  return llvm::StringSwitch<std::optional<OpKind>>(type)
      .Case("ReduceMax", OpKind::Max)
      .Case("ReduceMin", OpKind::Min)
      .Case("ReduceSum", OpKind::Add)
      .Case("ReduceProd", OpKind::Mul)
      .Default(std::nullopt);
}

/// Reduction of a shape value over all its elements, one i32 op per
/// element; the stand-in is the same reduction of the bounds (an upper
/// bound for the non-negative lengths these are).
llvm::Error runtimeReduce(NodeContext &ctx) {
  const RuntimeInts *ints = ctx.runtimeIntsOf(0);
  ValueId x = *ctx.input(0);
  std::optional<OpKind> kind = reduceKind(ctx.node.op_type());
  const TensorType &xt = ctx.typeOf(x);
  auto axes = reduceAxes(ctx, xt.rank());
  if (!axes)
    return axes.takeError();
  if (!kind || int64_t(axes->size()) != int64_t(xt.rank()))
    return unsupported("{} of a run-time length", ctx.node.op_type());
  std::optional<ValueId> acc;
  int64_t bound = 0;
  for (int64_t i = 0; i < xt.numElements(); ++i) {
    int64_t v = ctx.constant(x)->getAsInt(i);
    ValueId e = element(ctx, x, ints, i);
    if (!acc) {
      acc = e, bound = v;
      continue;
    }
    auto r = ctx.create(*kind, {*acc, e});
    if (!r)
      return r.takeError();
    acc = *r;
    bound = *kind == OpKind::Max   ? std::max(bound, v)
            : *kind == OpKind::Min ? std::min(bound, v)
            : *kind == OpKind::Add ? bound + v
                                   : bound * v;
  }
  if (!acc)
    return unsupported("{} of an empty shape value", ctx.node.op_type());
  Ints shape;
  if (ctx.getInt("keepdims", 1))
    shape.assign(xt.rank(), 1);
  Tensor t(TensorType(xt.elem, shape));
  if (xt.elem == ElemKind::I64)
    t.data<int64_t>()[0] = bound;
  else if (xt.elem == ElemKind::I32)
    t.data<int32_t>()[0] = static_cast<int32_t>(bound);
  else
    return unsupported("{} of a run-time length", ctx.node.op_type());
  ValueId y = ctx.constant(std::move(t));
  ctx.setOutput(0, y);
  ctx.setRuntimeInts(y, RuntimeInts{*acc});
  return llvm::Error::success();
}

/// A reduction over a bounded dim sees the invalid entries as the
/// reduction's identity.
llvm::Error boundedReduce(NodeContext &ctx, ImportFn plain) {
  const Bound *b = ctx.boundOf(0);
  ValueId x = *ctx.input(0);
  const TensorType &xt = ctx.typeOf(x);
  auto axes = reduceAxes(ctx, xt.rank());
  if (!axes)
    return axes.takeError();
  llvm::StringRef type = ctx.node.op_type();
  bool reducesBound = llvm::is_contained(*axes, b->axis);
  if (reducesBound) {
    float inf = std::numeric_limits<float>::infinity();
    std::optional<float> identity =
        llvm::StringSwitch<std::optional<float>>(type)
            .Case("ReduceMax", -inf)
            .Case("ReduceMin", inf)
            .Case("ReduceSum", 0.0f)
            .Case("ReduceProd", 1.0f)
            .Default(std::nullopt);
    if (!identity)
      return unsupported("{} over a data-dependent length", type.str());
    auto filled = ctx.create(OpKind::FillInvalid, {x, b->count},
                             {{"axis", b->axis}, {"value", *identity}});
    if (!filled)
      return filled.takeError();
    ctx.replaceInput(0, *filled);
  }
  if (auto err = plain(ctx))
    return err;
  if (reducesBound)
    return llvm::Error::success();
  int64_t axis = b->axis;
  if (!ctx.getInt("keepdims", 1))
    axis -= llvm::count_if(*axes, [&](int64_t a) { return a < b->axis; });
  return bindBound(ctx, 0, {axis, b->count});
}

/// ConstantOfShape with one run-time dim: the constant at its bound,
/// bounded along that dim.
llvm::Error boundedConstantOfShape(NodeContext &ctx, ImportFn plain) {
  const RuntimeInts *ints = ctx.runtimeIntsOf(0);
  std::optional<Bound> b;
  for (size_t d = 0; d < ints->size(); ++d) {
    if (!(*ints)[d])
      continue;
    if (b)
      return unsupported("ConstantOfShape with two run-time dims");
    b = Bound{int64_t(d), *(*ints)[d]};
  }
  if (auto err = plain(ctx))
    return err;
  return b ? bindBound(ctx, 0, *b) : llvm::Error::success();
}

bool oneOf(llvm::StringRef s, std::initializer_list<llvm::StringRef> list) {
  return llvm::is_contained(list, s);
}

} // namespace

llvm::Error importBounded(NodeContext &ctx, ImportFn plain) {
  llvm::StringRef type = ctx.node.op_type();
  bool ints = false;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    ints |= hasRuntimeInts(ctx, i);
  if (type == "Shape")
    return boundedShape(ctx, plain);
  if (type == "Gather")
    return boundedGather(ctx, plain);
  if (oneOf(type, {"Reshape", "Flatten", "Squeeze", "Unsqueeze"}))
    return boundedReshape(ctx, plain);
  if (type == "Transpose")
    return boundedTranspose(ctx, plain);
  if (type == "Split")
    return boundedSplit(ctx, plain);
  if (type == "Concat")
    return boundedConcat(ctx, plain);
  if (type == "Slice")
    return boundedSlice(ctx, plain);
  if (type == "ConstantOfShape" && ints)
    return boundedConstantOfShape(ctx, plain);
  if (type.starts_with("Reduce"))
    return ints ? runtimeReduce(ctx) : boundedReduce(ctx, plain);
  if (oneOf(type, {"Add", "Sub", "Mul", "Div", "Max", "Min", "Cast", "Identity",
                   "Relu", "Sigmoid", "Exp", "Log", "Sqrt", "Neg", "Abs",
                   "Clip", "Equal", "Greater", "Less"}))
    return ints ? runtimeElementwise(ctx, plain)
                : boundedElementwise(ctx, plain);
  // Every other rule handles the bounds it supports itself.
  return plain(ctx);
}

// Equal, Greater, Less: u8 0/1 results (ONNX bool).
llvm::Error importCompare(NodeContext &ctx) {
  auto a = ctx.input(0), b = ctx.input(1);
  if (!a || !b)
    return a ? b.takeError() : a.takeError();
  OpKind kind = llvm::StringSwitch<OpKind>(ctx.node.op_type())
                    .Case("Equal", OpKind::Equal)
                    .Case("Greater", OpKind::Greater)
                    .Case("Less", OpKind::Less);
  auto y = ctx.create(kind, {*a, *b});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error importNonZero(NodeContext &ctx) {
  if (ctx.boundOf(0))
    return unsupported("NonZero of a data-dependent length");
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto r = ctx.createMulti(OpKind::NonZero, {*x}, {});
  if (!r)
    return r.takeError();
  ctx.setOutput(0, (*r)[0]);
  return bindBound(ctx, 0, {1, (*r)[1]});
}

// TopK-1 takes k as an attribute, later opsets as input 1, which may be a
// run-time length (then its bound is the capacity).
llvm::Error importTopK(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  const TensorType &xt = ctx.typeOf(*x);
  auto axis = axisAttr(ctx, -1, xt.rank());
  if (!axis)
    return axis.takeError();
  const Bound *b = ctx.boundOf(0);
  int64_t k = ctx.getInt("k", 0);
  std::optional<ValueId> runtimeK;
  if (ctx.opset() >= 10) {
    if (const RuntimeInts *ints = ctx.runtimeIntsOf(1))
      runtimeK = (*ints)[0];
    auto kv = ctx.constInts(1);
    if (!kv)
      return kv.takeError();
    if (kv->size() != 1)
      return invalid("k must have one element");
    k = kv->front();
  }
  int64_t extent = xt.shape[*axis];
  if (k < 0 || (k > extent && !b && !runtimeK))
    return invalid("k {} is out of range for axis {} of {}", k, *axis,
                   toString(xt));
  if (b && (b->axis != *axis || xt.rank() != 1))
    return unsupported("TopK of a data-dependent length needs a 1-D input");
  llvm::SmallVector<ValueId, 2> operands{*x};
  if (b)
    operands.push_back(b->count);
  auto r = ctx.createMulti(OpKind::TopK, operands,
                           {{"axis", *axis},
                            {"k", std::min(k, extent)},
                            {"largest", ctx.getInt("largest", 1) ? 1 : 0}});
  if (!r)
    return r.takeError();
  ctx.setOutput(0, (*r)[0]);
  ctx.setOutput(1, (*r)[1]);
  if (!b && !runtimeK)
    return llvm::Error::success();
  ValueId count = (*r)[2];
  if (runtimeK) {
    auto c = ctx.create(OpKind::Min, {count, *runtimeK});
    if (!c)
      return c.takeError();
    count = *c;
  }
  for (unsigned i = 0; i < 2; ++i)
    if (ctx.wantsOutput(i))
      ctx.setBound(output(ctx, i), {*axis, count});
  return llvm::Error::success();
}

llvm::Error importNonMaxSuppression(NodeContext &ctx) {
  auto boxes = ctx.input(0), scores = ctx.input(1);
  if (!boxes || !scores)
    return boxes ? scores.takeError() : boxes.takeError();
  const Bound *bb = ctx.boundOf(0), *bs = ctx.boundOf(1);
  if (bool(bb) != bool(bs) ||
      (bb && (bb->axis != 1 || bs->axis != 2 || bb->count != bs->count)))
    return unsupported("boxes and scores of different data-dependent "
                       "lengths");
  int64_t maxPerClass = 0;
  float iou = 0, scoreThreshold = -std::numeric_limits<float>::infinity();
  if (ctx.hasInput(2)) {
    auto v = ctx.constInts(2);
    if (!v)
      return v.takeError();
    maxPerClass = v->empty() ? 0 : std::max<int64_t>(v->front(), 0);
  }
  if (ctx.hasInput(3)) {
    auto v = ctx.constFloats(3);
    if (!v)
      return v.takeError();
    iou = v->empty() ? 0 : v->front();
  }
  if (ctx.hasInput(4)) {
    auto v = ctx.constFloats(4);
    if (!v)
      return v.takeError();
    if (!v->empty())
      scoreThreshold = v->front();
  }
  const TensorType &bt = ctx.typeOf(*boxes);
  if (bt.rank() == 3)
    maxPerClass = std::min(maxPerClass, bt.shape[1]);
  llvm::SmallVector<ValueId, 3> operands{*boxes, *scores};
  if (bb)
    operands.push_back(bb->count);
  auto r = ctx.createMulti(
      OpKind::NonMaxSuppression, operands,
      {{"center_point_box", ctx.getInt("center_point_box", 0) ? 1 : 0},
       {"iou_threshold", iou},
       {"max_output_boxes_per_class", maxPerClass},
       {"score_threshold", scoreThreshold}});
  if (!r)
    return r.takeError();
  ctx.setOutput(0, (*r)[0]);
  return bindBound(ctx, 0, {0, (*r)[1]});
}

llvm::Error importGatherND(NodeContext &ctx) {
  if (ctx.boundOf(0))
    return unsupported("GatherND from a data-dependent length");
  const Bound *b = ctx.boundOf(1);
  auto x = ctx.input(0), idx = ctx.input(1);
  if (!x || !idx)
    return x ? idx.takeError() : x.takeError();
  int64_t batchDims = ctx.getInt("batch_dims", 0);
  if (b &&
      (b->axis < batchDims || b->axis + 1 >= int64_t(ctx.typeOf(*idx).rank())))
    return unsupported("GatherND with data-dependent index tuples");
  auto y =
      ctx.create(OpKind::GatherND, {*x, *idx}, {{"batch_dims", batchDims}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  if (b)
    return bindBound(ctx, 0, *b);
  return llvm::Error::success();
}

// Range, Ceil, ReduceMin and ReduceProd of constants fold here; the
// shapes of exported detectors (anchor grids) need nothing more.
llvm::Error importRange(NodeContext &ctx) {
  std::array<const Tensor *, 3> in{};
  for (unsigned i = 0; i < 3; ++i) {
    auto t = ctx.constInput(i);
    if (!t)
      return t.takeError();
    if ((*t)->numElements() != 1)
      return invalid("input {} of Range must be a scalar", i);
    in[i] = *t;
  }
  ElemKind kind = in[0]->type.elem;
  double start = in[0]->getAsDouble(0), limit = in[1]->getAsDouble(0),
         delta = in[2]->getAsDouble(0);
  if (delta == 0)
    return invalid("Range delta must not be 0");
  double steps = std::ceil((limit - start) / delta);
  if (!(steps < double(maxTensorElements)))
    return invalid("Range of {} elements is too large", steps);
  int64_t n = std::max<int64_t>(int64_t(steps), 0);
  if (auto err = ctx.reader().reserve(n * elemSize(kind), "Range"))
    return err;
  Tensor t(TensorType(kind, {n}));
  for (int64_t i = 0; i < n; ++i) {
    if (kind == ElemKind::F32)
      t.data<float>()[i] = float(start + i * delta);
    else if (kind == ElemKind::I64)
      t.data<int64_t>()[i] = in[0]->getAsInt(0) + i * in[2]->getAsInt(0);
    else if (kind == ElemKind::I32)
      t.data<int32_t>()[i] =
          int32_t(in[0]->getAsInt(0) + i * in[2]->getAsInt(0));
    else
      return unsupported("Range of {}", elemName(kind).str());
  }
  ctx.setOutput(0, ctx.constant(std::move(t)));
  return llvm::Error::success();
}

llvm::Error importCeil(NodeContext &ctx) {
  auto x = ctx.constInput(0);
  if (!x)
    return x.takeError();
  if ((*x)->type.elem != ElemKind::F32)
    return unsupported("Ceil of {}", toString((*x)->type));
  Tensor t = **x;
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data<float>()[i] = std::ceil(t.data<float>()[i]);
  ctx.setOutput(0, ctx.constant(std::move(t)));
  return llvm::Error::success();
}

llvm::Error importReduceFold(NodeContext &ctx) {
  if (hasRuntimeInts(ctx, 0))
    return runtimeReduce(ctx);
  auto x = ctx.constInput(0);
  if (!x)
    return x.takeError();
  const TensorType &xt = (*x)->type;
  auto axes = reduceAxes(ctx, xt.rank());
  if (!axes)
    return axes.takeError();
  bool keep = ctx.getInt("keepdims", 1);
  Ints shape;
  for (size_t d = 0; d < xt.rank(); ++d)
    if (!llvm::is_contained(*axes, int64_t(d)))
      shape.push_back(xt.shape[d]);
    else if (keep)
      shape.push_back(1);
  bool isMin = ctx.node.op_type() == "ReduceMin";
  Tensor out(xt.withShape(shape));
  auto strides = stridesOf(xt.shape);
  int64_t n = out.numElements();
  std::vector<double> acc(n, isMin ? INFINITY : 1.0);
  for (int64_t i = 0; i < xt.numElements(); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < xt.rank(); ++d)
      if (!llvm::is_contained(*axes, int64_t(d)))
        o = o * xt.shape[d] + i / strides[d] % xt.shape[d];
    double v = (*x)->getAsDouble(i);
    acc[o] = isMin ? std::min(acc[o], v) : acc[o] * v;
  }
  Tensor t = makeTensor(xt.elem == ElemKind::F32 ? ElemKind::F32 : xt.elem,
                        shape, acc);
  ctx.setOutput(0, ctx.constant(std::move(t)));
  return llvm::Error::success();
}

// Expand broadcasts x against a constant shape: x * ones(shape).
llvm::Error importExpand(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  auto shape = ctx.constInts(1);
  if (!shape)
    return shape.takeError();
  if (auto err = checkShape(*shape, ctx.limits(), "Expand shape"))
    return err;
  ElemKind kind = ctx.typeOf(*x).elem;
  if (kind != ElemKind::F32 && kind != ElemKind::I32 && kind != ElemKind::I64)
    return unsupported("Expand of {}", toString(ctx.typeOf(*x)));
  TensorType onesType(kind, *shape);
  if (auto err = ctx.reader().reserve(onesType.byteSize(), "Expand"))
    return err;
  Tensor ones =
      makeTensor(kind, *shape, std::vector<double>(onesType.numElements(), 1));
  auto y = ctx.create(OpKind::Mul, {*x, ctx.constant(std::move(ones))});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

} // namespace mnc::onnximport
