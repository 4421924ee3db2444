// resize: ONNX Resize (opset 11-13 semantics) for modes "nearest" and
// "linear". The per-dim source taps come from ir/ResizeTaps.h; nearest
// copies the element at the taps, linear interpolates between the two
// neighbouring elements of every resized dim (n-linear).
#include "ir/ResizeTaps.h"
#include "ir/interp/Kernels.h"

#include <cstring>

namespace mnc::interp {

Results evalResize(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> shape = out.type.shape;
  size_t rank = shape.size();
  std::vector<std::vector<ResizeTap>> taps;
  for (size_t d = 0; d < rank; ++d)
    taps.push_back(resizeTaps(c.op, x.type.shape[d], d));
  llvm::SmallVector<int64_t, 4> inStrides = stridesOf(x.type.shape);
  unsigned size = elemSize(x.type.elem);
  bool linear = c.op.getString("mode") == "linear";

  llvm::SmallVector<int64_t, 4> idx(rank, 0);
  for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
    if (!linear) {
      int64_t src = 0;
      for (size_t d = 0; d < rank; ++d)
        src += taps[d][idx[d]].lo * inStrides[d];
      std::memcpy(out.bytes.data() + i * size, x.bytes.data() + src * size,
                  size);
    } else {
      // Sum over the 2^rank corners; corners of dims with lo == hi get
      // weight 0 on their `hi` side.
      double sum = 0;
      for (unsigned corner = 0; corner < (1u << rank); ++corner) {
        double weight = 1;
        int64_t src = 0;
        for (size_t d = 0; d < rank && weight != 0; ++d) {
          const ResizeTap &t = taps[d][idx[d]];
          bool hi = corner >> d & 1;
          weight *= hi ? t.frac : 1 - t.frac;
          src += (hi ? t.hi : t.lo) * inStrides[d];
        }
        if (weight != 0)
          sum += weight * x.data<float>()[src];
      }
      out.data<float>()[i] = static_cast<float>(sum);
    }
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return one(std::move(out));
}

} // namespace mnc::interp
