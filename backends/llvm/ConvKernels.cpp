// Helpers the conv kernels share: lane masks for pixel tails, narrow
// int8 weights and the x86 pairwise multiply-add.
#include "backends/llvm/ConvKernels.h"

#include "llvm/ADT/bit.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace mnc {

llvm::Align elementAlign(llvm::Type *type) {
  return llvm::Align(type->getScalarSizeInBits() / 8);
}

llvm::Value *laneMask(Lowering &l, int64_t valid) {
  if (valid >= l.lanes)
    return nullptr;
  llvm::SmallVector<llvm::Constant *, 16> bits;
  for (int64_t i = 0; i < l.lanes; ++i)
    bits.push_back(l.b.getInt1(i < valid));
  return llvm::ConstantVector::get(bits);
}

/// Whether the target stores vectors of `elem` under a mask in one
/// instruction.
static bool hasMaskedStore(const Lowering &l, llvm::Type *elem) {
  const KernelTarget &t = l.target;
  return t.has(Isa::Avx512) || t.has(Isa::Mve) ||
         (t.has(Isa::Avx2) && elem->getScalarSizeInBits() >= 32);
}

void storeLanes(Lowering &l, llvm::Value *value, llvm::Value *ptr,
                llvm::Value *mask) {
  auto &b = l.b;
  llvm::Type *elem = value->getType()->getScalarType();
  llvm::Align align = elementAlign(elem);
  if (!mask) {
    b.CreateAlignedStore(value, ptr, align);
    return;
  }
  if (hasMaskedStore(l, elem)) {
    b.CreateMaskedStore(value, ptr, align, mask);
    return;
  }
  auto *bits = llvm::cast<llvm::Constant>(mask);
  auto *vecTy = llvm::cast<llvm::FixedVectorType>(value->getType());
  unsigned valid = 0, lanes = vecTy->getNumElements();
  while (valid < lanes && bits->getAggregateElement(valid)->isOneValue())
    ++valid;
  unsigned elemBits = elem->getScalarSizeInBits();
  for (unsigned at = 0, run = llvm::bit_floor(valid); at < valid; run /= 2) {
    if (at + run > valid)
      continue;
    // Lanes [at, at + run) as one integer of a bitcast vector.
    auto *chunks =
        llvm::FixedVectorType::get(b.getIntNTy(run * elemBits), lanes / run);
    llvm::Value *chunk =
        b.CreateExtractElement(b.CreateBitCast(value, chunks), at / run);
    b.CreateAlignedStore(chunk, b.CreateConstInBoundsGEP1_64(elem, ptr, at),
                         align);
    at += run;
  }
}

NarrowWeights narrowWeights(Lowering &l, llvm::ArrayRef<int32_t> values,
                            bool bytes) {
  bytes = bytes &&
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

} // namespace mnc
