// Direct (window) conv for f32 convs that are not pointwise: the stem
// conv, depthwise convs and any other undilated stride 1 or 2 conv,
// vectorized along output rows. Per group, the group's input planes are
// copied into zero-bordered workspace planes, so every tap of every output
// vector is an unconditional load. A block of output channels accumulates
// in registers (one broadcast weight per channel and tap), then the bias
// and epilogue are applied and each vector is stored once:
//   padded[ci][(iy + pt) * pitch + ix + pl] = x[group's channel ci, iy, ix]
//   y[m, oy, ox..ox+V) = sum_{ci,ky,kx} w[m, ci, ky, kx] *
//       padded[ci][(oy*s + ky) * pitch + (ox..ox+V)*s + kx]
// Stride 2 loads 2V consecutive floats and keeps the even lanes.
#include "backends/llvm/ConvKernels.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <optional>

namespace mnc {
namespace {

using Direct = DirectGeometry;
constexpr int64_t kMaxLanes = kDirectMaxLanes;

std::optional<Direct> directShape(const Function &f, const Op &op) {
  const TensorType &x = f.type(op.operands[0]);
  if (x.isQuantized() || x.elem != ElemKind::F32)
    return std::nullopt;
  return directGeometry(f, op);
}

class DirectEmitter {
public:
  DirectEmitter(Lowering &l, const Op &op, const Direct &d,
                const KernelTile &tile)
      : l(l), b(l.b), op(op), d(d), tile(tile),
        vecTy(llvm::FixedVectorType::get(b.getFloatTy(), l.lanes)) {}

  void emit();

private:
  /// Copies input plane `plane` into workspace plane `ci`.
  void fillPlane(llvm::Value *plane, int64_t ci);
  /// Output channels [m0, m0 + count) of image `image`, group `group`.
  void channelBlock(llvm::Value *image, llvm::Value *m0, int64_t count);
  /// The V taps at workspace offset `at`, `stride` apart.
  llvm::Value *loadTap(llvm::Value *at);

