// Pointwise (1x1) conv as a register-blocked GEMM, Y[M, HW] = W[M, C] *
// X[C, HW] for each image in NCHW, f32 and int8 from one skeleton. A tile
// of `rows` output channels by `vectors` target vectors of pixels stays in
// registers across the whole reduction over C: per reduction step it loads
// the X vectors of a group of input channels once and multiplies them with
// one broadcast group of weights per row. Weights are packed at compile
// time so that a step of a tile reads them contiguously:
//   packed[k*(m0*steps + s*rows + r) + j] = W[m0 + r, k*s + j]
// (k channels per step, rows = the tile's height at m0; channels past C
// are zero). Pixel tails use masked loads and stores. What differs between
// the element types is a policy (PointwisePolicy):
// - f32: one channel per step, fused multiply-add; the bias seeds the
//   accumulators and the epilogue (activation, residual add) is applied to
//   them before the only store of Y.
// - int8: i32 accumulators with the zero points folded at compile time,
//     acc[m, p] = b[m] + sum_c (x[c, p] - zx) * (w[m, c] - zw[m])
//               = (b[m] - zx * sum_c w'[m, c]) + sum_c x[c, p] * w'[m, c],
//   requantized before the only store. The kernel's ISA decides how a step
//   multiplies (MacPolicy): one channel per i32 lane, two (x86 pmaddwd),
//   four (x86 vpdpbusd, AArch64 sdot, Arm smlad on two i16 pairs), or the
//   16 channels of one pixel summed into a one-lane accumulator (MVE
//   vmladava: the panel holds each pixel's channels contiguous, and a
//   row's accumulators are joined into vectors to be requantized). Every
//   product and sum is exact in i32, as in the reference, so the result is
//   bit-exact. Gathering the channels of a step for a vector of pixels
//   costs several loads and shuffles, so the kernel does it once per pixel
//   block, into a panel in its workspace that every channel block then
//   reads with one load per vector:
//     panel[(s * vectors + v) * lanes * laneBytes ...] = step s, vector v.
#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/Int8Mac.h"
#include "backends/llvm/PanelGemm.h"

#include "llvm/IR/IntrinsicsARM.h"

#include <array>
#include <memory>

namespace mnc {
namespace {

struct Gemm {
  int64_t n, m, c, hw;
  int64_t rows, cols; ///< Register tile: output channels x pixels.
  int64_t lanes;      ///< Pixels per accumulator: the target's lanes, or 1.
  int64_t group;      ///< Input channels per reduction step.
  int64_t steps;      ///< C / group, rounded up.

  /// Accumulators per row of the tile.
  int64_t vectors() const { return cols / lanes; }
};

/// W[m, c] for m < M, c < C in the tile order of the file comment, the
/// channels of a step at positions `slot(c % group)`.
template <typename T>
std::vector<T> packWeights(
    const Gemm &g, llvm::function_ref<T(int64_t, int64_t)> w,
    llvm::function_ref<int64_t(int64_t)> slot = [](int64_t j) { return j; }) {
  std::vector<T> packed(g.m * g.steps * g.group, T(0));
  for (int64_t m0 = 0; m0 < g.m; m0 += g.rows) {
    int64_t height = std::min(g.rows, g.m - m0);
    for (int64_t r = 0; r < height; ++r)
      for (int64_t c = 0; c < g.c; ++c)
        packed[g.group * (m0 * g.steps + (c / g.group) * height + r) +
               slot(c % g.group)] = w(m0 + r, c);
  }
  return packed;
}

/// What the element type (and for int8 the ISA) decides in the skeleton.
class PointwisePolicy {
public:
  PointwisePolicy(Lowering &l, const Op &op, llvm::Type *elem, unsigned lanes)
      : l(l), b(l.b), op(op), accTy(llvm::FixedVectorType::get(elem, lanes)) {}
  virtual ~PointwisePolicy() = default;

