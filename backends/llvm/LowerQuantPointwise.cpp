// Quantized pointwise (1x1) conv as a register-blocked integer GEMM, the
// same tiling as the f32 kernel of LowerPointwise.cpp: a tile of `rows`
// output channels by `vectors` target vectors of pixels accumulates in i32
// registers across the whole reduction over C, then is requantized and
// stored once. The zero points are folded at compile time:
//   acc[m, p] = b[m] + sum_c (x[c, p] - zx) * (w[m, c] - zw[m])
//             = (b[m] - zx * sum_c w'[m, c]) + sum_c x[c, p] * w'[m, c]
// with w' = w - zw packed in tile order (see lowerQuantPointwiseConv).
// The kernel's ISA decides how a step multiplies (MacPolicy): one channel
// per i32 lane, two (x86 pmaddwd, Arm smlad) or four (x86 vpdpbusd, AArch64
// sdot). Every product and sum is exact in i32, as in the reference, so
// the result is bit-exact on every ISA.
#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/MathEmit.h"

#include "llvm/IR/IntrinsicsAArch64.h"
#include "llvm/IR/IntrinsicsARM.h"
#include "llvm/IR/IntrinsicsX86.h"

#include <array>
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

llvm::Value *loadPacked(Lowering &l, const NarrowWeights &w,
                        llvm::Value *index, unsigned count) {
  llvm::IRBuilder<> &b = l.b;
  llvm::Value *at = b.CreateInBoundsGEP(w.elem, w.data, index);
  llvm::Type *ty = count == 1 ? static_cast<llvm::Type *>(w.elem)
                              : llvm::FixedVectorType::get(w.elem, count);
  return b.CreateAlignedLoad(ty, at, llvm::Align(1));
}

llvm::Value *loadWeights(Lowering &l, const NarrowWeights &w,
                         llvm::Value *index, unsigned count) {
  llvm::IRBuilder<> &b = l.b;
  llvm::Type *ty = count == 1 ? static_cast<llvm::Type *>(b.getInt16Ty())
                              : llvm::FixedVectorType::get(b.getInt16Ty(), count);
  return b.CreateSExt(loadPacked(l, w, index, count), ty);
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

llvm::Intrinsic::ID pairwiseMultiplyAdd(Isa isa, unsigned lanes) {
  if (isaArch(isa) != "x86_64")
    return llvm::Intrinsic::not_intrinsic;
  if (lanes == 4)
    return llvm::Intrinsic::x86_sse2_pmadd_wd;
  if (lanes == 8 && isa != Isa::Sse2)
    return llvm::Intrinsic::x86_avx2_pmadd_wd;
  if (lanes == 16 && (isa == Isa::Avx512 || isa == Isa::Avx512Vnni))
    return llvm::Intrinsic::x86_avx512_pmaddw_d_512;
  return llvm::Intrinsic::not_intrinsic;
}

namespace {

/// How the kernel's ISA multiplies int8 inputs by int8 weights into the i32
/// lanes of the accumulators, `group` input channels per lane and step:
///   Widen    1 channel: x and w widened to i32, multiply and add (any ISA)
///   Pairs    2 channels as i16 pairs: x86 pmaddwd, then add
///   Smlad    2 channels as i16 pairs in one i32: Arm DSP smlad (1 lane)
///   DotU8S8  4 channels as bytes, u8 inputs by s8 weights: x86 vpdpbusd
///   DotS8S8  4 channels as bytes, s8 by s8: AArch64 sdot
/// The dot products take their inputs as one signedness: inputs of the
/// other are shifted by `inputBias` (x + 128 or x - 128, a flip of the top
/// bit), which the folded zero-point offsets take back exactly.
struct MacPolicy {
  enum Kind { Widen, Pairs, Smlad, DotU8S8, DotS8S8 } kind;
  int64_t group;
  llvm::Intrinsic::ID intrinsic;
};

MacPolicy macPolicy(Isa isa, unsigned lanes) {
  switch (isa) {
  case Isa::Avx512Vnni:
  case Isa::AvxVnni:
    return {MacPolicy::DotU8S8, 4,
            lanes == 16 ? llvm::Intrinsic::x86_avx512_vpdpbusd_512
                        : llvm::Intrinsic::x86_avx512_vpdpbusd_256};
  case Isa::NeonDot:
    return {MacPolicy::DotS8S8, 4, llvm::Intrinsic::aarch64_neon_sdot};
  case Isa::Dsp:
    return {MacPolicy::Smlad, 2, llvm::Intrinsic::arm_smlad};
  default:
    if (llvm::Intrinsic::ID pairs = pairwiseMultiplyAdd(isa, lanes))
      return {MacPolicy::Pairs, 2, pairs};
    return {MacPolicy::Widen, 1, llvm::Intrinsic::not_intrinsic};
  }
}

/// The shift the policy applies to inputs of kind `x` (see MacPolicy).
int32_t inputBias(const MacPolicy &p, ElemKind x) {
  if (p.kind == MacPolicy::DotU8S8 && x == ElemKind::I8)
    return 128;
  if (p.kind == MacPolicy::DotS8S8 && x == ElemKind::U8)
    return -128;
  return 0;
}

struct QGemm {
  int64_t n, m, c, hw;
  int64_t rows, vectors; ///< Register tile: output channels x vectors.
  MacPolicy mac;
  int64_t steps; ///< Reduction steps: C / group, rounded up.
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
  /// The group of channels of reduction step `s` for the `pixels` pixels
  /// of vector `v` from p0, interleaved channel-fastest and as the
  /// policy's multiply takes them.
  llvm::Value *inputs(llvm::Value *xImage, llvm::Value *s, llvm::Value *p0,
                      int64_t v, int64_t pixels);
  /// One row's weights of a step, from packed index `word`, as the
  /// policy's multiply takes them.
  llvm::Value *weights(llvm::Value *word);
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x, llvm::Value *w);
  /// `v` as the type of the policy's intrinsic parameter `i`.
  llvm::Value *asParam(llvm::Value *v, unsigned i);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const QGemm &g;
  const RequantTables &tables;
  NarrowWeights packed;
  llvm::Value *offsets;
  llvm::FixedVectorType *accTy, *xTy;
};

llvm::Value *QuantPointwiseEmitter::asParam(llvm::Value *v, unsigned i) {
  llvm::Type *types[] = {accTy, llvm::FixedVectorType::get(b.getInt8Ty(),
                                                           4 * l.lanes)};
  llvm::Function *fn = llvm::Intrinsic::getDeclaration(
      &l.module, g.mac.intrinsic,
      g.mac.kind == MacPolicy::DotS8S8 ? llvm::ArrayRef(types)
                                       : llvm::ArrayRef<llvm::Type *>());
  return b.CreateBitCast(v, fn->getFunctionType()->getParamType(i));
}

/// Rows of `lanes` bytes (1, 2 or 4 of them) interleaved: byte
/// rows.size() * i + j of the result is byte i of row j.
llvm::Value *interleaveBytes(llvm::IRBuilder<> &b,
                             llvm::ArrayRef<llvm::Value *> rows,
                             unsigned lanes) {
  if (rows.size() == 1)
    return rows[0];
  auto concat = [&](llvm::Value *low, llvm::Value *high) {
    llvm::SmallVector<int, 32> all;
    for (unsigned i = 0; i < 2 * lanes; ++i)
      all.push_back(int(i));
    return b.CreateShuffleVector(low, high, all);
  };
  int half = int(rows.size() / 2), n = int(lanes);
  llvm::Value *low = half == 1 ? rows[0] : concat(rows[0], rows[1]);
  llvm::Value *high = half == 1 ? rows[1] : concat(rows[2], rows[3]);
  llvm::SmallVector<int, 64> order;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < int(rows.size()); ++j)
      order.push_back((j / half) * half * n + (j % half) * n + i);
  return b.CreateShuffleVector(low, high, order);
}

