// Pointwise (1x1) conv as a register-blocked GEMM, Y[M, HW] = W[M, C] *
// X[C, HW] for each image in NCHW. A tile of `rows` output channels by
// `vectors` target vectors of pixels stays in registers across the whole
// reduction over C: per input channel it loads the X vectors once and
// multiplies them with one broadcast weight per row. Weights are packed at
// compile time so a tile reads them contiguously, row block by row block:
//   packed[m0*C + c*rows + r] = W[m0 + r, c]
// Pixel tails use masked loads and stores; the bias, activation and
// residual add (the epilogue) are applied to the accumulators before the
// only store of Y.
#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/PanelGemm.h"

namespace mnc {
namespace {

struct Gemm {
  int64_t n, m, c, hw;
  int64_t rows, vectors; ///< Register tile: output channels x vectors.
};

class PointwiseEmitter {
public:
  PointwiseEmitter(Lowering &l, const Op &op, const Gemm &g,
                   llvm::Value *packed)
      : l(l), b(l.b), op(op), g(g), packed(packed),
        vecTy(llvm::FixedVectorType::get(b.getFloatTy(), l.lanes)) {}

  void emit();

private:
  /// One register tile: `rows` channels from m0, `pixels` pixels from p0.
  void tile(llvm::Value *image, llvm::Value *m0, int64_t rows, llvm::Value *p0,
            int64_t pixels);
  /// Tiles over all channel blocks at pixel offset p0.
  void channelBlocks(llvm::Value *image, llvm::Value *p0, int64_t pixels);
  /// Tiles over all pixel blocks at channel block m0.
  void pixelBlocks(llvm::Value *image, llvm::Value *m0, int64_t rows);
  /// Lanes of vector v of a `pixels`-wide tile that exist, or null if all.
  llvm::Value *maskFor(int64_t pixels, int64_t v);
  llvm::Value *loadVector(llvm::Value *base, llvm::Value *index,
                          llvm::Value *mask);
  void storeVector(llvm::Value *base, llvm::Value *index, llvm::Value *value,
                   llvm::Value *mask);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const Gemm &g;
  llvm::Value *packed;
  llvm::FixedVectorType *vecTy;
};

llvm::Value *PointwiseEmitter::maskFor(int64_t pixels, int64_t v) {
  int64_t valid = pixels - v * l.lanes;
  if (valid >= l.lanes)
    return nullptr;
  llvm::SmallVector<llvm::Constant *, 16> bits;
  for (int64_t i = 0; i < l.lanes; ++i)
    bits.push_back(b.getInt1(i < valid));
  return llvm::ConstantVector::get(bits);
}

llvm::Value *PointwiseEmitter::loadVector(llvm::Value *base, llvm::Value *index,
                                          llvm::Value *mask) {
  llvm::Value *at = b.CreateInBoundsGEP(b.getFloatTy(), base, index);
  if (mask)
    return b.CreateMaskedLoad(vecTy, at, llvm::Align(4), mask);
  return b.CreateAlignedLoad(vecTy, at, llvm::Align(4));
}

void PointwiseEmitter::storeVector(llvm::Value *base, llvm::Value *index,
                                   llvm::Value *value, llvm::Value *mask) {
  llvm::Value *at = b.CreateInBoundsGEP(b.getFloatTy(), base, index);
  if (mask)
    b.CreateMaskedStore(value, at, llvm::Align(4), mask);
  else
    b.CreateAlignedStore(value, at, llvm::Align(4));
}

void PointwiseEmitter::tile(llvm::Value *image, llvm::Value *m0, int64_t rows,
                            llvm::Value *p0, int64_t pixels) {
  int64_t vectors = llvm::divideCeil(pixels, l.lanes);
  ValueId x = op.operands[0], y = op.results[0];
  // Accumulators live in stack slots that SROA turns into registers.
  std::vector<llvm::Value *> acc(rows * vectors);
  for (int64_t r = 0; r < rows; ++r) {
    llvm::Value *init = llvm::ConstantFP::get(vecTy, 0.0);
    if (op.operands.size() > 2)
      init = b.CreateVectorSplat(
          l.lanes, l.load(op.operands[2], b.CreateAdd(m0, l.idx(r))));
    for (int64_t v = 0; v < vectors; ++v) {
      acc[r * vectors + v] = l.local(vecTy);
      b.CreateStore(init, acc[r * vectors + v]);
    }
  }
  llvm::Value *xImage = b.CreateMul(image, l.idx(g.c * g.hw));
  llvm::Value *wBlock = b.CreateMul(m0, l.idx(g.c));
  l.loop(0, g.c, [&](llvm::Value *c) {
    llvm::Value *xRow =
        b.CreateAdd(b.CreateAdd(xImage, b.CreateMul(c, l.idx(g.hw))), p0);
    std::vector<llvm::Value *> xv;
    for (int64_t v = 0; v < vectors; ++v)
      xv.push_back(loadVector(l.ptr(x), b.CreateAdd(xRow, l.idx(v * l.lanes)),
                              maskFor(pixels, v)));
    llvm::Value *wRow = b.CreateAdd(wBlock, b.CreateMul(c, l.idx(rows)));
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Value *w =
          b.CreateVectorSplat(l.lanes, l.loadAt(packed, ElemKind::F32,
                                                b.CreateAdd(wRow, l.idx(r))));
      for (int64_t v = 0; v < vectors; ++v) {
        llvm::Value *slot = acc[r * vectors + v];
        llvm::Value *sum =
            b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy},
                              {w, xv[v], b.CreateLoad(vecTy, slot)});
        b.CreateStore(sum, slot);
      }
    }
  });
  const Op *epilogue = l.epilogueOf(op);
  llvm::Value *dest = l.ptr(l.destination(op));
  for (int64_t r = 0; r < rows; ++r) {
    llvm::Value *yRow =
        b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(image, l.idx(g.m)),
                                            b.CreateAdd(m0, l.idx(r))),
                                l.idx(g.hw)),
                    p0);
    for (int64_t v = 0; v < vectors; ++v) {
      llvm::Value *mask = maskFor(pixels, v);
      llvm::Value *at = b.CreateAdd(yRow, l.idx(v * l.lanes));
      llvm::Value *value = applyEpilogue(
          l, epilogue, y, b.CreateLoad(vecTy, acc[r * vectors + v]), at, mask);
      storeVector(dest, at, value, mask);
    }
  }
}