  /// The accumulators' start for output channel `m`, as one value.
  virtual llvm::Value *init(llvm::Value *m) = 0;
  /// X of reduction step `s` for vector `v` of the tile's `pixels` pixels
  /// from p0 of the image at element `xImage`, as the multiply takes it.
  virtual llvm::Value *inputs(llvm::Value *xImage, llvm::Value *s,
                              llvm::Value *p0, int64_t v, int64_t pixels) = 0;
  /// Whether `inputs` reads a panel that `pack` writes for each pixel
  /// block, before the block's channel blocks.
  virtual bool packsInputs() const { return false; }
  virtual void pack(llvm::Value *, llvm::Value *, int64_t) {}
  /// The weights of a step for `rows` rows from packed index `at`, and one
  /// row's of them as the multiply takes them.
  virtual llvm::Value *stepWeights(llvm::Value *at, int64_t rows) = 0;
  virtual llvm::Value *rowWeights(llvm::Value *step, int64_t r) = 0;
  virtual llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x,
                                   llvm::Value *w) = 0;
  /// Finishes the accumulators of output channel `m` and stores them at
  /// element `at` of Y, in the lanes `mask` selects (null: all).
  virtual void store(llvm::Value *m, llvm::Value *at, llvm::Value *acc,
                     llvm::Value *mask) = 0;
  /// Stores output channel `m`'s accumulators `acc` of `pixels` pixels from
  /// element `at` of Y, as target vectors (one-lane accumulators joined).
  void storeRow(llvm::Value *m, llvm::Value *at,
                llvm::ArrayRef<llvm::Value *> acc, int64_t pixels);

  llvm::FixedVectorType *accumulatorType() const { return accTy; }

protected:
  /// Vector `v` of the tile's pixels of channel `c` of X (elements `ty`).
  llvm::Value *loadX(llvm::Type *ty, llvm::Value *xImage, llvm::Value *c,
                     const Gemm &g, llvm::Value *p0, int64_t v,
                     int64_t pixels);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  llvm::FixedVectorType *accTy;
};

void PointwisePolicy::storeRow(llvm::Value *m, llvm::Value *at,
                               llvm::ArrayRef<llvm::Value *> acc,
                               int64_t pixels) {
  int64_t per = accTy->getNumElements();
  for (int64_t p = 0; p < pixels; p += l.lanes) {
    llvm::Value *vector = acc[p / per];
    if (per != int64_t(l.lanes)) {
      vector = llvm::PoisonValue::get(
          llvm::FixedVectorType::get(accTy->getElementType(), l.lanes));
      for (int64_t i = 0; i < std::min<int64_t>(l.lanes, pixels - p); ++i)
        vector = b.CreateInsertElement(
            vector, b.CreateExtractElement(acc[p + i], uint64_t(0)), i);
    }
    store(m, b.CreateAdd(at, l.idx(p)), vector, laneMask(l, pixels - p));
  }
}

llvm::Value *PointwisePolicy::loadX(llvm::Type *ty, llvm::Value *xImage,
                                    llvm::Value *c, const Gemm &g,
                                    llvm::Value *p0, int64_t v,
                                    int64_t pixels) {
  auto *vecTy = llvm::FixedVectorType::get(ty, l.lanes);
  llvm::Value *at = b.CreateInBoundsGEP(
      ty, l.ptr(op.operands[0]),
      b.CreateAdd(b.CreateAdd(xImage, b.CreateMul(c, l.idx(g.hw))),
                  b.CreateAdd(p0, l.idx(v * l.lanes))));
  if (llvm::Value *mask = laneMask(l, pixels - v * l.lanes))
    return b.CreateMaskedLoad(vecTy, at, elementAlign(ty), mask);
  return b.CreateAlignedLoad(vecTy, at, elementAlign(ty));
}

class F32Policy : public PointwisePolicy {
public:
  F32Policy(Lowering &l, const Op &op, const Gemm &g, llvm::Value *packed)
      : PointwisePolicy(l, op, l.b.getFloatTy(), l.lanes), g(g), packed(packed),
        epilogue(l.epilogueOf(op)) {}

