// Reads the textual IR written by ir/Printer.h. Values may have any
// `%name`; tensor attributes take the type of the op's first result. Each op
// is checked with verifyOp (ir/Verifier.h) once the module is read, so type
// errors carry the line of the op.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace mnc {

/// Parses a module. Errors read `NAME:LINE:COL: error: message`, NAME being
/// `bufferName`. `dense_elided` constants are rejected: their values are
/// gone.
llvm::Expected<Module> parseModule(llvm::StringRef text,
                                   llvm::StringRef bufferName = "<stdin>");

} // namespace mnc
