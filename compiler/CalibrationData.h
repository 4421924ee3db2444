// The inputs calibration runs a model on: tensors as `.npy`/`.pb` files, or
// photos (PNG, JPEG, BMP) preprocessed into the model's input tensor.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace mnc {

/// How a photo becomes an input tensor, in order: the shorter side resized
/// to `resize` (bilinear with antialiasing, as Pillow), a centre crop to
/// the model's input size, value = (pixel * pixelScale - mean[c]) / std[c],
/// channels in RGB (or BGR) order, NCHW or NHWC. The defaults are
/// torchvision's ImageNet preprocessing.
struct Preprocess {
  /// 0: the crop size / 0.875 (256 for 224, as ImageNet evaluation).
  int resize = 0;
  float pixelScale = 1.0f / 255;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  bool bgr = false;
  /// nullopt: NHWC if the input's last dimension is 1 or 3 and its second
  /// is not, else NCHW.
  std::optional<bool> nhwc;
};

/// One tensor of type `input` per calibration file: `paths` are files or
/// directories (their .npy, .pb, .png, .jpg, .jpeg and .bmp files, sorted
/// by name). Tensors must have the input's type; photos are preprocessed.
llvm::Expected<std::vector<Tensor>>
readCalibrationSet(llvm::ArrayRef<std::string> paths, const TensorType &input,
                   const Preprocess &p);

/// Reads one photo and preprocesses it into a tensor of type `input`.
llvm::Expected<Tensor> readImage(llvm::StringRef path, const TensorType &input,
                                 const Preprocess &p);

} // namespace mnc
