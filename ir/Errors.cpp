// Error kinds shared by the importer, the backend and the driver.
#include "ir/Errors.h"

namespace mnc {

char UnsupportedError::ID;
char InternalError::ID;

llvm::Error prefixError(llvm::StringRef prefix, llvm::Error err) {
  bool unsupported = err.isA<UnsupportedError>();
  bool internal = err.isA<InternalError>();
  std::string message = prefix.str() + llvm::toString(std::move(err));
  if (unsupported)
    return llvm::make_error<UnsupportedError>(std::move(message));
  if (internal)
    return llvm::make_error<InternalError>(std::move(message));
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace mnc
