// Y[R, N] = X[R, K] * B[K, N] (+ bias) with B constant and R small: a
// vector-matrix product per row, vectorized along the columns of B. B is
// packed at compile time in panels of `width` columns (a multiple of the
// vector lanes, the last panel narrower and zero padded), each contiguous
// over the reduction steps, so a panel streams through memory exactly once
// per row block:
//   packed[(j0*S + s*w + jj)*g + slot(j)] = B[s*g + j, j0 + jj]
// (w: width of the panel at j0; g rows of B per step s of S, 1 for f32).
// The accumulators of a block of rows by one panel stay in registers across
// the whole reduction; per step the kernel loads the panel's vectors once
// and multiplies them with one broadcast group of X per row. What differs
// between the element types is a policy:
// - f32: the bias seeds the accumulators and the epilogue is applied before
//   the only store of Y. Products and sums stay separate roundings (no
//   fused multiply-add), as in the reference: the layer is bound by loading
//   B, and its result is then the same on every target.
// - int8: the multiply-accumulate of the ISA (Int8Mac, g channels per
//   lane), the zero points folded at compile time as in the 1x1 conv
//   (LowerPointwise.cpp), requantized per column before the store.
#include "backends/llvm/PanelGemm.h"

#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/Int8Mac.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <array>

namespace mnc {
namespace {

/// A vector of `l.lanes` elements of `kind` from element `index` of
/// `base`, in the lanes `mask` selects (null: all).
llvm::Value *lanesAt(Lowering &l, llvm::Value *base, ElemKind kind,
                     llvm::Value *index, llvm::Value *mask) {
  llvm::Type *elem = l.elemType(kind);
  auto *ty = llvm::FixedVectorType::get(elem, l.lanes);
  llvm::Value *at = l.b.CreateInBoundsGEP(elem, base, index);
  if (mask)
    return l.b.CreateMaskedLoad(ty, at, elementAlign(elem), mask);
  return l.b.CreateAlignedLoad(ty, at, elementAlign(elem));
}

/// What the element type decides in the panel GEMM.
class PanelPolicy {
public:
  PanelPolicy(Lowering &l, const Op &op, const PanelGemmShape &s,
              int64_t group)
      : l(l), b(l.b), op(op), s(s), group(group),
        steps(llvm::divideCeil(s.k, group)) {}
  virtual ~PanelPolicy() = default;

  /// The accumulators' start for the columns from `col`, in the lanes
  /// `mask` selects (null: all).
  virtual llvm::Value *init(llvm::Value *col, llvm::Value *mask) = 0;
  /// The packed vector of B from element `index`, as the multiply takes it.
  virtual llvm::Value *panelVector(llvm::Value *index) = 0;
  /// Step `step` of X row `row`, broadcast as the multiply takes it.
  virtual llvm::Value *broadcast(llvm::Value *row, llvm::Value *step) = 0;
  virtual llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x,
                                   llvm::Value *bv) = 0;
  /// Finishes and stores the accumulators of the columns from `col` at
  /// element `at` of Y.
  virtual void store(llvm::Value *at, llvm::Value *col, llvm::Value *acc,
                     llvm::Value *mask) = 0;
  virtual llvm::FixedVectorType *accumulatorType() const = 0;

  int64_t stepGroup() const { return group; }
  int64_t stepCount() const { return steps; }

protected:
  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const PanelGemmShape &s;
  int64_t group, steps;
};

class F32PanelPolicy final : public PanelPolicy {
public:
  F32PanelPolicy(Lowering &l, const Op &op, const PanelGemmShape &s,
                 llvm::Value *packed, std::optional<ValueId> bias)
      : PanelPolicy(l, op, s, 1), packed(packed), bias(bias),
        epilogue(l.epilogueOf(op)),
        vecTy(llvm::FixedVectorType::get(b.getFloatTy(), l.lanes)) {}

  llvm::Value *init(llvm::Value *col, llvm::Value *mask) override {
    if (!bias)
      return llvm::ConstantFP::get(vecTy, 0.0);
    return lanesAt(l, l.ptr(*bias), ElemKind::F32, col, mask);
  }
  llvm::Value *panelVector(llvm::Value *index) override {
    return lanesAt(l, packed, ElemKind::F32, index, nullptr);
  }
  llvm::Value *broadcast(llvm::Value *row, llvm::Value *k) override {
    return b.CreateVectorSplat(
        l.lanes, l.load(op.operands[0],
                        b.CreateAdd(b.CreateMul(row, l.idx(s.k)), k)));
  }
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x,
                           llvm::Value *bv) override {
    return b.CreateFAdd(acc, b.CreateFMul(x, bv));
  }
  void store(llvm::Value *at, llvm::Value *, llvm::Value *acc,
             llvm::Value *mask) override {
    llvm::Value *value =
        applyEpilogue(l, epilogue, op.results[0], acc, at, mask);
    storeLanes(
        l, value,
        b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(l.destination(op)), at),
        mask);
  }
  llvm::FixedVectorType *accumulatorType() const override { return vecTy; }

