// Tensor type helpers and their textual form.
#include "ir/Types.h"

#include "llvm/Support/MathExtras.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace mnc {

unsigned elemSize(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
  case ElemKind::I32:
    return 4;
  case ElemKind::I64:
    return 8;
  case ElemKind::I8:
  case ElemKind::U8:
    return 1;
  }
  return 0;
}

static constexpr const char *elemNames[] = {"f32", "i64", "i32", "i8", "u8"};

llvm::StringRef elemName(ElemKind kind) {
  return elemNames[static_cast<unsigned>(kind)];
}

std::optional<ElemKind> parseElemName(llvm::StringRef name) {
  for (unsigned i = 0; i < std::size(elemNames); ++i)
    if (name == elemNames[i])
      return static_cast<ElemKind>(i);
  return std::nullopt;
}

bool isIntegerKind(ElemKind kind) { return kind != ElemKind::F32; }

int64_t TensorType::numElements() const {
  // Saturates: shapes from hostile files are checked by comparing this
  // against limits, which must not wrap around first.
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n))
      return std::numeric_limits<int64_t>::max();
  return n;
}

std::string formatFloat(float value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  return fmt::format("{}", fmt::join(shape, "x"));
}

static std::string quantString(const QuantParams &q) {
  std::string text = "<";
  if (q.axis)
    text += fmt::format("axis={}:", *q.axis);
  for (size_t i = 0; i < q.scales.size(); ++i)
    text += fmt::format("{}{}:{}", i ? "," : "", formatFloat(q.scales[i]),
                        q.zeroPoints[i]);
  return text + ">";
}

std::string toString(const TensorType &type) {
  std::string text(elemName(type.elem));
  if (type.quant)
    text += quantString(*type.quant);
  return text + fmt::format("[{}]", fmt::join(type.shape, ","));
}

llvm::SmallVector<int64_t, 4> stridesOf(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t, 4> strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

} // namespace mnc
