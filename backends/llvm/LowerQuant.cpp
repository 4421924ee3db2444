// quantize, dequantize and requantize, per tensor or per channel. Scales
// and zero points are constant tables indexed by channel, and the formulas
// follow ir/Math.h (quantize divides by the scale, as ONNX Runtime does).
#include "backends/llvm/Lowering.h"

namespace mnc {
namespace {

/// Calls body(flatIndex, channel) for every element of a tensor of `shape`
/// whose quantization (the per-channel one among `params`) has `axis`.
void forEachQuantElement(
    Lowering &l, llvm::ArrayRef<int64_t> shape, std::optional<int64_t> axis,
    llvm::function_ref<void(llvm::Value *, llvm::Value *)> body) {
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  if (!axis)
    return l.loop(0, total, [&](llvm::Value *i) { body(i, l.idx(0)); });
  int64_t outer = 1, inner = 1, channels = shape[*axis];
  for (int64_t d = 0; d < *axis; ++d)
    outer *= shape[d];
  for (size_t d = *axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  l.loopNest({outer, channels, inner}, [&](llvm::ArrayRef<llvm::Value *> iv) {
    body(l.linear(iv, {channels * inner, inner, 1}), iv[1]);
  });
}

int64_t channelCount(const TensorType &t) {
  return t.quant->isPerTensor() ? 1 : t.shape[*t.quant->axis];
}

std::vector<float> scalesOf(const QuantParams &q, int64_t channels) {
  std::vector<float> result;
  for (int64_t c = 0; c < channels; ++c)
    result.push_back(q.scale(c));
  return result;
}

std::vector<int32_t> zerosOf(const QuantParams &q, int64_t channels) {
  std::vector<int32_t> result;
  for (int64_t c = 0; c < channels; ++c)
    result.push_back(q.zeroPoint(c));
  return result;
}

} // namespace

llvm::Error lowerQuantize(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  const TensorType &yt = l.f.type(y);
  int64_t channels = channelCount(yt);
  llvm::Value *scales = l.constantF32(scalesOf(*yt.quant, channels));
  llvm::Value *zeros = l.constantI32(zerosOf(*yt.quant, channels));
  forEachQuantElement(
      l, yt.shape, yt.quant->axis, [&](llvm::Value *i, llvm::Value *c) {
        l.store(y, i,
                l.quantize(l.load(x, i), l.loadAt(scales, ElemKind::F32, c),
                           l.loadAt(zeros, ElemKind::I32, c), yt.elem));
      });
  return llvm::Error::success();
}

llvm::Error lowerDequantize(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  const TensorType &xt = l.f.type(x);
  int64_t channels = channelCount(xt);
  llvm::Value *scales = l.constantF32(scalesOf(*xt.quant, channels));
  llvm::Value *zeros = l.constantI32(zerosOf(*xt.quant, channels));
  forEachQuantElement(
      l, xt.shape, xt.quant->axis, [&](llvm::Value *i, llvm::Value *c) {
        l.store(y, i,
                l.dequantize(l.loadI32(x, i), l.loadAt(zeros, ElemKind::I32, c),
                             l.loadAt(scales, ElemKind::F32, c)));
      });
  return llvm::Error::success();
}

llvm::Error lowerRequantize(Lowering &l, const Op &op) {
  ValueId x = op.operands[0], y = op.results[0];
  const TensorType &xt = l.f.type(x), &yt = l.f.type(y);
  const TensorType &perChannel = xt.quant->isPerTensor() ? yt : xt;
  int64_t channels = channelCount(perChannel);
  std::vector<float> multipliers;
  for (int64_t c = 0; c < channels; ++c)
    multipliers.push_back(xt.quant->scale(c) / yt.quant->scale(c));
  llvm::Value *mults = l.constantF32(multipliers);
  llvm::Value *xZeros = l.constantI32(zerosOf(*xt.quant, channels));
  llvm::Value *yZeros = l.constantI32(zerosOf(*yt.quant, channels));
  auto &b = l.b;
  forEachQuantElement(
      l, yt.shape, perChannel.quant->axis, [&](llvm::Value *i, llvm::Value *c) {
        llvm::Value *q =
            b.CreateSub(l.loadI32(x, i), l.loadAt(xZeros, ElemKind::I32, c));
        l.store(y, i,
                l.requantize(q, l.loadAt(mults, ElemKind::F32, c),
                             l.loadAt(yZeros, ElemKind::I32, c), yt.elem));
      });
  return llvm::Error::success();
}

} // namespace mnc
