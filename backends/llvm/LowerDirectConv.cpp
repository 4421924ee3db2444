// Direct (window) conv for the convs that are not pointwise, f32 and
// quantized: the stem conv, depthwise convs and any other undilated stride
// 1 or 2 conv with few taps per output, vectorized along output rows. Per
// group, the group's input planes are copied into workspace planes whose
// border contributes nothing, so every tap of every output vector is an
// unconditional load. A block of output channels accumulates in registers
// (one broadcast weight per channel and tap), then each vector is finished
// and stored once:
//   padded[ci][(iy + pt) * pitch + ix + pl] = x'[group's channel ci, iy, ix]
//   acc[m, oy, ox..ox+V) = init[m] + sum_{ci,ky,kx} w'[m, ci, ky, kx] *
//       padded[ci][(oy*s + ky) * pitch + (ox..ox+V)*s + kx]
// At stride 2 each plane row holds its even columns, then its odd ones
// (split planes), so that the taps of a vector are V consecutive elements:
// column c at (c % 2) * ceil(pitch / 2) + c / 2. Consecutive output rows
// are computed together where the registers allow (channelBlock): a load
// of a plane row serves every row whose window covers it. A row's last
// partial vector overlaps the one before it, recomputing a few outputs
// unmasked.
//
// The loops above are one skeleton; an element policy says what x', w',
// init, the multiply-accumulate and the finish are:
//   f32   x' = x with border 0, w' = w, init = b; fmuladd; the fused
//         epilogue.
//   int8  x' = u = x (u8) or x + 128 (i8), in [0, 255], as i16, with the
//         border at the zero point in the same form, uz; w' = w - zw, so
//         init = b - uz * sum(w'[m]), folded at compile time; i32
//         accumulators (exact, as in the reference), requantized before
//         the store. Where the target multiplies i16 pairs into i32 (x86
//         pmaddwd in every lane, Arm DSP's smlad without vectors), each
//         step takes two horizontally adjacent taps (kx, kx + 1), the last
//         of an odd row with a zero weight: lane i's taps are the i16 pair
//         at column ox*s + kx + i*s. At stride 2 (or with one lane) the
//         pairs of a vector are one load of consecutive i16; at stride 1
//         they overlap, so each plane position holds the pair of it and its
//         right neighbour (paired planes, an i32 each).
#include "backends/llvm/ConvKernels.h"

#include "llvm/Analysis/VectorUtils.h"
#include "llvm/IR/IntrinsicsARM.h"

#include <memory>

namespace mnc {
namespace {

using Direct = DirectGeometry;

/// Per output channel: what its accumulators start from and, for
/// requantization, its multiplier and output zero point.
struct ChannelValues {
  llvm::Value *init;
  llvm::Value *multiplier = nullptr, *zeroPoint = nullptr;
};

/// What the skeleton leaves to the element type (see the file comment).
/// Vectors have the target's lanes.
class ElementPolicy {
public:
  explicit ElementPolicy(Lowering &l) : l(l), b(l.b) {}
  virtual ~ElementPolicy() = default;
  /// The element type of the workspace planes.
  virtual llvm::Type *planeType() const = 0;
  /// The planes' border element.
  virtual llvm::Value *border() const = 0;
  /// Input element (or vector of elements) `x` as the planes hold it.
  virtual llvm::Value *toPlane(llvm::Value *x) const = 0;
  /// A vector of plane elements as the accumulators take it.
  virtual llvm::Value *widen(llvm::Value *taps) const = 0;
  /// The per-channel values of output channel `m`, loaded once per block.
  virtual ChannelValues channel(llvm::Value *m) const = 0;
  /// Weight `index` of [M, taps], broadcast.
  virtual llvm::Value *weight(llvm::Value *index) const = 0;
  /// acc + in * w.
  virtual llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *in,
                                   llvm::Value *w) const = 0;
  /// Whether the policy multiplies taps kx and kx + 1 of a row in one step
  /// (pairWeights, multiplyAddPair), the last of an odd row with a zero
  /// partner.
  virtual bool pairsTaps() const { return false; }
  /// Weights `index` and `index + 1` of [M, taps] (or `index` and 0 unless
  /// `both`) as the i16 pair of an i32.
  virtual llvm::Value *pairWeights(llvm::Value *, bool) const {
    return nullptr;
  }
  /// acc + the pairwise products of `in` and `w`, i16 pairs in i32 lanes.
  virtual llvm::Value *multiplyAddPair(llvm::Value *acc, llvm::Value *,
                                       llvm::Value *) const {
    return acc;
  }
  /// The accumulators of channel `c` as stored at output element `at`,
  /// `mask` (or null for all) selecting the lanes that exist.
  virtual llvm::Value *finish(const ChannelValues &c, llvm::Value *acc,
                              llvm::Value *at, llvm::Value *mask) const = 0;

protected:
  Lowering &l;
  llvm::IRBuilder<> &b;
};

/// f32: float planes, fmuladd, the fused epilogue.
class FloatPolicy final : public ElementPolicy {
public:
  FloatPolicy(Lowering &l, const Op &op)
      : ElementPolicy(l), op(op), epilogue(l.epilogueOf(op)),
        vecTy(llvm::FixedVectorType::get(b.getFloatTy(), l.lanes)) {}

