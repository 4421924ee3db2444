// `mnc run`: runs a model on tensors from files and writes each output as
// DIR/<output name>.npy (the name %-escaped as a file name). With --reference
// the IR interpreter computes the outputs from the module after the pass
// pipeline (--reference=imported: as imported); without it, the model is
// compiled (for the host or --target), linked with a generated driver by `cc`
// (AArch64 Linux: by `aarch64-linux-gnu-gcc -static`, run under `qemu-aarch64`;
// Cortex-M: semihosted firmware by `arm-none-eabi-gcc`, run under
// `qemu-system-arm`) and run.
#include "backends/Compile.h"
#include "compiler/TensorIO.h"
#include "compiler/tools/Command.h"
#include "compiler/tools/ProfileReport.h"
#include "ir/Interpreter.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <fmt/format.h>

namespace mnc::tool {
namespace {
namespace cl = llvm::cl;

cl::SubCommand runCommand("run", "Run a model on input tensors");

cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<MODEL.onnx|MODEL.mnir>"),
                               cl::sub(runCommand));
cl::list<std::string> inputFlags("input",
                                 cl::desc("Input tensor file (.npy or .pb) "
                                          "for a graph input (repeatable)"),
                                 cl::value_desc("NAME=FILE"),
                                 cl::sub(runCommand), cl::cat(inputOptions()));
cl::opt<std::string> outputDir("output-dir", cl::Required,
                               cl::desc("Folder for the output .npy files "
                                        "(created if missing), one per "
                                        "output: NAME.npy, with bytes of "
                                        "NAME outside [A-Za-z0-9_.-] (and "
                                        "a leading '.') as %XX"),
                               cl::value_desc("DIR"), cl::sub(runCommand),
                               cl::cat(outputOptions()));
/// What computes the outputs: compiled code, or the reference interpreter
/// on the module after the pipeline or as imported.
enum class Engine { Compiled, Reference, ReferenceImported };
cl::opt<Engine> engine(
    "reference",
    cl::desc("Run the reference interpreter instead of compiled "
             "code"),
    cl::ValueOptional, cl::init(Engine::Compiled),
    cl::values(clEnumValN(Engine::Reference, "",
                          "on the module after the pass pipeline (the "
                          "integer form of QDQ models)"),
               clEnumValN(Engine::ReferenceImported, "imported",
                          "on the module as imported (QDQ as dequantize, "
                          "f32 op, quantize)")),
    cl::sub(runCommand), cl::cat(targetOptions()));
TargetFlags target(
    runCommand,
    "Compile for this triple (default: host); besides the host, "
    "aarch64-linux-gnu runs (linked by aarch64-linux-gnu-gcc -static, run by "
    "qemu-aarch64) and so do thumbv7em-none-eabihf with --mcpu "
    "cortex-m4|cortex-m7 and thumbv8.1m.main-none-eabihf with --mcpu "
    "cortex-m55 (semihosted firmware linked by arm-none-eabi-gcc, run by "
    "qemu-system-arm on mps2-an386, mps2-an500 or mps3-an547)");

cl::opt<bool> profile(
    "profile",
    cl::desc("Compiled code only: also time every kernel call over "
             "--profile-runs runs (a build with NAME_run_profiled) and print "
             "the median per call and per layer kind (stem, expand, "
             "depthwise, project, squeeze-excite, tail, other); on this "
             "machine only"),
    cl::sub(runCommand), cl::cat(outputOptions()));
cl::opt<unsigned> profileRuns("profile-runs",
                              cl::desc("Runs --profile times (default 20)"),
                              cl::init(20), cl::value_desc("N"),
                              cl::sub(runCommand), cl::cat(outputOptions()));

llvm::Error fail(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// An output name as a file name, distinct for distinct names: bytes
/// outside [A-Za-z0-9_.-] and a leading '.' become %XX (hex), as in URLs;
/// the empty name is "%".
std::string fileNameOf(llvm::StringRef name) {
  if (name.empty())
    return "%";
  std::string out;
  for (unsigned char c : name) {
    bool plain =
        llvm::isAlnum(c) || c == '_' || c == '-' || (c == '.' && !out.empty());
    out += plain ? std::string(1, char(c)) : fmt::format("%{:02X}", c);
  }
  return out;
}

/// One tensor per argument of `f`, read from the --input flags.
llvm::Expected<std::vector<Tensor>> readInputs(const Function &f) {
  std::vector<std::optional<Tensor>> bound(f.args.size());
  for (llvm::StringRef flag : inputFlags) {
    auto [name, path] = flag.split('=');
    if (path.empty())
      return fail(fmt::format("--input '{}' is not NAME=FILE", flag.str()));
    auto it = llvm::find(f.argNames, name);
    if (it == f.argNames.end())
      return fail(fmt::format("--input names '{}', but the model's inputs "
                              "are: {}",
                              name.str(), fmt::join(f.argNames, ", ")));
    size_t i = it - f.argNames.begin();
    auto t = readTensorFile(path);
    if (!t)
      return t.takeError();
    const TensorType &want = f.type(f.args[i]);
    // Quantized inputs are given as their raw integers.
    if (t->type.elem != want.elem || t->type.shape != want.shape)
      return fail(fmt::format("input '{}': file '{}' holds {}, the model "
                              "expects {}",
                              name.str(), path.str(), toString(t->type),
                              toString(want)));
    t->type = want;
    bound[i] = std::move(*t);
  }
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < bound.size(); ++i) {
    if (!bound[i])
      return fail(fmt::format("missing --input {}=FILE ({})", f.argNames[i],
                              toString(f.type(f.args[i]))));
    inputs.push_back(std::move(*bound[i]));
  }
  return inputs;
}

int run() {
  TargetSpec spec = target.spec();
  bool reference = engine != Engine::Compiled;
  if (reference &&
      (!spec.triple.empty() || !spec.cpu.empty() || !spec.features.empty()))
    return reportError(fail("--target, --mcpu and --mattr choose what to "
                            "compile; they do not apply to --reference"));
  if (reference && profile)
    return reportError(fail("--profile times compiled code; it does not "
                            "apply to --reference"));
  if (profile && profileRuns == 0)
    return reportError(fail("--profile-runs must be at least 1"));
  if (!reference)
    if (auto err = checkRunTarget(spec))
      return reportError(std::move(err));
  auto module = engine == Engine::ReferenceImported ? loadModel(modelPath)
                 : reference ? loadPipelined(modelPath)
                             : loadScheduled(modelPath, spec);
  if (!module)
    return reportError(module.takeError());
  Function *f = module->lookup("main");
  if (!f)
    return reportError(fail("the module has no function @main"));
  auto inputs = readInputs(*f);
  if (!inputs)
    return reportError(inputs.takeError());
  RunProfile timing{profileRuns, {}, {}};
  auto outputs = reference ? interpret(*f, *inputs)
                           : runCompiled(*module, *inputs, CompileOptions{spec},
                                         profile ? &timing : nullptr);
  // The inputs were checked against the model above. What fails now is an
  // op or type the backend does not support (exit 2), data that an op
  // rejects at run time, as an index out of range (the interpreter's
  // errors, and NAME_ERR_INDEX from compiled code: exit 1), or the harness
  // (InternalError, exit 3).
  if (!outputs)
    return reportError(outputs.takeError());
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return reportError(fail(fmt::format("cannot create '{}': {}",
                                        outputDir.getValue(), ec.message())));
  // An output with a data-dependent length is written as its valid part.
  std::vector<int> counts = countResults(*f);
  for (size_t i = 0; i < outputs->size(); ++i)
    if (counts[i] >= 0) {
      Tensor &t = (*outputs)[i];
      int64_t rows = (*outputs)[counts[i]].data<int32_t>()[0];
      if (rows < 0 || rows > t.type.shape[0])
        return reportError(fail(
            fmt::format("output '{}' has count {}, outside its capacity {}",
                        f->resultNames[i], rows, t.type.shape[0])));
      t.type.shape[0] = rows;
      t.bytes.resize(t.type.byteSize());
    }
  for (size_t i = 0; i < outputs->size(); ++i) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, fileNameOf(f->resultNames[i]) + ".npy");
    if (auto err = writeNpy(path, (*outputs)[i]))
      return reportError(std::move(err));
    llvm::outs() << fmt::format("{}: {} -> {}\n", f->resultNames[i],
                                toString((*outputs)[i].type), path.str().str());
  }
  if (profile)
    llvm::outs() << profileReport(*f, timing);
  return Success;
}

Registration registration(runCommand, run);

} // namespace
} // namespace mnc::tool
