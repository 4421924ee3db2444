// Result type inference for every op in ir/Ops.def. The builder uses it to
// type new ops and the verifier to check parsed ones, so the shape rules of
// each op live only here.
#include "ir/IR.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace mnc {
namespace {

using Types = llvm::SmallVector<TensorType, 1>;
using Result = llvm::Expected<Types>;

/// What an inference rule sees: the op, its operand types and the result
/// types the caller declared (possibly none).
struct Ctx {
  const Op &op;
  llvm::SmallVector<const TensorType *, 4> operands;
  llvm::ArrayRef<TensorType> declared;

  const TensorType &in(unsigned i) const { return *operands[i]; }
};

template <typename... Args>
llvm::Error fail(const Ctx &c, fmt::format_string<Args...> format,
                 Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(), "%s: %s", mnemonic(c.op.kind).data(),
      fmt::format(format, std::forward<Args>(args)...).c_str());
}

Types one(TensorType t) { return Types{std::move(t)}; }

llvm::Error expectFloat(const Ctx &c, unsigned i) {
  const TensorType &t = c.in(i);
  if (t.elem != ElemKind::F32 || t.isQuantized())
    return fail(c, "operand {} must be f32, got {}", i, toString(t));
  return llvm::Error::success();
}

llvm::Error expectRank(const Ctx &c, unsigned i, size_t rank) {
  if (c.in(i).rank() != rank)
    return fail(c, "operand {} must have rank {}, got {}", i, rank,
                toString(c.in(i)));
  return llvm::Error::success();
}

llvm::Error expectLength(const Ctx &c, llvm::StringRef attr, size_t size) {
  auto it = c.op.attrs.find(attr);
  size_t actual = attrKind(it->second) == AttrKind::Ints
                      ? std::get<std::vector<int64_t>>(it->second).size()
                      : std::get<std::vector<float>>(it->second).size();
  if (actual != size)
    return fail(c, "attribute '{}' must have {} entries, got {}", attr.str(),
                size, actual);
  return llvm::Error::success();
}

/// Bound on window sizes, strides, dilations and pads: far beyond any
/// image, and small enough that shape arithmetic on them cannot overflow.
constexpr int64_t maxExtent = int64_t(1) << 31;

llvm::Error expectAtMostMaxExtent(const Ctx &c, llvm::StringRef attr) {
  for (int64_t v : c.op.getInts(attr))
    if (v > maxExtent || v < -maxExtent)
      return fail(c, "attribute '{}' entries must be within +-{}", attr.str(),
                  maxExtent);
  return llvm::Error::success();
}

llvm::Error expectPositive(const Ctx &c, llvm::StringRef attr) {
  for (int64_t v : c.op.getInts(attr))
    if (v < 1)
      return fail(c, "attribute '{}' entries must be >= 1", attr.str());
  return llvm::Error::success();
}

llvm::Error expectBool(const Ctx &c, llvm::StringRef attr) {
  int64_t v = c.op.getInt(attr);
  if (v != 0 && v != 1)
    return fail(c, "attribute '{}' must be 0 or 1, got {}", attr.str(), v);
  return llvm::Error::success();
}

llvm::Error expectOneOf(const Ctx &c, llvm::StringRef attr,
                        llvm::ArrayRef<llvm::StringRef> allowed) {
  llvm::StringRef v = c.op.getString(attr);
  if (llvm::is_contained(allowed, v))
    return llvm::Error::success();
  std::vector<std::string> names(allowed.begin(), allowed.end());
  return fail(c, "attribute '{}' must be one of {}, got \"{}\"", attr.str(),
              fmt::join(names, ", "), v.str());
}

/// The quantization parameters the caller declared for result `i`.
llvm::Expected<QuantParams> declaredQuant(const Ctx &c, unsigned i) {
  if (c.declared.size() <= i || !c.declared[i].isQuantized())
    return fail(c, "result {} must have a declared quantized type", i);
  return *c.declared[i].quant;
}

llvm::Expected<ElemKind> declaredQuantElem(const Ctx &c, unsigned i) {
  if (c.declared.size() <= i)
    return fail(c, "result {} must have a declared type", i);
  ElemKind e = c.declared[i].elem;
  if (e != ElemKind::I8 && e != ElemKind::U8)
    return fail(c, "result {} must be i8 or u8, got {}", i,
                toString(c.declared[i]));
  return e;
}

