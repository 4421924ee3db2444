// Lowering helpers (loops, element access, constant globals) and the
// op-table dispatch.
#include "backends/llvm/Lowering.h"
#include "backends/HeaderWriter.h"
#include "backends/llvm/ConvKernels.h"
#include "backends/llvm/MathEmit.h"
#include "ir/Errors.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IntrinsicsARM.h"

#include <fmt/format.h>

namespace mnc {

Lowering::Lowering(const Function &f, const MemoryPlan &plan,
                   llvm::Module &module, llvm::Function *fn)
    : f(f), plan(plan), module(module), b(module.getContext()),
      defs(f.definingOps()), consumers(f.ops.size(), -1),
      ptrs(f.valueTypes.size(), nullptr) {
  idxTy = module.getDataLayout().getIntPtrType(module.getContext());
  entry = llvm::BasicBlock::Create(module.getContext(), "entry", fn);
  b.SetInsertPoint(entry);
  scratchArg = fn->getArg(2);
  readPool(fn->getArg(3));
  if (fn->arg_size() > 4)
    readProfiler(fn->getArg(4));
  for (size_t j = 0; j < plan.producerOf.size(); ++j)
    if (plan.producerOf[j] >= 0)
      consumers[plan.producerOf[j]] = static_cast<int>(j);
}

llvm::SmallVector<llvm::Value *, 3> Lowering::ifNotNull(
    llvm::Value *pointer, llvm::ArrayRef<llvm::Value *> none,
    llvm::function_ref<llvm::SmallVector<llvm::Value *, 3>()> body) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *from = b.GetInsertBlock();
  auto *then = llvm::BasicBlock::Create(ctx, "present", fn);
  auto *join = llvm::BasicBlock::Create(ctx, "joined", fn);
  b.CreateCondBr(b.CreateIsNull(pointer), join, then);
  b.SetInsertPoint(then);
  llvm::SmallVector<llvm::Value *, 3> values = body();
  llvm::BasicBlock *last = b.GetInsertBlock();
  b.CreateBr(join);
  b.SetInsertPoint(join);
  llvm::SmallVector<llvm::Value *, 3> joined;
  for (auto [value, stand] : llvm::zip(values, none)) {
    llvm::PHINode *phi = b.CreatePHI(value->getType(), 2);
    phi->addIncoming(stand, from);
    phi->addIncoming(value, last);
    joined.push_back(phi);
  }
  return joined;
}

llvm::SmallVector<llvm::Value *, 3>
Lowering::readFields(llvm::Value *arg, llvm::ArrayRef<llvm::Type *> types,
                     llvm::ArrayRef<llvm::Value *> none) {
  return ifNotNull(arg, none, [&] {
    auto *type = llvm::StructType::get(module.getContext(), types);
    llvm::SmallVector<llvm::Value *, 3> loaded;
    for (auto [i, t] : llvm::enumerate(types))
      loaded.push_back(b.CreateLoad(t, b.CreateStructGEP(type, arg, i)));
    return loaded;
  });
}

llvm::Value *Lowering::workspace(const Op &op) {
  if (workspaceArg)
    return workspaceArg;
  size_t index = &op - f.ops.data();
  return b.CreateInBoundsGEP(b.getInt8Ty(), scratchArg,
                             idx(plan.workspaceOffsets[index]));
}

const Op *Lowering::epilogueOf(const Op &op) const {
  int consumer = consumers[&op - f.ops.data()];
  return consumer < 0 ? nullptr : &f.ops[consumer];
}

llvm::SmallVector<const Op *, 4> Lowering::fusedInto(const Op &op) const {
  int index = static_cast<int>(&op - f.ops.data());
  llvm::SmallVector<const Op *, 4> fused;
  for (size_t j = 0; j < plan.producerOf.size(); ++j)
    if (plan.producerOf[j] == index)
      fused.push_back(&f.ops[j]);
  return fused;
}

ValueId Lowering::destination(const Op &op) const {
  const Op *epilogue = epilogueOf(op);
  return epilogue ? epilogue->results[0] : op.results[0];
}

llvm::Expected<KernelChoice> Lowering::kernelOf(const Op &op) const {
  auto it = op.attrs.find("ukernel");
  std::optional<KernelChoice> k;
  if (it != op.attrs.end())
    k = parseKernelName(std::get<std::string>(it->second));
  if (!k || !choiceFits(*k, f, op, target))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        fmt::format("@{}: op {} ({}): {}", f.name, &op - f.ops.data(),
                    mnemonic(op.kind).str(),
                    it == op.attrs.end()
                        ? std::string("no kernel chosen; run select-kernels")
                        : fmt::format("kernel '{}' does not run it on this "
                                      "target (best ISA {}, {} lanes); run "
                                      "select-kernels for the target",
                                      std::get<std::string>(it->second),
                                      isaName(target.best()).str(),
                                      target.lanes)));
  return *k;
}

