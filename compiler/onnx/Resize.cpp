// Import of ONNX Resize (opsets 10-19) and Upsample (7-9). The IR resize
// takes explicit output sizes and the scales used by coordinate
// transforms, so the three ways ONNX spells them (scales attribute, scales
// input, sizes input, optionally on a subset of axes) are resolved here.
#include "compiler/onnx/OpImporters.h"

#include <cmath>
#include <numeric>

namespace mnc::onnximport {
namespace {

struct ResizeSpec {
  std::vector<float> scales;
  std::vector<int64_t> sizes;
};

/// Scales or sizes given for `axes` spread over all dims (others 1 / same).
llvm::Expected<ResizeSpec> resolve(llvm::ArrayRef<int64_t> in,
                                   std::vector<float> scales,
                                   std::vector<int64_t> sizes,
                                   std::vector<int64_t> axes) {
  int64_t rank = in.size();
  size_t given = sizes.empty() ? scales.size() : sizes.size();
  if (axes.empty()) {
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (given != axes.size())
    return invalid("{} scales or sizes for {} axes", given, axes.size());
  ResizeSpec spec{std::vector<float>(rank, 1.0f),
                  std::vector<int64_t>(in.begin(), in.end())};
  for (size_t k = 0; k < axes.size(); ++k) {
    auto d = normalizeAxis(axes[k], rank);
    if (!d)
      return d.takeError();
    if (sizes.empty()) {
      if (!(scales[k] > 0))
        return invalid("scale {} must be positive", scales[k]);
      spec.scales[*d] = scales[k];
      // ONNX: output = floor(input * scale). Sizes beyond int64 (e.g. an
      // infinite scale) would not convert; the element cap rejects far
      // smaller ones later.
      double size = std::floor(static_cast<double>(in[*d]) * scales[k]);
      if (!(size < 0x1p62))
        return invalid("scale {} makes axis {} of {} elements too large",
                       scales[k], *d, in[*d]);
      spec.sizes[*d] = static_cast<int64_t>(size);
    } else {
      if (sizes[k] < 1 || in[*d] < 1)
        return invalid("sizes and input dims must be positive");
      spec.sizes[*d] = sizes[k];
      spec.scales[*d] = static_cast<float>(sizes[k]) / in[*d];
    }
  }
  return spec;
}

} // namespace

llvm::Error importResize(NodeContext &ctx) {
  auto x = ctx.input(0);
  if (!x)
    return x.takeError();
  bool legacy = ctx.node.op_type() == "Upsample" || ctx.opset() < 11;
  std::string mode = ctx.getString("mode", "nearest");
  if (mode == "bilinear") // Upsample-7 spelling.
    mode = "linear";
  if (mode != "nearest" && mode != "linear")
    return unsupported("mode \"{}\" is not supported", mode);
  if (mode == "linear")
    if (auto err = ctx.requireFloat(0))
      return err;
  // Upsample and Resize-10 sample at x_in = x_out / scale, rounding down.
  std::string coord =
      legacy ? "asymmetric"
             : ctx.getString("coordinate_transformation_mode", "half_pixel");
  std::string nearest =
      legacy ? "floor" : ctx.getString("nearest_mode", "round_prefer_floor");
  // ONNX spells the IR's tf_half_pixel_for_nearest "tf_half_pixel_for_nn".
  if (coord == "tf_half_pixel_for_nn")
    coord = "tf_half_pixel_for_nearest";
  else if (coord != "half_pixel" && coord != "pytorch_half_pixel" &&
           coord != "align_corners" && coord != "asymmetric")
    return unsupported("coordinate_transformation_mode \"{}\" is not "
                       "supported",
                       coord);
  if (ctx.getInt("antialias", 0))
    return unsupported("antialias is not supported");
  if (ctx.getString("keep_aspect_ratio_policy", "stretch") != "stretch")
    return unsupported("keep_aspect_ratio_policy \"{}\" is not supported",
                       ctx.getString("keep_aspect_ratio_policy", ""));
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  unsigned scalesInput = legacy ? 1 : 2;
  if (ctx.node.op_type() == "Upsample" && ctx.opset() < 9) {
    scales = ctx.getFloats("scales");
  } else if (ctx.hasInput(scalesInput)) {
    auto v = ctx.constFloats(scalesInput);
    if (!v)
      return v.takeError();
    scales = std::move(*v);
  }
  if (!legacy && ctx.hasInput(3)) {
    auto v = ctx.constInts(3);
    if (!v)
      return v.takeError();
    sizes = std::move(*v);
  }
  if (scales.empty() == sizes.empty())
    return invalid("exactly one of scales and sizes must be given");
  auto spec = resolve(ctx.typeOf(*x).shape, std::move(scales), std::move(sizes),
                      ctx.getInts("axes"));
  if (!spec)
    return spec.takeError();
  auto y = ctx.create(OpKind::Resize, {*x},
                      {{"coordinate_transformation_mode", coord},
                       {"mode", mode},
                       {"nearest_mode", nearest},
                       {"scales", spec->scales},
                       {"sizes", spec->sizes}});
  if (!y)
    return y.takeError();
  ctx.setOutput(0, *y);
  return llvm::Error::success();
}

} // namespace mnc::onnximport
