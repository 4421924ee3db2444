// The profiling build's side of the lowering: NAME_run_profiled reads the
// caller's clock around every kernel call and adds the ticks each step
// took to the caller's counters, through an mnc_profiler:
//   { uint64_t (*clock)(void *ctx); void *ctx; uint64_t *ticks; }
// The body is shared with NAME_run_parallel, which passes no profiler.
#include "backends/llvm/Lowering.h"

namespace mnc {

void Lowering::readProfiler(llvm::Value *profiler) {
  auto *null = llvm::ConstantPointerNull::get(b.getPtrTy());
  auto fields = readFields(profiler, {b.getPtrTy(), b.getPtrTy(), b.getPtrTy()},
                           {null, null, null});
  profClock = fields[0];
  profCtx = fields[1];
  profTicks = fields[2];
}

llvm::Value *Lowering::readClock() {
  return ifNotNull(profClock, {b.getInt64(0)}, [&] {
    auto *type = llvm::FunctionType::get(b.getInt64Ty(), {b.getPtrTy()}, false);
    return llvm::SmallVector<llvm::Value *, 3>{
        b.CreateCall(type, profClock, {profCtx})};
  })[0];
}

void Lowering::profiled(size_t index, llvm::function_ref<void()> call) {
  if (!profClock) {
    call();
    return;
  }
  llvm::Value *start = readClock();
  call();
  llvm::Value *end = readClock();
  ifNotNull(profTicks, {}, [&] {
    llvm::Value *slot =
        b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), profTicks, steps.size());
    b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), slot),
                              b.CreateSub(end, start)),
                  slot);
    return llvm::SmallVector<llvm::Value *, 3>{};
  });
  steps.push_back(index);
}

} // namespace mnc