  llvm::Type *planeType() const override { return b.getFloatTy(); }
  llvm::Value *border() const override { return l.f32(0.0); }
  llvm::Value *toPlane(llvm::Value *x) const override { return x; }
  llvm::Value *widen(llvm::Value *taps) const override { return taps; }
  ChannelValues channel(llvm::Value *m) const override {
    if (op.operands.size() < 3)
      return {llvm::ConstantFP::get(vecTy, 0.0)};
    return {b.CreateVectorSplat(l.lanes, l.load(op.operands[2], m))};
  }
  llvm::Value *weight(llvm::Value *index) const override {
    return b.CreateVectorSplat(l.lanes, l.load(op.operands[1], index));
  }
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *in,
                           llvm::Value *w) const override {
    return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy}, {w, in, acc});
  }
  llvm::Value *finish(const ChannelValues &, llvm::Value *acc, llvm::Value *at,
                      llvm::Value *mask) const override {
    return applyEpilogue(l, epilogue, op.results[0], acc, at, mask);
  }

private:
  const Op &op;
  const Op *epilogue;
  llvm::FixedVectorType *vecTy;
};

/// The input zero point as the int8 planes hold it, uz.
int32_t shiftedZeroPoint(const TensorType &x) {
  return x.quant->zeroPoint(0) + (x.elem == ElemKind::U8 ? 0 : 128);
}

/// int8: zero-point-shifted i16 planes, exact i32 accumulators (pmaddwd
/// where the ISA has it), requantized.
class QuantPolicy final : public ElementPolicy {
public:
  /// `weights` are w' as [M, taps], `offsets` -uz * sum(w'[m]) as i32 [M].
  QuantPolicy(Lowering &l, const Op &op, Isa isa, RequantTables tables,
              NarrowWeights weights, llvm::Value *offsets)
      : ElementPolicy(l), op(op), xKind(l.f.type(op.operands[0]).elem),
        uz(shiftedZeroPoint(l.f.type(op.operands[0]))), tables(tables),
        weights(weights), offsets(offsets),
        pairs(pairwiseMultiplyAdd(isa, l.lanes)),
        smlad(isa == Isa::Dsp && l.lanes == 1), byScalar(isa == Isa::Mve),
        vecTy(llvm::FixedVectorType::get(b.getInt32Ty(), l.lanes)) {}

