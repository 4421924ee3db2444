// mnc: the user-facing compiler driver. Subcommands (run, inspect,
// compile, ...) register themselves from their own files; this file only
// parses the command line and dispatches.
#include "compiler/tools/Command.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

static constexpr const char *overview =
    "mnc: ahead-of-time compiler for MobileNet-family ONNX models\n\n"
    "  mnc compile MODEL.onnx -o OUT.o [--header OUT.h] [--name NAME] "
    "[--target TRIPLE] [--mcpu CPU] [--mattr +a,-b] [--emit obj|asm|llvm|ir]\n"
    "  mnc run MODEL.onnx --input NAME=FILE.npy... --output-dir DIR "
    "[--reference | --target TRIPLE [--mcpu CPU]]\n"
    "  mnc inspect MODEL.onnx [--target TRIPLE] [--mcpu CPU] [--format "
    "text|json]\n\n"
    "Exit codes: 0 success; 1 bad flags, unreadable or malformed input; "
    "2 the model uses ops, attributes or types mnc does not support (all "
    "are listed); 3 internal error.\n";

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "mnc version " << MNC_VERSION << '\n';
  });
  mnc::tool::hideLLVMOptions();
  if (!llvm::cl::ParseCommandLineOptions(argc, argv, overview, &llvm::errs()))
    return mnc::tool::InputError;
  if (auto run = mnc::tool::selectedCommand())
    return run();
  llvm::errs() << "mnc: error: no subcommand given; see mnc --help\n";
  return mnc::tool::InputError;
}
