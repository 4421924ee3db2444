// Function skeleton (argument and result binding, arena placement), the
// optimization pipeline and machine code emission.
#include "backends/llvm/CodeGen.h"
#include "backends/Target.h"
#include "backends/llvm/Lowering.h"
#include "ir/Errors.h"

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Analysis/TargetTransformInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace mnc {

/// Declares the external function `symbol` of `params` pointer arguments
/// returning int, as the header declares it.
static llvm::Function *declareEntry(llvm::Module &module,
                                    llvm::StringRef symbol, unsigned params,
                                    llvm::TargetMachine &tm) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  llvm::SmallVector<llvm::Type *, 4> types(params, ptrTy);
  auto *type =
      llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx), types, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                                    symbol, module);
  fn->setDoesNotThrow();
  fn->addFnAttr("no-builtins");
  fn->addFnAttr("target-cpu", tm.getTargetCPU());
  if (!tm.getTargetFeatureString().empty())
    fn->addFnAttr("target-features", tm.getTargetFeatureString());
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  if (!tm.getTargetTriple().isOSBinFormatMachO())
    fn->setUWTableKind(llvm::UWTableKind::None);
  for (unsigned i = 0; i < params; ++i)
    fn->addParamAttr(i, llvm::Attribute::NoCapture);
  return fn;
}

/// Defines `fn` as a call of `callee` with fn's arguments at the positions
/// `from` gives (-1: a null pointer).
static void defineForward(llvm::Function *fn, llvm::Function *callee,
                          llvm::ArrayRef<int> from) {
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(fn->getContext(), "entry", fn));
  llvm::SmallVector<llvm::Value *, 5> args;
  for (int i : from)
    args.push_back(i < 0 ? llvm::ConstantPointerNull::get(b.getPtrTy())
                         : static_cast<llvm::Value *>(fn->getArg(i)));
  llvm::CallInst *call = b.CreateCall(callee, args);
  call->setTailCall();
  b.CreateRet(call);
}

/// Points each value at its storage: caller buffers for arguments and
/// results, the arena for intermediates. Returns the results that need a
/// copy at the end (constants, arguments or repeats returned as results).
static std::vector<unsigned> bindStorage(Lowering &l, llvm::Function *fn) {
  const Function &f = l.f;
  auto &b = l.b;
  auto *ptrTy = b.getPtrTy();
  auto slot = [&](llvm::Value *array, unsigned i) {
    return b.CreateLoad(ptrTy, b.CreateConstInBoundsGEP1_32(ptrTy, array, i));
  };
  for (unsigned i = 0; i < f.args.size(); ++i)
    l.setPtr(f.args[i], slot(fn->getArg(0), i));
  std::vector<int> def = f.definingOps();
  std::vector<unsigned> copies;
  std::vector<bool> bound(f.valueTypes.size(), false);
  for (unsigned i = 0; i < f.results.size(); ++i) {
    ValueId v = f.results[i];
    bool direct =
        def[v] >= 0 && f.ops[def[v]].kind != OpKind::Constant && !bound[v];
    if (!direct) {
      copies.push_back(i);
      continue;
    }
    bound[v] = true;
    l.setPtr(v, slot(fn->getArg(1), i));
  }
  for (ValueId v = 0; v < f.valueTypes.size(); ++v)
    if (l.plan.offsets[v] >= 0)
      l.setPtr(v, b.CreateInBoundsGEP(b.getInt8Ty(), l.scratch(),
                                      l.idx(l.plan.offsets[v])));
  return copies;
}

static void copyResult(Lowering &l, llvm::Function *fn, unsigned i) {
  ValueId v = l.f.results[i];
  auto &b = l.b;
  llvm::Value *out = b.CreateLoad(
      b.getPtrTy(),
      b.CreateConstInBoundsGEP1_32(b.getPtrTy(), fn->getArg(1), i));
  ElemKind kind = l.f.type(v).elem;
  l.loop(0, l.f.type(v).numElements(),
         [&](llvm::Value *j) { l.storeAt(out, kind, j, l.load(v, j)); });
}

/// The target's one-step f32 -> i32 conversion to nearest even (see
/// Lowering::IntRounding).
static Lowering::IntRounding intRounding(const llvm::TargetMachine &tm) {
  const llvm::Triple &triple = tm.getTargetTriple();
  if (triple.isX86() || triple.isAArch64())
    return Lowering::IntRounding::Lrint;
  if ((triple.isARM() || triple.isThumb()) &&
      tm.getMCSubtargetInfo()->checkFeatures("+vfp2sp"))
    return Lowering::IntRounding::Vcvtr;
  return Lowering::IntRounding::None;
}

