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

#include <optional>
#include <utility>
#include <vector>

namespace mnc {

/// Kernels doing fewer multiply-accumulates than this stay serial in
/// NAME_run_parallel, where handing them to a pool would cost about as much
/// as it saves. runtime/mnc_pthread.h hands over in about 0.3 us, so most
/// layers gain: MobileNetV2 0.35 96 fp32 on two threads of a Zen 4 took
/// 0.31 ms splitting from 2^14 MACs, 0.36 from 2^16, 0.39 from 2^18 (0.44
/// on one); MobileNetV2 1.0 224, 4.1 to 4.3 ms with any of them.
constexpr int64_t kMinParallelMacs = 1 << 14;

/// Lowering state for one function. `fn` is NAME_run_parallel(inputs,
/// outputs, scratch, pool), or in a profiling build the body of it and of
/// NAME_run_profiled, with a fifth argument, the profiler (see
/// lowerAsKernel); see lowerAsKernel for how it splits kernels across the
/// pool's threads.
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
  /// Whether kernels get tasks (see lowerAsKernel): not on targets without
  /// an operating system, which have no threads to lend and need the
  /// flash a kernel's second copy takes.
  bool splitKernels = true;

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
  /// With splitKernels, if the kernel has a parallel loop (parallelLoop,
  /// blocks) of at least two iterations, cannot fail and does at least
  /// kMinParallelMacs multiply-accumulates, it is emitted a second time as
  /// a task: with a pool of more than one thread, NAME_run_parallel runs
  /// the tasks through the pool instead of the kernel.
  llvm::Error lowerAsKernel(const Op &op);
  /// Emits the functions the pool calls (the tasks' entry points), once
  /// every kernel is lowered; returns the workspace bytes each task but the
  /// first takes after the arena (NAME_TASK_WORKSPACE_SIZE).
  int64_t finishTasks();
  /// The op of each profile step: each kernel call, in the order they run
  /// (a profiling build; else empty).
  const std::vector<size_t> &profileSteps() const { return steps; }

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
  /// Stores f32 `x` as element `index` of `v`, quantized if `v` is
  /// quantized (per tensor).
  void storeReal(ValueId v, llvm::Value *index, llvm::Value *x);
  /// saturate(rne(x / scale) + zeroPoint) as i8/u8 `kind`, ir/Math.h's
  /// quantize, on f32 `x` and `scale` and an i32 zero point of one shape.
  llvm::Value *quantize(llvm::Value *x, llvm::Value *scale,
                        llvm::Value *zeroPoint, ElemKind kind);
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
  /// Whether roundToInt saturates values of type `x` beyond the i32 range
  /// itself (vcvtr, MVE's vcvtn; not the rint form of MVE's scalars).
  bool roundingSaturates(llvm::Type *x) const;

  /// A private constant global with `bytes`; `align` bytes aligned.
  llvm::Value *constantData(llvm::ArrayRef<uint8_t> bytes, unsigned align = 16);
  llvm::Value *constantF32(llvm::ArrayRef<float> values);
  llvm::Value *constantI32(llvm::ArrayRef<int32_t> values);

  /// Emits `for (i = lo; i < hi; ++i) body(i)` with constant bounds; an
  /// empty range emits nothing. A nonzero `unroll` asks LLVM to unroll the
  /// loop by exactly that factor (never fully).
  void loop(int64_t lo, int64_t hi,
            llvm::function_ref<void(llvm::Value *)> body, unsigned unroll = 0);
  /// The loop that NAME_run_parallel splits across threads: loop(lo, hi,
  /// body) in the kernel; in its task, only the task's share of [lo, hi),
  /// one of `count` contiguous ranges of nearly equal length. Everything
  /// else a kernel emits runs in every task, so a kernel with a parallel
  /// loop writes its results only inside it, and outside it only its
  /// workspace (each task has its own). Parallel loops do not nest; one
  /// kernel may have several in sequence.
  void parallelLoop(int64_t lo, int64_t hi,
                    llvm::function_ref<void(llvm::Value *)> body);
  /// body(start, extent) for the blocks of `width` of [0, total): the full
  /// blocks in a loop, then the rest, if any, as one shorter block. With
  /// `parallel`, the blocks are a parallel loop.
  void blocks(int64_t total, int64_t width,
              llvm::function_ref<void(llvm::Value *, int64_t)> body,
              bool parallel = false);
  /// A loop nest over every index of `shape` (row-major, last dim inner).
  void loopNest(llvm::ArrayRef<int64_t> shape,
                llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)> body);
  /// sum(ivs[d] * strides[d]) + base.
  llvm::Value *linear(llvm::ArrayRef<llvm::Value *> ivs,
                      llvm::ArrayRef<int64_t> strides, int64_t base = 0);
  /// A stack slot in the entry block (promoted to a register by SROA).
  llvm::Value *local(llvm::Type *type);