  llvm::Value *init(llvm::Value *m) override {
    if (op.operands.size() < 3)
      return llvm::ConstantFP::get(accTy, 0.0);
    return b.CreateVectorSplat(l.lanes, l.load(op.operands[2], m));
  }
  llvm::Value *inputs(llvm::Value *xImage, llvm::Value *s, llvm::Value *p0,
                      int64_t v, int64_t pixels) override {
    return loadX(b.getFloatTy(), xImage, s, g, p0, v, pixels);
  }
  llvm::Value *stepWeights(llvm::Value *at, int64_t) override { return at; }
  llvm::Value *rowWeights(llvm::Value *at, int64_t r) override {
    return b.CreateVectorSplat(
        l.lanes, l.loadAt(packed, ElemKind::F32, b.CreateAdd(at, l.idx(r))));
  }
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x,
                           llvm::Value *w) override {
    return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {accTy}, {w, x, acc});
  }
  void store(llvm::Value *, llvm::Value *at, llvm::Value *acc,
             llvm::Value *mask) override {
    llvm::Value *value = applyEpilogue(l, epilogue, op.results[0], acc, at, mask);
    storeLanes(
        l, value,
        b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(l.destination(op)), at),
        mask);
  }

private:
  const Gemm &g;
  llvm::Value *packed;
  const Op *epilogue;
};

/// int8: the multiply-accumulate of the kernel's ISA (Int8Mac), inputs
/// from the panel, requantized before the store.
class Int8Policy : public PointwisePolicy {
public:
  Int8Policy(Lowering &l, const Op &op, const Gemm &g, const MacPolicy &policy,
             NarrowWeights packed, llvm::Value *offsets)
      : PointwisePolicy(l, op, l.b.getInt32Ty(),
                        policy.accumulatorLanes(l.lanes)),
        g(g), mac(l, policy), packed(packed), offsets(offsets),
        tables(requantTables(l, op)), panelTy(mac.inputType()) {}

  llvm::Value *init(llvm::Value *m) override {
    llvm::Value *init = l.loadAt(offsets, ElemKind::I32, m);
    if (op.operands.size() > 2)
      init = b.CreateAdd(init, l.loadI32(op.operands[2], m));
    return b.CreateVectorSplat(accTy->getNumElements(), init);
  }
  llvm::Value *inputs(llvm::Value *, llvm::Value *s, llvm::Value *, int64_t v,
                      int64_t) override {
    return b.CreateAlignedLoad(panelTy, panelAt(s, v), panelAlign());
  }
  bool packsInputs() const override { return true; }
  void pack(llvm::Value *xImage, llvm::Value *p0, int64_t pixels) override;
  llvm::Value *stepWeights(llvm::Value *at, int64_t rows) override;
  llvm::Value *rowWeights(llvm::Value *step, int64_t r) override;
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x,
                           llvm::Value *w) override {
    return mac.multiplyAdd(acc, x, w);
  }
  void store(llvm::Value *m, llvm::Value *at, llvm::Value *acc,
             llvm::Value *mask) override {
    llvm::Value *mult = b.CreateVectorSplat(
        l.lanes, l.loadAt(tables.multipliers, ElemKind::F32, m));
    llvm::Value *zero = b.CreateVectorSplat(
        l.lanes, l.loadAt(tables.zeroPoints, ElemKind::I32, m));
    ValueId y = op.results[0];
    llvm::Value *q = l.requantize(acc, mult, zero, l.f.type(y).elem);
    storeLanes(l, q, b.CreateInBoundsGEP(b.getInt8Ty(), l.ptr(y), at), mask);
  }

private:
  /// Step s, vector v of X, gathered from its channel planes.
  llvm::Value *gather(llvm::Value *xImage, llvm::Value *s, llvm::Value *p0,
                      int64_t v, int64_t pixels);
  /// Step s of the block's pixels for MacPolicy::Across: the first
  /// `channels` of its group (the rest 0), each pixel's contiguous.
  void transpose(llvm::Value *xImage, llvm::Value *s, int64_t channels,
                 llvm::Value *p0, int64_t pixels);
  llvm::Value *panelAt(llvm::Value *s, int64_t v) {
    return b.CreateInBoundsGEP(
        panelTy, l.workspace(op),
        b.CreateAdd(b.CreateMul(s, l.idx(g.vectors())), l.idx(v)));
  }
  llvm::Align panelAlign() const {
    return llvm::Align(l.module.getDataLayout().getTypeStoreSize(panelTy));
  }
  const MacPolicy &policy() const { return mac.policy(); }

  const Gemm &g;
  Int8Mac mac;
  NarrowWeights packed;
  llvm::Value *offsets; ///< -(zx + inputBias) * sum(w'[m]) as i32, [M].
  RequantTables tables;
  llvm::Type *panelTy;  ///< One vector of the panel.
};

