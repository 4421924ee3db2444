// Calibration inputs from files. Photos are decoded by stb_image (Debian
// libstb-dev) and preprocessed like torchvision's Resize, CenterCrop,
// ToTensor and Normalize, so that calibration sees what the model sees in
// use.
#include "compiler/CalibrationData.h"

#include "compiler/TensorIO.h"
#include "ir/Math.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

#include <algorithm>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO_WARNINGS
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#include <stb/stb_image.h>

namespace mnc {
namespace {

llvm::Error fail(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool isImage(llvm::StringRef path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  return ext.equals_insensitive(".png") || ext.equals_insensitive(".jpg") ||
         ext.equals_insensitive(".jpeg") || ext.equals_insensitive(".bmp");
}

bool isTensorFile(llvm::StringRef path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  return ext == ".npy" || ext == ".pb";
}

/// Interleaved 8-bit pixels.
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Pillow's bilinear resampling (ImagingResample): a triangle filter of
// support 1, widened by the scale when shrinking so that every input pixel
// contributes (antialiasing), centres at (x + 0.5) * scale, results rounded
// to 8 bits after each pass.
Image resizeWidth(const Image &in, int width) {
  Image out{width, in.height, in.channels, {}};
  out.pixels.resize(size_t(width) * in.height * in.channels);
  double scale = double(in.width) / width;
  double support = std::max(scale, 1.0);
  for (int x = 0; x < width; ++x) {
    double center = (x + 0.5) * scale;
    int lo = std::max(int(center - support + 0.5), 0);
    int hi = std::min(int(center + support + 0.5), in.width);
    std::vector<double> w;
    double sum = 0;
    for (int i = lo; i < hi; ++i) {
      double d = std::fabs((i - center + 0.5) / support);
      w.push_back(d < 1 ? 1 - d : 0);
      sum += w.back();
    }
    for (int y = 0; y < in.height; ++y)
      for (int c = 0; c < in.channels; ++c) {
        double acc = 0;
        for (int i = lo; i < hi; ++i)
          acc += w[i - lo] *
                 in.pixels[(size_t(y) * in.width + i) * in.channels + c];
        out.pixels[(size_t(y) * width + x) * in.channels + c] =
            uint8_t(std::clamp(std::floor(acc / sum + 0.5), 0.0, 255.0));
      }
  }
  return out;
}

Image transposed(const Image &in) {
  Image out{in.height, in.width, in.channels, {}};
  out.pixels.resize(in.pixels.size());
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < in.channels; ++c)
        out.pixels[(size_t(x) * in.height + y) * in.channels + c] =
            in.pixels[(size_t(y) * in.width + x) * in.channels + c];
  return out;
}

/// Resizes so that the shorter side is `shorter` (the longer side scaled
/// and truncated, as torchvision's Resize(int)).
Image resizeShorter(const Image &in, int shorter) {
  bool wide = in.width >= in.height;
  int s = wide ? in.height : in.width, l = wide ? in.width : in.height;
  int longer = int(int64_t(shorter) * l / s);
  int w = wide ? longer : shorter, h = wide ? shorter : longer;
  Image out = w == in.width ? in : resizeWidth(in, w);
  return h == in.height ? out : transposed(resizeWidth(transposed(out), h));
}

} // namespace

llvm::Expected<Tensor> readImage(llvm::StringRef path, const TensorType &input,
                                 const Preprocess &p) {
  const auto &shape = input.shape;
  if (input.elem != ElemKind::F32 || shape.size() != 4 || shape[0] != 1)
    return fail(fmt::format("photos need an f32 [1,C,H,W] or [1,H,W,C] "
                            "input, the model's is {}; give .npy tensors",
                            toString(input)));
  bool nhwc = p.nhwc.value_or((shape[3] == 1 || shape[3] == 3) &&
                              shape[1] != 1 && shape[1] != 3);
  int64_t c = nhwc ? shape[3] : shape[1], h = nhwc ? shape[1] : shape[2],
          w = nhwc ? shape[2] : shape[3];
  if (c != 1 && c != 3)
    return fail(fmt::format("photos need 1 or 3 input channels, the "
                            "model's input is {}",
                            toString(input)));
  Image img;
  img.channels = int(c);
  std::unique_ptr<stbi_uc, void (*)(void *)> data(
      stbi_load(path.str().c_str(), &img.width, &img.height, nullptr, int(c)),
      stbi_image_free);
  if (!data)
    return fail(fmt::format("cannot read image '{}': {}", path.str(),
                            stbi_failure_reason()));
  img.pixels.assign(data.get(),
                    data.get() + size_t(img.width) * img.height * c);
  int resize = p.resize ? p.resize : int(std::min(h, w) / 0.875 + 0.5);
  img = resizeShorter(img, resize);
  if (img.width < w || img.height < h)
    return fail(fmt::format("image '{}' resized to {}x{} is smaller than "
                            "the input's {}x{}",
                            path.str(), img.width, img.height, w, h));
  int top = int(math::roundHalfToEven((img.height - h) / 2.0));
  int left = int(math::roundHalfToEven((img.width - w) / 2.0));
  Tensor t(input);
  float *out = t.data<float>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) {
        int64_t src = p.bgr && c == 3 ? 2 - k : k;
        float v =
            img.pixels[(size_t(top + y) * img.width + left + x) * c + src];
        float norm = (v * p.pixelScale - p.mean[k]) / p.std[k];
        out[nhwc ? (y * w + x) * c + k : (k * h + y) * w + x] = norm;
      }
  return t;
}

llvm::Expected<std::vector<Tensor>>
readCalibrationSet(llvm::ArrayRef<std::string> paths, const TensorType &input,
                   const Preprocess &p) {
  std::vector<std::string> files;
  for (const std::string &path : paths) {
    if (!llvm::sys::fs::is_directory(path)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> inDir;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
         it.increment(ec))
      if (isImage(it->path()) || isTensorFile(it->path()))
        inDir.push_back(it->path());
    if (ec)
      return fail(fmt::format("cannot list '{}': {}", path, ec.message()));
    if (inDir.empty())
      return fail(fmt::format("calibration folder '{}' has no .npy, .pb, "
                              ".png, .jpg or .bmp files",
                              path));
    llvm::sort(inDir);
    llvm::append_range(files, inDir);
  }
  std::vector<Tensor> set;
  for (const std::string &file : files) {
    auto t = isImage(file) ? readImage(file, input, p) : readTensorFile(file);
    if (!t)
      return t.takeError();
    if (t->type.elem != input.elem || t->type.shape != input.shape)
      return fail(fmt::format("calibration input '{}' holds {}, the model "
                              "expects {}",
                              file, toString(t->type), toString(input)));
    t->type = input;
    set.push_back(std::move(*t));
  }
  return set;
}

} // namespace mnc
