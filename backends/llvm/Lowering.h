// Shared state and helpers for lowering one mnc Function to one LLVM
// function. Every op is lowered to plain loop nests over constant shapes;
// LLVM's O3 pipeline (run later with the target's cost model) unrolls and
// vectorizes them. Per-op lowering functions are declared from the op
// table, one `lower<Name>` per row of ir/Ops.def.
#pragma once

#include "backends/Kernels.h"
#include "backends/MemoryPlan.h"
#include "ir/IR.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <vector>

namespace mnc {

/// Lowering state for one function.
class Lowering {
public:
  Lowering(const Function &f, const MemoryPlan &plan, llvm::Module &module,
           llvm::Function *fn);

  const Function &f;
  const MemoryPlan &plan;
  llvm::Module &module;
  llvm::IRBuilder<> b;
  llvm::Type *idxTy; ///< Pointer-sized integer: loop counters and offsets.

  /// The ISAs and vector registers kernels were chosen for; `lanes` is
  /// target.lanes (1 without vector registers), the width of every vector
  /// the lowering emits.
  KernelTarget target;
  unsigned lanes = 1;

  /// The last of the ops fused into `op` as its epilogue (see
  /// MemoryPlan::producerOf), or null.
  const Op *epilogueOf(const Op &op) const;
  /// Every op fused into `op`, in order.
  llvm::SmallVector<const Op *, 4> fusedInto(const Op &op) const;
  /// The op defining `v`, or null for a function argument.
  const Op *definingOp(ValueId v) const {
    return defs[v] < 0 ? nullptr : &f.ops[defs[v]];
  }
  /// The value an op with an epilogue writes: the epilogue's result.
  ValueId destination(const Op &op) const;

  /// Lowers `op` into an internal function whose pointer parameters (the
  /// op's non-constant operands and results, its epilogue's, and its
  /// workspace) are noalias: the memory plan keeps them disjoint, and
  /// without that knowledge LLVM cannot vectorize across arena pointers.
  llvm::Error lowerAsKernel(const Op &op);

  /// The kernel select-kernels chose for `op` (its `ukernel` attribute),
  /// checked to run it on this target: an error if there is none or it
  /// does not.
  llvm::Expected<KernelChoice> kernelOf(const Op &op) const;
  /// Success if the kernel emitter for `op` ran (`ran`), else the internal
  /// error that its kernel's predicate and emitter disagree.
  llvm::Error emitted(bool ran, const Op &op) const;
  /// Returns `code` from the function being emitted if `failed` holds; a
  /// kernel's non-zero code is what NAME_run returns (a RunStatus).
  void returnIf(llvm::Value *failed, llvm::Value *code);

  /// The literal of a value defined by a constant op, or null.
  const Tensor *constantOf(ValueId v) const;

  /// Base pointer of a value's storage.
  llvm::Value *ptr(ValueId v) const { return ptrs[v]; }
  void setPtr(ValueId v, llvm::Value *p) { ptrs[v] = p; }
  /// Pointer to the workspace of the op being lowered.
  llvm::Value *workspace(const Op &op);
  llvm::Value *scratch() const { return scratchArg; }

  llvm::Value *idx(int64_t value) {
    return llvm::ConstantInt::get(idxTy, value);
  }
  llvm::Value *i32(int64_t value) { return b.getInt32(value); }
  llvm::Value *f32(double value) {
    return llvm::ConstantFP::get(b.getFloatTy(), value);
  }
  llvm::Type *elemType(ElemKind kind);

  /// Element `index` (in elements) of value `v`.
  llvm::Value *load(ValueId v, llvm::Value *index);
  void store(ValueId v, llvm::Value *index, llvm::Value *value);
  llvm::Value *loadAt(llvm::Value *base, ElemKind kind, llvm::Value *index);
  void storeAt(llvm::Value *base, ElemKind kind, llvm::Value *index,
               llvm::Value *value);

