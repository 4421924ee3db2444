// What the interpreter's kernels share: the evaluation context, element
// kind dispatch, index helpers, and one eval function per row of
// ir/Ops.def (defined in the ir/interp/*.cpp file of the op's family).
#pragma once

#include "ir/IR.h"

#include "llvm/Support/ErrorHandling.h"

#include <fmt/format.h>

#include <array>
#include <vector>

namespace mnc::interp {

using Results = llvm::Expected<std::vector<Tensor>>;

/// An op with concrete operands and the types its results must have.
struct EvalCtx {
  const Op &op;
  llvm::ArrayRef<const Tensor *> operands;
  llvm::ArrayRef<TensorType> resultTypes;

  const Tensor &in(unsigned i) const { return *operands[i]; }
  /// A zero-filled tensor of result `i`'s type.
  Tensor newResult(unsigned i = 0) const { return Tensor(resultTypes[i]); }
};

/// An error about the op; the driver prefixes where it happened.
template <typename... Args>
llvm::Error fail(const EvalCtx &, fmt::format_string<Args...> format,
                 Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format(format, std::forward<Args>(args)...));
}

inline Results one(Tensor t) {
  std::vector<Tensor> results;
  results.push_back(std::move(t));
  return results;
}

/// Calls `f(T())` with T the C++ type of elements of `kind`.
template <typename F> decltype(auto) visitElem(ElemKind kind, F &&f) {
  switch (kind) {
  case ElemKind::F32:
    return f(float());
  case ElemKind::I64:
    return f(int64_t());
  case ElemKind::I32:
    return f(int32_t());
  case ElemKind::I8:
    return f(int8_t());
  case ElemKind::U8:
    return f(uint8_t());
  }
  llvm_unreachable("unknown element kind");
}

/// Product of shape[begin, end).
inline int64_t product(llvm::ArrayRef<int64_t> shape, size_t begin,
                       size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i)
    n *= shape[i];
  return n;
}

/// Strides for reading a tensor of shape `in` while iterating over `out`
/// under numpy broadcasting (`in` aligned to the right of `out`): 0 where
/// `in` has a 1 or no dim.
llvm::SmallVector<int64_t, 4> broadcastStrides(llvm::ArrayRef<int64_t> in,
                                               llvm::ArrayRef<int64_t> out);

/// Iterates over all indices of `shape` in row-major order, keeping one
/// running offset per stride vector: calls `f(offsets)` once per element.
/// `strides[k]` has one stride per dim of `shape`.
template <size_t K, typename F>
void forEachIndex(llvm::ArrayRef<int64_t> shape,
                  const std::array<llvm::SmallVector<int64_t, 4>, K> &strides,
                  F &&f) {
  int64_t n = product(shape, 0, shape.size());
  llvm::SmallVector<int64_t, 4> idx(shape.size(), 0);
  std::array<int64_t, K> offsets{};
  for (int64_t i = 0; i < n; ++i) {
    f(offsets);
    for (size_t d = shape.size(); d-- > 0;) {
      for (size_t k = 0; k < K; ++k)
        offsets[k] += strides[k][d];
      if (++idx[d] < shape[d])
        break;
      for (size_t k = 0; k < K; ++k)
        offsets[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
  }
}

/// Looks up the quantization parameters that apply to element `i` of a
/// tensor of a quantized type (per tensor or per channel).
class QuantIndexer {
public:
  explicit QuantIndexer(const TensorType &type);
  int64_t channel(int64_t i) const {
    return q.isPerTensor() ? 0 : (i / inner) % dim;
  }
  float scale(int64_t i) const { return q.scales[channel(i)]; }
  int32_t zeroPoint(int64_t i) const { return q.zeroPoints[channel(i)]; }

private:
  const QuantParams &q;
  int64_t inner = 1, dim = 1;
};

#define MNC_OP(Name, mnemonic, minOperands, maxOperands, numResults, Rule)     \
  Results eval##Name(const EvalCtx &c);
#include "ir/Ops.def"

} // namespace mnc::interp
