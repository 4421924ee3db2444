// The thread-local builder stack behind IRValue constants.
#include "backends/llvm/IRValue.h"

#include <cassert>

namespace mnc::codegen {

static thread_local llvm::IRBuilder<> *current = nullptr;

IRValueScope::IRValueScope(llvm::IRBuilder<> &b) : previous(current) {
  current = &b;
}

IRValueScope::~IRValueScope() { current = previous; }

llvm::IRBuilder<> &IRValueScope::builder() {
  assert(current && "IRValue used outside an IRValueScope");
  return *current;
}

} // namespace mnc::codegen
