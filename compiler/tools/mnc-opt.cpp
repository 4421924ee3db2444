// mnc-opt: reads textual IR, verifies it, runs the passes named on the
// command line in their order and prints the result. It is the driver of
// the IR and pass lit tests.
#include "backends/Target.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mnc;
namespace cl = llvm::cl;

static cl::OptionCategory category("mnc-opt options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::opt<bool>
    splitInputFile("split-input-file",
                   cl::desc("Process each '// -----' chunk separately"),
                   cl::cat(category));
static cl::opt<int64_t> elideConstants(
    "elide-constants",
    cl::desc("Print constants with more than N elements as dense_elided"),
    cl::value_desc("N"), cl::init(-1), cl::cat(category));

static cl::opt<std::string> triple(
    "target",
    cl::desc("Target triple that schedule passes choose kernels for "
             "(default: none, portable scalar kernels)"),
    cl::value_desc("triple"), cl::cat(category));
static cl::opt<std::string> cpu("mcpu", cl::desc("Target CPU, with --target"),
                                cl::value_desc("name"), cl::cat(category));
static cl::opt<std::string>
    features("mattr", cl::desc("Target features (+a,-b), with --target"),
             cl::value_desc("features"), cl::cat(category));

static cl::opt<int64_t>
    maxRam("max-ram", cl::desc("The scratch budget fuse-blocks fits, in bytes"),
           cl::value_desc("BYTES"), cl::cat(category));

/// The pass flags, kept in command-line order.
static cl::list<const PassInfo *, bool, cl::parser<const PassInfo *>>
    passList(cl::desc("Passes, run in the order given:"), cl::cat(category));

static constexpr llvm::StringLiteral splitMarker = "// -----";

/// The shared libLLVM already defines --print-after-all (for LLVM passes);
/// mnc-opt adopts that option instead of registering a clashing one.
static cl::opt<bool> &printAfterAllOption() {
  auto *option = static_cast<cl::opt<bool> *>(
      cl::getRegisteredOptions().lookup("print-after-all"));
  assert(option && "libLLVM defines --print-after-all");
  return *option;
}

/// Parses, verifies, transforms and prints one module; false on error.
static bool processChunk(llvm::StringRef text, llvm::StringRef bufferName,
                         const PassOptions &passOpts, llvm::raw_ostream &os) {
  auto report = [](llvm::Error err) {
    llvm::errs() << llvm::toString(std::move(err)) << '\n';
    return false;
  };
  auto module = parseModule(text, bufferName);
  if (!module)
    return report(module.takeError());
  if (auto err = verifyModule(*module))
    return report(std::move(err));
  PrintOptions opts;
  opts.elideConstantsLargerThan = elideConstants;
  for (const PassInfo *pass : passList) {
    if (auto err = pass->run(*module, passOpts))
      return report(llvm::createStringError(
          llvm::inconvertibleErrorCode(), "error: --%s: %s", pass->flag.data(),
          llvm::toString(std::move(err)).c_str()));
    // A pass that breaks the IR is caught here, next to its name.
    if (auto err = verifyModule(*module))
      return report(llvm::createStringError(
          llvm::inconvertibleErrorCode(), "%s (after --%s)",
          llvm::toString(std::move(err)).c_str(), pass->flag.data()));
    if (printAfterAllOption()) {
      llvm::errs() << "// IR after --" << pass->flag << "\n";
      printModule(*module, llvm::errs(), opts);
    }
  }
  printModule(*module, os, opts);
  return true;
}

/// Splits at '// -----' lines. Each chunk keeps the newlines before it so
/// that error lines match the whole file.
static std::vector<std::string> splitChunks(llvm::StringRef text) {
  std::vector<std::string> chunks;
  std::string current;
  size_t lineNumber = 0, chunkStart = 0;
  llvm::SmallVector<llvm::StringRef, 0> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    if (line.trim().starts_with(splitMarker)) {
      chunks.push_back(std::move(current));
      chunkStart = lineNumber + 1;
      current = std::string(chunkStart, '\n');
    } else {
      current += line;
      current += '\n';
    }
    ++lineNumber;
  }
  chunks.push_back(std::move(current));
  return chunks;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  for (const PassInfo &pass : allPasses())
    passList.getParser().addLiteralOption(pass.flag, &pass, pass.description);
  printAfterAllOption().setDescription(
      "Print the IR to stderr after every pass");
  printAfterAllOption().addCategory(category);
  printAfterAllOption().setHiddenFlag(cl::NotHidden);
  cl::HideUnrelatedOptions(category);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "mnc-opt version " << MNC_VERSION << '\n';
  });
  cl::ParseCommandLineOptions(argc, argv,
                              "mnc IR optimizer: IR text -> passes -> IR "
                              "text\n");

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buffer) {
    llvm::WithColor::error()
        << inputFile << ": " << buffer.getError().message() << '\n';
    return 1;
  }
  std::error_code ec;
  llvm::ToolOutputFile output(outputFile, ec, llvm::sys::fs::OF_None);
  if (ec) {
    llvm::WithColor::error() << outputFile << ": " << ec.message() << '\n';
    return 1;
  }
  // A pass named on the command line does its work: --quantize quantizes.
  PassOptions passOpts;
  passOpts.quantizeWeights = true;
  if (maxRam.getNumOccurrences())
    passOpts.maxRam = maxRam;
  if (!triple.empty()) {
    auto target = kernelTarget({triple, cpu, features});
    if (!target) {
      llvm::WithColor::error() << llvm::toString(target.takeError()) << '\n';
      return 1;
    }
    passOpts.target = *target;
  } else if (!cpu.empty() || !features.empty()) {
    llvm::WithColor::error() << "--mcpu and --mattr need --target\n";
    return 1;
  }
  llvm::StringRef text = (*buffer)->getBuffer();
  llvm::StringRef bufferName = inputFile == "-" ? llvm::StringRef("<stdin>")
                                                : llvm::StringRef(inputFile);
  bool ok = true;
  if (!splitInputFile) {
    ok = processChunk(text, bufferName, passOpts, output.os());
  } else {
    std::vector<std::string> chunks = splitChunks(text);
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i)
        output.os() << splitMarker << '\n';
      // Keep outputs and errors in order when both go to a terminal or pipe.
      output.os().flush();
      ok &= processChunk(chunks[i], bufferName, passOpts, output.os());
    }
  }
  output.keep();
  return ok ? 0 : 1;
}