/// Constants bind a global; ops fused into their producer are done by it;
/// every other op becomes a kernel function.
static llvm::Error lowerTopLevel(Lowering &l, const Op &op) {
  if (op.kind == OpKind::Constant)
    return lowerOp(l, op);
  if (l.plan.producerOf[&op - l.f.ops.data()] >= 0)
    return llvm::Error::success();
  return l.lowerAsKernel(op);
}

llvm::Expected<LoweredModule>
lowerFunction(const Function &f, const MemoryPlan &plan, llvm::StringRef name,
              llvm::TargetMachine &tm, llvm::LLVMContext &ctx,
              bool profile) {
  auto module = std::make_unique<llvm::Module>(name, ctx);
  module->setTargetTriple(tm.getTargetTriple().str());
  module->setDataLayout(tm.createDataLayout());
  // NAME_run is declared first, so that it opens the assembly.
  llvm::Function *serial = declareEntry(*module, (name + "_run").str(), 3, tm);
  llvm::Function *parallel =
      declareEntry(*module, (name + "_run_parallel").str(), 4, tm);
  // A profiling build lowers into a body with a profiler argument, which
  // NAME_run_parallel passes null and NAME_run_profiled its own.
  llvm::Function *profiled =
      profile ? declareEntry(*module, (name + "_run_profiled").str(), 4, tm)
              : nullptr;
  llvm::Function *fn = parallel;
  if (profile) {
    fn = declareEntry(*module, (name + "_run.body").str(), 5, tm);
    fn->setLinkage(llvm::Function::InternalLinkage);
  }
  Lowering l(f, plan, *module, fn);
  l.target = kernelTargetOf(tm);
  l.lanes = l.target.lanes;
  l.splitKernels = !tm.getTargetTriple().isOSUnknown();
  l.intRounding = intRounding(tm);
  l.mveRounding = l.intRounding == Lowering::IntRounding::Vcvtr &&
                  tm.getMCSubtargetInfo()->checkFeatures("+mve.fp");
  std::vector<unsigned> copies = bindStorage(l, fn);
  for (const Op &op : f.ops)
    if (auto err = lowerTopLevel(l, op))
      return prefixError(llvm::formatv("@{0}: op {1} ({2}): ", f.name,
                                       &op - f.ops.data(), mnemonic(op.kind))
                             .str(),
                         std::move(err));
  for (unsigned i : copies)
    copyResult(l, fn, i);
  l.b.CreateRet(l.b.getInt32(0));
  int64_t taskWorkspace = l.finishTasks();
  defineForward(serial, parallel, {0, 1, 2, -1});
  if (profile) {
    defineForward(parallel, fn, {0, 1, 2, 3, -1});
    defineForward(profiled, fn, {0, 1, 2, -1, 3});
  }
  std::string message;
  llvm::raw_string_ostream os(message);
  if (llvm::verifyModule(*module, &os))
    return llvm::make_error<InternalError>("internal error: invalid LLVM "
                                           "IR: " +
                                           message);
  return LoweredModule{std::move(module), taskWorkspace, l.profileSteps()};
}

void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                    Optimization level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  tuning.LoopUnrolling = true;
  // Patches of one segment (fuse-blocks) of the same shape lower to the
  // same kernel.
  tuning.MergeFunctions = true;
  llvm::PassBuilder pb(&tm, tuning);
  llvm::TargetLibraryInfoImpl tlii(tm.getTargetTriple());
  tlii.disableAllFunctions();
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  if (level == Optimization::Full)
    mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  else
    cantFail(pb.parsePassPipeline(mpm, "globaldce,constmerge"));
  mpm.run(module, mam);
}

llvm::Expected<std::string>
emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm, FileKind kind) {
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  auto fileType = kind == FileKind::Object
                      ? llvm::CodeGenFileType::ObjectFile
                      : llvm::CodeGenFileType::AssemblyFile;
  if (tm.addPassesToEmitFile(pm, os, nullptr, fileType))
    return llvm::make_error<InternalError>("internal error: target '" +
                                           tm.getTargetTriple().str() +
                                           "' cannot emit this file type");
  pm.run(module);
  return std::string(buffer.str());
}

} // namespace mnc
