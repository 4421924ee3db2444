// Y[R, N] = X[R, K] * B[K, N] (+ bias) with B constant and R small: a
// vector-matrix product per row, vectorized along the columns of B. B is
// packed at compile time in panels of `width` columns (a multiple of the
// vector lanes, the last panel narrower and zero padded), each contiguous
// over k, so a panel streams through memory exactly once per row block:
//   packed[j0*K + kk*w + jj] = B[kk, j0 + jj]   (w: width of the panel at j0)
// The accumulators of a block of rows by one panel stay in registers across
// the whole reduction; per k the kernel loads the panel's vectors once and
// multiplies them with one broadcast X element per row. The bias seeds the
// accumulators and the epilogue is applied before the only store of Y.
// Products and sums stay separate roundings (no fused multiply-add), as in
// the reference: the layer is bound by loading B, and its result is then the
// same on every target.
#include "backends/llvm/PanelGemm.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

namespace mnc {
namespace {

class PanelEmitter {
public:
  PanelEmitter(Lowering &l, const Op &op, const PanelGemmShape &s,
               const KernelTile &t, llvm::Value *packed,
               std::optional<ValueId> bias)
      : l(l), b(l.b), op(op), s(s), blockRows(t.rows), vectors(t.cols / l.lanes),
        packed(packed), bias(bias),
        vecTy(llvm::FixedVectorType::get(b.getFloatTy(), l.lanes)) {}

  void emit();

private:
  /// Rows [r0, r0 + rows) by the panel of `count` vectors at column j0.
  void tile(llvm::Value *r0, int64_t rows, llvm::Value *j0, int64_t count,
            int64_t columns);
  /// Every row block at the panel at column j0.
  void panel(llvm::Value *j0, int64_t count, int64_t columns);
  llvm::Value *maskFor(int64_t columns, int64_t v);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const PanelGemmShape &s;
  int64_t blockRows, vectors;
  llvm::Value *packed;
  std::optional<ValueId> bias;
  llvm::FixedVectorType *vecTy;
};

llvm::Value *PanelEmitter::maskFor(int64_t columns, int64_t v) {
  int64_t valid = columns - v * l.lanes;
  if (valid >= l.lanes)
    return nullptr;
  llvm::SmallVector<llvm::Constant *, 16> bits;
  for (int64_t i = 0; i < l.lanes; ++i)
    bits.push_back(b.getInt1(i < valid));
  return llvm::ConstantVector::get(bits);
}

void PanelEmitter::tile(llvm::Value *r0, int64_t rows, llvm::Value *j0,
                        int64_t count, int64_t columns) {
  auto vectorAt = [&](llvm::Value *base, llvm::Value *index,
                      llvm::Value *mask) -> llvm::Value * {
    llvm::Value *at = b.CreateInBoundsGEP(b.getFloatTy(), base, index);
    if (mask)
      return b.CreateMaskedLoad(vecTy, at, llvm::Align(4), mask);
    return b.CreateAlignedLoad(vecTy, at, llvm::Align(4));
  };
  std::vector<llvm::Value *> init;
  for (int64_t v = 0; v < count; ++v)
    init.push_back(bias ? vectorAt(l.ptr(*bias),
                                   b.CreateAdd(j0, l.idx(v * l.lanes)),
                                   maskFor(columns, v))
                        : llvm::ConstantFP::get(vecTy, 0.0));
  // Accumulators live in stack slots that SROA turns into registers.
  std::vector<llvm::Value *> acc(rows * count);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < count; ++v) {
      acc[r * count + v] = l.local(vecTy);
      b.CreateStore(init[v], acc[r * count + v]);
    }
  int64_t width = count * l.lanes;
  llvm::Value *panelBase = b.CreateMul(j0, l.idx(s.k));
  ValueId x = op.operands[0];
  l.loop(0, s.k, [&](llvm::Value *k) {
    llvm::Value *row = b.CreateAdd(panelBase, b.CreateMul(k, l.idx(width)));
    std::vector<llvm::Value *> bv;
    for (int64_t v = 0; v < count; ++v)
      bv.push_back(
          vectorAt(packed, b.CreateAdd(row, l.idx(v * l.lanes)), nullptr));
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Value *xAt =
          b.CreateAdd(b.CreateMul(b.CreateAdd(r0, l.idx(r)), l.idx(s.k)), k);
      llvm::Value *xv = b.CreateVectorSplat(l.lanes, l.load(x, xAt));
      for (int64_t v = 0; v < count; ++v) {
        llvm::Value *slot = acc[r * count + v];
        b.CreateStore(
            b.CreateFAdd(b.CreateLoad(vecTy, slot), b.CreateFMul(xv, bv[v])),
            slot);
      }
    }
  });
  const Op *epilogue = l.epilogueOf(op);
  llvm::Value *dest = l.ptr(l.destination(op));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < count; ++v) {
      llvm::Value *mask = maskFor(columns, v);
      llvm::Value *at =
          b.CreateAdd(b.CreateMul(b.CreateAdd(r0, l.idx(r)), l.idx(s.n)),
                      b.CreateAdd(j0, l.idx(v * l.lanes)));
      llvm::Value *value =
          applyEpilogue(l, epilogue, op.results[0],
                        b.CreateLoad(vecTy, acc[r * count + v]), at, mask);
      llvm::Value *ptr = b.CreateInBoundsGEP(b.getFloatTy(), dest, at);
      if (mask)
        b.CreateMaskedStore(value, ptr, llvm::Align(4), mask);
      else
        b.CreateAlignedStore(value, ptr, llvm::Align(4));
    }
}

void PanelEmitter::panel(llvm::Value *j0, int64_t count, int64_t columns) {
  l.loop(0, s.rows / blockRows, [&](llvm::Value *rb) {
    tile(b.CreateMul(rb, l.idx(blockRows)), blockRows, j0, count, columns);
  });
  if (s.rows % blockRows)
    tile(l.idx(s.rows - s.rows % blockRows), s.rows % blockRows, j0, count,
         columns);
}

void PanelEmitter::emit() {
  int64_t width = vectors * l.lanes;
  l.loop(0, s.n / width, [&](llvm::Value *p) {
    panel(b.CreateMul(p, l.idx(width)), vectors, width);
  });
  if (int64_t rest = s.n % width)
    panel(l.idx(s.n - rest), llvm::divideCeil(rest, int64_t(l.lanes)), rest);
}

/// B in panel order, see the file comment.
std::vector<float> packPanels(const PanelGemmShape &s, int64_t width,
                              int64_t lanes,
                              llvm::function_ref<float(int64_t, int64_t)> bAt) {
  std::vector<float> packed(s.k * llvm::alignTo(s.n, lanes), 0.0f);
  for (int64_t j0 = 0; j0 < s.n; j0 += width) {
    int64_t w = std::min(width, int64_t(llvm::alignTo(s.n - j0, lanes)));
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t jj = 0; jj < w && j0 + jj < s.n; ++jj)
        packed[j0 * s.k + k * w + jj] = bAt(k, j0 + jj);
  }
  return packed;
}

} // namespace

void emitPanelGemm(Lowering &l, const Op &op, const PanelGemmShape &s,
                   llvm::function_ref<float(int64_t, int64_t)> bAt,
                   std::optional<ValueId> bias, const KernelTile &tile) {
  llvm::Value *packed = l.constantF32(packPanels(s, tile.cols, l.lanes, bAt));
  PanelEmitter emitter(l, op, s, tile, packed, bias);
  emitter.emit();
}

} // namespace mnc
