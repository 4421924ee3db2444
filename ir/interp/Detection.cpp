// The static-bound detection ops: gather_nd, non_zero, top_k,
// non_max_suppression, concat_valid and fill_invalid. Counts are i32[]
// tensors; entries past a count are left 0 (see ir/Ops.def).
#include "ir/Math.h"
#include "ir/interp/Kernels.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace mnc::interp {
namespace {

Tensor countTensor(int64_t n) {
  Tensor t(TensorType(ElemKind::I32, {}));
  t.data<int32_t>()[0] = static_cast<int32_t>(n);
  return t;
}

int64_t countOf(const Tensor &t) { return t.data<int32_t>()[0]; }

/// Whether element `a` (value va) goes before `b` in TopK order: larger
/// (or smaller) first, equal values by index.
template <typename T>
bool before(T va, int64_t a, T vb, int64_t b, bool largest) {
  if (va != vb)
    return largest ? va > vb : va < vb;
  return a < b;
}

/// A count operand clamped to [0, capacity].
int64_t validCount(const EvalCtx &c, unsigned i, int64_t capacity) {
  if (c.operands.size() <= i)
    return capacity;
  return std::clamp<int64_t>(countOf(c.in(i)), 0, capacity);
}

} // namespace

Results evalGatherND(const EvalCtx &c) {
  const Tensor &x = c.in(0), &idx = c.in(1);
  llvm::ArrayRef<int64_t> xs = x.type.shape, is = idx.type.shape;
  int64_t batchDims = c.op.getInt("batch_dims");
  int64_t depth = is.back();
  int64_t batches = product(xs, 0, batchDims);
  int64_t perBatch = product(is, batchDims, is.size() - 1);
  int64_t sliceBytes =
      product(xs, batchDims + depth, xs.size()) * elemSize(x.type.elem);
  int64_t batchBytes =
      product(xs, batchDims, xs.size()) * elemSize(x.type.elem);
  Tensor out = c.newResult();
  for (int64_t bt = 0; bt < batches; ++bt)
    for (int64_t k = 0; k < perBatch; ++k) {
      int64_t row = bt * perBatch + k, offset = 0;
      for (int64_t d = 0; d < depth; ++d) {
        int64_t extent = xs[batchDims + d];
        int64_t index = idx.getAsInt(row * depth + d);
        if (index < -extent || index >= extent)
          return fail(c, "index {} out of range for dim {} of extent {}", index,
                      batchDims + d, extent);
        offset = offset * extent + (index < 0 ? index + extent : index);
      }
      if (sliceBytes)
        std::memcpy(out.bytes.data() + row * sliceBytes,
                    x.bytes.data() + bt * batchBytes + offset * sliceBytes,
                    sliceBytes);
    }
  return one(std::move(out));
}

Results evalNonZero(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  llvm::ArrayRef<int64_t> shape = x.type.shape;
  int64_t n = x.numElements(), found = 0;
  Tensor out = c.newResult();
  int64_t *y = out.data<int64_t>();
  auto strides = stridesOf(shape);
  for (int64_t i = 0; i < n; ++i) {
    if (x.getAsDouble(i) == 0)
      continue;
    for (size_t d = 0; d < shape.size(); ++d)
      y[d * n + found] = i / strides[d] % shape[d];
    ++found;
  }
  std::vector<Tensor> results;
  results.push_back(std::move(out));
  results.push_back(countTensor(found));
  return results;
}

