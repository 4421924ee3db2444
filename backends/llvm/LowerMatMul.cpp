// matmul, f32 and quantized, with numpy batch broadcasting. An f32 matmul
// by a constant matrix is a panel GEMM (PanelGemm.cpp); otherwise rows of
// the result are accumulated as y[i, :] += a[i, k] * b[k, :], so the inner loop
// runs over contiguous columns of b and y and vectorizes.
#include "backends/Kernels.h"
#include "backends/llvm/Lowering.h"
#include "backends/llvm/PanelGemm.h"

namespace mnc {
namespace {

struct MatMulShape {
  llvm::SmallVector<int64_t, 4> batch; ///< Result batch dims.
  llvm::SmallVector<int64_t, 4> aStrides, bStrides,
      yStrides; ///< Per batch dim.
  int64_t m, k, n;
};

MatMulShape matMulShape(const Function &f, const Op &op) {
  const TensorType &a = f.type(op.operands[0]), &b = f.type(op.operands[1]),
                   &y = f.type(op.results[0]);
  MatMulShape s;
  s.m = a.shape[a.rank() - 2];
  s.k = a.shape[a.rank() - 1];
  s.n = b.shape[b.rank() - 1];
  s.batch.assign(y.shape.begin(), y.shape.end() - 2);
  auto scaled = [&](llvm::ArrayRef<int64_t> shape, int64_t matrix) {
    auto strides = broadcastStrides(shape.drop_back(2), s.batch.size());
    for (int64_t &st : strides)
      st *= matrix;
    return strides;
  };
  s.aStrides = scaled(a.shape, s.m * s.k);
  s.bStrides = scaled(b.shape, s.k * s.n);
  s.yStrides = scaled(y.shape, s.m * s.n);
  return s;
}

/// An f32 matmul whose right operand is a constant matrix: the rows of
/// the left operand (batch dims included) times a packed panel matrix.
bool lowerConstantMatMul(Lowering &l, const Op &op, const KernelTile &tile) {
  const TensorType &at = l.f.type(op.operands[0]),
                   &bt = l.f.type(op.operands[1]);
  const Tensor *constant = l.constantOf(op.operands[1]);
  if (!constant || at.isQuantized() || at.elem != ElemKind::F32 ||
      at.rank() < 2 || bt.rank() != 2 || bt.numElements() == 0)
    return false;
  int64_t k = bt.shape[0], n = bt.shape[1];
  const float *bData = reinterpret_cast<const float *>(constant->bytes.data());
  emitPanelGemm(
      l, op, {at.numElements() / k, k, n},
      [&](int64_t kk, int64_t j) { return bData[kk * n + j]; }, std::nullopt,
      tile);
  return true;
}

} // namespace

llvm::Error lowerMatMul(Lowering &l, const Op &op) {
  auto kernel = l.kernelOf(op);
  if (!kernel)
    return kernel.takeError();
  if (kernel->kernel == Kernel::F32PanelGemm)
    return l.emitted(lowerConstantMatMul(l, op, kernel->tile), op);
  if (kernel->kernel != Kernel::F32MatMul &&
      kernel->kernel != Kernel::I8MatMul)
    return l.emitted(false, op);
  MatMulShape s = matMulShape(l.f, op);
  ValueId a = op.operands[0], bv = op.operands[1], y = op.results[0];
  const TensorType &at = l.f.type(a), &bt = l.f.type(bv), &yt = l.f.type(y);
  bool quantized = at.isQuantized();
  auto &b = l.b;
  llvm::Value *multipliers = nullptr, *yZero = nullptr, *bZero = nullptr;
  if (quantized) {
    std::vector<float> mults;
    std::vector<int32_t> yz, bz;
    for (int64_t j = 0; j < s.n; ++j) {
      mults.push_back(at.quant->scales[0] * bt.quant->scale(j) /
                      yt.quant->scale(j));
      yz.push_back(yt.quant->zeroPoint(j));
      bz.push_back(bt.quant->zeroPoint(j));
    }
    multipliers = l.constantF32(mults);
    yZero = l.constantI32(yz);
    bZero = l.constantI32(bz);
  }
  llvm::Value *row = quantized ? l.workspace(op) : nullptr;
  ElemKind accKind = quantized ? ElemKind::I32 : ElemKind::F32;
  l.loopNest(s.batch, [&](llvm::ArrayRef<llvm::Value *> ivs) {
    llvm::Value *aBase = l.linear(ivs, s.aStrides);
    llvm::Value *bBase = l.linear(ivs, s.bStrides);
    llvm::Value *yBase = l.linear(ivs, s.yStrides);
    l.loop(0, s.m, [&](llvm::Value *i) {
      llvm::Value *yRow = l.b.CreateAdd(yBase, b.CreateMul(i, l.idx(s.n)));
      llvm::Value *acc =
          quantized ? row : b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(y), yRow);
      llvm::Value *zero = quantized ? l.i32(0) : l.f32(0.0);
      l.loop(0, s.n, [&](llvm::Value *j) { l.storeAt(acc, accKind, j, zero); });
      l.loop(0, s.k, [&](llvm::Value *k) {
        llvm::Value *aAt = b.CreateAdd(aBase, l.linear({i, k}, {s.k, 1}));
        llvm::Value *bRow = b.CreateAdd(bBase, b.CreateMul(k, l.idx(s.n)));
        llvm::Value *av =
            quantized
                ? b.CreateSub(l.loadI32(a, aAt), l.i32(at.quant->zeroPoints[0]))
                : l.load(a, aAt);
        l.loop(0, s.n, [&](llvm::Value *j) {
          llvm::Value *bAt = b.CreateAdd(bRow, j);
          llvm::Value *old = l.loadAt(acc, accKind, j), *sum;
          if (quantized) {
            llvm::Value *bvv = b.CreateSub(l.loadI32(bv, bAt),
                                           l.loadAt(bZero, ElemKind::I32, j));
            sum = b.CreateAdd(old, b.CreateMul(av, bvv));
          } else {
            sum = b.CreateFAdd(old, b.CreateFMul(av, l.load(bv, bAt)));
          }
          l.storeAt(acc, accKind, j, sum);
        });
      });
      if (!quantized)
        return;
      l.loop(0, s.n, [&](llvm::Value *j) {
        llvm::Value *q =
            l.requantize(l.loadAt(row, ElemKind::I32, j),
                         l.loadAt(multipliers, ElemKind::F32, j),
                         l.loadAt(yZero, ElemKind::I32, j), yt.elem);
        l.store(y, b.CreateAdd(yRow, j), q);
      });
    });
  });
  return llvm::Error::success();
}

} // namespace mnc