  llvm::Type *planeType() const override { return b.getInt16Ty(); }
  llvm::Value *border() const override { return b.getInt16(uz); }
  llvm::Value *toPlane(llvm::Value *q) const override {
    bool isUnsigned = xKind == ElemKind::U8;
    llvm::Type *i32 = q->getType()->getWithNewType(b.getInt32Ty());
    q = isUnsigned ? b.CreateZExt(q, i32) : b.CreateSExt(q, i32);
    return b.CreateTrunc(
        b.CreateAdd(q, llvm::ConstantInt::get(i32, isUnsigned ? 0 : 128)),
        q->getType()->getWithNewType(b.getInt16Ty()));
  }
  llvm::Value *widen(llvm::Value *taps) const override {
    return b.CreateZExt(taps, vecTy);
  }
  ChannelValues channel(llvm::Value *m) const override {
    llvm::Value *init = l.loadAt(offsets, ElemKind::I32, m);
    if (op.operands.size() > 2)
      init = b.CreateAdd(init, l.loadI32(op.operands[2], m));
    return {b.CreateVectorSplat(l.lanes, init),
            b.CreateVectorSplat(l.lanes,
                                l.loadAt(tables.multipliers, ElemKind::F32, m)),
            b.CreateVectorSplat(l.lanes,
                                l.loadAt(tables.zeroPoints, ElemKind::I32, m))};
  }
  // Splat in i16, then widen: both factors visibly fit 16 bits (NEON's
  // widening multiply-accumulates). MVE's vmla multiplies by a scalar
  // register, which an i32 splat lets each use keep.
  llvm::Value *weight(llvm::Value *index) const override {
    llvm::Value *w = loadWeights(l, weights, index);
    if (byScalar)
      return b.CreateVectorSplat(l.lanes, b.CreateSExt(w, b.getInt32Ty()));
    return b.CreateSExt(b.CreateVectorSplat(l.lanes, w), vecTy);
  }
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *in,
                           llvm::Value *w) const override {
    return b.CreateAdd(acc, b.CreateMul(in, w, "", false, true));
  }
  llvm::Value *finish(const ChannelValues &c, llvm::Value *acc, llvm::Value *,
                      llvm::Value *) const override {
    return l.requantize(acc, c.multiplier, c.zeroPoint,
                        l.f.type(op.results[0]).elem);
  }
  bool pairsTaps() const override { return smlad || pairs; }
  llvm::Value *pairWeights(llvm::Value *index, bool both) const override {
    if (both)
      return b.CreateBitCast(loadWeights(l, weights, index, 2), b.getInt32Ty());
    return b.CreateZExt(loadWeights(l, weights, index), b.getInt32Ty());
  }
  llvm::Value *multiplyAddPair(llvm::Value *acc, llvm::Value *in,
                               llvm::Value *w) const override {
    if (smlad) {
      llvm::Value *sum =
          b.CreateIntrinsic(llvm::Intrinsic::arm_smlad, {},
                            {b.CreateExtractElement(in, uint64_t(0)), w,
                             b.CreateExtractElement(acc, uint64_t(0))});
      return b.CreateInsertElement(acc, sum, uint64_t(0));
    }
    auto *halves = llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes);
    llvm::Value *products = b.CreateIntrinsic(
        vecTy, pairs,
        {b.CreateBitCast(in, halves),
         b.CreateBitCast(b.CreateVectorSplat(l.lanes, w), halves)});
    return b.CreateAdd(acc, products);
  }

private:
  const Op &op;
  ElemKind xKind;
  int32_t uz;
  RequantTables tables;
  NarrowWeights weights;
  llvm::Value *offsets;
  llvm::Intrinsic::ID pairs; ///< Or not_intrinsic: widen and multiply.
  bool smlad;                ///< Pairs of taps (one lane).
  bool byScalar;             ///< Weights as i32 splats (MVE).
  llvm::FixedVectorType *vecTy;
};

