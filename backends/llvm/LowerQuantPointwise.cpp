// Quantized pointwise (1x1) conv as a register-blocked integer GEMM, the
// same tiling as the f32 kernel of LowerPointwise.cpp: a tile of `rows`
// output channels by `vectors` target vectors of pixels accumulates in i32
// registers across the whole reduction over C, then is requantized and
// stored once. The zero points are folded at compile time:
//   acc[m, p] = b[m] + sum_c (x[c, p] - zx) * (w[m, c] - zw[m])
//             = (b[m] - zx * sum_c w'[m, c]) + sum_c x[c, p] * w'[m, c]
// with w' = w - zw packed in tile order (see lowerQuantPointwiseConv).
// On x86, pmaddwd multiplies two channels per i32 lane.
// Products of a widened input and a weight are exact in i32 and so is the
// sum (as in the reference), so the result is bit-exact.
#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/MathEmit.h"

#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/TargetParser/Triple.h"

namespace mnc {

llvm::Value *laneMask(Lowering &l, int64_t valid) {
  if (valid >= l.lanes)
    return nullptr;
  llvm::SmallVector<llvm::Constant *, 16> bits;
  for (int64_t i = 0; i < l.lanes; ++i)
    bits.push_back(l.b.getInt1(i < valid));
  return llvm::ConstantVector::get(bits);
}

NarrowWeights narrowWeights(Lowering &l, llvm::ArrayRef<int32_t> values) {
  bool bytes =
      llvm::all_of(values, [](int32_t v) { return llvm::isInt<8>(v); });
  std::vector<uint8_t> data;
  for (int32_t v : values) {
    auto u = static_cast<uint16_t>(static_cast<int16_t>(v));
    data.push_back(static_cast<uint8_t>(u));
    if (!bytes)
      data.push_back(static_cast<uint8_t>(u >> 8));
  }
  return {l.constantData(data), bytes ? l.b.getInt8Ty() : l.b.getInt16Ty()};
}

llvm::Value *loadWeights(Lowering &l, const NarrowWeights &w,
                         llvm::Value *index, unsigned count) {
  llvm::IRBuilder<> &b = l.b;
  llvm::Value *at = b.CreateInBoundsGEP(w.elem, w.data, index);
  if (count == 1)
    return b.CreateSExt(b.CreateAlignedLoad(w.elem, at, llvm::Align(1)),
                        b.getInt16Ty());
  return b.CreateSExt(
      b.CreateAlignedLoad(llvm::FixedVectorType::get(w.elem, count), at,
                          llvm::Align(1)),
      llvm::FixedVectorType::get(b.getInt16Ty(), count));
}

llvm::Value *requantizeVector(Lowering &l, llvm::Value *acc,
                              llvm::Value *multiplier, llvm::Value *zeroPoint,
                              ElemKind kind) {
  llvm::IRBuilder<> &b = l.b;
  auto *floatTy = llvm::FixedVectorType::get(b.getFloatTy(), l.lanes);
  llvm::Value *scaled = b.CreateFMul(b.CreateSIToFP(acc, floatTy), multiplier);
  llvm::Value *shifted = b.CreateFAdd(emitRoundEven(b, scaled),
                                      b.CreateSIToFP(zeroPoint, floatTy));
  bool isUnsigned = kind == ElemKind::U8;
  shifted = emitClamp(b, shifted, isUnsigned ? 0.0f : -128.0f,
                      isUnsigned ? 255.0f : 127.0f);
  return b.CreateTrunc(b.CreateFPToSI(shifted, acc->getType()),
                       llvm::FixedVectorType::get(b.getInt8Ty(), l.lanes));
}

llvm::Intrinsic::ID pairwiseMultiplyAdd(const Lowering &l) {
  if (!l.subtarget || !llvm::Triple(l.module.getTargetTriple()).isX86())
    return llvm::Intrinsic::not_intrinsic;
  if (l.lanes == 4)
    return llvm::Intrinsic::x86_sse2_pmadd_wd;
  if (l.lanes == 8 && l.subtarget->checkFeatures("+avx2"))
    return llvm::Intrinsic::x86_avx2_pmadd_wd;
  if (l.lanes == 16 && l.subtarget->checkFeatures("+avx512bw"))
    return llvm::Intrinsic::x86_avx512_pmaddw_d_512;
  return llvm::Intrinsic::not_intrinsic;
}

namespace {

struct QGemm {
  int64_t n, m, c, hw;
  int64_t rows, vectors; ///< Register tile: output channels x vectors.
  /// The target's multiply-add of i16 pairs into i32 lanes (x86 pmaddwd),
  /// or not_intrinsic to multiply one channel at a time in i32.
  llvm::Intrinsic::ID pairs;
  int64_t steps; ///< Reduction steps: C, or C/2 rounded up with pairs.
};

class QuantPointwiseEmitter {
public:
  QuantPointwiseEmitter(Lowering &l, const Op &op, const QGemm &g,
                        const RequantTables &tables, NarrowWeights packed,
                        llvm::Value *offsets)
      : l(l), b(l.b), op(op), g(g), tables(tables), packed(packed),
        offsets(offsets),
        accTy(llvm::FixedVectorType::get(b.getInt32Ty(), l.lanes)),
        xTy(llvm::FixedVectorType::get(b.getInt8Ty(), l.lanes)) {}