llvm::Value *Int8Policy::gather(llvm::Value *xImage, llvm::Value *s,
                                llvm::Value *p0, int64_t v, int64_t pixels) {
  // Channels past C (the last step of a C that is no multiple of the
  // group) repeat channel C - 1; their weights are 0.
  int64_t group = policy().group;
  std::array<llvm::Value *, 4> rows{};
  for (int64_t j = 0; j < group; ++j) {
    llvm::Value *c = b.CreateAdd(b.CreateMul(s, l.idx(group)), l.idx(j));
    if (g.c % group != 0)
      c = b.CreateSelect(b.CreateICmpULT(c, l.idx(g.c)), c, l.idx(g.c - 1));
    rows[channelSlot(policy(), j)] =
        loadX(b.getInt8Ty(), xImage, c, g, p0, v, pixels);
  }
  return mac.input(
      interleaveBytes(b, llvm::ArrayRef(rows.data(), group), l.lanes),
      l.f.type(op.operands[0]).elem);
}

// Four pixels at a time: each channel's four bytes (one load) go to the
// panel as they lie, channel-major, and MVE's vld4 reads them back
// deinterleaved, a vector of the step's channels per pixel.
void Int8Policy::transpose(llvm::Value *xImage, llvm::Value *s,
                           int64_t channels, llvm::Value *p0, int64_t pixels) {
  int64_t group = policy().group;
  llvm::Type *word = b.getInt32Ty();
  auto *quad = llvm::FixedVectorType::get(b.getInt8Ty(), 4);
  for (int64_t q = 0; q < pixels; q += 4) {
    int64_t n = std::min<int64_t>(4, pixels - q);
    llvm::Value *slot = panelAt(s, q);
    for (int64_t j = 0; j < group; ++j) {
      llvm::Value *bytes = llvm::ConstantAggregateZero::get(quad);
      if (j < channels) {
        llvm::Value *c = b.CreateAdd(b.CreateMul(s, l.idx(group)), l.idx(j));
        llvm::Value *at =
            b.CreateAdd(b.CreateAdd(xImage, b.CreateMul(c, l.idx(g.hw))),
                        b.CreateAdd(p0, l.idx(q)));
        bytes = b.CreateAlignedLoad(
            llvm::FixedVectorType::get(b.getInt8Ty(), n),
            b.CreateInBoundsGEP(b.getInt8Ty(), l.ptr(op.operands[0]), at),
            llvm::Align(1));
        // Lanes past the n pixels take element 0 of the zero vector.
        llvm::SmallVector<int, 4> lanes;
        for (int i = 0; i < 4; ++i)
          lanes.push_back(std::min(i, int(n)));
        if (n < 4)
          bytes = b.CreateShuffleVector(
              bytes, llvm::Constant::getNullValue(bytes->getType()), lanes);
      }
      b.CreateAlignedStore(b.CreateBitCast(bytes, word),
                           b.CreateInBoundsGEP(word, slot, l.idx(j)),
                           llvm::Align(4));
    }
    llvm::Value *planes = b.CreateIntrinsic(llvm::Intrinsic::arm_mve_vld4q,
                                            {panelTy, slot->getType()}, {slot});
    for (unsigned p = 0; p < 4; ++p)
      b.CreateAlignedStore(mac.input(b.CreateExtractValue(planes, p),
                                     l.f.type(op.operands[0]).elem),
                           panelAt(s, q + p), panelAlign());
  }
}

