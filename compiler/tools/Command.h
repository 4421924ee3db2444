// The pieces the `mnc` subcommands share: a registry the dispatcher runs
// them from, exit codes, error reporting and model loading.
#pragma once

#include "backends/Target.h"
#include "compiler/Pipeline.h"
#include "ir/IR.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

namespace mnc::tool {

/// Exit codes of `mnc`, documented in `mnc --help`.
enum ExitCode : int {
  Success = 0,
  /// Bad flags, unreadable or malformed files, wrong inputs.
  InputError = 1,
  /// The model needs ops, attribute values or types mnc does not support.
  Unsupported = 2,
  /// A failure inside mnc (a bug).
  InternalError = 3,
};

/// The groups `mnc SUBCOMMAND --help` lists options under: what goes into
/// the model, what it is compiled for, and what comes out.
llvm::cl::OptionCategory &inputOptions();
llvm::cl::OptionCategory &quantizeOptions();
llvm::cl::OptionCategory &targetOptions();
llvm::cl::OptionCategory &outputOptions();

/// Hides every option outside mnc's own groups (LLVM's internal ones) from
/// `--help` of mnc and of each subcommand.
void hideLLVMOptions();

/// --target, --mcpu and --mattr of one subcommand.
struct TargetFlags {
  TargetFlags(llvm::cl::SubCommand &sub, const char *tripleHelp);
  TargetSpec spec() const { return {triple, cpu, features}; }

  llvm::cl::opt<std::string> triple, cpu, features;
};

/// Registers a subcommand's entry point; each subcommand file defines one
/// static Registration.
struct Registration {
  Registration(llvm::cl::SubCommand &sub, int (*run)());
};

/// The entry point of the subcommand chosen on the command line, or null.
int (*selectedCommand())();

/// Prints every line of `err` to stderr as "error: ..." and returns the
/// exit code for its kind.
int reportError(llvm::Error err);

/// Loads an ONNX model (imported with the --input-shape flags) or a textual
/// IR module (`.mnir`, parsed and verified), quantized if --quantize says so.
llvm::Expected<Module> loadModel(llvm::StringRef path);

/// loadModel, then the pass pipeline (kernels chosen for `opts.target`):
/// the module the backend lowers, or with the portable default target the
/// one `run --reference` interprets.
llvm::Expected<Module> loadPipelined(llvm::StringRef path,
                                     const PipelineOptions &opts = {});
/// loadPipelined with kernels chosen for the target `spec`.
llvm::Expected<Module> loadScheduled(llvm::StringRef path,
                                     const TargetSpec &spec,
                                     PipelineOptions opts = {});

} // namespace mnc::tool