  void emit();

private:
  void tile(llvm::Value *image, llvm::Value *m0, int64_t rows, llvm::Value *p0,
            int64_t pixels);
  void channelBlocks(llvm::Value *image, llvm::Value *p0, int64_t pixels);
  void pixelBlocks(llvm::Value *image, llvm::Value *m0, int64_t rows);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const QGemm &g;
  const RequantTables &tables;
  NarrowWeights packed;
  llvm::Value *offsets;
  llvm::FixedVectorType *accTy, *xTy;
};

void QuantPointwiseEmitter::tile(llvm::Value *image, llvm::Value *m0,
                                 int64_t rows, llvm::Value *p0,
                                 int64_t pixels) {
  int64_t vectors = llvm::divideCeil(pixels, l.lanes);
  ValueId x = op.operands[0], y = op.results[0];
  bool xUnsigned = l.f.type(x).elem == ElemKind::U8;
  std::vector<llvm::Value *> acc(rows * vectors);
  for (int64_t r = 0; r < rows; ++r) {
    llvm::Value *m = b.CreateAdd(m0, l.idx(r));
    llvm::Value *init = l.loadAt(offsets, ElemKind::I32, m);
    if (op.operands.size() > 2)
      init = b.CreateAdd(init, l.loadI32(op.operands[2], m));
    for (int64_t v = 0; v < vectors; ++v) {
      acc[r * vectors + v] = l.local(accTy);
      b.CreateStore(b.CreateVectorSplat(l.lanes, init), acc[r * vectors + v]);
    }
  }
  llvm::Value *xImage = b.CreateMul(image, l.idx(g.c * g.hw));
  llvm::Value *wBlock = b.CreateMul(m0, l.idx(g.steps));
  // Step `s` covers channels [s*K, s*K + K) (K = 1 or 2); an odd channel
  // count ends with a pair whose second channel repeats the first and has
  // weight 0.
  auto step = [&](llvm::Value *s) {
    int64_t k = g.pairs ? 2 : 1;
    std::vector<llvm::Value *> xv;
    for (int64_t v = 0; v < vectors; ++v) {
      llvm::SmallVector<llvm::Value *, 2> rowsOfX;
      for (int64_t i = 0; i < k; ++i) {
        llvm::Value *c = b.CreateAdd(b.CreateMul(s, l.idx(k)), l.idx(i));
        if (i > 0)
          c = b.CreateSelect(b.CreateICmpULT(c, l.idx(g.c)), c, l.idx(g.c - 1));
        llvm::Value *at = b.CreateInBoundsGEP(
            b.getInt8Ty(), l.ptr(x),
            b.CreateAdd(b.CreateAdd(xImage, b.CreateMul(c, l.idx(g.hw))),
                        b.CreateAdd(p0, l.idx(v * l.lanes))));
        llvm::Value *mask = laneMask(l, pixels - v * l.lanes);
        rowsOfX.push_back(mask ? static_cast<llvm::Value *>(b.CreateMaskedLoad(
                                     xTy, at, llvm::Align(1), mask))
                               : b.CreateAlignedLoad(xTy, at, llvm::Align(1)));
      }
      llvm::Value *bytes = rowsOfX[0];
      llvm::Type *wideTy = accTy;
      if (g.pairs) {
        llvm::SmallVector<int, 32> interleave;
        for (unsigned i = 0; i < l.lanes; ++i)
          interleave.append({int(i), int(i + l.lanes)});
        bytes = b.CreateShuffleVector(rowsOfX[0], rowsOfX[1], interleave);
        wideTy = llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes);
      }
      xv.push_back(xUnsigned ? b.CreateZExt(bytes, wideTy)
                             : b.CreateSExt(bytes, wideTy));
    }
    llvm::Value *wRow = b.CreateAdd(wBlock, b.CreateMul(s, l.idx(rows)));
    for (int64_t r = 0; r < rows; ++r) {
      // One weight widened to i32, or a pair of i16 in one i32 lane.
      llvm::Value *word =
          b.CreateMul(b.CreateAdd(wRow, l.idx(r)), l.idx(g.pairs ? 2 : 1));
      llvm::Value *scalar =
          g.pairs
              ? b.CreateBitCast(loadWeights(l, packed, word, 2), b.getInt32Ty())
              : b.CreateSExt(loadWeights(l, packed, word), b.getInt32Ty());
      llvm::Value *w = b.CreateVectorSplat(l.lanes, scalar);
      if (g.pairs)
        w = b.CreateBitCast(w, xv[0]->getType());
      for (int64_t v = 0; v < vectors; ++v) {
        llvm::Value *slot = acc[r * vectors + v];
        llvm::Value *product =
            g.pairs ? b.CreateIntrinsic(accTy, g.pairs, {xv[v], w})
                    : b.CreateMul(xv[v], w, "", false, true);
        b.CreateStore(b.CreateAdd(b.CreateLoad(accTy, slot), product), slot);
      }
    }
  };
  l.loop(0, g.steps, step);
  ElemKind yKind = l.f.type(y).elem;
  for (int64_t r = 0; r < rows; ++r) {
    llvm::Value *m = b.CreateAdd(m0, l.idx(r));
    llvm::Value *yRow =
        b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(image, l.idx(g.m)), m),
                                l.idx(g.hw)),
                    p0);
    llvm::Value *mult = b.CreateVectorSplat(
        l.lanes, l.loadAt(tables.multipliers, ElemKind::F32, m));
    llvm::Value *zero = b.CreateVectorSplat(
        l.lanes, l.loadAt(tables.zeroPoints, ElemKind::I32, m));
    for (int64_t v = 0; v < vectors; ++v) {
      llvm::Value *q = requantizeVector(
          l, b.CreateLoad(accTy, acc[r * vectors + v]), mult, zero, yKind);
      llvm::Value *at = b.CreateInBoundsGEP(
          b.getInt8Ty(), l.ptr(y), b.CreateAdd(yRow, l.idx(v * l.lanes)));
      if (llvm::Value *mask = laneMask(l, pixels - v * l.lanes))
        b.CreateMaskedStore(q, at, llvm::Align(1), mask);
      else
        b.CreateAlignedStore(q, at, llvm::Align(1));
    }
  }
}

