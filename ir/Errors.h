// Error kinds that decide how a failure is reported: the `mnc` driver maps
// UnsupportedError to exit code 2 and InternalError to 3; any other error
// means bad input (1). The importer and the backend both raise them.
#pragma once

#include "llvm/Support/Error.h"

#include <string>

namespace mnc {

/// The error returned when a model is well formed but uses ops, attribute
/// values or element types that mnc does not support; the message lists
/// each one with its ONNX node.
class UnsupportedError : public llvm::ErrorInfo<UnsupportedError> {
public:
  static char ID;
  explicit UnsupportedError(std::string message)
      : message(std::move(message)) {}
  void log(llvm::raw_ostream &os) const override { os << message; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  std::string message;
};

/// A failure inside mnc on valid input (a bug): invalid generated code, a
/// failing tool or test harness.
class InternalError : public llvm::ErrorInfo<InternalError> {
public:
  static char ID;
  explicit InternalError(std::string message) : message(std::move(message)) {}
  void log(llvm::raw_ostream &os) const override { os << message; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  std::string message;
};

/// `err` with `prefix` in front of its message, of the same kind
/// (unsupported, internal or other).
llvm::Error prefixError(llvm::StringRef prefix, llvm::Error err);

} // namespace mnc
