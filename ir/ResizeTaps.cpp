// Resize source coordinates, following the ONNX reference implementation
// (onnx/backend/test/case/node/resize.py), which the node tests' expected
// outputs come from. Each output coordinate maps to a source coordinate
// per dim; nearest rounds it, linear interpolates between the two
// neighbouring elements.
#include "ir/ResizeTaps.h"

#include <algorithm>
#include <cmath>

namespace mnc {
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

} // namespace

bool isResizeIdentityDim(const Op &op, int64_t inLen, size_t d) {
  return inLen == op.getInts("sizes")[d] && op.getFloats("scales")[d] == 1;
}

std::vector<ResizeTap> resizeTaps(const Op &op, int64_t inLen, size_t d) {
  int64_t outLen = op.getInts("sizes")[d];
  double scale = op.getFloats("scales")[d];
  llvm::StringRef coordMode = op.getString("coordinate_transformation_mode");
  bool linear = op.getString("mode") == "linear";
  bool identity = isResizeIdentityDim(op, inLen, d);
  std::vector<ResizeTap> taps;
  for (int64_t i = 0; i < outLen; ++i) {
    if (identity) {
      taps.push_back({i, i, 0});
      continue;
    }
    double x = sourceCoord(coordMode, i, scale, inLen, outLen);
    if (!linear) {
      int64_t n = roundNearest(op.getString("nearest_mode"), x);
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

} // namespace mnc