llvm::Error Lowering::emitted(bool ran, const Op &op) const {
  if (ran)
    return llvm::Error::success();
  return llvm::make_error<InternalError>(
      fmt::format("@{}: op {} ({}): the emitter of kernel '{}' does not take "
                  "the op its predicate accepts",
                  f.name, &op - f.ops.data(), mnemonic(op.kind).str(),
                  op.getString("ukernel").str()));
}

void Lowering::returnIf(llvm::Value *failed, llvm::Value *code) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  auto *bad = llvm::BasicBlock::Create(ctx, "fail", fn);
  auto *ok = llvm::BasicBlock::Create(ctx, "ok", fn);
  b.CreateCondBr(failed, bad, ok);
  b.SetInsertPoint(bad);
  b.CreateRet(code);
  b.SetInsertPoint(ok);
  kernelMayFail = true;
}

const Tensor *Lowering::constantOf(ValueId v) const {
  if (defs[v] < 0 || f.ops[defs[v]].kind != OpKind::Constant)
    return nullptr;
  return &f.ops[defs[v]].getTensor("value");
}

llvm::Error Lowering::lowerAsKernel(const Op &op) {
  size_t index = &op - f.ops.data();
  const Op *epilogue = epilogueOf(op);
  llvm::SmallVector<const Op *, 4> ops = fusedInto(op);
  ops.insert(ops.begin(), &op);
  // The results of the producer and of the epilogue's inner ops share
  // bytes with (or are replaced by) the epilogue's result, so only the
  // latter is a parameter.
  auto internal = [&](ValueId v) {
    return epilogue && v != epilogue->results[0] && defs[v] >= 0 &&
           llvm::is_contained(ops, &f.ops[defs[v]]);
  };
  llvm::SmallVector<ValueId, 8> values, internals;
  auto addValue = [&](ValueId v) {
    if (!internal(v) && ptrs[v] && !llvm::isa<llvm::Constant>(ptrs[v]) &&
        !llvm::is_contained(values, v))
      values.push_back(v);
  };
  for (const Op *o : ops) {
    for (ValueId v : o->operands)
      addValue(v);
    for (ValueId v : o->results) {
      addValue(v);
      if (internal(v))
        internals.push_back(v);
    }
  }
  llvm::SmallVector<llvm::Value *, 8> args;
  for (ValueId v : values)
    args.push_back(ptrs[v]);
  bool hasWorkspace = plan.workspaceOffsets[index] >= 0;
  if (hasWorkspace)
    args.push_back(workspace(op));

  llvm::LLVMContext &ctx = module.getContext();
  llvm::Function *run = b.GetInsertBlock()->getParent();
  std::string name = fmt::format("{}_run.{}.{}", module.getName().str(),
                                 mnemonic(op.kind).str(), index);
  auto kernelFunction = [&](llvm::StringRef suffix,
                            llvm::ArrayRef<llvm::Type *> extra) {
    llvm::SmallVector<llvm::Type *, 8> params(args.size(), b.getPtrTy());
    params.append(extra.begin(), extra.end());
    auto *fn = llvm::Function::Create(
        llvm::FunctionType::get(b.getInt32Ty(), params, false),
        llvm::Function::InternalLinkage, name + suffix.str(), module);
    fn->addFnAttrs(llvm::AttrBuilder(ctx, run->getAttributes().getFnAttrs()));
    fn->addFnAttr(llvm::Attribute::NoInline);
    for (unsigned i = 0; i < args.size(); ++i) {
      fn->addParamAttr(i, llvm::Attribute::NoAlias);
      fn->addParamAttr(i, llvm::Attribute::NoCapture);
    }
    return fn;
  };
  llvm::Function *kernel = kernelFunction("", {});
  parallelUnits = 0;
  kernelMayFail = false;
  if (auto err = emitKernelBody(kernel, op, values, internals, hasWorkspace,
                                std::nullopt))
    return err;
  llvm::Function *chunk = nullptr;
  if (splitKernels && parallelUnits >= 2 && !kernelMayFail &&
      opMacs(f, op) >= kMinParallelMacs) {
    chunk = kernelFunction(".task", {idxTy, idxTy});
    Task share{chunk->getArg(args.size()), chunk->getArg(args.size() + 1)};
    if (auto err =
            emitKernelBody(chunk, op, values, internals, hasWorkspace, share))
      return err;
    if (hasWorkspace)
      taskWorkspace = std::max<int64_t>(
          taskWorkspace,
          llvm::alignTo(workspaceBytes(f)[index], kScratchAlign));
  }
  profiled(index, [&] { callKernel(kernel, args, chunk, hasWorkspace); });
  return llvm::Error::success();
}