void QuantPointwiseEmitter::channelBlocks(llvm::Value *image, llvm::Value *p0,
                                          int64_t pixels) {
  l.loop(0, g.m / g.rows, [&](llvm::Value *mb) {
    tile(image, b.CreateMul(mb, l.idx(g.rows)), g.rows, p0, pixels);
  });
  if (g.m % g.rows)
    tile(image, l.idx(g.m - g.m % g.rows), g.m % g.rows, p0, pixels);
}

void QuantPointwiseEmitter::pixelBlocks(llvm::Value *image, llvm::Value *m0,
                                        int64_t rows) {
  int64_t width = g.vectors * l.lanes;
  l.loop(0, g.hw / width, [&](llvm::Value *pb) {
    tile(image, m0, rows, b.CreateMul(pb, l.idx(width)), width);
  });
  if (g.hw % width)
    tile(image, m0, rows, l.idx(g.hw - g.hw % width), g.hw % width);
}

void QuantPointwiseEmitter::emit() {
  // Loop order by memory traffic, as in the f32 kernel.
  int64_t width = g.vectors * l.lanes;
  bool pixelsOuter = llvm::divideCeil(g.hw, width) * g.m <
                     llvm::divideCeil(g.m, g.rows) * g.hw;
  l.loop(0, g.n, [&](llvm::Value *image) {
    if (pixelsOuter) {
      l.loop(0, g.hw / width, [&](llvm::Value *pb) {
        channelBlocks(image, b.CreateMul(pb, l.idx(width)), width);
      });
      if (g.hw % width)
        channelBlocks(image, l.idx(g.hw - g.hw % width), g.hw % width);
      return;
    }
    l.loop(0, g.m / g.rows, [&](llvm::Value *mb) {
      pixelBlocks(image, b.CreateMul(mb, l.idx(g.rows)), g.rows);
    });
    if (g.m % g.rows)
      pixelBlocks(image, l.idx(g.m - g.m % g.rows), g.m % g.rows);
  });
}

} // namespace

