// Data movement ops: they copy elements of any kind without looking at
// them, so they work on bytes (elemSize per element) and keep quantized
// tensors' stored values.
#include "ir/Math.h"
#include "ir/interp/Kernels.h"

#include <cstring>

namespace mnc::interp {
namespace {

/// Copies element `from` of `src` to element `to` of `dst`.
void copyElem(const Tensor &src, int64_t from, Tensor &dst, int64_t to) {
  unsigned size = elemSize(src.type.elem);
  std::memcpy(dst.bytes.data() + to * size, src.bytes.data() + from * size,
              size);
}

/// Fills every result element from the input element at the offset that
/// `strides` (one per result dim, in input elements) plus `base` give.
Tensor gatherStrided(const EvalCtx &c, int64_t base,
                     llvm::SmallVector<int64_t, 4> strides) {
  Tensor out = c.newResult();
  std::array<llvm::SmallVector<int64_t, 4>, 2> st = {std::move(strides),
                                                     stridesOf(out.type.shape)};
  forEachIndex(out.type.shape, st, [&](const std::array<int64_t, 2> &o) {
    copyElem(c.in(0), base + o[0], out, o[1]);
  });
  return out;
}

} // namespace

Results evalConstant(const EvalCtx &c) { return one(c.op.getTensor("value")); }

Results evalReshape(const EvalCtx &c) {
  return one(Tensor(c.resultTypes[0], c.in(0).bytes));
}

Results evalConcat(const EvalCtx &c) {
  Tensor out = c.newResult();
  int64_t axis = c.op.getInt("axis");
  llvm::ArrayRef<int64_t> shape = out.type.shape;
  int64_t outer = product(shape, 0, axis);
  int64_t rowBytes =
      product(shape, axis, shape.size()) * elemSize(out.type.elem);
  int64_t offset = 0;
  for (const Tensor *t : c.operands) {
    int64_t chunk =
        product(t->type.shape, axis, shape.size()) * elemSize(out.type.elem);
    // Empty tensors have null data, which memcpy may not see even for 0
    // bytes.
    for (int64_t o = 0; chunk && o < outer; ++o)
      std::memcpy(out.bytes.data() + o * rowBytes + offset,
                  t->bytes.data() + o * chunk, chunk);
    offset += chunk;
  }
  return one(std::move(out));
}

Results evalSplit(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  int64_t axis = c.op.getInt("axis");
  llvm::ArrayRef<int64_t> shape = x.type.shape;
  int64_t outer = product(shape, 0, axis);
  int64_t rowBytes = product(shape, axis, shape.size()) * elemSize(x.type.elem);
  std::vector<Tensor> results;
  int64_t offset = 0;
  for (unsigned r = 0; r < c.resultTypes.size(); ++r) {
    Tensor out = c.newResult(r);
    int64_t chunk =
        product(out.type.shape, axis, shape.size()) * elemSize(x.type.elem);
    for (int64_t o = 0; chunk && o < outer; ++o)
      std::memcpy(out.bytes.data() + o * chunk,
                  x.bytes.data() + o * rowBytes + offset, chunk);
    offset += chunk;
    results.push_back(std::move(out));
  }
  return results;
}

Results evalTranspose(const EvalCtx &c) {
  auto perm = c.op.getInts("perm");
  llvm::SmallVector<int64_t, 4> inStrides = stridesOf(c.in(0).type.shape);
  llvm::SmallVector<int64_t, 4> strides;
  for (int64_t p : perm)
    strides.push_back(inStrides[p]);
  return one(gatherStrided(c, 0, std::move(strides)));
}

Results evalSlice(const EvalCtx &c) {
  auto starts = c.op.getInts("starts"), steps = c.op.getInts("steps");
  llvm::SmallVector<int64_t, 4> inStrides = stridesOf(c.in(0).type.shape);
  int64_t base = 0;
  llvm::SmallVector<int64_t, 4> strides;
  for (size_t d = 0; d < inStrides.size(); ++d) {
    base += starts[d] * inStrides[d];
    strides.push_back(steps[d] * inStrides[d]);
  }
  // An empty result has no elements to read; `base` may then be past the
  // end.
  if (c.resultTypes[0].numElements() == 0)
    return one(c.newResult());
  return one(gatherStrided(c, base, std::move(strides)));
}

namespace {

/// Maps a position of a padded dim to its source index in [0, n), or -1
/// for a constant fill.
int64_t padSource(int64_t i, int64_t n, llvm::StringRef mode) {
  if (i >= 0 && i < n)
    return i;
  if (mode == "edge")
    return i < 0 ? 0 : n - 1;
  if (mode == "reflect") {
    // Reflection without repeating the edge has period 2(n - 1), as numpy
    // pad mode "reflect" does.
    if (n == 1)
      return 0;
    int64_t period = 2 * (n - 1);
    int64_t m = ((i % period) + period) % period;
    return m < n ? m : period - m;
  }
  return -1;
}

} // namespace

// The fill value of mode "constant" is converted to the element kind; for a
// quantized tensor it is a stored value, like ONNX Pad's constant_value on
// the quantized tensor of a QDQ model.
Results evalPad(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> in = x.type.shape, shape = out.type.shape;
  auto pads = c.op.getInts("pads");
  llvm::StringRef mode = c.op.getString("mode");
  std::vector<std::vector<int64_t>> sources(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    for (int64_t i = 0; i < shape[d]; ++i)
      sources[d].push_back(padSource(i - pads[d], in[d], mode));

  float value = c.op.getFloat("value");
  Tensor fill(x.type.withShape({}));
  visitElem(x.type.elem, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>)
      fill.data<T>()[0] = math::saturateCast<T>(value);
    else
      fill.data<T>()[0] = value;
  });