llvm::Error checkQuantParams(const Ctx &c, const TensorType &t) {
  const QuantParams &q = *t.quant;
  size_t n = q.scales.size();
  if (n == 0 || n != q.zeroPoints.size())
    return fail(c, "quantization needs as many scales as zero points");
  if (q.axis) {
    if (*q.axis < 0 || *q.axis >= static_cast<int64_t>(t.rank()))
      return fail(c, "quantization axis {} out of range for {}", *q.axis,
                  toString(t));
    if (static_cast<int64_t>(n) != t.shape[*q.axis])
      return fail(c, "{} quantization parameters for axis {} of {}", n, *q.axis,
                  toString(t));
  } else if (n != 1) {
    return fail(c, "per-tensor quantization needs exactly one scale");
  }
  for (float s : q.scales)
    if (!(s > 0) || std::isinf(s))
      return fail(c, "quantization scale must be positive and finite");
  return llvm::Error::success();
}

/// Quantized result type with the declared parameters.
llvm::Expected<TensorType> quantizedResult(const Ctx &c,
                                           llvm::ArrayRef<int64_t> shape) {
  auto elem = declaredQuantElem(c, 0);
  if (!elem)
    return elem.takeError();
  auto q = declaredQuant(c, 0);
  if (!q)
    return q.takeError();
  TensorType t(*elem, shape, *q);
  if (auto err = checkQuantParams(c, t))
    return err;
  return t;
}