  /// Element of a quantized (or i32) value widened to i32.
  llvm::Value *loadI32(ValueId v, llvm::Value *index);
  /// float(q - zeroPoint) * scale, ir/Math.h's dequantize, on an i32
  /// scalar or vector with a zero point and scale of the same shape.
  llvm::Value *dequantize(llvm::Value *q, llvm::Value *zeroPoint,
                          llvm::Value *scale);
  /// Element of an f32 value, or of one quantized per tensor dequantized.
  llvm::Value *loadReal(ValueId v, llvm::Value *index);
  /// saturate(rne(float(acc) * multiplier) + zeroPoint) as element kind
  /// `kind` (i8/u8), the requantization rule of ir/Math.h, on an i32
  /// scalar or vector with a multiplier and zero point of the same shape.
  llvm::Value *requantize(llvm::Value *acc, llvm::Value *multiplier,
                          llvm::Value *zeroPoint, ElemKind kind);
  /// saturate(rne(scaled) + zeroPoint) as i8/u8 `kind`, for f32 `scaled`
  /// and an i32 zero point of the same shape (scalars or vectors): the
  /// rounding and saturation that ir/Math.h's quantize and requantize share.
  llvm::Value *quantizeScaled(llvm::Value *scaled, llvm::Value *zeroPoint,
                              ElemKind kind);
  /// How the target converts f32 to i32 rounding to nearest even in one
  /// step, in the default floating-point environment the generated code
  /// runs in (as emitRoundEven assumes too): llvm.lrint (x86 cvtps2dq,
  /// AArch64 frintx + fcvtzs), Arm vcvtr (scalars; MVE vcvtn for vectors),
  /// or not at all.
  enum class IntRounding { None, Lrint, Vcvtr } intRounding = IntRounding::None;
  /// With Vcvtr: MVE's vcvtn rounds vectors of four f32 lanes too.
  bool mveRounding = false;
  /// `x` (f32 scalar or vector within the i32 range) rounded to i32 by the
  /// target's conversion, or null if it has none for x's type.
  llvm::Value *roundToInt(llvm::Value *x);

  /// A private constant global with `bytes`; `align` bytes aligned.
  llvm::Value *constantData(llvm::ArrayRef<uint8_t> bytes, unsigned align = 16);
  llvm::Value *constantF32(llvm::ArrayRef<float> values);
  llvm::Value *constantI32(llvm::ArrayRef<int32_t> values);

  /// Emits `for (i = lo; i < hi; ++i) body(i)` with constant bounds; an
  /// empty range emits nothing. A nonzero `unroll` asks LLVM to unroll the
  /// loop by exactly that factor (never fully).
  void loop(int64_t lo, int64_t hi,
            llvm::function_ref<void(llvm::Value *)> body, unsigned unroll = 0);
  /// A loop nest over every index of `shape` (row-major, last dim inner).
  void loopNest(llvm::ArrayRef<int64_t> shape,
                llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)> body);
  /// sum(ivs[d] * strides[d]) + base.
  llvm::Value *linear(llvm::ArrayRef<llvm::Value *> ivs,
                      llvm::ArrayRef<int64_t> strides, int64_t base = 0);
  /// A stack slot in the entry block (promoted to a register by SROA).
  llvm::Value *local(llvm::Type *type);

private:
  std::vector<int> defs;      ///< Defining op per value (-1: argument).
  std::vector<int> consumers; ///< Per op: the op fused into it, or -1.
  std::vector<llvm::Value *> ptrs;
  llvm::Value *scratchArg;
  llvm::Value *workspaceArg = nullptr; ///< Of the kernel being lowered.
  llvm::BasicBlock *entry;
  unsigned nextGlobal = 0;
};

/// Row-major strides of `shape` as seen from a broadcast result of rank
/// `rank`: dims of extent 1 (and missing leading dims) get stride 0.
llvm::SmallVector<int64_t, 4> broadcastStrides(llvm::ArrayRef<int64_t> shape,
                                               size_t rank);

#define MNC_OP(Name, ...) llvm::Error lower##Name(Lowering &l, const Op &op);
#include "ir/Ops.def"

/// Evaluates the epilogue of the op producing `produced` up to its last op
/// `epilogue` on `acc`, the produced value at element `index` of the
/// destination; `acc` may be a vector of `lanes` elements, in which case
/// `mask` (or null for all) selects the lanes that exist.
llvm::Value *applyEpilogue(Lowering &l, const Op *epilogue, ValueId produced,
                           llvm::Value *acc, llvm::Value *index,
                           llvm::Value *mask = nullptr);

/// Dispatches to the lowering function of `op`'s kind (from ir/Ops.def).
llvm::Error lowerOp(Lowering &l, const Op &op);

} // namespace mnc