llvm::Error Lowering::emitKernelBody(llvm::Function *fn, const Op &op,
                                     llvm::ArrayRef<ValueId> values,
                                     llvm::ArrayRef<ValueId> internals,
                                     bool withWorkspace,
                                     std::optional<Task> share) {
  llvm::IRBuilderBase::InsertPoint resume = b.saveIP();
  std::vector<llvm::Value *> outerPtrs = ptrs;
  llvm::BasicBlock *outerEntry = entry;
  entry = llvm::BasicBlock::Create(module.getContext(), "entry", fn);
  b.SetInsertPoint(entry);
  for (unsigned i = 0; i < values.size(); ++i)
    ptrs[values[i]] = fn->getArg(i);
  for (ValueId v : internals)
    ptrs[v] = nullptr;
  workspaceArg = withWorkspace ? fn->getArg(values.size()) : nullptr;
  task = share;
  llvm::Error err = lowerOp(*this, op);
  b.CreateRet(i32(RunOk));
  ptrs = std::move(outerPtrs);
  entry = outerEntry;
  workspaceArg = nullptr;
  task.reset();
  b.restoreIP(resume);
  return err;
}

llvm::Type *Lowering::elemType(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
    return b.getFloatTy();
  case ElemKind::I64:
    return b.getInt64Ty();
  case ElemKind::I32:
    return b.getInt32Ty();
  case ElemKind::I8:
  case ElemKind::U8:
    return b.getInt8Ty();
  }
  llvm_unreachable("unknown element kind");
}

llvm::Value *Lowering::loadAt(llvm::Value *base, ElemKind kind,
                              llvm::Value *index) {
  llvm::Type *type = elemType(kind);
  return b.CreateLoad(type, b.CreateInBoundsGEP(type, base, index));
}

void Lowering::storeAt(llvm::Value *base, ElemKind kind, llvm::Value *index,
                       llvm::Value *value) {
  llvm::Type *type = elemType(kind);
  b.CreateStore(value, b.CreateInBoundsGEP(type, base, index));
}

llvm::Value *Lowering::load(ValueId v, llvm::Value *index) {
  return loadAt(ptr(v), f.type(v).elem, index);
}

void Lowering::store(ValueId v, llvm::Value *index, llvm::Value *value) {
  storeAt(ptr(v), f.type(v).elem, index, value);
}

llvm::Value *Lowering::loadI32(ValueId v, llvm::Value *index) {
  llvm::Value *x = load(v, index);
  switch (f.type(v).elem) {
  case ElemKind::U8:
    return b.CreateZExt(x, b.getInt32Ty());
  case ElemKind::I8:
    return b.CreateSExt(x, b.getInt32Ty());
  default:
    return b.CreateSExtOrTrunc(x, b.getInt32Ty());
  }
}

/// `elem` in the shape of `like` (a scalar, or a vector of as many lanes).
static llvm::Type *shapedLike(llvm::Value *like, llvm::Type *elem) {
  if (auto *vec = llvm::dyn_cast<llvm::VectorType>(like->getType()))
    return llvm::VectorType::get(elem, vec->getElementCount());
  return elem;
}