/// numpy broadcasting of two shapes.
llvm::Expected<llvm::SmallVector<int64_t, 4>>
broadcast(const Ctx &c, llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t, 4> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return fail(c, "shapes {} and {} do not broadcast", shapeString(a),
                  shapeString(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Result inferConstant(const Ctx &c) { return one(c.op.getTensor("value").type); }

/// Output extent of a sliding window (ONNX Conv/Pool output shape rule,
/// with the ceil-mode correction that drops a window starting in padding).
int64_t windowOut(int64_t in, int64_t padBegin, int64_t padEnd, int64_t k,
                  int64_t stride, int64_t dilation, bool ceilMode) {
  int64_t span = in + padBegin + padEnd - ((k - 1) * dilation + 1);
  if (span < 0)
    return 0;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

llvm::Error checkWindowAttrs(const Ctx &c, bool dilations) {
  for (llvm::StringRef a : {"kernel", "strides"})
    if (c.op.attrs.count(a))
      if (auto err = expectLength(c, a, 2))
        return err;
  if (c.op.attrs.count("kernel"))
    if (auto err = expectPositive(c, "kernel"))
      return err;
  if (auto err = expectPositive(c, "strides"))
    return err;
  if (auto err = expectLength(c, "pads", 4))
    return err;
  for (int64_t p : c.op.getInts("pads"))
    if (p < 0)
      return fail(c, "attribute 'pads' entries must be >= 0");
  if (dilations) {
    if (auto err = expectLength(c, "dilations", 2))
      return err;
    if (auto err = expectPositive(c, "dilations"))
      return err;
  }
  for (llvm::StringRef a : {"kernel", "strides", "pads", "dilations"})
    if (c.op.attrs.count(a))
      if (auto err = expectAtMostMaxExtent(c, a))
        return err;
  return llvm::Error::success();
}

llvm::Expected<llvm::SmallVector<int64_t, 4>>
windowShape(const Ctx &c, int64_t channels, llvm::ArrayRef<int64_t> kernel,
            bool ceilMode) {
  const TensorType &x = c.in(0);
  auto strides = c.op.getInts("strides");
  auto pads = c.op.getInts("pads");
  llvm::SmallVector<int64_t, 2> dil{1, 1};
  if (c.op.attrs.count("dilations"))
    dil.assign(c.op.getInts("dilations").begin(),
               c.op.getInts("dilations").end());
  llvm::SmallVector<int64_t, 4> out{x.shape[0], channels};
  for (int i = 0; i < 2; ++i) {
    int64_t o = windowOut(x.shape[2 + i], pads[i], pads[2 + i], kernel[i],
                          strides[i], dil[i], ceilMode);
    if (o < 1)
      return fail(c, "window {} does not fit input {}", shapeString(kernel),
                  toString(x));
    out.push_back(o);
  }
  return out;
}

Result inferConv2d(const Ctx &c) {
  if (auto err = checkWindowAttrs(c, /*dilations=*/true))
    return err;
  if (auto err = expectRank(c, 0, 4))
    return err;
  if (auto err = expectRank(c, 1, 4))
    return err;
  const TensorType &x = c.in(0), &w = c.in(1);
  int64_t group = c.op.getInt("group");
  if (group < 1 || x.shape[1] % group || w.shape[0] % group)
    return fail(c,
                "group {} must divide input channels {} and output "
                "channels {}",
                group, x.shape[1], w.shape[0]);
  if (w.shape[1] * group != x.shape[1])
    return fail(c, "weight {} expects {} input channels, input {} has {}",
                toString(w), w.shape[1] * group, toString(x), x.shape[1]);
  bool quantized = x.isQuantized();
  if (c.operands.size() == 3) {
    const TensorType &b = c.in(2);
    if (b.rank() != 1 || b.shape[0] != w.shape[0])
      return fail(c, "bias {} must be [{}]", toString(b), w.shape[0]);
    ElemKind want = quantized ? ElemKind::I32 : ElemKind::F32;
    if (b.elem != want)
      return fail(c, "bias must be {}, got {}", elemName(want).str(),
                  toString(b));
  }
  auto shape = windowShape(c, w.shape[0], {w.shape[2], w.shape[3]}, false);
  if (!shape)
    return shape.takeError();
  if (!quantized) {
    if (auto err = expectFloat(c, 0))
      return err;
    if (auto err = expectFloat(c, 1))
      return err;
    return one(TensorType(ElemKind::F32, *shape));
  }
  if (!w.isQuantized() || (w.quant->axis && *w.quant->axis != 0))
    return fail(c, "quantized input needs weights quantized per tensor or "
                   "on axis 0");
  auto t = quantizedResult(c, *shape);
  if (!t)
    return t.takeError();
  return one(*t);
}

Result inferMatMul(const Ctx &c) {
  const TensorType &a = c.in(0), &b = c.in(1);
  if (a.rank() < 2 || b.rank() < 2)
    return fail(c, "operands must have rank >= 2, got {} and {}", toString(a),
                toString(b));
  int64_t k = a.shape[a.rank() - 1];
  if (b.shape[b.rank() - 2] != k)
    return fail(c, "inner dimensions of {} and {} differ", toString(a),
                toString(b));
  auto batch = broadcast(c, llvm::ArrayRef(a.shape).drop_back(2),
                         llvm::ArrayRef(b.shape).drop_back(2));
  if (!batch)
    return batch.takeError();
  llvm::SmallVector<int64_t, 4> shape = *batch;
  shape.push_back(a.shape[a.rank() - 2]);
  shape.push_back(b.shape[b.rank() - 1]);
  if (a.isQuantized() != b.isQuantized())
    return fail(c, "operands must be both quantized or both f32");
  if (!a.isQuantized()) {
    if (auto err = expectFloat(c, 0))
      return err;
    if (auto err = expectFloat(c, 1))
      return err;
    return one(TensorType(ElemKind::F32, shape));
  }
  if (!a.quant->isPerTensor() ||
      (b.quant->axis && *b.quant->axis != static_cast<int64_t>(b.rank()) - 1))
    return fail(c, "quantized matmul needs a per-tensor lhs and a rhs "
                   "quantized per tensor or per column");
  auto t = quantizedResult(c, shape);
  if (!t)
    return t.takeError();
  return one(*t);
}

/// add and mul of 8-bit operands quantized per tensor, or one of them and
/// an f32 operand (ir/Ops.def).
Result inferQuantizedBinary(const Ctx &c) {
  const TensorType &a = c.in(0), &b = c.in(1);
  auto isReal = [](const TensorType &t) {
    return t.isInt8PerTensor() || (t.elem == ElemKind::F32 && !t.quant);
  };
  if ((c.op.kind != OpKind::Add && c.op.kind != OpKind::Mul) || !isReal(a) ||
      !isReal(b))
    return fail(c,
                "quantized operands must be i8/u8 quantized per tensor, of "
                "add or mul, the other quantized so or f32; got {} and {}",
                toString(a), toString(b));
  auto shape = broadcast(c, a.shape, b.shape);
  if (!shape)
    return shape.takeError();
  auto t = quantizedResult(c, *shape);
  if (!t)
    return t.takeError();
  if (!t->isInt8PerTensor())
    return fail(c, "the result must be i8/u8 quantized per tensor, got {}",
                toString(*t));
  return one(*t);
}

Result inferBinary(const Ctx &c) {
  const TensorType &a = c.in(0), &b = c.in(1);
  if (a.isQuantized() || b.isQuantized())
    return inferQuantizedBinary(c);
  if (a.elem != b.elem)
    return fail(c,
                "operands must have the same non-quantized element kind, "
                "got {} and {}",
                toString(a), toString(b));
  if (a.elem != ElemKind::F32 && a.elem != ElemKind::I32 &&
      a.elem != ElemKind::I64)
    return fail(c, "operands must be f32, i32 or i64, got {}", toString(a));
  auto shape = broadcast(c, a.shape, b.shape);
  if (!shape)
    return shape.takeError();
  return one(TensorType(a.elem, *shape));
}

Result inferPRelu(const Ctx &c) {
  auto t = inferBinary(c);
  if (!t)
    return t.takeError();
  if ((*t)[0].shape != c.in(0).shape)
    return fail(c, "slope {} must broadcast to input {}", toString(c.in(1)),
                toString(c.in(0)));
  return t;
}

Result inferUnary(const Ctx &c) {
  if (auto err = expectFloat(c, 0))
    return err;
  return one(c.in(0));
}

Result inferClip(const Ctx &c) {
  if (c.op.getFloat("min") > c.op.getFloat("max"))
    return fail(c, "min {} exceeds max {}", c.op.getFloat("min"),
                c.op.getFloat("max"));
  return inferUnary(c);
}

Result inferPool(const Ctx &c, bool dilations) {
  if (auto err = checkWindowAttrs(c, dilations))
    return err;
  if (auto err = expectRank(c, 0, 4))
    return err;
  if (auto err = expectBool(c, "ceil_mode"))
    return err;
  auto shape = windowShape(c, c.in(0).shape[1], c.op.getInts("kernel"),
                           c.op.getInt("ceil_mode"));
  if (!shape)
    return shape.takeError();
  return one(c.in(0).withShape(*shape));
}

Result inferMaxPool(const Ctx &c) {
  if (c.in(0).isQuantized() && !c.in(0).quant->isPerTensor())
    return fail(c, "quantized input must be quantized per tensor");
  return inferPool(c, /*dilations=*/true);
}

Result inferAvgPool(const Ctx &c) {
  if (auto err = expectFloat(c, 0))
    return err;
  if (auto err = expectBool(c, "count_include_pad"))
    return err;
  return inferPool(c, /*dilations=*/false);
}

llvm::Error checkAxis(const Ctx &c, int64_t axis, size_t rank) {
  if (axis < 0 || axis >= static_cast<int64_t>(rank))
    return fail(c, "axis {} out of range for rank {}", axis, rank);
  return llvm::Error::success();
}

Result inferReduce(const Ctx &c) {
  const TensorType &x = c.in(0);
  bool dequantizes = c.op.kind != OpKind::ReduceMax && x.isInt8PerTensor();
  if (!dequantizes)
    if (auto err = expectFloat(c, 0))
      return err;
  if (auto err = expectBool(c, "keepdims"))
    return err;
  auto axes = c.op.getInts("axes");
  if (axes.empty())
    return fail(c, "attribute 'axes' must not be empty");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (auto err = checkAxis(c, axes[i], c.in(0).rank()))
      return err;
    if (i && axes[i] <= axes[i - 1])
      return fail(c, "attribute 'axes' must be sorted and unique");
  }
  llvm::SmallVector<int64_t, 4> shape;
  for (size_t d = 0; d < c.in(0).rank(); ++d) {
    if (!llvm::is_contained(axes, static_cast<int64_t>(d)))
      shape.push_back(c.in(0).shape[d]);
    else if (c.op.getInt("keepdims"))
      shape.push_back(1);
  }
  return one(TensorType(ElemKind::F32, shape));
}

Result inferArgMax(const Ctx &c) {
  int64_t axis = c.op.getInt("axis");
  if (auto err = checkAxis(c, axis, c.in(0).rank()))
    return err;
  for (llvm::StringRef a : {"keepdims", "select_last_index"})
    if (auto err = expectBool(c, a))
      return err;
  if (c.in(0).isQuantized())
    return fail(c, "operand must not be quantized");
  llvm::SmallVector<int64_t, 4> shape(c.in(0).shape);
  if (c.op.getInt("keepdims"))
    shape[axis] = 1;
  else
    shape.erase(shape.begin() + axis);
  return one(TensorType(ElemKind::I64, shape));
}

Result inferSoftmax(const Ctx &c) {
  if (auto err = checkAxis(c, c.op.getInt("axis"), c.in(0).rank()))
    return err;
  return inferUnary(c);
}

Result inferConcat(const Ctx &c) {
  const TensorType &first = c.in(0);
  int64_t axis = c.op.getInt("axis");
  if (auto err = checkAxis(c, axis, first.rank()))
    return err;
  if (first.isQuantized() && !first.quant->isPerTensor())
    return fail(c, "quantized operands must be quantized per tensor");
  llvm::SmallVector<int64_t, 4> shape(first.shape);
  shape[axis] = 0;
  for (unsigned i = 0; i < c.operands.size(); ++i) {
    const TensorType &t = c.in(i);
    if (t.elem != first.elem || t.quant != first.quant ||
        t.rank() != first.rank())
      return fail(c, "operand {} {} does not match operand 0 {}", i,
                  toString(t), toString(first));
    for (size_t d = 0; d < t.rank(); ++d)
      if (static_cast<int64_t>(d) != axis && t.shape[d] != first.shape[d])
        return fail(c,
                    "operand {} {} differs from operand 0 {} outside "
                    "axis {}",
                    i, toString(t), toString(first), axis);
    shape[axis] += t.shape[axis];
  }
  return one(first.withShape(shape));
}

Result inferSplit(const Ctx &c) {
  const TensorType &x = c.in(0);
  int64_t axis = c.op.getInt("axis");
  if (auto err = checkAxis(c, axis, x.rank()))
    return err;
  if (x.isQuantized() && !x.quant->isPerTensor())
    return fail(c, "quantized operand must be quantized per tensor");
  auto sizes = c.op.getInts("sizes");
  // Each size is bounded first so that their sum cannot overflow.
  if (sizes.empty() ||
      llvm::any_of(sizes,
                   [&](int64_t s) { return s < 0 || s > x.shape[axis]; }) ||
      std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != x.shape[axis])
    return fail(c, "sizes [{}] must be non-negative and sum to {}",
                fmt::join(sizes, ","), x.shape[axis]);
  Types types;
  for (int64_t s : sizes) {
    llvm::SmallVector<int64_t, 4> shape(x.shape);
    shape[axis] = s;
    types.push_back(x.withShape(shape));
  }
  return types;
}

Result inferReshape(const Ctx &c) {
  const TensorType &x = c.in(0);
  auto shape = c.op.getInts("shape");
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return fail(c, "shape [{}] has negative dims", fmt::join(shape, ","));
  TensorType t = x.withShape(shape);
  if (t.numElements() != x.numElements())
    return fail(c, "cannot reshape {} to [{}]", toString(x),
                fmt::join(shape, ","));
  if (x.isQuantized() && !x.quant->isPerTensor())
    return fail(c, "quantized operand must be quantized per tensor");
  return one(t);
}

Result inferTranspose(const Ctx &c) {
  const TensorType &x = c.in(0);
  auto perm = c.op.getInts("perm");
  // Checked first so a hostile perm list is neither sorted nor printed.
  if (perm.size() != x.rank())
    return fail(c, "perm has {} entries, the input has rank {}", perm.size(),
                x.rank());
  llvm::SmallVector<int64_t, 4> sorted(perm);
  llvm::sort(sorted);
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != static_cast<int64_t>(i))
      return fail(c, "perm [{}] is not a permutation of rank {}",
                  fmt::join(perm, ","), x.rank());
  TensorType t = x;
  for (size_t i = 0; i < perm.size(); ++i)
    t.shape[i] = x.shape[perm[i]];
  if (t.quant && t.quant->axis)
    t.quant->axis =
        std::find(perm.begin(), perm.end(), *t.quant->axis) - perm.begin();
  return one(t);
}

Result inferSlice(const Ctx &c) {
  const TensorType &x = c.in(0);
  for (llvm::StringRef a : {"starts", "ends", "steps"})
    if (auto err = expectLength(c, a, x.rank()))
      return err;
  auto starts = c.op.getInts("starts"), ends = c.op.getInts("ends"),
       steps = c.op.getInts("steps");
  llvm::SmallVector<int64_t, 4> shape;
  for (size_t d = 0; d < x.rank(); ++d) {
    int64_t s = starts[d], e = ends[d], st = steps[d], n = x.shape[d];
    // |step| <= max(n, 1) (a longer step takes the same one element), so
    // that step * stride stays within the tensor's element count.
    bool ok = st > 0 ? (s >= 0 && s <= n && e >= 0 && e <= n)
                     : (st < 0 && s >= -1 && s < n && e >= -1 && e < n);
    ok &= st >= -std::max<int64_t>(n, 1) && st <= std::max<int64_t>(n, 1);
    if (!ok)
      return fail(c,
                  "dim {}: start {}, end {}, step {} out of range for "
                  "extent {}",
                  d, s, e, st, n);
    int64_t span = st > 0 ? e - s : s - e;
    shape.push_back(span > 0 ? (span - 1) / std::abs(st) + 1 : 0);
  }
  return one(x.withShape(shape));
}

Result inferPad(const Ctx &c) {
  const TensorType &x = c.in(0);
  if (auto err = expectLength(c, "pads", 2 * x.rank()))
    return err;
  if (auto err = expectOneOf(c, "mode", {"constant", "reflect", "edge"}))
    return err;
  if (auto err = expectAtMostMaxExtent(c, "pads"))
    return err;
  auto pads = c.op.getInts("pads");
  llvm::StringRef mode = c.op.getString("mode");
  llvm::SmallVector<int64_t, 4> shape;
  for (size_t d = 0; d < x.rank(); ++d) {
    int64_t before = pads[d], after = pads[d + x.rank()], in = x.shape[d];
    int64_t n = in + before + after;
    if (n < 0)
      return fail(c, "pads crop dim {} below zero", d);
    shape.push_back(n);
    // The rule of ONNX Runtime, PyTorch and TensorFlow, on the entries
    // kept after negative pads crop: edge repeats the first or last entry,
    // so there must be one; reflect mirrors the axis without repeating the
    // edge entry, so it pads at most kept - 1 entries on each side.
    int64_t kept =
        in + std::min<int64_t>(before, 0) + std::min<int64_t>(after, 0);
    int64_t widest = std::max(before, after);
    if (mode == "edge" && widest > 0 && kept <= 0)
      return fail(c, "mode edge cannot pad dim {}, which keeps no entries", d);
    if (mode == "reflect" && widest > 0 && widest >= kept)
      return fail(c,
                  "mode reflect pads dim {} by {}, which needs more than the "
                  "{} entries it keeps",
                  d, widest, std::max<int64_t>(kept, 0));
  }
  return one(x.withShape(shape));
}

Result inferResize(const Ctx &c) {
  const TensorType &x = c.in(0);
  for (llvm::StringRef a : {"sizes", "scales"})
    if (auto err = expectLength(c, a, x.rank()))
      return err;
  if (auto err = expectOneOf(c, "mode", {"nearest", "linear"}))
    return err;
  if (auto err =
          expectOneOf(c, "coordinate_transformation_mode",
                      {"half_pixel", "pytorch_half_pixel", "align_corners",
                       "asymmetric", "tf_half_pixel_for_nearest"}))
    return err;
  if (auto err = expectOneOf(
          c, "nearest_mode",
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}))
    return err;
  if (c.op.getString("mode") == "linear")
    if (auto err = expectFloat(c, 0))
      return err;
  if (auto err = expectPositive(c, "sizes"))
    return err;
  for (float s : c.op.getFloats("scales"))
    if (!(s > 0))
      return fail(c, "attribute 'scales' entries must be positive");
  return one(x.withShape(c.op.getInts("sizes")));
}

Result inferGather(const Ctx &c) {
  const TensorType &x = c.in(0), &idx = c.in(1);
  int64_t axis = c.op.getInt("axis");
  if (auto err = checkAxis(c, axis, x.rank()))
    return err;
  if ((idx.elem != ElemKind::I32 && idx.elem != ElemKind::I64) ||
      idx.isQuantized())
    return fail(c, "indices must be i32 or i64, got {}", toString(idx));
  if (x.isQuantized() && !x.quant->isPerTensor())
    return fail(c, "quantized operand must be quantized per tensor");
  llvm::SmallVector<int64_t, 4> shape(x.shape.begin(), x.shape.begin() + axis);
  shape.append(idx.shape.begin(), idx.shape.end());
  shape.append(x.shape.begin() + axis + 1, x.shape.end());
  return one(x.withShape(shape));
}

Result inferLookup(const Ctx &c) {
  const TensorType &x = c.in(0), &table = c.in(1);
  if (x.elem != ElemKind::I8 && x.elem != ElemKind::U8)
    return fail(c, "operand must be i8 or u8, got {}", toString(x));
  if (table.rank() != 1 || table.shape[0] != 256 ||
      (table.isQuantized() && !table.quant->isPerTensor()))
    return fail(c,
                "the table must be 256 elements, quantized per tensor if "
                "at all, got {}",
                toString(table));
  return one(table.withShape(x.shape));
}

Result inferCast(const Ctx &c) {
  auto to = parseElemName(c.op.getString("to"));
  if (!to)
    return fail(c, "unknown element kind \"{}\"", c.op.getString("to").str());
  if (c.in(0).isQuantized())
    return fail(c, "operand must not be quantized; use dequantize");
  return one(c.in(0).withElem(*to));
}

Result inferQuantize(const Ctx &c) {
  if (auto err = expectFloat(c, 0))
    return err;
  auto t = quantizedResult(c, c.in(0).shape);
  if (!t)
    return t.takeError();
  return one(*t);
}

Result inferDequantize(const Ctx &c) {
  if (!c.in(0).isQuantized())
    return fail(c, "operand must be quantized, got {}", toString(c.in(0)));
  return one(TensorType(ElemKind::F32, c.in(0).shape));
}

Result inferRequantize(const Ctx &c) {
  if (!c.in(0).isQuantized())
    return fail(c, "operand must be quantized, got {}", toString(c.in(0)));
  auto t = quantizedResult(c, c.in(0).shape);
  if (!t)
    return t.takeError();
  return one(*t);
}

Result inferCompare(const Ctx &c) {
  const TensorType &a = c.in(0), &b = c.in(1);
  if (a.elem != b.elem || a.isQuantized() || b.isQuantized() ||
      a.elem == ElemKind::I8)
    return fail(c,
                "operands must have the same kind (f32, i64, i32 or u8), "
                "got {} and {}",
                toString(a), toString(b));
  auto shape = broadcast(c, a.shape, b.shape);
  if (!shape)
    return shape.takeError();
  return one(TensorType(ElemKind::U8, *shape));
}

llvm::Error expectIndices(const Ctx &c, unsigned i) {
  const TensorType &t = c.in(i);
  if ((t.elem != ElemKind::I32 && t.elem != ElemKind::I64) || t.isQuantized())
    return fail(c, "operand {} must be i32 or i64 indices, got {}", i,
                toString(t));
  return llvm::Error::success();
}

/// A count operand: i32[].
llvm::Error expectCount(const Ctx &c, unsigned i) {
  const TensorType &t = c.in(i);
  if (t.elem != ElemKind::I32 || t.rank() != 0 || t.isQuantized())
    return fail(c, "operand {} must be an i32[] count, got {}", i, toString(t));
  return llvm::Error::success();
}

const TensorType countType(ElemKind::I32, {});

Result inferGatherND(const Ctx &c) {
  const TensorType &x = c.in(0), &idx = c.in(1);
  if (auto err = expectIndices(c, 1))
    return err;
  int64_t batch = c.op.getInt("batch_dims");
  if (idx.rank() < 1 || batch < 0 ||
      batch >= int64_t(std::min(x.rank(), idx.rank())))
    return fail(c, "batch_dims {} must be below the ranks of {} and {}", batch,
                toString(x), toString(idx));
  int64_t depth = idx.shape.back();
  if (depth < 1 || batch + depth > int64_t(x.rank()))
    return fail(c, "indices {} address more dims than {} has past batch_dims",
                toString(idx), toString(x));
  for (int64_t d = 0; d < batch; ++d)
    if (x.shape[d] != idx.shape[d])
      return fail(c, "batch dims of {} and {} differ", toString(x),
                  toString(idx));
  if (x.isQuantized() && !x.quant->isPerTensor())
    return fail(c, "quantized operand must be quantized per tensor");
  llvm::SmallVector<int64_t, 4> shape(idx.shape.begin(), idx.shape.end() - 1);
  shape.append(x.shape.begin() + batch + depth, x.shape.end());
  return one(x.withShape(shape));
}

Result inferNonZero(const Ctx &c) {
  const TensorType &x = c.in(0);
  if (x.isQuantized())
    return fail(c, "operand must not be quantized");
  return Types{TensorType(ElemKind::I64, {int64_t(x.rank()), x.numElements()}),
               countType};
}

Result inferTopK(const Ctx &c) {
  const TensorType &x = c.in(0);
  int64_t axis = c.op.getInt("axis"), k = c.op.getInt("k");
  if (auto err = checkAxis(c, axis, x.rank()))
    return err;
  if (auto err = expectBool(c, "largest"))
    return err;
  if (x.isQuantized() || x.elem == ElemKind::I8 || x.elem == ElemKind::U8)
    return fail(c, "operand must be f32, i32 or i64, got {}", toString(x));
  if (k < 0 || k > x.shape[axis])
    return fail(c, "k {} out of range for axis {} of {}", k, axis, toString(x));
  if (c.operands.size() == 2) {
    if (auto err = expectCount(c, 1))
      return err;
    if (x.rank() != 1)
      return fail(c, "a counted operand must have rank 1, got {}", toString(x));
  }
  llvm::SmallVector<int64_t, 4> shape(x.shape);
  shape[axis] = k;
  return Types{x.withShape(shape), TensorType(ElemKind::I64, shape), countType};
}

Result inferNonMaxSuppression(const Ctx &c) {
  const TensorType &boxes = c.in(0), &scores = c.in(1);
  if (auto err = expectFloat(c, 0))
    return err;
  if (auto err = expectFloat(c, 1))
    return err;
  if (boxes.rank() != 3 || boxes.shape[2] != 4 || scores.rank() != 3 ||
      scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1])
    return fail(c, "boxes {} and scores {} must be [B,N,4] and [B,C,N]",
                toString(boxes), toString(scores));
  if (auto err = expectBool(c, "center_point_box"))
    return err;
  int64_t max = c.op.getInt("max_output_boxes_per_class");
  if (max < 0)
    return fail(c, "max_output_boxes_per_class {} is negative", max);
  if (c.operands.size() == 3)
    if (auto err = expectCount(c, 2))
      return err;
  int64_t rows =
      boxes.shape[0] * scores.shape[1] * std::min(max, boxes.shape[1]);
  return Types{TensorType(ElemKind::I64, {rows, 3}), countType};
}