llvm::Value *QuantPointwiseEmitter::inputs(llvm::Value *xImage, llvm::Value *s,
                                           llvm::Value *p0, int64_t v,
                                           int64_t pixels) {
  ValueId x = op.operands[0];
  ElemKind xKind = l.f.type(x).elem;
  llvm::Value *mask = laneMask(l, pixels - v * l.lanes);
  // Channels past C (the last step of a C that is no multiple of the
  // group) repeat channel C - 1; their weights are 0.
  std::array<llvm::Value *, 4> rows{};
  for (int64_t j = 0; j < g.mac.group; ++j) {
    llvm::Value *c = b.CreateAdd(b.CreateMul(s, l.idx(g.mac.group)), l.idx(j));
    if (j > 0)
      c = b.CreateSelect(b.CreateICmpULT(c, l.idx(g.c)), c, l.idx(g.c - 1));
    llvm::Value *at = b.CreateInBoundsGEP(
        b.getInt8Ty(), l.ptr(x),
        b.CreateAdd(b.CreateAdd(xImage, b.CreateMul(c, l.idx(g.hw))),
                    b.CreateAdd(p0, l.idx(v * l.lanes))));
    rows[j] = mask ? static_cast<llvm::Value *>(
                         b.CreateMaskedLoad(xTy, at, llvm::Align(1), mask))
                   : b.CreateAlignedLoad(xTy, at, llvm::Align(1));
  }
  llvm::Value *bytes =
      interleaveBytes(b, llvm::ArrayRef(rows.data(), g.mac.group), l.lanes);
  bool xUnsigned = xKind == ElemKind::U8;
  if (inputBias(g.mac, xKind) != 0)
    bytes = b.CreateXor(bytes, llvm::ConstantInt::get(bytes->getType(), 0x80));
  auto widen = [&](llvm::Type *elem) {
    auto *ty = llvm::FixedVectorType::get(elem, g.mac.group * l.lanes);
    return xUnsigned ? b.CreateZExt(bytes, ty) : b.CreateSExt(bytes, ty);
  };
  switch (g.mac.kind) {
  case MacPolicy::Widen:
    return widen(b.getInt32Ty());
  case MacPolicy::Pairs:
    return widen(b.getInt16Ty());
  case MacPolicy::Smlad:
    return b.CreateBitCast(widen(b.getInt16Ty()), b.getInt32Ty());
  case MacPolicy::DotU8S8:
  case MacPolicy::DotS8S8:
    return asParam(bytes, 1);
  }
  llvm_unreachable("covered switch");
}

