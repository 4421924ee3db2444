// Subcommand registry, exit codes and model loading for `mnc`.
#include "compiler/tools/Command.h"
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

static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Pin the shape of a graph input, e.g. "
                         "input=1x3x224x224 (repeatable)"),
                cl::value_desc("NAME=DIMS"), cl::sub(cl::SubCommand::getAll()));

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
  return opts;
}

llvm::Expected<Module> loadModel(llvm::StringRef path) {
  if (!path.ends_with(".mnir")) {
    auto opts = importOptions();
    if (!opts)
      return opts.takeError();
    return importOnnxFile(path, *opts);
  }
  if (!inputShapes.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--input-shape applies to ONNX models, "
                                   "not IR files");
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

} // namespace mnc::tool
