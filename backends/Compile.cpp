// compileModule: read the schedule the passes wrote, lower, optimize, emit,
// write the header.
#include "backends/Compile.h"
#include "backends/HeaderWriter.h"
#include "backends/llvm/CodeGen.h"
#include "backends/llvm/Lowering.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

namespace mnc {

llvm::Expected<const Function *> entryFunction(const Module &m) {
  for (const Function &f : m.functions)
    if (f.name == "main" || m.functions.size() == 1)
      return &f;
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "module has no function @main");
}

/// Bytes of the constant globals of `m`, as the object stores them.
static int64_t constantBytes(const llvm::Module &m) {
  int64_t total = 0;
  for (const llvm::GlobalVariable &g : m.globals())
    if (g.isConstant() && g.hasInitializer())
      total += m.getDataLayout().getTypeAllocSize(g.getValueType());
  return total;
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
  llvm::LLVMContext ctx;
  auto module = lowerFunction(**f, *plan, opts.name, **tm, ctx);
  if (!module)
    return module.takeError();
  optimizeModule(**module, **tm);
  CompileResult result;
  result.header = writeHeader(**f, *plan, opts.name);
  result.plan = std::move(*plan);
  result.weightBytes = constantBytes(**module);
  if (emit == EmitKind::Nothing)
    return result;
  if (emit == EmitKind::LLVMIR) {
    llvm::raw_string_ostream os(result.code);
    (*module)->print(os, nullptr);
    return result;
  }
  auto code = emitMachineCode(**module, **tm,
                              emit == EmitKind::Object ? FileKind::Object
                                                       : FileKind::Assembly);
  if (!code)
    return code.takeError();
  result.code = std::move(*code);
  return result;
}

} // namespace mnc
