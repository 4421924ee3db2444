#include "backends/llvm/Int8Mac.h"

#include "backends/llvm/ConvKernels.h"

#include "llvm/IR/IntrinsicsAArch64.h"
#include "llvm/IR/IntrinsicsARM.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace mnc {

MacPolicy macPolicy(Isa isa, unsigned lanes, bool int8Weights) {
  int64_t group = int8MacShape(isa, int8Weights).group;
  if (isa == Isa::Mve && int8Weights)
    return {MacPolicy::Across, group, llvm::Intrinsic::arm_mve_vmldava};
  switch (isa) {
  case Isa::Avx512Vnni:
  case Isa::AvxVnni:
    return {MacPolicy::DotU8S8, group,
            lanes == 16 ? llvm::Intrinsic::x86_avx512_vpdpbusd_512
                        : llvm::Intrinsic::x86_avx512_vpdpbusd_256};
  case Isa::NeonDot:
    return {MacPolicy::DotS8S8, group, llvm::Intrinsic::aarch64_neon_sdot};
  case Isa::Dsp:
    return {MacPolicy::Smlad, group, llvm::Intrinsic::arm_smlad};
  default:
    // A vector width without a pmaddwd (AVX without AVX2) multiplies the
    // pairs in portable IR.
    return group == 2
               ? MacPolicy{MacPolicy::Pairs, group,
                           pairwiseMultiplyAdd(isa, lanes)}
               : MacPolicy{MacPolicy::Widen, group,
                           llvm::Intrinsic::not_intrinsic};
  }
}

int32_t inputBias(const MacPolicy &p, ElemKind x) {
  if (p.kind == MacPolicy::DotU8S8 && x == ElemKind::I8)
    return 128;
  if ((p.kind == MacPolicy::DotS8S8 || p.kind == MacPolicy::Across) &&
      x == ElemKind::U8)
    return -128;
  return 0;
}

int64_t channelSlot(const MacPolicy &p, int64_t j) {
  return p.kind == MacPolicy::Smlad ? (j % 2) * 2 + j / 2 : j;
}

std::vector<int32_t>
zeroPointOffsets(const MacPolicy &p, const TensorType &x, int64_t rows,
                 int64_t depth,
                 llvm::function_ref<int32_t(int64_t, int64_t)> w) {
  int32_t zx = x.quant->zeroPoint(0) + inputBias(p, x.elem);
  std::vector<int32_t> offsets(rows);
  for (int64_t r = 0; r < rows; ++r) {
    int32_t sum = 0;
    for (int64_t k = 0; k < depth; ++k)
      sum += w(r, k);
    offsets[r] = -zx * sum;
  }
  return offsets;
}

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

Int8Mac::Int8Mac(Lowering &l, const MacPolicy &mac)
    : l(l), b(l.b), mac(mac),
      accTy(llvm::FixedVectorType::get(l.b.getInt32Ty(),
                                       mac.accumulatorLanes(l.lanes))) {}

llvm::Value *Int8Mac::asParam(llvm::Value *v, unsigned i) {
  llvm::Type *types[] = {accTy, llvm::FixedVectorType::get(b.getInt8Ty(),
                                                           4 * l.lanes)};
  llvm::Function *fn = llvm::Intrinsic::getDeclaration(
      &l.module, mac.intrinsic,
      mac.kind == MacPolicy::DotS8S8 ? llvm::ArrayRef(types)
                                     : llvm::ArrayRef<llvm::Type *>());
  return b.CreateBitCast(v, fn->getFunctionType()->getParamType(i));
}

llvm::Type *Int8Mac::inputType() {
  switch (mac.kind) {
  case MacPolicy::Widen:
    return accTy;
  case MacPolicy::Pairs:
    return llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes);
  case MacPolicy::Smlad:
    return llvm::FixedVectorType::get(b.getInt32Ty(), 2);
  case MacPolicy::Across:
    return llvm::FixedVectorType::get(b.getInt8Ty(), mac.group);
  case MacPolicy::DotU8S8:
  case MacPolicy::DotS8S8:
    return asParam(llvm::PoisonValue::get(llvm::FixedVectorType::get(
                       b.getInt8Ty(), 4 * l.lanes)),
                   1)
        ->getType();
  }
  llvm_unreachable("covered switch");
}