/// The int8 policy with w' and the offsets folded from the constant
/// weights, or null if they are not constant.
std::unique_ptr<ElementPolicy> quantPolicy(Lowering &l, const Op &op,
                                           const Direct &d, Isa isa) {
  const Tensor *w = l.constantOf(op.operands[1]);
  if (!w)
    return nullptr;
  const TensorType &wt = l.f.type(op.operands[1]);
  int32_t uz = shiftedZeroPoint(l.f.type(op.operands[0]));
  int64_t taps = d.cg * d.kh * d.kw;
  std::vector<int32_t> weights(d.m * taps), offsets(d.m);
  for (int64_t m = 0; m < d.m; ++m) {
    int32_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      int32_t wv = int32_t(w->getAsInt(m * taps + t)) - wt.quant->zeroPoint(m);
      weights[m * taps + t] = wv;
      sum += wv;
    }
    offsets[m] = -uz * sum;
  }
  RequantTables tables = requantTables(l, op);
  return std::make_unique<QuantPolicy>(
      l, op, isa, tables, narrowWeights(l, weights), l.constantI32(offsets));
}

/// The policy for `op`'s element types, or null if it has none.
std::unique_ptr<ElementPolicy> elementPolicy(Lowering &l, const Op &op,
                                             const Direct &d, Isa isa) {
  const TensorType &x = l.f.type(op.operands[0]);
  if (x.isQuantized())
    return quantPolicy(l, op, d, isa);
  if (x.elem == ElemKind::F32)
    return std::make_unique<FloatPolicy>(l, op);
  return nullptr;
}

/// A block of output channels [m0, m0 + count) of one image.
struct ChannelBlock {
  llvm::Value *m0;
  llvm::Value *firstPlane; ///< Output plane of channel m0.
  llvm::SmallVector<ChannelValues, 8> channels;
};

class DirectEmitter {
public:
  DirectEmitter(Lowering &l, const Op &op, const Direct &d,
                const KernelTile &tile, const ElementPolicy &p, bool paired)
      : l(l), b(l.b), op(op), d(d), tile(tile), p(p), paired(paired),
        split(d.stride == 2 && !p.pairsTaps()),
        splitRows(d.oh > d.n * d.groups) {}

  void emit();

private:
  /// The element type of the workspace planes: the policy's, or i32 when
  /// each position holds the pair of it and its right neighbour.
  llvm::Type *planeType() const;
  /// The planes' border element, single or paired.
  llvm::Value *border() const;
  /// `lo` and `hi` (i16, or vectors of them) as a pair.
  llvm::Value *pair(llvm::Value *lo, llvm::Value *hi) const;
  /// Runs `body(ix, width)` over [0, n) in vectors of `width` elements (at
  /// most `widest`), the last one overlapping its predecessor where n is no
  /// multiple of width (a fill stores what it loads, so a position done
  /// twice is harmless), one element at a time where n is shorter than 4.
  void rowVectors(int64_t n, int64_t widest,
                  llvm::function_ref<void(llvm::Value *, int64_t)> body);
  /// Where padded column `c` of a row lies in the workspace (split planes
  /// at stride 2).
  llvm::Value *column(llvm::Value *c) const;
  /// Stores plane elements `x` (a vector) of the workspace row from element
  /// `row` on, the first at padded column `c` and the rest after it.
  void storeRow(llvm::Value *row, llvm::Value *c, llvm::Value *x);
  /// `width` input elements from element `at` of `plane`, as the planes
  /// hold them.
  llvm::Value *loadInputs(llvm::Value *plane, llvm::Value *at, int64_t width);
  /// Stores `value` at element `index` of the workspace planes.
  void storePlane(llvm::Value *index, llvm::Value *value);
  /// Copies input plane `plane` into workspace plane `ci`.
  void fillPlane(llvm::Value *plane, int64_t ci);
  /// The same into paired planes: a row's positions from one before its
  /// first element to its last.
  void fillPairedPlane(llvm::Value *plane, int64_t ci);
  /// Copies the input planes of image `image`, group `group`.
  void fillGroup(llvm::Value *image, llvm::Value *group);
  /// Output channels [m0, m0 + count) of image `image`.
  void channelBlock(llvm::Value *image, llvm::Value *m0, int64_t count);
  /// The block's accumulators for the output vectors of `outRows`
  /// consecutive rows whose first's first tap is at workspace offset `col`,
  /// row-major ([row][channel]). Rows share the loads of the plane rows
  /// they have in common.
  llvm::SmallVector<llvm::Value *, 8>
  accumulate(const ChannelBlock &block, llvm::Value *col, int64_t outRows);
  /// Finishes and stores the block's accumulators at row `oy`, columns
  /// [ox, ox + valid).
  void store(const ChannelBlock &block, llvm::ArrayRef<llvm::Value *> acc,
             llvm::Value *oy, llvm::Value *ox, int64_t valid);
  /// The vector of consecutive taps at workspace offset `at`, widened.
  llvm::Value *loadTaps(llvm::Value *at);
  /// The vector of tap pairs at workspace offset `at` (<lanes x i32>):
  /// lane i holds the taps at `at + i * stride` and the one after it.
  llvm::Value *loadPairs(llvm::Value *at);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const Direct &d;
  KernelTile tile; ///< Output channels per block by one vector.
  const ElementPolicy &p;
  bool paired; ///< Whether the planes hold pairs (pairedDirectPlanes).
  /// Whether the planes are split into even and odd columns: stride 2
  /// without pairs of taps (whose pairs are consecutive columns).
  bool split;
  /// Tasks split the output rows (each filling every group's planes) when
  /// there are more of them than images times groups, else the latter.
  bool splitRows;
};

