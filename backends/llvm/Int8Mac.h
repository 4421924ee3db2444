// How the int8 kernels (the 1x1 conv, the panel GEMM) multiply int8 inputs
// by int8 weights into the i32 lanes of their accumulators on each ISA:
// the operands' forms and the multiply-accumulate, in one place.
#pragma once

#include "backends/Kernels.h"
#include "backends/llvm/Lowering.h"

namespace mnc {

/// `group` input channels per i32 lane and step (backends/Kernels.h's
/// int8MacShape):
///   Widen    1 channel: x and w widened to i32, multiply and add (any ISA)
///   Pairs    2 channels as i16 pairs: x86 pmaddwd, then add
///   Smlad    4 channels as two i16 pairs in i32 words, channels (0, 2) and
///            (1, 3): Arm DSP smlad twice (1 lane), the weights' pairs
///            unpacked by sxtb16 and sxtb16 ror 8 from one word of bytes
///   DotU8S8  4 channels as bytes, u8 inputs by s8 weights: x86 vpdpbusd
///   DotS8S8  4 channels as bytes, s8 by s8: AArch64 sdot
///   Across   16 channels of one pixel as bytes, s8 by s8, all summed into
///            one i32 (the accumulator has 1 lane): MVE vmladava
/// The dot products take their inputs as one signedness: inputs of the
/// other are shifted by `inputBias` (x + 128 or x - 128, a flip of the top
/// bit), which the kernels' folded zero-point offsets take back exactly.
struct MacPolicy {
  enum Kind { Widen, Pairs, Smlad, DotU8S8, DotS8S8, Across } kind;
  int64_t group;
  llvm::Intrinsic::ID intrinsic;

  bool isDot() const { return kind == DotU8S8 || kind == DotS8S8; }
  /// The i32 lanes of an accumulator on a target of `lanes`.
  unsigned accumulatorLanes(unsigned lanes) const {
    return kind == Across ? 1 : lanes;
  }
};

/// The policy of `isa` for weights that fit in int8 (`int8Weights`) or not
/// (backends/Kernels.h's int8MacShape), with vectors of `lanes` i32.
MacPolicy macPolicy(Isa isa, unsigned lanes, bool int8Weights);

/// The shift the policy applies to inputs of kind `x` (see MacPolicy).
int32_t inputBias(const MacPolicy &p, ElemKind x);

/// Where channel j of a step goes in the operands: in order, except that
/// smlad's pairs are channels (0, 2) and (1, 3), the bytes sxtb16 takes
/// from a word and from the word rotated by 8.
int64_t channelSlot(const MacPolicy &p, int64_t j);

/// The offsets that fold the input zero point zx of `x` into the
/// accumulators of an int8 GEMM: -(zx + inputBias) * sum_k w(r, k) for each
/// of `rows` rows of zero-point-shifted weights w over a depth of `depth`.
std::vector<int32_t>
zeroPointOffsets(const MacPolicy &p, const TensorType &x, int64_t rows,
                 int64_t depth, llvm::function_ref<int32_t(int64_t, int64_t)> w);

/// Rows of `lanes` bytes (1, 2 or 4 of them) interleaved: byte
/// rows.size() * i + j of the result is byte i of row j.
llvm::Value *interleaveBytes(llvm::IRBuilder<> &b,
                             llvm::ArrayRef<llvm::Value *> rows,
                             unsigned lanes);

/// The multiply-accumulate of policy `mac` with accumulators of
/// `mac.accumulatorLanes(l.lanes)` i32 lanes.
class Int8Mac {
public:
  Int8Mac(Lowering &l, const MacPolicy &mac);

  const MacPolicy &policy() const { return mac; }
  /// The type of an input operand (`group` channels per lane).
  llvm::Type *inputType();
  /// `group` bytes per lane of inputs of kind `x`, lane-major in channel
  /// slot order, as the input operand.
  llvm::Value *input(llvm::Value *bytes, ElemKind x);
  /// `group` weights (i8 or i16) per lane, lane-major, as the weight
  /// operand of a vector of lanes (not Smlad or Across).
  llvm::Value *weights(llvm::Value *raw);
  /// acc + the products of input operand `x` and weight operand `w`.
  llvm::Value *multiplyAdd(llvm::Value *acc, llvm::Value *x, llvm::Value *w);
  /// `v` as the type of the ISA intrinsic's parameter `i`.
  llvm::Value *asParam(llvm::Value *v, unsigned i);

private:
  /// Sums of the products of adjacent i16 pairs of `x` and `w`, per i32
  /// lane.
  llvm::Value *pairSums(llvm::Value *x, llvm::Value *w);

  Lowering &l;
  llvm::IRBuilder<> &b;
  MacPolicy mac;
  llvm::FixedVectorType *accTy;
};

} // namespace mnc