llvm::Value *Int8Mac::input(llvm::Value *bytes, ElemKind x) {
  if (inputBias(mac, x) != 0)
    bytes = b.CreateXor(bytes, llvm::ConstantInt::get(bytes->getType(), 0x80));
  if (mac.isDot())
    return asParam(bytes, 1);
  if (mac.kind == MacPolicy::Across)
    return bytes;
  // Smlad's pairs are i16; the others widen to their lanes' elements.
  auto *wide = llvm::FixedVectorType::get(
      mac.kind == MacPolicy::Widen ? b.getInt32Ty() : b.getInt16Ty(),
      mac.group * l.lanes);
  llvm::Value *v = x == ElemKind::U8 ? b.CreateZExt(bytes, wide)
                                     : b.CreateSExt(bytes, wide);
  return b.CreateBitCast(v, inputType());
}

llvm::Value *Int8Mac::weights(llvm::Value *raw) {
  switch (mac.kind) {
  case MacPolicy::Widen:
    return b.CreateSExt(raw, accTy);
  case MacPolicy::Pairs:
    return b.CreateSExt(
        raw, llvm::FixedVectorType::get(b.getInt16Ty(), 2 * l.lanes));
  case MacPolicy::DotU8S8:
  case MacPolicy::DotS8S8:
    return asParam(raw, 2);
  case MacPolicy::Smlad:
  case MacPolicy::Across:
    break;
  }
  llvm_unreachable("smlad and vmladava take their weights per row and step");
}

llvm::Value *Int8Mac::pairSums(llvm::Value *x, llvm::Value *w) {
  if (mac.intrinsic != llvm::Intrinsic::not_intrinsic)
    return b.CreateIntrinsic(accTy, mac.intrinsic, {x, w});
  auto *wide = llvm::FixedVectorType::get(b.getInt32Ty(), 2 * l.lanes);
  llvm::Value *products = b.CreateMul(b.CreateSExt(x, wide),
                                      b.CreateSExt(w, wide), "", false, true);
  llvm::SmallVector<int, 16> even, odd;
  for (int i = 0; i < int(l.lanes); ++i) {
    even.push_back(2 * i);
    odd.push_back(2 * i + 1);
  }
  return b.CreateAdd(b.CreateShuffleVector(products, even),
                     b.CreateShuffleVector(products, odd));
}

llvm::Value *Int8Mac::multiplyAdd(llvm::Value *acc, llvm::Value *x,
                                  llvm::Value *w) {
  switch (mac.kind) {
  case MacPolicy::Widen:
    return b.CreateAdd(acc, b.CreateMul(x, w, "", false, true));
  case MacPolicy::Pairs:
    return b.CreateAdd(acc, pairSums(x, w));
  case MacPolicy::Smlad: {
    llvm::Value *sum = b.CreateBitCast(acc, b.getInt32Ty());
    for (uint64_t i = 0; i < 2; ++i)
      sum = b.CreateIntrinsic(mac.intrinsic, {},
                              {b.CreateExtractElement(x, i),
                               b.CreateExtractElement(w, i), sum});
    return b.CreateBitCast(sum, accTy);
  }
  case MacPolicy::DotU8S8:
    return b.CreateIntrinsic(mac.intrinsic, {}, {asParam(acc, 0), x, w});
  case MacPolicy::DotS8S8:
    return b.CreateIntrinsic(mac.intrinsic, {accTy, x->getType()},
                             {acc, x, w});
  case MacPolicy::Across: {
    // vmladava.s8: signed, adding, not exchanging pairs.
    llvm::Value *sum =
        b.CreateIntrinsic(mac.intrinsic, {x->getType()},
                          {b.getInt32(0), b.getInt32(0), b.getInt32(0),
                           b.CreateBitCast(acc, b.getInt32Ty()), x, w});
    return b.CreateBitCast(sum, accTy);
  }
  }
  llvm_unreachable("covered switch");
}

} // namespace mnc