llvm::Type *DirectEmitter::planeType() const {
  return paired ? b.getInt32Ty() : p.planeType();
}

llvm::Value *DirectEmitter::border() const {
  return paired ? pair(p.border(), p.border()) : p.border();
}

llvm::Value *DirectEmitter::pair(llvm::Value *lo, llvm::Value *hi) const {
  llvm::Type *i32 = lo->getType()->getWithNewType(b.getInt32Ty());
  return b.CreateOr(
      b.CreateZExt(lo, i32),
      b.CreateShl(b.CreateZExt(hi, i32), llvm::ConstantInt::get(i32, 16)));
}

void DirectEmitter::rowVectors(
    int64_t n, int64_t widest,
    llvm::function_ref<void(llvm::Value *, int64_t)> body) {
  int64_t width = widest;
  while (width > n)
    width /= 2;
  if (width < 4) {
    l.loop(0, n, [&](llvm::Value *ix) { body(ix, 1); });
    return;
  }
  l.loop(0, n / width,
         [&](llvm::Value *v) { body(b.CreateMul(v, l.idx(width)), width); });
  if (n % width)
    body(l.idx(n - width), width);
}

llvm::Value *DirectEmitter::column(llvm::Value *c) const {
  if (!split)
    return c;
  return b.CreateAdd(
      b.CreateMul(b.CreateAnd(c, l.idx(1)), l.idx((d.pitch + 1) / 2)),
      b.CreateLShr(c, l.idx(1)));
}

llvm::Value *DirectEmitter::loadInputs(llvm::Value *plane, llvm::Value *at,
                                       int64_t width) {
  llvm::Type *elem = l.elemType(l.f.type(op.operands[0]).elem);
  auto *vecTy = llvm::FixedVectorType::get(elem, width);
  return p.toPlane(b.CreateAlignedLoad(
      vecTy, b.CreateInBoundsGEP(elem, plane, at), elementAlign(elem)));
}

void DirectEmitter::storePlane(llvm::Value *index, llvm::Value *value) {
  llvm::Type *elem = planeType();
  b.CreateAlignedStore(value, b.CreateInBoundsGEP(elem, l.workspace(op), index),
                       elementAlign(elem));
}

llvm::Value *DirectEmitter::loadTaps(llvm::Value *at) {
  llvm::Type *elem = p.planeType();
  llvm::Value *ptr = b.CreateInBoundsGEP(elem, l.workspace(op), at);
  auto *vecTy = llvm::FixedVectorType::get(elem, l.lanes);
  return p.widen(b.CreateAlignedLoad(vecTy, ptr, elementAlign(elem)));
}

