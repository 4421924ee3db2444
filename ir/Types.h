// Tensor types of the mnc IR: an element kind, a static shape and, for
// quantized tensors, the affine quantization parameters
// (real = scale * (stored - zeroPoint)), per tensor or per channel.
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mnc {

/// Element kinds. i64 exists for indices and shape arithmetic that the
/// importer folds; kernels work on f32, i32, i8 and u8.
enum class ElemKind : uint8_t { F32, I64, I32, I8, U8 };

/// Size of one element in bytes.
unsigned elemSize(ElemKind kind);
/// IR spelling: "f32", "i64", "i32", "i8", "u8".
llvm::StringRef elemName(ElemKind kind);
/// Inverse of elemName.
std::optional<ElemKind> parseElemName(llvm::StringRef name);
bool isIntegerKind(ElemKind kind);

/// Affine quantization: real = scale * (q - zeroPoint). Per tensor when
/// `axis` is empty (one scale and zero point), per channel along `axis`
/// otherwise (one pair per index of that dimension).
struct QuantParams {
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
  std::optional<int64_t> axis;

  bool isPerTensor() const { return !axis.has_value(); }
  float scale(int64_t channel) const {
    return scales[isPerTensor() ? 0 : channel];
  }
  int32_t zeroPoint(int64_t channel) const {
    return zeroPoints[isPerTensor() ? 0 : channel];
  }
  bool operator==(const QuantParams &o) const {
    return scales == o.scales && zeroPoints == o.zeroPoints && axis == o.axis;
  }
  bool operator!=(const QuantParams &o) const { return !(*this == o); }
};

/// Elements of any one tensor read from a file (an ONNX model or textual
/// IR): 1 GiB of f32, where MobileNet activations have about a million.
constexpr int64_t maxTensorElements = int64_t(1) << 28;

/// A statically shaped tensor type. Rank 0 is a scalar.
struct TensorType {
  ElemKind elem = ElemKind::F32;
  llvm::SmallVector<int64_t, 4> shape;
  std::optional<QuantParams> quant;

  TensorType() = default;
  TensorType(ElemKind elem, llvm::ArrayRef<int64_t> shape,
             std::optional<QuantParams> quant = std::nullopt)
      : elem(elem), shape(shape.begin(), shape.end()), quant(std::move(quant)) {
  }

  size_t rank() const { return shape.size(); }
  int64_t numElements() const;
  int64_t byteSize() const { return numElements() * elemSize(elem); }
  bool isQuantized() const { return quant.has_value(); }
  /// i8 or u8 with one scale and zero point for the whole tensor.
  bool isInt8PerTensor() const {
    return (elem == ElemKind::I8 || elem == ElemKind::U8) && quant &&
           quant->isPerTensor();
  }
  /// The same shape with another element kind and no quantization.
  TensorType withElem(ElemKind kind) const { return {kind, shape}; }
  TensorType withShape(llvm::ArrayRef<int64_t> newShape) const {
    return {elem, newShape, quant};
  }
  bool operator==(const TensorType &o) const {
    return elem == o.elem && shape == o.shape && quant == o.quant;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
};

/// Prints a type in IR syntax, e.g. `f32[1,3,224,224]`,
/// `i8<0.5:-3>[1,8]` or `i8<axis=0:0.5:0,0.25:0>[2,8]`.
std::string toString(const TensorType &type);
/// Prints a shape as `1x3x224x224`, for messages.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// Row-major strides of a shape, in elements.
llvm::SmallVector<int64_t, 4> stridesOf(llvm::ArrayRef<int64_t> shape);

/// Shortest decimal text that reads back as the same float, always with a
/// '.', 'e', "inf" or "nan" so that it never reads back as an integer.
std::string formatFloat(float value);

} // namespace mnc