void Int8Policy::pack(llvm::Value *xImage, llvm::Value *p0, int64_t pixels) {
  if (policy().kind == MacPolicy::Across) {
    int64_t group = policy().group;
    l.loop(0, g.c / group,
           [&](llvm::Value *s) { transpose(xImage, s, group, p0, pixels); });
    if (g.c % group)
      transpose(xImage, l.idx(g.c / group), g.c % group, p0, pixels);
    return;
  }
  int64_t vectors = llvm::divideCeil(pixels, l.lanes);
  l.loop(0, g.steps, [&](llvm::Value *s) {
    for (int64_t v = 0; v < vectors; ++v)
      b.CreateAlignedStore(gather(xImage, s, p0, v, pixels), panelAt(s, v),
                           panelAlign());
  });
}

// An i32 word per row holds its group of weights as the multiply takes
// them: widened to i32, two i16 or four bytes; smlad's i16 weights (those
// that do not fit in bytes) take two words, packed as its pairs.
llvm::Value *Int8Policy::stepWeights(llvm::Value *at, int64_t rows) {
  int64_t count = rows * policy().group;
  llvm::Value *raw = b.CreateAlignedLoad(
      llvm::FixedVectorType::get(packed.elem, count),
      b.CreateInBoundsGEP(packed.elem, packed.data, at), llvm::Align(1));
  if (policy().kind == MacPolicy::Across)
    return raw;
  auto words = [&](int64_t n) {
    return llvm::FixedVectorType::get(b.getInt32Ty(), n);
  };
  MacPolicy::Kind kind = policy().kind;
  if (kind == MacPolicy::Widen)
    return b.CreateSExt(raw, words(rows));
  if (policy().isDot() || packed.elem->getBitWidth() == 16)
    return b.CreateBitCast(raw, words(count * packed.elem->getBitWidth() / 32));
  if (kind == MacPolicy::Smlad)
    return b.CreateBitCast(raw, words(rows));
  return b.CreateBitCast(
      b.CreateSExt(raw, llvm::FixedVectorType::get(b.getInt16Ty(), count)),
      words(rows));
}

llvm::Value *Int8Policy::rowWeights(llvm::Value *step, int64_t r) {
  if (policy().kind == MacPolicy::Across) {
    llvm::SmallVector<int, 16> row;
    for (int64_t j = 0; j < policy().group; ++j)
      row.push_back(int(r * policy().group + j));
    return b.CreateShuffleVector(step, row);
  }
  if (policy().kind == MacPolicy::Smlad) {
    auto *pairsTy = llvm::FixedVectorType::get(b.getInt32Ty(), 2);
    if (packed.elem->getBitWidth() == 16)
      return b.CreateShuffleVector(step, {int(2 * r), int(2 * r + 1)});
    llvm::Value *word = b.CreateExtractElement(step, r);
    llvm::Value *low = b.CreateIntrinsic(llvm::Intrinsic::arm_sxtb16, {}, {word});
    llvm::Value *high = b.CreateIntrinsic(
        llvm::Intrinsic::arm_sxtb16, {},
        {b.CreateIntrinsic(llvm::Intrinsic::fshr, {b.getInt32Ty()},
                           {word, word, b.getInt32(8)})});
    return b.CreateInsertElement(
        b.CreateInsertElement(llvm::PoisonValue::get(pairsTy), low, uint64_t(0)),
        high, uint64_t(1));
  }
  llvm::SmallVector<int, 16> lane(l.lanes, int(r));
  llvm::Value *splat = b.CreateShuffleVector(step, lane);
  if (policy().kind == MacPolicy::Pairs)
    return b.CreateBitCast(
        splat, llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes));
  return policy().isDot() ? mac.asParam(splat, 2) : splat;
}

/// The tile loops, the same for every policy.
class PointwiseEmitter {
public:
  PointwiseEmitter(Lowering &l, const Op &op, const Gemm &g,
                   PointwisePolicy &policy)
      : l(l), b(l.b), op(op), g(g), policy(policy) {}