// Unpaired, lane i's pair is two adjacent i16: at stride 2 (or with one
// lane) the pairs of a vector are exactly the i16 from `at` on.
llvm::Value *DirectEmitter::loadPairs(llvm::Value *at) {
  auto *pairsTy = llvm::FixedVectorType::get(b.getInt32Ty(), l.lanes);
  if (paired)
    return b.CreateAlignedLoad(
        pairsTy, b.CreateInBoundsGEP(b.getInt32Ty(), l.workspace(op), at),
        llvm::Align(4));
  llvm::Type *elem = p.planeType();
  auto *halves = llvm::FixedVectorType::get(elem, 2 * l.lanes);
  llvm::Value *taps = b.CreateAlignedLoad(
      halves, b.CreateInBoundsGEP(elem, l.workspace(op), at),
      elementAlign(elem));
  return b.CreateBitCast(taps, pairsTy);
}

void DirectEmitter::fillPlane(llvm::Value *plane, int64_t ci) {
  if (paired)
    return fillPairedPlane(plane, ci);
  l.loop(0, d.h, [&](llvm::Value *iy) {
    llvm::Value *src = b.CreateMul(iy, l.idx(d.w));
    llvm::Value *dst =
        l.linear({iy}, {d.pitch}, (ci * d.rows + d.pt) * d.pitch);
    // As many plane elements as a target vector holds (i16: twice lanes).
    int64_t widest =
        l.lanes * 32 / int64_t(p.planeType()->getScalarSizeInBits());
    rowVectors(d.w, split ? 2 * widest : widest,
               [&](llvm::Value *ix, int64_t width) {
                 storeRow(dst, b.CreateAdd(ix, l.idx(d.pl)),
                          loadInputs(plane, b.CreateAdd(src, ix), width));
               });
  });
}

void DirectEmitter::storeRow(llvm::Value *row, llvm::Value *c, llvm::Value *x) {
  auto width =
      int(llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements());
  if (!split || width == 1)
    return storePlane(b.CreateAdd(row, column(c)), x);
  // Inputs 2j (and 2j + 1) of x go to consecutive positions.
  for (int odd = 0; odd < 2; ++odd)
    storePlane(
        b.CreateAdd(row, column(b.CreateAdd(c, l.idx(odd)))),
        b.CreateShuffleVector(x, llvm::createStrideMask(odd, 2, width / 2)));
}

// A pair never spans two rows' taps (pitch > (ow - 1) * stride + kw), so
// without a left border the position before a row needs no pair.
void DirectEmitter::fillPairedPlane(llvm::Value *plane, int64_t ci) {
  ElemKind xKind = l.f.type(op.operands[0]).elem;
  l.loop(0, d.h, [&](llvm::Value *iy) {
    llvm::Value *src = b.CreateMul(iy, l.idx(d.w));
    llvm::Value *dst =
        l.linear({iy}, {d.pitch}, (ci * d.rows + d.pt) * d.pitch + d.pl);
    auto input = [&](llvm::Value *ix) {
      return p.toPlane(l.loadAt(plane, xKind, b.CreateAdd(src, ix)));
    };
    if (d.pl > 0)
      storePlane(b.CreateSub(dst, l.idx(1)), pair(p.border(), input(l.idx(0))));
    rowVectors(d.w - 1, l.lanes, [&](llvm::Value *ix, int64_t width) {
      llvm::Value *at = b.CreateAdd(src, ix);
      storePlane(b.CreateAdd(dst, ix),
                 pair(loadInputs(plane, at, width),
                      loadInputs(plane, b.CreateAdd(at, l.idx(1)), width)));
    });
    storePlane(b.CreateAdd(dst, l.idx(d.w - 1)),
               pair(input(l.idx(d.w - 1)), p.border()));
  });
}