  Lowering &l;
  llvm::IRBuilder<> &b;
  const Op &op;
  const Direct &d;
  KernelTile tile; ///< Output channels per block by one vector.
  llvm::FixedVectorType *vecTy;
};

llvm::Value *DirectEmitter::loadTap(llvm::Value *at) {
  llvm::Value *ptr = b.CreateInBoundsGEP(b.getFloatTy(), l.workspace(op), at);
  if (d.stride == 1)
    return b.CreateAlignedLoad(vecTy, ptr, llvm::Align(4));
  auto *wide = llvm::FixedVectorType::get(b.getFloatTy(), l.lanes * 2);
  llvm::Value *pair = b.CreateAlignedLoad(wide, ptr, llvm::Align(4));
  llvm::SmallVector<int, 16> even;
  for (unsigned i = 0; i < l.lanes; ++i)
    even.push_back(2 * i);
  return b.CreateShuffleVector(pair, even);
}

void DirectEmitter::fillPlane(llvm::Value *plane, int64_t ci) {
  l.loop(0, d.h, [&](llvm::Value *iy) {
    llvm::Value *src = b.CreateMul(iy, l.idx(d.w));
    llvm::Value *dst =
        l.linear({iy}, {d.pitch}, (ci * d.rows + d.pt) * d.pitch + d.pl);
    l.loop(0, d.w, [&](llvm::Value *ix) {
      l.storeAt(l.workspace(op), ElemKind::F32, b.CreateAdd(dst, ix),
                l.loadAt(plane, ElemKind::F32, b.CreateAdd(src, ix)));
    });
  });
}

void DirectEmitter::channelBlock(llvm::Value *image, llvm::Value *m0,
                                 int64_t count) {
  const Op *epilogue = l.epilogueOf(op);
  ValueId w = op.operands[1], dest = l.destination(op);
  int64_t taps = d.cg * d.kh * d.kw;
  llvm::SmallVector<llvm::Value *, 8> bias;
  for (int64_t r = 0; r < count; ++r)
    bias.push_back(
        op.operands.size() > 2
            ? b.CreateVectorSplat(
                  l.lanes, l.load(op.operands[2], b.CreateAdd(m0, l.idx(r))))
            : llvm::ConstantFP::get(vecTy, 0.0));
  llvm::Value *firstPlane = b.CreateAdd(b.CreateMul(image, l.idx(d.m)), m0);
  l.loop(0, d.oh, [&](llvm::Value *oy) {
    llvm::Value *rowBase = b.CreateMul(oy, l.idx(d.stride * d.pitch));
    auto vector = [&](llvm::Value *ox, int64_t valid) {
      llvm::SmallVector<llvm::Value *, 8> acc(bias.begin(), bias.end());
      llvm::Value *col = b.CreateAdd(rowBase, b.CreateMul(ox, l.idx(d.stride)));
      for (int64_t ci = 0; ci < d.cg; ++ci)
        for (int64_t ky = 0; ky < d.kh; ++ky)
          for (int64_t kx = 0; kx < d.kw; ++kx) {
            llvm::Value *in = loadTap(
                b.CreateAdd(col, l.idx((ci * d.rows + ky) * d.pitch + kx)));
            int64_t tap = (ci * d.kh + ky) * d.kw + kx;
            for (int64_t r = 0; r < count; ++r) {
              llvm::Value *wv = b.CreateVectorSplat(
                  l.lanes,
                  l.load(w, b.CreateAdd(b.CreateMul(b.CreateAdd(m0, l.idx(r)),
                                                    l.idx(taps)),
                                        l.idx(tap))));
              acc[r] = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy},
                                         {wv, in, acc[r]});
            }
          }
      llvm::Value *mask = nullptr;
      if (valid < l.lanes) {
        llvm::SmallVector<llvm::Constant *, 16> bits;
        for (unsigned i = 0; i < l.lanes; ++i)
          bits.push_back(b.getInt1(i < valid));
        mask = llvm::ConstantVector::get(bits);
      }
      for (int64_t r = 0; r < count; ++r) {
        llvm::Value *plane = b.CreateAdd(firstPlane, l.idx(r));
        llvm::Value *at = b.CreateAdd(
            b.CreateMul(b.CreateAdd(b.CreateMul(plane, l.idx(d.oh)), oy),
                        l.idx(d.ow)),
            ox);
        llvm::Value *value =
            applyEpilogue(l, epilogue, op.results[0], acc[r], at, mask);
        llvm::Value *ptr = b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(dest), at);
        if (mask)
          b.CreateMaskedStore(value, ptr, llvm::Align(4), mask);
        else
          b.CreateAlignedStore(value, ptr, llvm::Align(4));
      }
    };
    int64_t full = d.ow / l.lanes;
    l.loop(0, full, [&](llvm::Value *v) {
      vector(b.CreateMul(v, l.idx(l.lanes)), l.lanes);
    });
    if (d.ow % l.lanes)
      vector(l.idx(full * l.lanes), d.ow % l.lanes);
  });
}

void DirectEmitter::emit() {
  ValueId x = op.operands[0];
  int64_t block = tile.rows;
  // The border stays zero for every group: only the interior is copied.
  l.loop(0, d.cg * d.rows * d.pitch, [&](llvm::Value *i) {
    l.storeAt(l.workspace(op), ElemKind::F32, i, l.f32(0.0));
  });
  l.loop(0, d.n * d.groups, [&](llvm::Value *p) {
    llvm::Value *image = b.CreateUDiv(p, l.idx(d.groups));
    llvm::Value *group = b.CreateURem(p, l.idx(d.groups));
    llvm::Value *firstIn = b.CreateAdd(b.CreateMul(image, l.idx(d.c)),
                                       b.CreateMul(group, l.idx(d.cg)));
    for (int64_t ci = 0; ci < d.cg; ++ci)
      fillPlane(b.CreateInBoundsGEP(b.getFloatTy(), l.ptr(x),
                                    b.CreateMul(b.CreateAdd(firstIn, l.idx(ci)),
                                                l.idx(d.h * d.w))),
                ci);
    llvm::Value *firstOut = b.CreateMul(group, l.idx(d.mg));
    l.loop(0, d.mg / block, [&](llvm::Value *mb) {
      channelBlock(image, b.CreateAdd(firstOut, b.CreateMul(mb, l.idx(block))),
                   block);
    });
    if (d.mg % block)
      channelBlock(image, b.CreateAdd(firstOut, l.idx(d.mg - d.mg % block)),
                   d.mg % block);
  });
}

} // namespace

bool lowerDirectConv(Lowering &l, const Op &op, const KernelChoice &k) {
  auto d = directShape(l.f, op);
  if (!d || kMaxLanes % l.lanes != 0)
    return false;
  DirectEmitter(l, op, *d, k.tile).emit();
  return true;
}

} // namespace mnc