  void emit();

private:
  /// One register tile: `rows` channels from m0, `pixels` pixels from p0.
  void tile(llvm::Value *image, llvm::Value *m0, int64_t rows, llvm::Value *p0,
            int64_t pixels);
  /// Tiles over all channel blocks at pixel offset p0 (a parallel loop
  /// with `parallel`).
  void channelBlocks(llvm::Value *image, llvm::Value *p0, int64_t pixels,
                     bool parallel);
  /// Tiles over all pixel blocks at channel block m0.
  void pixelBlocks(llvm::Value *image, llvm::Value *m0, int64_t rows,
                   bool parallel);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const Gemm &g;
  PointwisePolicy &policy;
};

void PointwiseEmitter::tile(llvm::Value *image, llvm::Value *m0, int64_t rows,
                            llvm::Value *p0, int64_t pixels) {
  int64_t vectors = llvm::divideCeil(pixels, g.lanes);
  llvm::FixedVectorType *accTy = policy.accumulatorType();
  // Accumulators live in stack slots that SROA turns into registers.
  std::vector<llvm::Value *> acc(rows * vectors);
  for (int64_t r = 0; r < rows; ++r) {
    llvm::Value *init = policy.init(b.CreateAdd(m0, l.idx(r)));
    for (int64_t v = 0; v < vectors; ++v) {
      acc[r * vectors + v] = l.local(accTy);
      b.CreateStore(init, acc[r * vectors + v]);
    }
  }
  llvm::Value *xImage = b.CreateMul(image, l.idx(g.c * g.hw));
  llvm::Value *wBlock = b.CreateMul(m0, l.idx(g.steps));
  // Unrolled by two, never fully: a fully unrolled reduction makes the
  // packed inputs invariant in the channel-block loop, and hoisted there
  // they spill.
  l.loop(0, g.steps, [&](llvm::Value *s) {
    std::vector<llvm::Value *> xv;
    for (int64_t v = 0; v < vectors; ++v)
      xv.push_back(policy.inputs(xImage, s, p0, v, pixels));
    llvm::Value *step = policy.stepWeights(
        b.CreateMul(b.CreateAdd(wBlock, b.CreateMul(s, l.idx(rows))),
                    l.idx(g.group)),
        rows);
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Value *w = policy.rowWeights(step, r);
      for (int64_t v = 0; v < vectors; ++v) {
        llvm::Value *slot = acc[r * vectors + v];
        b.CreateStore(policy.multiplyAdd(b.CreateLoad(accTy, slot), xv[v], w),
                      slot);
      }
    }
  }, policy.packsInputs() ? 2 : 0);
  for (int64_t r = 0; r < rows; ++r) {
    llvm::Value *m = b.CreateAdd(m0, l.idx(r));
    llvm::Value *yRow = b.CreateAdd(
        b.CreateMul(b.CreateAdd(b.CreateMul(image, l.idx(g.m)), m),
                    l.idx(g.hw)),
        p0);
    llvm::SmallVector<llvm::Value *, 8> row;
    for (int64_t v = 0; v < vectors; ++v)
      row.push_back(b.CreateLoad(accTy, acc[r * vectors + v]));
    policy.storeRow(m, yRow, row, pixels);
  }
}

void PointwiseEmitter::channelBlocks(llvm::Value *image, llvm::Value *p0,
                                     int64_t pixels, bool parallel) {
  l.blocks(
      g.m, g.rows,
      [&](llvm::Value *m0, int64_t rows) { tile(image, m0, rows, p0, pixels); },
      parallel);
}

void PointwiseEmitter::pixelBlocks(llvm::Value *image, llvm::Value *m0,
                                   int64_t rows, bool parallel) {
  l.blocks(
      g.hw, g.cols,
      [&](llvm::Value *p0, int64_t pixels) {
        tile(image, m0, rows, p0, pixels);
      },
      parallel);
}

