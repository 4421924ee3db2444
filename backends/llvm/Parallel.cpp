// NAME_run_parallel's side of the lowering: reading the pool, the parallel
// loops a kernel marks (the whole loop in the kernel, a task's share of it
// in the kernel's task), and the run of a kernel's tasks through the pool
// with a context of its pointers and a workspace per task.
#include "backends/HeaderWriter.h"
#include "backends/llvm/Lowering.h"

#include "llvm/Support/MathExtras.h"

namespace mnc {

void Lowering::readPool(llvm::Value *pool) {
  // mnc_parallel_for: parallel_for, ctx, num_threads.
  auto *null = llvm::ConstantPointerNull::get(b.getPtrTy());
  auto fields = readFields(pool, {b.getPtrTy(), b.getPtrTy(), idxTy},
                           {null, null, idx(0)});
  poolFor = fields[0];
  poolCtx = fields[1];
  poolThreads = fields[2];
}

/// The context a task entry point receives: the kernel's pointers, the
/// scratch arena and the number of tasks.
static llvm::StructType *taskContextType(llvm::LLVMContext &ctx,
                                         unsigned pointers, llvm::Type *idxTy) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  return llvm::StructType::get(
      ctx, {llvm::ArrayType::get(ptrTy, pointers), ptrTy, idxTy});
}

/// The address of pointer `i` in a task context.
static llvm::Value *pointerSlot(llvm::IRBuilderBase &b, llvm::StructType *ctxTy,
                                llvm::Value *context, unsigned i) {
  return b.CreateInBoundsGEP(ctxTy, context,
                             {b.getInt32(0), b.getInt32(0), b.getInt32(i)});
}

void Lowering::callKernel(llvm::Function *kernel,
                          llvm::ArrayRef<llvm::Value *> args,
                          llvm::Function *chunk, bool hasWorkspace) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Function *run = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *joined = nullptr;
  if (chunk) {
    auto *pooled = llvm::BasicBlock::Create(ctx, "pooled", run);
    auto *serial = llvm::BasicBlock::Create(ctx, "serial", run);
    joined = llvm::BasicBlock::Create(ctx, "joined", run);
    b.CreateCondBr(b.CreateICmpUGT(poolThreads, idx(1)), pooled, serial);
    b.SetInsertPoint(pooled);
    llvm::StructType *ctxTy = taskContextType(ctx, args.size(), idxTy);
    llvm::Value *context = local(ctxTy);
    auto size = b.getInt64(module.getDataLayout().getTypeAllocSize(ctxTy));
    b.CreateLifetimeStart(context, size);
    for (unsigned i = 0; i < args.size(); ++i)
      b.CreateStore(args[i], pointerSlot(b, ctxTy, context, i));
    b.CreateStore(scratchArg, b.CreateStructGEP(ctxTy, context, 1));
    llvm::Value *tasks = b.CreateBinaryIntrinsic(
        llvm::Intrinsic::umin, poolThreads, idx(parallelUnits));
    b.CreateStore(tasks, b.CreateStructGEP(ctxTy, context, 2));
    auto *entryTy =
        llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), idxTy}, false);
    auto *taskEntry =
        llvm::Function::Create(entryTy, llvm::Function::InternalLinkage,
                               chunk->getName() + ".entry", module);
    pendingTasks.push_back(
        {taskEntry, chunk, static_cast<unsigned>(args.size()), hasWorkspace});
    auto *forTy = llvm::FunctionType::get(
        b.getVoidTy(), {b.getPtrTy(), b.getPtrTy(), b.getPtrTy(), idxTy},
        false);
    b.CreateCall(forTy, poolFor, {poolCtx, taskEntry, context, tasks});
    b.CreateLifetimeEnd(context, size);
    b.CreateBr(joined);
    b.SetInsertPoint(serial);
  }
  // Kernels that cannot fail return a constant 0, which LLVM propagates.
  llvm::Value *status = b.CreateCall(kernel, args);
  returnIf(b.CreateICmpNE(status, i32(RunOk)), status);
  if (joined) {
    b.CreateBr(joined);
    b.SetInsertPoint(joined);
  }
}