Result inferConcatValid(const Ctx &c) {
  size_t n = c.operands.size() / 2;
  if (c.operands.size() % 2)
    return fail(c, "expects n tensors and n counts, got {} operands",
                c.operands.size());
  const TensorType &first = c.in(0);
  if (first.rank() < 1 || first.isQuantized())
    return fail(c, "operand 0 {} must be a non-quantized tensor of rank >= 1",
                toString(first));
  llvm::SmallVector<int64_t, 4> shape(first.shape);
  shape[0] = 0;
  for (unsigned i = 0; i < n; ++i) {
    const TensorType &t = c.in(i);
    if (t.elem != first.elem || t.isQuantized() ||
        llvm::ArrayRef(t.shape).drop_front() !=
            llvm::ArrayRef(first.shape).drop_front())
      return fail(c, "operand {} {} does not match operand 0 {}", i,
                  toString(t), toString(first));
    if (auto err = expectCount(c, n + i))
      return err;
    shape[0] += t.shape[0];
  }
  return Types{first.withShape(shape), countType};
}

Result inferFillInvalid(const Ctx &c) {
  if (auto err = checkAxis(c, c.op.getInt("axis"), c.in(0).rank()))
    return err;
  if (auto err = expectCount(c, 1))
    return err;
  if (c.in(0).isQuantized())
    return fail(c, "operand must not be quantized");
  return one(c.in(0));
}

