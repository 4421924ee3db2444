// `mnc compile`: a model in, one object file (or assembly, LLVM IR or mnc
// IR text) and optionally the C header out, for any supported target.
#include "backends/Compile.h"
#include "compiler/tools/Command.h"
#include "ir/Printer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

namespace mnc::tool {
namespace {
namespace cl = llvm::cl;

cl::SubCommand compileCommand("compile",
                              "Compile a model to an object file and header");

cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<MODEL.onnx|MODEL.mnir>"),
                               cl::sub(compileCommand));
cl::opt<std::string> outputPath("o", cl::Required,
                                cl::desc("Output file (object by default)"),
                                cl::value_desc("OUT.o"),
                                cl::sub(compileCommand),
                                cl::cat(outputOptions()));
cl::opt<std::string> headerPath("header", cl::desc("Also write the C header"),
                                cl::value_desc("OUT.h"),
                                cl::sub(compileCommand),
                                cl::cat(outputOptions()));
cl::opt<std::string>
    symbolName("name",
               cl::desc("Prefix of the generated symbols and macros "
                        "(NAME_run, NAME_SCRATCH_SIZE, ...); default: the "
                        "model file name as a C identifier"),
               cl::value_desc("NAME"), cl::sub(compileCommand),
               cl::cat(outputOptions()));
TargetFlags target(compileCommand,
                   "Target triple (default: host): x86_64-linux-gnu, "
                   "aarch64-linux-gnu, thumbv7em-none-eabihf (Cortex-M4/M7), "
                   "thumbv8.1m.main-none-eabihf (Cortex-M55)");

enum class Emit { Obj, Asm, LLVM, IR };
cl::opt<Emit>
    emitKind("emit", cl::desc("What to write to -o"), cl::init(Emit::Obj),
             cl::values(clEnumValN(Emit::Obj, "obj", "object file (default)"),
                        clEnumValN(Emit::Asm, "asm", "target assembly"),
                        clEnumValN(Emit::LLVM, "llvm", "optimized LLVM IR"),
                        clEnumValN(Emit::IR, "ir",
                                   "mnc IR text after the pass pipeline")),
             cl::sub(compileCommand), cl::cat(outputOptions()));
cl::opt<bool> printAfterAll("print-after-all",
                            cl::desc("Print the IR to stderr after every "
                                     "pass of the pipeline"),
                            cl::sub(compileCommand), cl::cat(outputOptions()));
cl::opt<std::string> stopAfter("stop-after",
                               cl::desc("With --emit ir: stop the pipeline "
                                        "after this pass"),
                               cl::value_desc("PASS"), cl::sub(compileCommand),
                               cl::cat(outputOptions()));
cl::list<std::string>
    printAfter("print-after",
               cl::desc("Print the IR to stderr after this pass "
                        "(repeatable)"),
               cl::value_desc("PASS"), cl::sub(compileCommand),
               cl::cat(outputOptions()));

llvm::Error fail(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The model file's stem as a C identifier: "mobilenet-v2.onnx" gives
/// "mobilenet_v2".
std::string defaultName(llvm::StringRef path) {
  std::string name;
  for (char c : llvm::sys::path::stem(path))
    name.push_back(llvm::isAlnum(c) ? c : '_');
  if (name.empty() || llvm::isDigit(name.front()))
    name.insert(name.begin(), '_');
  return name;
}

llvm::Error writeFile(llvm::StringRef path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail(fmt::format("cannot write '{}': {}", path.str(), ec.message()));
  os << bytes;
  return llvm::Error::success();
}

llvm::Error compile() {
  if (!stopAfter.empty() && emitKind != Emit::IR)
    return fail("--stop-after needs --emit ir: the backend lowers only a "
                "module the whole pipeline scheduled");
  PipelineOptions pipeline;
  pipeline.stopAfter = stopAfter;
  pipeline.printAfterAll = printAfterAll;
  pipeline.printAfter.assign(printAfter.begin(), printAfter.end());
  auto module = loadPipelined(modelPath, pipeline);
  if (!module)
    return module.takeError();
  if (emitKind == Emit::IR)
    return writeFile(outputPath, toText(*module));
  CompileOptions opts;
  opts.target = target.spec();
  opts.name = symbolName.empty() ? defaultName(modelPath) : symbolName;
  EmitKind kind = emitKind == Emit::Asm    ? EmitKind::Assembly
                  : emitKind == Emit::LLVM ? EmitKind::LLVMIR
                                           : EmitKind::Object;
  auto result = compileModule(*module, opts, kind);
  if (!result)
    return result.takeError();
  if (auto err = writeFile(outputPath, result->code))
    return err;
  if (!headerPath.empty())
    return writeFile(headerPath, result->header);
  return llvm::Error::success();
}

int run() {
  if (auto err = compile())
    return reportError(std::move(err));
  return Success;
}

Registration registration(compileCommand, run);

} // namespace
} // namespace mnc::tool
