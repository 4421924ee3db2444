// Subcommand registry, exit codes and model loading for `mnc`.
#include "compiler/tools/Command.h"
#include "compiler/TensorIO.h"
#include "compiler/onnx/Importer.h"
#include "ir/Errors.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <vector>

namespace mnc::tool {
namespace cl = llvm::cl;

cl::OptionCategory &inputOptions() {
  static cl::OptionCategory category("Input options");
  return category;
}
cl::OptionCategory &targetOptions() {
  static cl::OptionCategory category("Target options");
  return category;
}
cl::OptionCategory &outputOptions() {
  static cl::OptionCategory category("Output options");
  return category;
}

static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Pin the shape of a graph input, e.g. "
                         "input=1x3x224x224 (repeatable)"),
                cl::value_desc("NAME=DIMS"), cl::sub(cl::SubCommand::getAll()),
                cl::cat(inputOptions()));

static cl::list<std::string>
    bindings("bind",
             cl::desc("Freeze a graph input to the tensor in FILE (.npy or "
                      ".pb), e.g. the shape or scales of a Reshape or "
                      "Resize; it is no longer an input (repeatable)"),
             cl::value_desc("NAME=FILE"), cl::sub(cl::SubCommand::getAll()),
             cl::cat(inputOptions()));

TargetFlags::TargetFlags(cl::SubCommand &sub, const char *tripleHelp)
    : triple("target", cl::desc(tripleHelp), cl::value_desc("TRIPLE"),
             cl::sub(sub), cl::cat(targetOptions())),
      cpu("mcpu",
          cl::desc("Target CPU, e.g. x86-64-v3, cortex-a76, cortex-m7; "
                   "'native' is the host CPU with all its features "
                   "(default: native for the host, generic otherwise)"),
          cl::value_desc("CPU"), cl::sub(sub), cl::cat(targetOptions())),
      features("mattr",
               cl::desc("Target features added to or removed from the CPU's, "
                        "e.g. +avx2,-fma or +dotprod"),
               cl::value_desc("+a,-b"), cl::sub(sub),
               cl::cat(targetOptions())) {}

namespace {
struct Entry {
  cl::SubCommand *sub;
  int (*run)();
};
std::vector<Entry> &registry() {
  static std::vector<Entry> entries;
  return entries;
}
} // namespace

Registration::Registration(cl::SubCommand &sub, int (*run)()) {
  registry().push_back({&sub, run});
}

void hideLLVMOptions() {
  llvm::SmallVector<const cl::OptionCategory *, 3> ours = {
      &inputOptions(), &targetOptions(), &outputOptions()};
  cl::HideUnrelatedOptions(ours);
  for (const Entry &e : registry())
    cl::HideUnrelatedOptions(ours, *e.sub);
}

int (*selectedCommand())() {
  for (const Entry &e : registry())
    if (*e.sub)
      return e.run;
  return nullptr;
}

int reportError(llvm::Error err) {
  int code = err.isA<UnsupportedError>()     ? Unsupported
             : err.isA<mnc::InternalError>() ? InternalError
                                             : InputError;
  std::string text = llvm::toString(std::move(err));
  llvm::SmallVector<llvm::StringRef, 8> lines;
  llvm::StringRef(text).split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef line : lines) {
    // Parser and verifier messages carry their own "error:" marker.
    if (line.contains("error: "))
      llvm::errs() << line << '\n';
    else
      llvm::WithColor::error(llvm::errs(), "mnc") << line << '\n';
  }
  return code;
}

static llvm::Expected<ImportOptions> importOptions() {
  ImportOptions opts;
  for (llvm::StringRef flag : inputShapes) {
    auto [name, dims] = flag.rsplit('=');
    std::vector<int64_t> shape;
    llvm::SmallVector<llvm::StringRef, 4> parts;
    dims.split(parts, 'x');
    bool ok = !name.empty() && !dims.empty();
    for (llvm::StringRef p : parts) {
      int64_t d;
      ok = ok && !p.getAsInteger(10, d) && d >= 0;
      shape.push_back(d);
    }
    if (!ok)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--input-shape '%s' is not NAME=DIMS (e.g. input=1x3x224x224)",
          flag.str().c_str());
    opts.inputShapes.emplace_back(name.str(), std::move(shape));
  }
  for (llvm::StringRef flag : bindings) {
    auto [name, path] = flag.split('=');
    if (name.empty() || path.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--bind '%s' is not NAME=FILE",
                                     flag.str().c_str());
    auto t = readTensorFile(path);
    if (!t)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--bind %s: %s", name.str().c_str(),
                                     toString(t.takeError()).c_str());
    opts.bindings.emplace_back(name.str(), std::move(*t));
  }
  return opts;
}

llvm::Expected<Module> loadModel(llvm::StringRef path) {
  if (!path.ends_with(".mnir")) {
    auto opts = importOptions();
    if (!opts)
      return opts.takeError();
    return importOnnxFile(path, *opts);
  }
  if (!inputShapes.empty() || !bindings.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--input-shape and --bind apply to ONNX "
                                   "models, not IR files");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read '%s': %s",
                                   path.str().c_str(),
                                   buffer.getError().message().c_str());
  auto m = parseModule((*buffer)->getBuffer(), path);
  if (!m)
    return m.takeError();
  if (auto err = verifyModule(*m))
    return err;
  return m;
}

llvm::Expected<Module> loadPipelined(llvm::StringRef path,
                                     const PipelineOptions &opts) {
  auto m = loadModel(path);
  if (!m)
    return m.takeError();
  if (auto err = runPipeline(*m, opts))
    return err;
  return m;
}

llvm::Expected<Module> loadScheduled(llvm::StringRef path,
                                     const TargetSpec &spec,
                                     PipelineOptions opts) {
  auto kernels = kernelTarget(spec);
  if (!kernels)
    return kernels.takeError();
  opts.target = *kernels;
  return loadPipelined(path, opts);
}

} // namespace mnc::tool
