// compileModule: read the schedule the passes wrote, lower, optimize, emit,
// write the header.
#include "backends/Compile.h"
#include "backends/HeaderWriter.h"
#include "backends/llvm/CodeGen.h"
#include "backends/llvm/Lowering.h"
#include "ir/Errors.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

namespace mnc {

llvm::Expected<const Function *> entryFunction(const Module &m) {
  for (const Function &f : m.functions)
    if (f.name == "main" || m.functions.size() == 1)
      return &f;
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "module has no function @main");
}

/// Bytes of the constant globals of `m` that code uses, as the object
/// stores them.
static int64_t constantBytes(const llvm::Module &m) {
  int64_t total = 0;
  for (const llvm::GlobalVariable &g : m.globals())
    if (g.isConstant() && g.hasInitializer() && !g.use_empty())
      total += m.getDataLayout().getTypeAllocSize(g.getValueType());
  return total;
}

/// The arena and every caller buffer must be addressable with the target's
/// pointer-sized signed offsets (the lowering's index type): on a 32-bit
/// target, at most 2^31 - 1 bytes, else offsets would wrap negative.
static llvm::Error checkAddressable(const Function &f, const MemoryPlan &plan,
                                    const llvm::TargetMachine &tm) {
  unsigned bits = tm.createDataLayout().getPointerSizeInBits();
  if (bits >= 64)
    return llvm::Error::success();
  int64_t limit = (int64_t(1) << (bits - 1)) - 1;
  auto tooBig = [&](llvm::StringRef what, int64_t bytes) {
    return llvm::make_error<UnsupportedError>(fmt::format(
        "{} needs {} bytes, more than the {} that a {}-bit target ({}) can "
        "address",
        what.str(), bytes, limit, bits, tm.getTargetTriple().str()));
  };
  if (plan.size > limit)
    return tooBig("the scratch arena", plan.size);
  for (size_t i = 0; i < f.args.size(); ++i)
    if (f.type(f.args[i]).byteSize() > limit)
      return tooBig("input '" + f.argNames[i] + "'",
                    f.type(f.args[i]).byteSize());
  for (size_t i = 0; i < f.results.size(); ++i)
    if (f.type(f.results[i]).byteSize() > limit)
      return tooBig("output '" + f.resultNames[i] + "'",
                    f.type(f.results[i]).byteSize());
  return llvm::Error::success();
}

llvm::Expected<CompileResult>
compileModule(const Module &m, const CompileOptions &opts, EmitKind emit) {
  if (auto err = checkSymbolName(opts.name))
    return err;
  auto f = entryFunction(m);
  if (!f)
    return f.takeError();
  auto tm = createTargetMachine(opts.target);
  if (!tm)
    return tm.takeError();
  auto plan = readMemoryPlan(**f);
  if (!plan)
    return plan.takeError();
  if (auto err = checkAddressable(**f, *plan, **tm))
    return err;
  llvm::LLVMContext ctx;
  auto lowered = lowerFunction(**f, *plan, opts.name, **tm, ctx, opts.profile);
  if (!lowered)
    return lowered.takeError();
  llvm::Module &module = *lowered->module;
  CompileResult result;
  result.header = writeHeader(**f, *plan, opts.name, lowered->taskWorkspace,
                              opts.profile ? &lowered->profileSteps : nullptr);
  result.plan = std::move(*plan);
  result.profileSteps = lowered->profileSteps;
  // Counting the weights needs only the passes that drop and merge
  // constants; O3 on a long chain of ops would take minutes.
  optimizeModule(module, **tm,
                 emit == EmitKind::Nothing ? Optimization::Constants
                                           : Optimization::Full);
  result.weightBytes = constantBytes(module);
  if (emit == EmitKind::Nothing)
    return result;
  if (emit == EmitKind::LLVMIR) {
    llvm::raw_string_ostream os(result.code);
    module.print(os, nullptr);
    return result;
  }
  auto code = emitMachineCode(module, **tm,
                              emit == EmitKind::Object ? FileKind::Object
                                                       : FileKind::Assembly);
  if (!code)
    return code.takeError();
  result.code = std::move(*code);
  return result;
}

} // namespace mnc