llvm::Value *Lowering::roundToInt(llvm::Value *x) {
  llvm::Type *intTy = shapedLike(x, b.getInt32Ty());
  switch (intRounding) {
  case IntRounding::Lrint:
    return b.CreateIntrinsic(llvm::Intrinsic::lrint, {intTy, x->getType()},
                             {x});
  case IntRounding::Vcvtr: {
    // A scalar, or a vector of one lane (what kernels use on targets
    // without vectors); MVE's four lanes with vcvtn.
    auto *vec = llvm::dyn_cast<llvm::FixedVectorType>(x->getType());
    if (vec && vec->getNumElements() == 4 && mveRounding)
      return b.CreateIntrinsic(llvm::Intrinsic::arm_mve_vcvtn,
                               {intTy, x->getType()}, {b.getInt32(0), x});
    if (vec && vec->getNumElements() != 1)
      return nullptr;
    // On MVE a scalar in the form the loop vectorizer widens (vrintx,
    // which rounds as vcvtr does, by the default environment's mode, then
    // vcvt), never a scalar vcvtr.
    if (mveRounding)
      return b.CreateFPToSI(b.CreateUnaryIntrinsic(llvm::Intrinsic::rint, x),
                            intTy);
    llvm::Value *scalar = vec ? b.CreateExtractElement(x, uint64_t(0)) : x;
    llvm::Value *r = b.CreateBitCast(
        b.CreateUnaryIntrinsic(llvm::Intrinsic::arm_vcvtr, scalar),
        b.getInt32Ty());
    return vec ? b.CreateInsertElement(llvm::PoisonValue::get(intTy), r,
                                       uint64_t(0))
               : r;
  }
  case IntRounding::None:
    return nullptr;
  }
  llvm_unreachable("covered switch");
}

llvm::Value *Lowering::dequantize(llvm::Value *q, llvm::Value *zeroPoint,
                                  llvm::Value *scale) {
  llvm::Type *floatTy = b.getFloatTy();
  if (auto *vec = llvm::dyn_cast<llvm::VectorType>(q->getType()))
    floatTy = llvm::VectorType::get(floatTy, vec->getElementCount());
  return b.CreateFMul(b.CreateSIToFP(b.CreateSub(q, zeroPoint), floatTy),
                      scale);
}

llvm::Value *Lowering::loadReal(ValueId v, llvm::Value *index) {
  const TensorType &t = f.type(v);
  if (!t.isQuantized())
    return load(v, index);
  return dequantize(loadI32(v, index), i32(t.quant->zeroPoint(0)),
                    f32(t.quant->scale(0)));
}

void Lowering::storeReal(ValueId v, llvm::Value *index, llvm::Value *x) {
  const TensorType &t = f.type(v);
  if (!t.isQuantized())
    return store(v, index, x);
  store(v, index,
        quantize(x, f32(t.quant->scale(0)), i32(t.quant->zeroPoint(0)),
                 t.elem));
}

llvm::Value *Lowering::quantize(llvm::Value *x, llvm::Value *scale,
                                llvm::Value *zeroPoint, ElemKind kind) {
  return quantizeScaled(b.CreateFDiv(x, scale), zeroPoint, kind);
}

bool Lowering::roundingSaturates(llvm::Type *x) const {
  auto *vec = llvm::dyn_cast<llvm::FixedVectorType>(x);
  bool scalar = !vec || vec->getNumElements() == 1;
  return intRounding == IntRounding::Vcvtr && !(scalar && mveRounding);
}

llvm::Value *Lowering::quantizeScaled(llvm::Value *scaled,
                                      llvm::Value *zeroPoint, ElemKind kind) {
  bool isUnsigned = kind == ElemKind::U8;
  float lo = isUnsigned ? 0.0f : -128.0f, hi = isUnsigned ? 255.0f : 127.0f;
  // Beyond +-2^16 every result saturates whatever the zero point, so a
  // clamp there keeps the conversion in range; then the zero point and the
  // saturation are integer operations. Arm's vcvtr (and MVE's vcvtn)
  // saturates at the i32 range itself, so there the zero point is added
  // with saturation (qadd) instead.
  bool saturates = roundingSaturates(scaled->getType());
  if (llvm::Value *rounded = roundToInt(
          saturates ? scaled : emitClamp(b, scaled, -65536.0f, 65536.0f))) {
    llvm::Type *intTy = rounded->getType();
    llvm::Value *q =
        saturates ? b.CreateBinaryIntrinsic(llvm::Intrinsic::sadd_sat,
                                            rounded, zeroPoint)
                  : b.CreateAdd(rounded, zeroPoint);
    q = b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, q,
                                llvm::ConstantInt::get(intTy, int64_t(lo)));
    q = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, q,
                                llvm::ConstantInt::get(intTy, int64_t(hi)));
    return b.CreateTrunc(q, shapedLike(scaled, elemType(kind)));
  }
  llvm::Value *shifted =
      b.CreateFAdd(emitRoundEven(b, scaled),
                   b.CreateSIToFP(zeroPoint, shapedLike(scaled, b.getFloatTy())));
  shifted = emitClamp(b, shifted, lo, hi);
  return b.CreateTrunc(
      b.CreateFPToSI(shifted, shapedLike(scaled, b.getInt32Ty())),
      shapedLike(scaled, elemType(kind)));
}