Results evalTopK(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  int64_t axis = c.op.getInt("axis"), k = c.op.getInt("k");
  bool largest = c.op.getInt("largest");
  llvm::ArrayRef<int64_t> shape = x.type.shape;
  int64_t outer = product(shape, 0, axis), extent = shape[axis];
  int64_t inner = product(shape, axis + 1, shape.size());
  int64_t valid = validCount(c, 1, extent), taken = std::min(k, valid);
  Tensor values = c.newResult(0), indices = c.newResult(1);
  visitElem(x.type.elem, [&](auto t) {
    using T = decltype(t);
    const T *in = x.data<T>();
    T *v = values.data<T>();
    int64_t *ix = indices.data<int64_t>();
    std::vector<int64_t> order(valid);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T *line = in + o * extent * inner + i;
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          return before(line[a * inner], a, line[b * inner], b, largest);
        });
        for (int64_t j = 0; j < taken; ++j) {
          int64_t at = (o * k + j) * inner + i;
          v[at] = line[order[j] * inner];
          ix[at] = order[j];
        }
      }
  });
  std::vector<Tensor> results;
  results.push_back(std::move(values));
  results.push_back(std::move(indices));
  results.push_back(countTensor(taken));
  return results;
}

Results evalNonMaxSuppression(const EvalCtx &c) {
  const Tensor &boxes = c.in(0), &scores = c.in(1);
  int64_t batches = boxes.type.shape[0], classes = scores.type.shape[1];
  int64_t n = boxes.type.shape[1];
  int64_t valid = validCount(c, 2, n);
  int64_t maxPerClass = c.op.getInt("max_output_boxes_per_class");
  float iouThreshold = c.op.getFloat("iou_threshold");
  float scoreThreshold = c.op.getFloat("score_threshold");
  bool centerPoint = c.op.getInt("center_point_box");
  Tensor out = c.newResult();
  int64_t *rows = out.data<int64_t>(), count = 0;
  for (int64_t bt = 0; bt < batches; ++bt)
    for (int64_t cl = 0; cl < classes; ++cl) {
      const float *score = scores.data<float>() + (bt * classes + cl) * n;
      const float *box = boxes.data<float>() + bt * n * 4;
      std::vector<int64_t> order;
      for (int64_t i = 0; i < valid; ++i)
        if (score[i] > scoreThreshold)
          order.push_back(i);
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return before(score[a], a, score[b], b, /*largest=*/true);
      });
      std::vector<int64_t> kept;
      for (int64_t i : order) {
        if (static_cast<int64_t>(kept.size()) >= maxPerClass)
          break;
        bool suppressed = llvm::any_of(kept, [&](int64_t j) {
          return math::boxOverlap(box + 4 * i, box + 4 * j, centerPoint) >
                 iouThreshold;
        });
        if (suppressed)
          continue;
        kept.push_back(i);
        int64_t *row = rows + 3 * count++;
        row[0] = bt, row[1] = cl, row[2] = i;
      }
    }
  std::vector<Tensor> results;
  results.push_back(std::move(out));
  results.push_back(countTensor(count));
  return results;
}

Results evalConcatValid(const EvalCtx &c) {
  size_t n = c.operands.size() / 2;
  Tensor out = c.newResult();
  int64_t rowBytes =
      product(out.type.shape, 1, out.type.rank()) * elemSize(out.type.elem);
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t rows = validCount(c, n + i, c.in(i).type.shape[0]);
    std::memcpy(out.bytes.data() + total * rowBytes, c.in(i).bytes.data(),
                rows * rowBytes);
    total += rows;
  }
  std::vector<Tensor> results;
  results.push_back(std::move(out));
  results.push_back(countTensor(total));
  return results;
}

Results evalFillInvalid(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  int64_t axis = c.op.getInt("axis");
  llvm::ArrayRef<int64_t> shape = x.type.shape;
  int64_t extent = shape[axis], inner = product(shape, axis + 1, shape.size());
  int64_t valid = validCount(c, 1, extent);
  float value = c.op.getFloat("value");
  Tensor out = x;
  visitElem(x.type.elem, [&](auto t) {
    using T = decltype(t);
    T *y = out.data<T>();
    for (int64_t i = 0, e = out.numElements(); i < e; ++i)
      if (i / inner % extent >= valid)
        y[i] = static_cast<T>(value);
  });
  return one(std::move(out));
}

} // namespace mnc::interp