llvm::Value *QuantPointwiseEmitter::weights(llvm::Value *word) {
  if (g.mac.kind == MacPolicy::Widen)
    return b.CreateVectorSplat(
        l.lanes, b.CreateSExt(loadWeights(l, packed, word), b.getInt32Ty()));
  // A group of weights side by side in one i32 lane.
  llvm::Value *group =
      g.mac.kind == MacPolicy::DotU8S8 || g.mac.kind == MacPolicy::DotS8S8
          ? loadPacked(l, packed, word, 4)
          : loadWeights(l, packed, word, 2);
  llvm::Value *scalar = b.CreateBitCast(group, b.getInt32Ty());
  if (g.mac.kind == MacPolicy::Smlad)
    return scalar;
  llvm::Value *splat = b.CreateVectorSplat(l.lanes, scalar);
  if (g.mac.kind == MacPolicy::Pairs)
    return b.CreateBitCast(
        splat, llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes));
  return asParam(splat, 2);
}

llvm::Value *QuantPointwiseEmitter::multiplyAdd(llvm::Value *acc,
                                                llvm::Value *x,
                                                llvm::Value *w) {
  switch (g.mac.kind) {
  case MacPolicy::Widen:
    return b.CreateAdd(acc, b.CreateMul(x, w, "", false, true));
  case MacPolicy::Pairs:
    return b.CreateAdd(acc, b.CreateIntrinsic(accTy, g.mac.intrinsic, {x, w}));
  case MacPolicy::Smlad:
    return b.CreateBitCast(
        b.CreateIntrinsic(g.mac.intrinsic, {},
                          {x, w, b.CreateBitCast(acc, b.getInt32Ty())}),
        accTy);
  case MacPolicy::DotU8S8:
    return b.CreateIntrinsic(g.mac.intrinsic, {}, {asParam(acc, 0), x, w});
  case MacPolicy::DotS8S8:
    return b.CreateIntrinsic(g.mac.intrinsic, {accTy, x->getType()},
                             {acc, x, w});
  }
  llvm_unreachable("covered switch");
}

void QuantPointwiseEmitter::tile(llvm::Value *image, llvm::Value *m0,
                                 int64_t rows, llvm::Value *p0,
                                 int64_t pixels) {
  int64_t vectors = llvm::divideCeil(pixels, l.lanes);
  ValueId y = op.results[0];
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
  l.loop(0, g.steps, [&](llvm::Value *s) {
    std::vector<llvm::Value *> xv;
    for (int64_t v = 0; v < vectors; ++v)
      xv.push_back(inputs(xImage, s, p0, v, pixels));
    llvm::Value *wRow = b.CreateAdd(wBlock, b.CreateMul(s, l.idx(rows)));
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Value *w = weights(
          b.CreateMul(b.CreateAdd(wRow, l.idx(r)), l.idx(g.mac.group)));
      for (int64_t v = 0; v < vectors; ++v) {
        llvm::Value *slot = acc[r * vectors + v];
        b.CreateStore(multiplyAdd(b.CreateLoad(accTy, slot), xv[v], w), slot);
      }
    }
  });
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

bool lowerQuantPointwiseConv(Lowering &l, const Op &op,
                             const KernelChoice &kernel) {
  const TensorType &xt = l.f.type(op.operands[0]),
                   &wt = l.f.type(op.operands[1]);
  const Tensor *weights = l.constantOf(op.operands[1]);
  auto strides = op.getInts("strides"), pads = op.getInts("pads");
  if (!weights || !xt.isQuantized() || op.getInt("group") != 1 ||
      wt.shape[2] != 1 || wt.shape[3] != 1 || strides[0] != 1 ||
      strides[1] != 1 || llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    return false;
  // i32 lanes equal f32 lanes.
  int64_t rows = kernel.tile.rows, vectors = kernel.tile.cols / l.lanes;
  MacPolicy mac = macPolicy(kernel.isa, l.lanes);
  int64_t k = mac.group;
  QGemm g{xt.shape[0], wt.shape[0],
          xt.shape[1], xt.shape[2] * xt.shape[3],
          rows,        vectors,
          mac,         int64_t(llvm::divideCeil(xt.shape[1], k))};
  // packed[k*(m0*steps + s*rows + r) + j]: w'[m0 + r, k*s + j], the weights
  // of one reduction step (k = the policy's group of channels) side by side.
  std::vector<int32_t> packed(g.m * g.steps * k);
  std::vector<int32_t> offsets(g.m);
  int32_t zx = xt.quant->zeroPoint(0) + inputBias(mac, xt.elem);
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