Result dispatch(const Ctx &c) {
  using Rule = Result (*)(const Ctx &);
  static constexpr Rule rules[] = {
#define MNC_OP(Name, mnemonic, minOperands, maxOperands, numResults, Rule)     \
  infer##Rule,
#include "ir/Ops.def"
  };
  return rules[static_cast<unsigned>(c.op.kind)](c);
}

/// Operand count and attribute schema, common to every op.
llvm::Error checkSignature(const Ctx &c) {
  const OpInfo &info = opInfo(c.op.kind);
  int n = static_cast<int>(c.operands.size());
  if (n < info.minOperands || (info.maxOperands >= 0 && n > info.maxOperands))
    return info.minOperands == info.maxOperands
               ? fail(c, "expects {} operands, got {}", info.minOperands, n)
           : info.maxOperands < 0
               ? fail(c, "expects at least {} operands, got {}",
                      info.minOperands, n)
               : fail(c, "expects {} to {} operands, got {}", info.minOperands,
                      info.maxOperands, n);
  llvm::ArrayRef<AttrInfo> schema = attrSchema(c.op.kind);
  for (const auto &[name, value] : c.op.attrs) {
    std::optional<AttrKind> kind = attrKindOf(c.op.kind, name);
    if (!kind)
      return fail(c, "unknown attribute '{}'", name);
    if (*kind != attrKind(value))
      return fail(c, "attribute '{}' must be {}, got {}", name,
                  attrKindName(*kind).str(),
                  attrKindName(attrKind(value)).str());
  }
  for (const AttrInfo &a : schema)
    if (!c.op.attrs.count(a.name))
      return fail(c, "missing attribute '{}'", a.name.str());
  for (const TensorType *t : c.operands)
    if (t->isQuantized())
      if (auto err = checkQuantParams(c, *t))
        return err;
  return llvm::Error::success();
}

} // namespace

llvm::Expected<llvm::SmallVector<TensorType, 1>>
inferResultTypes(const Function &f, const Op &op,
                 llvm::ArrayRef<TensorType> declared) {
  Ctx c{op, {}, declared};
  for (ValueId v : op.operands) {
    if (v >= f.valueTypes.size())
      return fail(c, "operand %{} is not a value of the function", v);
    c.operands.push_back(&f.valueTypes[v]);
  }
  if (auto err = checkSignature(c))
    return err;
  auto types = dispatch(c);
  if (!types || declared.empty())
    return types;
  if (declared.size() != types->size())
    return fail(c, "declares {} results, the op has {}", declared.size(),
                types->size());
  for (size_t i = 0; i < declared.size(); ++i)
    if (declared[i] != (*types)[i])
      return fail(c, "result {} declared {}, but the op produces {}", i,
                  toString(declared[i]), toString((*types)[i]));
  return types;
}

} // namespace mnc