void PointwiseEmitter::emit() {
  // Loop order by memory traffic: with channel blocks outermost, X is
  // streamed once per channel block; with pixel blocks outermost, W is
  // streamed once per pixel block. Each keeps the other operand's panel hot.
  // A policy that packs its inputs does so per pixel block: pixels outer.
  int64_t width = g.cols;
  int64_t pixelBlockCount = llvm::divideCeil(g.hw, width),
          channelBlockCount = llvm::divideCeil(g.m, g.rows);
  bool pixelsOuter =
      policy.packsInputs() || pixelBlockCount * g.m < channelBlockCount * g.hw;
  // Tasks split the blocks of the dimension that has more of them (then
  // with pixels outer and channels split, every task packs every block).
  bool splitPixels = pixelBlockCount >= channelBlockCount;
  l.loop(0, g.n, [&](llvm::Value *image) {
    if (pixelsOuter) {
      l.blocks(
          g.hw, width,
          [&](llvm::Value *p0, int64_t pixels) {
            policy.pack(b.CreateMul(image, l.idx(g.c * g.hw)), p0, pixels);
            channelBlocks(image, p0, pixels, !splitPixels);
          },
          splitPixels);
      return;
    }
    l.blocks(
        g.m, g.rows,
        [&](llvm::Value *m0, int64_t rows) {
          pixelBlocks(image, m0, rows, splitPixels);
        },
        !splitPixels);
  });
}

/// The int8 policy for `op` on the kernel's ISA, with its packed weights
/// w' = w - zw and folded offsets.
std::unique_ptr<PointwisePolicy> int8Policy(Lowering &l, const Op &op,
                                            const Tensor &weights, Gemm &g,
                                            Isa isa) {
  const TensorType &xt = l.f.type(op.operands[0]),
                   &wt = l.f.type(op.operands[1]);
  bool bytes = hasInt8Weights(l.f, op);
  MacPolicy mac = macPolicy(isa, l.lanes, bytes);
  g.lanes = mac.accumulatorLanes(l.lanes);
  g.group = mac.group;
  g.steps = llvm::divideCeil(g.c, g.group);
  auto w = [&](int64_t m, int64_t c) {
    return int32_t(weights.getAsInt(m * g.c + c)) - wt.quant->zeroPoint(m);
  };
  // Weights of bytes keep their order (smlad's sxtb16 picks its pairs);
  // wider ones go to their channel's slot, as the inputs do. pmaddwd's
  // rows broadcast their i16 pair of a step straight from memory.
  auto slot = [&](int64_t j) { return bytes ? j : channelSlot(mac, j); };
  std::vector<int32_t> offsets = zeroPointOffsets(mac, xt, g.m, g.c, w);
  return std::make_unique<Int8Policy>(
      l, op, g, mac,
      narrowWeights(l, packWeights<int32_t>(g, w, slot),
                    mac.kind != MacPolicy::Pairs),
      l.constantI32(offsets));
}

} // namespace

bool lowerPointwiseConv(Lowering &l, const Op &op, const KernelChoice &k) {
  const TensorType &xt = l.f.type(op.operands[0]),
                   &wt = l.f.type(op.operands[1]);
  const Tensor *weights = l.constantOf(op.operands[1]);
  if (!weights || !isPointwiseConv(l.f, op))
    return false;
  Gemm g{xt.shape[0], wt.shape[0], xt.shape[1], xt.shape[2] * xt.shape[3],
         k.tile.rows, k.tile.cols, l.lanes,     1,
         xt.shape[1]};
  if (k.kernel == Kernel::I8PanelConv) {
    emitInt8PanelGemm(l, op, {g.n, g.c, g.m}, *weights, k.isa, k.tile);
    return true;
  }
  if (xt.isQuantized()) {
    auto policy = int8Policy(l, op, *weights, g, k.isa);
    PointwiseEmitter(l, op, g, *policy).emit();
    return true;
  }
  const float *w = reinterpret_cast<const float *>(weights->bytes.data());
  // On a 1x1 image the conv is a vector-matrix product per image.
  if (g.hw == 1) {
    emitPanelGemm(
        l, op, {g.n, g.c, g.m},
        [&](int64_t kk, int64_t j) { return w[j * g.c + kk]; },
        op.operands.size() > 2 ? std::optional(op.operands[2]) : std::nullopt,
        k.tile);
    return true;
  }
  llvm::Value *packed = l.constantF32(packWeights<float>(
      g, [&](int64_t m, int64_t c) { return w[m * g.c + c]; }));
  F32Policy policy(l, op, g, packed);
  PointwiseEmitter(l, op, g, policy).emit();
  return true;
}

} // namespace mnc