void DirectEmitter::fillGroup(llvm::Value *image, llvm::Value *group) {
  ValueId x = op.operands[0];
  llvm::Value *firstIn = b.CreateAdd(b.CreateMul(image, l.idx(d.c)),
                                     b.CreateMul(group, l.idx(d.cg)));
  for (int64_t ci = 0; ci < d.cg; ++ci)
    fillPlane(b.CreateInBoundsGEP(l.elemType(l.f.type(x).elem), l.ptr(x),
                                  b.CreateMul(b.CreateAdd(firstIn, l.idx(ci)),
                                              l.idx(d.h * d.w))),
              ci);
}

llvm::SmallVector<llvm::Value *, 8>
DirectEmitter::accumulate(const ChannelBlock &block, llvm::Value *col,
                          int64_t outRows) {
  size_t channels = block.channels.size();
  llvm::SmallVector<llvm::Value *, 8> acc;
  for (int64_t t = 0; t < outRows; ++t)
    for (const ChannelValues &c : block.channels)
      acc.push_back(c.init);
  auto weightIndex = [&](size_t r, int64_t tap) {
    llvm::Value *m = b.CreateAdd(block.m0, l.idx(r));
    return b.CreateAdd(b.CreateMul(m, l.idx(d.cg * d.kh * d.kw)), l.idx(tap));
  };
  // Plane row j of channel ci holds taps ky = j - t * stride of output row
  // t; each load (a tap, or with pairs two of a row) serves them all.
  int64_t planeRows = (outRows - 1) * d.stride + d.kh;
  for (int64_t ci = 0; ci < d.cg; ++ci)
    for (int64_t j = 0; j < planeRows; ++j)
      for (int64_t kx = 0; kx < d.kw;) {
        llvm::Value *at =
            b.CreateAdd(b.CreateAdd(col, l.idx((ci * d.rows + j) * d.pitch)),
                        column(l.idx(kx)));
        bool both = p.pairsTaps() && kx + 1 < d.kw;
        llvm::Value *in = p.pairsTaps() ? loadPairs(at) : loadTaps(at);
        for (int64_t t = 0; t < outRows; ++t) {
          int64_t ky = j - t * d.stride;
          if (ky < 0 || ky >= d.kh)
            continue;
          int64_t tap = (ci * d.kh + ky) * d.kw + kx;
          for (size_t r = 0; r < channels; ++r) {
            llvm::Value *&a = acc[t * channels + r];
            a = p.pairsTaps()
                    ? p.multiplyAddPair(
                          a, in, p.pairWeights(weightIndex(r, tap), both))
                    : p.multiplyAdd(a, in, p.weight(weightIndex(r, tap)));
          }
        }
        kx += both ? 2 : 1;
      }
  return acc;
}

void DirectEmitter::store(const ChannelBlock &block,
                          llvm::ArrayRef<llvm::Value *> acc, llvm::Value *oy,
                          llvm::Value *ox, int64_t valid) {
  llvm::Value *mask = laneMask(l, valid);
  llvm::Value *dest = l.ptr(l.destination(op));
  for (size_t r = 0; r < acc.size(); ++r) {
    llvm::Value *plane = b.CreateAdd(block.firstPlane, l.idx(r));
    llvm::Value *at = b.CreateAdd(
        b.CreateMul(b.CreateAdd(b.CreateMul(plane, l.idx(d.oh)), oy),
                    l.idx(d.ow)),
        ox);
    llvm::Value *value = p.finish(block.channels[r], acc[r], at, mask);
    llvm::Type *elem = value->getType()->getScalarType();
    storeLanes(l, value, b.CreateInBoundsGEP(elem, dest, at), mask);
  }
}

