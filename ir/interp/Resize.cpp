// resize: ONNX Resize (opset 11-13 semantics) for modes "nearest" and
// "linear", following the ONNX reference implementation
// (onnx/backend/test/case/node/resize.py), which the node tests' expected
// outputs come from. Each output coordinate maps to a source coordinate
// per dim; nearest rounds it, linear interpolates between the two
// neighbouring elements of every resized dim (n-linear).
#include "ir/interp/Kernels.h"

#include <cmath>
#include <cstring>

namespace mnc::interp {
namespace {

/// The source coordinate of output index `x` along a dim of `inLen`
/// elements resized to `outLen` with `scale`.
double sourceCoord(llvm::StringRef mode, int64_t x, double scale, int64_t inLen,
                   int64_t outLen) {
  if (mode == "align_corners") {
    // The reference divides by scale * inLen - 1 (not outLen - 1), which
    // differs when the scale does not give an integral length.
    double resized = scale * inLen;
    return resized == 1 ? 0 : x * (inLen - 1) / (resized - 1);
  }
  if (mode == "asymmetric")
    return x / scale;
  if (mode == "tf_half_pixel_for_nearest")
    return (x + 0.5) / scale;
  if (mode == "pytorch_half_pixel" && outLen == 1)
    return 0;
  return (x + 0.5) / scale - 0.5; // half_pixel
}

int64_t roundNearest(llvm::StringRef mode, double x) {
  double lo = std::floor(x), frac = x - lo;
  if (mode == "floor")
    return static_cast<int64_t>(lo);
  if (mode == "ceil")
    return static_cast<int64_t>(std::ceil(x));
  bool up = mode == "round_prefer_ceil" ? frac >= 0.5 : frac > 0.5;
  return static_cast<int64_t>(up ? lo + 1 : lo);
}

/// Where output index i of one dim reads: elements lo and hi, with weight
/// (1 - frac) and frac. Nearest and unresized dims have lo == hi.
struct Tap {
  int64_t lo, hi;
  double frac;
};

std::vector<Tap> dimTaps(const EvalCtx &c, size_t d) {
  int64_t inLen = c.in(0).type.shape[d];
  int64_t outLen = c.op.getInts("sizes")[d];
  double scale = c.op.getFloats("scales")[d];
  llvm::StringRef coordMode = c.op.getString("coordinate_transformation_mode");
  bool linear = c.op.getString("mode") == "linear";
  std::vector<Tap> taps;
  for (int64_t i = 0; i < outLen; ++i) {
    if (inLen == outLen && scale == 1) {
      taps.push_back({i, i, 0});
      continue;
    }
    double x = sourceCoord(coordMode, i, scale, inLen, outLen);
    if (!linear) {
      int64_t n = roundNearest(c.op.getString("nearest_mode"), x);
      n = std::clamp<int64_t>(n, 0, inLen - 1);
      taps.push_back({n, n, 0});
      continue;
    }
    // Clamping x is the reference's edge padding of the input.
    x = std::clamp<double>(x, 0, inLen - 1);
    int64_t lo = static_cast<int64_t>(std::floor(x));
    taps.push_back({lo, std::min(lo + 1, inLen - 1), x - lo});
  }
  return taps;
}

} // namespace

Results evalResize(const EvalCtx &c) {
  const Tensor &x = c.in(0);
  Tensor out = c.newResult();
  llvm::ArrayRef<int64_t> shape = out.type.shape;
  size_t rank = shape.size();
  std::vector<std::vector<Tap>> taps;
  for (size_t d = 0; d < rank; ++d)
    taps.push_back(dimTaps(c, d));
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
          const Tap &t = taps[d][idx[d]];
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