bool lowerQuantPointwiseConv(Lowering &l, const Op &op) {
  const TensorType &xt = l.f.type(op.operands[0]),
                   &wt = l.f.type(op.operands[1]);
  const Tensor *weights = l.constantOf(op.operands[1]);
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  if (!weights || !xt.isQuantized() || op.getInt("group") != 1 ||
      wt.shape[2] != 1 || wt.shape[3] != 1 || strides[0] != 1 ||
      strides[1] != 1 || llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    return false;
  // Same register tile as the f32 kernel: i32 lanes equal f32 lanes.
  int64_t rows = l.vectorRegisters >= 32 ? 8 : l.vectorRegisters >= 16 ? 6 : 2;
  int64_t vectors = l.vectorRegisters >= 32 ? 3 : 2;
  llvm::Intrinsic::ID pairs = pairwiseMultiplyAdd(l);
  int64_t k = pairs ? 2 : 1;
  QGemm g{xt.shape[0], wt.shape[0],
          xt.shape[1], xt.shape[2] * xt.shape[3],
          rows,        vectors,
          pairs,       int64_t(llvm::divideCeil(xt.shape[1], k))};
  // packed[k*(m0*steps + s*rows + r) + j]: w'[m0 + r, k*s + j], the weights
  // of one reduction step (one channel, or with pairs two) side by side.
  std::vector<int32_t> packed(g.m * g.steps * k);
  std::vector<int32_t> offsets(g.m);
  int32_t zx = xt.quant->zeroPoint(0);
  for (int64_t m0 = 0; m0 < g.m; m0 += rows) {
    int64_t height = std::min(rows, g.m - m0);
    for (int64_t r = 0; r < height; ++r) {
      int64_t m = m0 + r;
      int32_t zw = wt.quant->zeroPoint(m), sum = 0;
      for (int64_t c = 0; c < g.c; ++c) {
        int32_t w = int32_t(weights->getAsInt(m * g.c + c)) - zw;
        packed[k * (m0 * g.steps + (c / k) * height + r) + c % k] = w;
        sum += w;
      }
      offsets[m] = -zx * sum;
    }
  }
  RequantTables tables = requantTables(l, op);
  QuantPointwiseEmitter(l, op, g, tables, narrowWeights(l, packed),
                        l.constantI32(offsets))
      .emit();
  return true;
}

} // namespace mnc