void PointwiseEmitter::channelBlocks(llvm::Value *image, llvm::Value *p0,
                                     int64_t pixels) {
  l.loop(0, g.m / g.rows, [&](llvm::Value *mb) {
    tile(image, b.CreateMul(mb, l.idx(g.rows)), g.rows, p0, pixels);
  });
  if (g.m % g.rows)
    tile(image, l.idx(g.m - g.m % g.rows), g.m % g.rows, p0, pixels);
}

void PointwiseEmitter::pixelBlocks(llvm::Value *image, llvm::Value *m0,
                                   int64_t rows) {
  int64_t width = g.vectors * l.lanes;
  l.loop(0, g.hw / width, [&](llvm::Value *pb) {
    tile(image, m0, rows, b.CreateMul(pb, l.idx(width)), width);
  });
  if (g.hw % width)
    tile(image, m0, rows, l.idx(g.hw - g.hw % width), g.hw % width);
}

void PointwiseEmitter::emit() {
  // Loop order by memory traffic: with channel blocks outermost, X is
  // streamed once per channel block; with pixel blocks outermost, W is
  // streamed once per pixel block. Each keeps the other operand's panel hot.
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

/// W[M, C] (as [M, C, 1, 1]) in tile order, see the file comment.
std::vector<float> packWeights(const Tensor &w, int64_t m, int64_t c,
                               int64_t rows) {
  const float *src = reinterpret_cast<const float *>(w.bytes.data());
  std::vector<float> packed(m * c);
  for (int64_t m0 = 0; m0 < m; m0 += rows) {
    int64_t height = std::min(rows, m - m0);
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t r = 0; r < height; ++r)
        packed[m0 * c + ci * height + r] = src[(m0 + r) * c + ci];
  }
  return packed;
}

} // namespace

bool lowerPointwiseConv(Lowering &l, const Op &op, const KernelChoice &k) {
  const TensorType &xt = l.f.type(op.operands[0]),
                   &wt = l.f.type(op.operands[1]);
  const Tensor *weights = l.constantOf(op.operands[1]);
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  if (!weights || xt.isQuantized() || op.getInt("group") != 1 ||
      wt.shape[2] != 1 || wt.shape[3] != 1 || strides[0] != 1 ||
      strides[1] != 1 || llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    return false;
  // On a 1x1 image the conv is a vector-matrix product per image.
  if (xt.shape[2] * xt.shape[3] == 1) {
    const float *w = reinterpret_cast<const float *>(weights->bytes.data());
    int64_t c = xt.shape[1];
    emitPanelGemm(
        l, op, {xt.shape[0], c, wt.shape[0]},
        [&](int64_t k, int64_t j) { return w[j * c + k]; },
        op.operands.size() > 2 ? std::optional(op.operands[2]) : std::nullopt,
        k.tile);
    return true;
  }
  Gemm g{xt.shape[0], wt.shape[0], xt.shape[1], xt.shape[2] * xt.shape[3],
         k.tile.rows, k.tile.cols / l.lanes};
  llvm::Value *packed = l.constantF32(packWeights(*weights, g.m, g.c, g.rows));
  PointwiseEmitter(l, op, g, packed).emit();
  return true;
}

} // namespace mnc
