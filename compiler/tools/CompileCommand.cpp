// `mnc compile`: a model in, one object file (or assembly, LLVM IR or mnc
// IR text) and optionally the C header out, for any supported target.
#include "backends/Compile.h"
#include "compiler/tools/Command.h"
#include "ir/Printer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
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
cl::opt<bool> profile(
    "profile",
    cl::desc("Also emit NAME_run_profiled, which times every kernel call "
             "with a clock the caller passes (an mnc_profiler; the header "
             "names the steps). `mnc run --profile` prints such timings"),
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

llvm::Error cannotWrite(llvm::StringRef path, std::error_code ec) {
  return fail(fmt::format("cannot write '{}': {}", path.str(), ec.message()));
}

/// Writes `bytes` to `os` and flushes it (closing it if it owns its
/// descriptor); a write error (a full disk) is returned rather than left
/// for LLVM's fatal "IO failure".
std::error_code writeOut(llvm::raw_fd_ostream &os, llvm::StringRef bytes,
                         bool close) {
  os << bytes;
  if (close)
    os.close();
  else
    os.flush();
  std::error_code ec = os.error();
  os.clear_error();
  return ec;
}

/// An output file that replaces what is at its path only on commit(): its
/// bytes go to a temporary file in the same folder, renamed over the path
/// once every output has been written, so that a failure leaves the user's
/// files as they were and no temporary behind. Stdout ("-") and existing
/// files that are not regular (/dev/null, a FIFO) are written in place:
/// renaming over them would replace the device.
class StagedFile {
public:
  static llvm::Expected<StagedFile> write(llvm::StringRef path,
                                          llvm::StringRef bytes) {
    namespace fs = llvm::sys::fs;
    StagedFile file(path);
    fs::file_status status;
    if (path == "-" ||
        (!fs::status(path, status) && fs::exists(status) &&
         !fs::is_regular_file(status) && !fs::is_directory(status))) {
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      if (ec || (ec = writeOut(os, bytes, /*close=*/true)))
        return cannotWrite(path, ec);
      return file;
    }
    auto temp =
        fs::TempFile::create(path + ".tmp%%%%%%", fs::all_read | fs::all_write);
    if (!temp)
      return cannotWrite(path, llvm::errorToErrorCode(temp.takeError()));
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    if (std::error_code ec = writeOut(os, bytes, /*close=*/false)) {
      llvm::consumeError(temp->discard());
      return cannotWrite(path, ec);
    }
    file.temp.emplace(std::move(*temp));
    return file;
  }

  StagedFile(StagedFile &&other)
      : path(std::move(other.path)), temp(std::move(other.temp)) {
    other.temp.reset();
  }
  ~StagedFile() {
    if (temp)
      llvm::consumeError(temp->discard());
  }

  /// Renames the temporary file over the path.
  llvm::Error commit() {
    if (!temp)
      return llvm::Error::success();
    llvm::Error err = temp->keep(path);
    temp.reset();
    if (err)
      return cannotWrite(path, llvm::errorToErrorCode(std::move(err)));
    return llvm::Error::success();
  }

private:
  explicit StagedFile(llvm::StringRef path) : path(path.str()) {}
  std::string path;
  std::optional<llvm::sys::fs::TempFile> temp;
};

/// Writes each (path, bytes) pair, all or none of the regular files.
llvm::Error
writeFiles(llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> files) {
  std::vector<StagedFile> staged;
  for (auto [path, bytes] : files) {
    auto file = StagedFile::write(path, bytes);
    if (!file)
      return file.takeError();
    staged.push_back(std::move(*file));
  }
  for (StagedFile &file : staged)
    if (auto err = file.commit())
      return err;
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
  auto module = loadScheduled(modelPath, target.spec(), pipeline);
  if (!module)
    return module.takeError();
  if (emitKind == Emit::IR)
    return writeFiles({{outputPath, toText(*module)}});
  CompileOptions opts;
  opts.target = target.spec();
  opts.name = symbolName.empty() ? defaultName(modelPath) : symbolName;
  opts.profile = profile;
  EmitKind kind = emitKind == Emit::Asm    ? EmitKind::Assembly
                  : emitKind == Emit::LLVM ? EmitKind::LLVMIR
                                           : EmitKind::Object;
  auto result = compileModule(*module, opts, kind);
  if (!result)
    return result.takeError();
  if (headerPath.empty())
    return writeFiles({{outputPath, result->code}});
  return writeFiles({{outputPath, result->code}, {headerPath, result->header}});
}

int run() {
  if (auto err = compile())
    return reportError(std::move(err));
  return Success;
}

Registration registration(compileCommand, run);

} // namespace
} // namespace mnc::tool