private:
  /// The task being emitted: its index and how many tasks share the
  /// parallel loops.
  struct Task {
    llvm::Value *index, *count;
  };
  /// A kernel emitted as a task, whose pool entry point finishTasks
  /// writes: entry(ctx, i) loads the kernel's pointers from ctx (an
  /// array of them, then the scratch pointer and the task count), replaces
  /// the workspace by task i's and calls `chunk`.
  struct PendingTask {
    llvm::Function *entry, *chunk;
    unsigned pointers;
    bool hasWorkspace;
  };
  /// Lowers `op` into `fn`, whose first parameters are `values` (and then
  /// the workspace if `withWorkspace`), as the task `share` or as the whole
  /// kernel. `internals` are values the kernel computes without storing.
  llvm::Error emitKernelBody(llvm::Function *fn, const Op &op,
                             llvm::ArrayRef<ValueId> values,
                             llvm::ArrayRef<ValueId> internals,
                             bool withWorkspace, std::optional<Task> share);
  /// Emits the call of `kernel` on `args`, or, with a task `chunk` for it,
  /// the run through the pool when it has more than one thread.
  void callKernel(llvm::Function *kernel, llvm::ArrayRef<llvm::Value *> args,
                  llvm::Function *chunk, bool hasWorkspace);
  /// The values `body` emits where `pointer` is not null, or the
  /// stand-ins `none` where it is, at the join after both.
  llvm::SmallVector<llvm::Value *, 3>
  ifNotNull(llvm::Value *pointer, llvm::ArrayRef<llvm::Value *> none,
            llvm::function_ref<llvm::SmallVector<llvm::Value *, 3>()> body);
  /// The fields `types` of the struct `arg` points to, or the stand-ins
  /// `none` when `arg` is null, read where the builder is.
  llvm::SmallVector<llvm::Value *, 3>
  readFields(llvm::Value *arg, llvm::ArrayRef<llvm::Type *> types,
             llvm::ArrayRef<llvm::Value *> none);
  /// Reads the fields of NAME_run_parallel's `pool` argument (or their
  /// stand-ins without one) at entry.
  void readPool(llvm::Value *pool);
  /// Reads the fields of the profiler argument (mnc_profiler: clock, ctx,
  /// ticks; null stand-ins without one) at entry.
  void readProfiler(llvm::Value *profiler);
  /// Emits the kernel call `call` of op `index` as the next profile step
  /// when profiling: with a profiler, its clock is read before and after
  /// and ticks[step] grows by the difference.
  void profiled(size_t index, llvm::function_ref<void()> call);
  /// clock(ctx) of the profiler, 0 without one.
  llvm::Value *readClock();
  /// for (i = begin; i < end; ++i) body(i) with run-time bounds.
  void rangeLoop(llvm::Value *begin, llvm::Value *end,
                 llvm::function_ref<void(llvm::Value *)> body);
  /// The task's share [begin, end) of `units` iterations.
  std::pair<llvm::Value *, llvm::Value *> taskShare(int64_t units);
  /// Marks the start of a parallel loop of `units` iterations.
  void enterParallelLoop(int64_t units);

  std::vector<int> defs;      ///< Defining op per value (-1: argument).
  std::vector<int> consumers; ///< Per op: the op fused into it, or -1.
  std::vector<llvm::Value *> ptrs;
  llvm::Value *scratchArg;
  llvm::Value *workspaceArg = nullptr; ///< Of the kernel being lowered.
  llvm::BasicBlock *entry;
  unsigned nextGlobal = 0;
  /// The pool's fields, read once at entry (0 threads without a pool).
  llvm::Value *poolFor = nullptr, *poolCtx = nullptr, *poolThreads = nullptr;
  std::optional<Task> task;  ///< While emitting a task.
  int64_t parallelUnits = 0; ///< Most iterations of a parallel loop.
  bool inParallelLoop = false;
  bool kernelMayFail = false; ///< returnIf ran in the kernel.
  std::vector<PendingTask> pendingTasks;
  int64_t taskWorkspace = 0; ///< Largest aligned task workspace.
  /// The profiler's fields (null without a profiler argument or profiler).
  llvm::Value *profClock = nullptr, *profCtx = nullptr, *profTicks = nullptr;
  std::vector<size_t> steps; ///< profileSteps.
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