void DirectEmitter::channelBlock(llvm::Value *image, llvm::Value *m0,
                                 int64_t count) {
  ChannelBlock block{m0, b.CreateAdd(b.CreateMul(image, l.idx(d.m)), m0), {}};
  for (int64_t r = 0; r < count; ++r)
    block.channels.push_back(p.channel(b.CreateAdd(m0, l.idx(r))));
  // Rows `outRows` at a time from oy.
  auto rows = [&](llvm::Value *oy, int64_t outRows) {
    llvm::Value *rowBase = b.CreateMul(oy, l.idx(d.stride * d.pitch));
    auto vector = [&](llvm::Value *ox, int64_t valid) {
      llvm::Value *col =
          b.CreateAdd(rowBase, b.CreateMul(ox, l.idx(split ? 1 : d.stride)));
      auto acc = accumulate(block, col, outRows);
      size_t channels = block.channels.size();
      for (int64_t t = 0; t < outRows; ++t)
        store(block, llvm::ArrayRef(acc).slice(t * channels, channels),
              b.CreateAdd(oy, l.idx(t)), ox, valid);
    };
    int64_t full = d.ow / l.lanes, tail = d.ow % l.lanes;
    l.loop(0, full, [&](llvm::Value *v) {
      vector(b.CreateMul(v, l.idx(l.lanes)), l.lanes);
    });
    // A partial last vector overlaps the one before it, computing some
    // outputs again, unmasked (masked byte stores are one store a lane on
    // AVX2); a row narrower than a vector is masked.
    if (tail)
      full ? vector(l.idx(d.ow - l.lanes), l.lanes) : vector(l.idx(0), tail);
  };
  // Several output rows at a time share plane rows: at stride 1 two rows
  // two of a 3x3 kernel's three (four rows load six plane rows instead of
  // twelve), at stride 2 one. As many rows as the registers hold: one
  // channel at stride 1 four rows with 32 vector registers, else two; a
  // block of channels (the stem) two rows with 32 registers. One channel
  // at stride 2 and blocks with 16 registers ran slower with two on Zen 5.
  bool wide = l.target.vectorRegisters >= 32;
  int64_t step = count == 1 && d.stride == 1 ? (wide ? 4 : 2)
                 : count > 1 && wide         ? 2
                                             : 1;
  l.blocks(d.oh, step, rows, splitRows);
}

void DirectEmitter::emit() {
  int64_t block = tile.rows;
  // The border stays the same for every group: only the interior is copied.
  l.loop(0, d.cg * d.rows * d.pitch,
         [&](llvm::Value *i) { storePlane(i, border()); });
  auto perGroup = [&](llvm::Value *ig) {
    llvm::Value *image = b.CreateUDiv(ig, l.idx(d.groups));
    llvm::Value *group = b.CreateURem(ig, l.idx(d.groups));
    fillGroup(image, group);
    llvm::Value *firstOut = b.CreateMul(group, l.idx(d.mg));
    l.loop(0, d.mg / block, [&](llvm::Value *mb) {
      channelBlock(image, b.CreateAdd(firstOut, b.CreateMul(mb, l.idx(block))),
                   block);
    });
    if (d.mg % block)
      channelBlock(image, b.CreateAdd(firstOut, l.idx(d.mg - d.mg % block)),
                   d.mg % block);
  };
  if (splitRows)
    l.loop(0, d.n * d.groups, perGroup);
  else
    l.parallelLoop(0, d.n * d.groups, perGroup);
}

} // namespace

bool lowerDirectConv(Lowering &l, const Op &op, const KernelChoice &k) {
  auto d = directGeometry(l.f, op);
  if (!d || kDirectMaxLanes % l.lanes != 0)
    return false;
  std::unique_ptr<ElementPolicy> policy = elementPolicy(l, op, *d, k.isa);
  if (!policy)
    return false;
  bool paired =
      l.f.type(op.operands[0]).isQuantized() && pairedDirectPlanes(*d, k.isa);
  if (paired && !(policy->pairsTaps() && l.lanes > 1))
    return false;
  DirectEmitter(l, op, *d, k.tile, *policy, paired).emit();
  return true;
}

} // namespace mnc