llvm::Value *Lowering::requantize(llvm::Value *acc, llvm::Value *multiplier,
                                  llvm::Value *zeroPoint, ElemKind kind) {
  llvm::Value *scaled = b.CreateFMul(
      b.CreateSIToFP(acc, shapedLike(acc, b.getFloatTy())), multiplier);
  return quantizeScaled(scaled, zeroPoint, kind);
}

llvm::Value *Lowering::constantData(llvm::ArrayRef<uint8_t> bytes,
                                    unsigned align) {
  auto *init = llvm::ConstantDataArray::get(module.getContext(), bytes);
  auto *global =
      new llvm::GlobalVariable(module, init->getType(), /*isConstant=*/true,
                               llvm::GlobalValue::PrivateLinkage, init,
                               "const." + std::to_string(nextGlobal++));
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  global->setAlignment(llvm::Align(align));
  return global;
}

llvm::Value *Lowering::constantF32(llvm::ArrayRef<float> values) {
  return constantData(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(values.data()), values.size() * 4));
}

llvm::Value *Lowering::constantI32(llvm::ArrayRef<int32_t> values) {
  return constantData(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(values.data()), values.size() * 4));
}

void Lowering::loop(int64_t lo, int64_t hi,
                    llvm::function_ref<void(llvm::Value *)> body,
                    unsigned unroll) {
  if (lo >= hi)
    return;
  if (hi - lo == 1)
    return body(idx(lo));
  llvm::LLVMContext &ctx = module.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  llvm::Function *fn = pre->getParent();
  auto *header = llvm::BasicBlock::Create(ctx, "loop", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, "loop.end", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode *iv = b.CreatePHI(idxTy, 2, "i");
  iv->addIncoming(idx(lo), pre);
  body(iv);
  llvm::Value *next = b.CreateAdd(iv, idx(1), "", /*HasNUW=*/true,
                                  /*HasNSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst *latch =
      b.CreateCondBr(b.CreateICmpSLT(next, idx(hi)), header, exit);
  if (unroll) {
    llvm::Metadata *count[] = {
        llvm::MDString::get(ctx, "llvm.loop.unroll.count"),
        llvm::ConstantAsMetadata::get(b.getInt32(unroll))};
    llvm::MDNode *id = llvm::MDNode::getDistinct(
        ctx, {nullptr, llvm::MDNode::get(ctx, count)});
    id->replaceOperandWith(0, id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, id);
  }
  b.SetInsertPoint(exit);
}

void Lowering::loopNest(
    llvm::ArrayRef<int64_t> shape,
    llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)> body) {
  llvm::SmallVector<llvm::Value *, 6> ivs;
  std::function<void(size_t)> level = [&](size_t d) {
    if (d == shape.size())
      return body(ivs);
    loop(0, shape[d], [&](llvm::Value *iv) {
      ivs.push_back(iv);
      level(d + 1);
      ivs.pop_back();
    });
  };
  level(0);
}

llvm::Value *Lowering::linear(llvm::ArrayRef<llvm::Value *> ivs,
                              llvm::ArrayRef<int64_t> strides, int64_t base) {
  llvm::Value *sum = idx(base);
  for (size_t d = 0; d < ivs.size(); ++d)
    if (strides[d] != 0)
      // Offsets may be negative (window taps in padding), so no nuw.
      sum = b.CreateAdd(sum,
                        b.CreateMul(ivs[d], idx(strides[d]), "", false, true),
                        "", false, true);
  return sum;
}

llvm::Value *Lowering::local(llvm::Type *type) {
  llvm::IRBuilder<> eb(entry, entry->getFirstInsertionPt());
  return eb.CreateAlloca(type);
}

llvm::SmallVector<int64_t, 4> broadcastStrides(llvm::ArrayRef<int64_t> shape,
                                               size_t rank) {
  llvm::SmallVector<int64_t, 4> own = stridesOf(shape);
  llvm::SmallVector<int64_t, 4> result(rank - shape.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d)
    result.push_back(shape[d] == 1 ? 0 : own[d]);
  return result;
}

llvm::Error lowerOp(Lowering &l, const Op &op) {
  using LowerFn = llvm::Error (*)(Lowering &, const Op &);
  static constexpr LowerFn table[] = {
#define MNC_OP(Name, ...) &lower##Name,
#include "ir/Ops.def"
  };
  return table[static_cast<unsigned>(op.kind)](l, op);
}

} // namespace mnc