private:
  llvm::Value *packed;
  std::optional<ValueId> bias;
  const Op *epilogue;
  llvm::FixedVectorType *vecTy;
};

class Int8PanelPolicy final : public PanelPolicy {
public:
  /// `offsets`: -(zx + inputBias) * sum_k B'[k, j] as i32 [N].
  Int8PanelPolicy(Lowering &l, const Op &op, const PanelGemmShape &s,
                  const MacPolicy &policy, NarrowWeights packed,
                  llvm::Value *offsets)
      : PanelPolicy(l, op, s, policy.group), mac(l, policy), packed(packed),
        offsets(offsets), tables(requantTables(l, op)),
        accTy(llvm::FixedVectorType::get(b.getInt32Ty(), l.lanes)) {}

  llvm::Value *init(llvm::Value *col, llvm::Value *mask) override {
    llvm::Value *init = lanesAt(l, offsets, ElemKind::I32, col, mask);
    if (op.operands.size() > 2)
      init = b.CreateAdd(init, lanesAt(l, l.ptr(op.operands[2]),
                                       ElemKind::I32, col, mask));
    return init;
  }
  llvm::Value *panelVector(llvm::Value *index) override {
    auto *ty = llvm::FixedVectorType::get(packed.elem, group * l.lanes);
    return mac.weights(b.CreateAlignedLoad(
        ty, b.CreateInBoundsGEP(packed.elem, packed.data, index),
        llvm::Align(1)));
  }
  llvm::Value *broadcast(llvm::Value *row, llvm::Value *step) override;
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x,
                           llvm::Value *bv) override {
    return mac.multiplyAdd(acc, x, bv);
  }
  void store(llvm::Value *at, llvm::Value *col, llvm::Value *acc,
             llvm::Value *mask) override {
    ValueId y = op.results[0];
    llvm::Value *q = l.requantize(
        acc, lanesAt(l, tables.multipliers, ElemKind::F32, col, mask),
        lanesAt(l, tables.zeroPoints, ElemKind::I32, col, mask),
        l.f.type(y).elem);
    storeLanes(l, q, b.CreateInBoundsGEP(b.getInt8Ty(), l.ptr(y), at), mask);
  }
  llvm::FixedVectorType *accumulatorType() const override { return accTy; }

private:
  Int8Mac mac;
  NarrowWeights packed;
  llvm::Value *offsets;
  RequantTables tables;
  llvm::FixedVectorType *accTy;
};

llvm::Value *Int8PanelPolicy::broadcast(llvm::Value *row, llvm::Value *step) {
  ElemKind kind = l.f.type(op.operands[0]).elem;
  // Rows of X past K (the last step of a K that is no multiple of the
  // group) repeat element K - 1; their weights are 0.
  std::array<llvm::Value *, 4> slots{};
  for (int64_t j = 0; j < group; ++j) {
    llvm::Value *k = b.CreateAdd(b.CreateMul(step, l.idx(group)), l.idx(j));
    if (s.k % group != 0)
      k = b.CreateSelect(b.CreateICmpULT(k, l.idx(s.k)), k, l.idx(s.k - 1));
    slots[channelSlot(mac.policy(), j)] = l.loadAt(
        l.ptr(op.operands[0]), kind,
        b.CreateAdd(b.CreateMul(row, l.idx(s.k)), k));
  }
  llvm::Value *bytes = llvm::PoisonValue::get(
      llvm::FixedVectorType::get(b.getInt8Ty(), group * l.lanes));
  for (unsigned lane = 0; lane < l.lanes; ++lane)
    for (int64_t j = 0; j < group; ++j)
      bytes = b.CreateInsertElement(bytes, slots[j], lane * group + j);
  return mac.input(bytes, kind);
}

class PanelEmitter {
public:
  PanelEmitter(Lowering &l, const PanelGemmShape &s, const KernelTile &t,
               PanelPolicy &policy)
      : l(l), b(l.b), s(s), blockRows(t.rows), vectors(t.cols / l.lanes),
        policy(policy) {}

  void emit();

private:
  /// Rows [r0, r0 + rows) by the panel of `count` vectors at column j0.
  void tile(llvm::Value *r0, int64_t rows, llvm::Value *j0, int64_t count,
            int64_t columns);
  /// Every row block at the panel at column j0.
  void panel(llvm::Value *j0, int64_t count, int64_t columns);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const PanelGemmShape &s;
  int64_t blockRows, vectors;
  PanelPolicy &policy;
};