int64_t Lowering::finishTasks() {
  llvm::LLVMContext &ctx = module.getContext();
  for (const PendingTask &t : pendingTasks) {
    llvm::Function *fn = t.entry;
    fn->addFnAttrs(
        llvm::AttrBuilder(ctx, t.chunk->getAttributes().getFnAttrs()));
    fn->removeFnAttr(llvm::Attribute::NoInline);
    llvm::IRBuilder<> eb(llvm::BasicBlock::Create(ctx, "entry", fn));
    llvm::StructType *ctxTy = taskContextType(ctx, t.pointers, idxTy);
    llvm::Value *context = fn->getArg(0), *i = fn->getArg(1);
    auto field = [&](llvm::Type *type, llvm::Value *at) {
      return eb.CreateLoad(type, at);
    };
    llvm::SmallVector<llvm::Value *, 10> args;
    for (unsigned j = 0; j < t.pointers; ++j)
      args.push_back(field(eb.getPtrTy(), pointerSlot(eb, ctxTy, context, j)));
    llvm::Value *scratch =
        field(eb.getPtrTy(), eb.CreateStructGEP(ctxTy, context, 1));
    llvm::Value *count = field(idxTy, eb.CreateStructGEP(ctxTy, context, 2));
    if (t.hasWorkspace) {
      // Task 0 keeps the planned workspace; task i > 0 takes slice i - 1
      // after the arena.
      llvm::Value *slice = eb.CreateGEP(
          eb.getInt8Ty(), scratch,
          eb.CreateAdd(
              idx(llvm::alignTo(plan.size, kScratchAlign)),
              eb.CreateMul(eb.CreateSub(i, idx(1)), idx(taskWorkspace))));
      args.back() =
          eb.CreateSelect(eb.CreateICmpEQ(i, idx(0)), args.back(), slice);
    }
    args.push_back(i);
    args.push_back(count);
    eb.CreateCall(t.chunk, args);
    eb.CreateRetVoid();
  }
  return taskWorkspace;
}

std::pair<llvm::Value *, llvm::Value *> Lowering::taskShare(int64_t units) {
  // Task t of n takes [floor(units t / n), floor(units (t + 1) / n)),
  // computed without overflowing units t, as runtime/pthread.c splits
  // ranges among threads.
  auto start = [&](llvm::Value *t) {
    llvm::Value *n = task->count;
    return b.CreateAdd(
        b.CreateMul(b.CreateUDiv(idx(units), n), t),
        b.CreateUDiv(b.CreateMul(b.CreateURem(idx(units), n), t), n));
  };
  return {start(task->index), start(b.CreateAdd(task->index, idx(1)))};
}

void Lowering::enterParallelLoop(int64_t units) {
  assert(!inParallelLoop && "parallel loops do not nest");
  inParallelLoop = true;
  parallelUnits = std::max(parallelUnits, units);
}

void Lowering::parallelLoop(int64_t lo, int64_t hi,
                            llvm::function_ref<void(llvm::Value *)> body) {
  enterParallelLoop(hi - lo);
  if (task) {
    auto [begin, end] = taskShare(hi - lo);
    rangeLoop(b.CreateAdd(begin, idx(lo)), b.CreateAdd(end, idx(lo)), body);
  } else {
    loop(lo, hi, body);
  }
  inParallelLoop = false;
}

void Lowering::blocks(int64_t total, int64_t width,
                      llvm::function_ref<void(llvm::Value *, int64_t)> body,
                      bool parallel) {
  int64_t full = total / width, rest = total % width;
  auto fullBlock = [&](llvm::Value *j) {
    body(b.CreateMul(j, idx(width)), width);
  };
  auto restBlock = [&] { body(idx(total - rest), rest); };
  if (parallel)
    enterParallelLoop(full + (rest ? 1 : 0));
  if (!parallel || !task) {
    loop(0, full, fullBlock);
    if (rest)
      restBlock();
  } else {
    int64_t units = full + (rest ? 1 : 0);
    auto [begin, end] = taskShare(units);
    rangeLoop(begin,
              b.CreateBinaryIntrinsic(llvm::Intrinsic::umin, end, idx(full)),
              fullBlock);
    if (rest) {
      // Only the last task's share ends at `units`, and it is never empty.
      llvm::LLVMContext &ctx = module.getContext();
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      auto *last = llvm::BasicBlock::Create(ctx, "rest", fn);
      auto *after = llvm::BasicBlock::Create(ctx, "rest.end", fn);
      b.CreateCondBr(b.CreateICmpEQ(end, idx(units)), last, after);
      b.SetInsertPoint(last);
      restBlock();
      b.CreateBr(after);
      b.SetInsertPoint(after);
    }
  }
  if (parallel)
    inParallelLoop = false;
}

void Lowering::rangeLoop(llvm::Value *begin, llvm::Value *end,
                         llvm::function_ref<void(llvm::Value *)> body) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  llvm::Function *fn = pre->getParent();
  auto *header = llvm::BasicBlock::Create(ctx, "range", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, "range.end", fn);
  b.CreateCondBr(b.CreateICmpSLT(begin, end), header, exit);
  b.SetInsertPoint(header);
  llvm::PHINode *iv = b.CreatePHI(idxTy, 2, "i");
  iv->addIncoming(begin, pre);
  body(iv);
  llvm::Value *next = b.CreateAdd(iv, idx(1), "", /*HasNUW=*/true,
                                  /*HasNSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, end), header, exit);
  b.SetInsertPoint(exit);
}

} // namespace mnc