  llvm::SmallVector<int64_t, 4> inStrides = stridesOf(in);
  llvm::SmallVector<int64_t, 4> idx(shape.size(), 0);
  for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < shape.size() && src >= 0; ++d) {
      int64_t s = sources[d][idx[d]];
      src = s < 0 ? -1 : src + s * inStrides[d];
    }
    if (src < 0)
      copyElem(fill, 0, out, i);
    else
      copyElem(x, src, out, i);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return one(std::move(out));
}

Results evalGather(const EvalCtx &c) {
  const Tensor &x = c.in(0), &indices = c.in(1);
  int64_t axis = c.op.getInt("axis");
  llvm::ArrayRef<int64_t> shape = x.type.shape;
  int64_t outer = product(shape, 0, axis), extent = shape[axis];
  int64_t chunk =
      product(shape, axis + 1, shape.size()) * elemSize(x.type.elem);
  int64_t count = indices.numElements();
  Tensor out = c.newResult();
  for (int64_t k = 0; k < count; ++k) {
    int64_t index = indices.getAsInt(k);
    if (index < -extent || index >= extent)
      return fail(c, "index {} out of range for axis {} of extent {}", index,
                  axis, extent);
    if (index < 0)
      index += extent;
    for (int64_t o = 0; chunk && o < outer; ++o)
      std::memcpy(out.bytes.data() + (o * count + k) * chunk,
                  x.bytes.data() + (o * extent + index) * chunk, chunk);
  }
  return one(std::move(out));
}

Results evalLookup(const EvalCtx &c) {
  const Tensor &x = c.in(0), &table = c.in(1);
  int64_t min = x.type.elem == ElemKind::I8 ? -128 : 0;
  size_t size = elemSize(table.type.elem);
  Tensor out = c.newResult();
  for (int64_t i = 0, n = x.numElements(); i < n; ++i)
    std::memcpy(out.bytes.data() + i * size,
                table.bytes.data() + (x.getAsInt(i) - min) * size, size);
  return one(std::move(out));
}

} // namespace mnc::interp