void PanelEmitter::tile(llvm::Value *r0, int64_t rows, llvm::Value *j0,
                        int64_t count, int64_t columns) {
  llvm::FixedVectorType *accTy = policy.accumulatorType();
  auto colOf = [&](int64_t v) { return b.CreateAdd(j0, l.idx(v * l.lanes)); };
  std::vector<llvm::Value *> init;
  for (int64_t v = 0; v < count; ++v)
    init.push_back(policy.init(colOf(v), laneMask(l, columns - v * l.lanes)));
  // Accumulators live in stack slots that SROA turns into registers.
  std::vector<llvm::Value *> acc(rows * count);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < count; ++v) {
      acc[r * count + v] = l.local(accTy);
      b.CreateStore(init[v], acc[r * count + v]);
    }
  int64_t width = count * l.lanes, group = policy.stepGroup();
  llvm::Value *panelBase = b.CreateMul(j0, l.idx(policy.stepCount() * group));
  l.loop(0, policy.stepCount(), [&](llvm::Value *step) {
    llvm::Value *at =
        b.CreateAdd(panelBase, b.CreateMul(step, l.idx(width * group)));
    std::vector<llvm::Value *> bv;
    for (int64_t v = 0; v < count; ++v)
      bv.push_back(policy.panelVector(
          b.CreateAdd(at, l.idx(v * l.lanes * group))));
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Value *x = policy.broadcast(b.CreateAdd(r0, l.idx(r)), step);
      for (int64_t v = 0; v < count; ++v) {
        llvm::Value *slot = acc[r * count + v];
        b.CreateStore(
            policy.multiplyAdd(b.CreateLoad(accTy, slot), x, bv[v]), slot);
      }
    }
  });
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < count; ++v) {
      llvm::Value *at = b.CreateAdd(
          b.CreateMul(b.CreateAdd(r0, l.idx(r)), l.idx(s.n)), colOf(v));
      policy.store(at, colOf(v), b.CreateLoad(accTy, acc[r * count + v]),
                   laneMask(l, columns - v * l.lanes));
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
  // Tasks split the panels.
  l.blocks(
      s.n, vectors * l.lanes,
      [&](llvm::Value *j0, int64_t columns) {
        panel(j0, llvm::divideCeil(columns, int64_t(l.lanes)), columns);
      },
      /*parallel=*/true);
}

/// B in panel order, see the file comment.
template <typename T>
std::vector<T> packPanels(const PanelGemmShape &s, int64_t width,
                          int64_t lanes, int64_t group,
                          llvm::function_ref<int64_t(int64_t)> slot,
                          llvm::function_ref<T(int64_t, int64_t)> bAt) {
  int64_t steps = llvm::divideCeil(s.k, group);
  std::vector<T> packed(steps * group * llvm::alignTo(s.n, lanes), T(0));
  for (int64_t j0 = 0; j0 < s.n; j0 += width) {
    int64_t w = std::min(width, int64_t(llvm::alignTo(s.n - j0, lanes)));
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t jj = 0; jj < w && j0 + jj < s.n; ++jj)
        packed[(j0 * steps + k / group * w + jj) * group + slot(k % group)] =
            bAt(k, j0 + jj);
  }
  return packed;
}

int64_t inOrder(int64_t j) { return j; }

} // namespace

void emitPanelGemm(Lowering &l, const Op &op, const PanelGemmShape &s,
                   llvm::function_ref<float(int64_t, int64_t)> bAt,
                   std::optional<ValueId> bias, const KernelTile &tile) {
  llvm::Value *packed = l.constantF32(
      packPanels<float>(s, tile.cols, l.lanes, 1, inOrder, bAt));
  F32PanelPolicy policy(l, op, s, packed, bias);
  PanelEmitter(l, s, tile, policy).emit();
}

void emitInt8PanelGemm(Lowering &l, const Op &op, const PanelGemmShape &s,
                       const Tensor &w, Isa isa, const KernelTile &tile) {
  const TensorType &xt = l.f.type(op.operands[0]),
                   &wt = l.f.type(op.operands[1]);
  MacPolicy mac = macPolicy(isa, l.lanes, hasInt8Weights(l.f, op));
  auto bAt = [&](int64_t k, int64_t j) {
    return int32_t(w.getAsInt(j * s.k + k)) - wt.quant->zeroPoint(j);
  };
  std::vector<int32_t> offsets = zeroPointOffsets(
      mac, xt, s.n, s.k, [&](int64_t j, int64_t k) { return bAt(k, j); });
  auto slot = [&](int64_t j) { return channelSlot(mac, j); };
  NarrowWeights packed = narrowWeights(
      l, packPanels<int32_t>(s, tile.cols, l.lanes, mac.group, slot, bAt));
  Int8PanelPolicy policy(l, op, s, mac, packed, l.constantI32(offsets));
  PanelEmitter(l, s, tile, policy).emit();
}

} // namespace mnc
