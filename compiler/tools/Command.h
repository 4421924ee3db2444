// The pieces the `mnc` subcommands share: a registry the dispatcher runs
// them from, exit codes, error reporting and model loading.
#pragma once

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
/// IR module (`.mnir`, parsed and verified).
llvm::Expected<Module> loadModel(llvm::StringRef path);

} // namespace mnc::tool
