// The thread-local builder stack behind IRValue constants.
#include "backends/llvm/IRValue.h"

#include <cassert>

namespace mnc::codegen {

static thread_local llvm::IRBuilder<> *current = nullptr;
static thread_local llvm::Type *currentType = nullptr;

IRValueScope::IRValueScope(llvm::IRBuilder<> &b, llvm::Type *type)
    : previous(current), previousType(currentType) {
  current = &b;
  currentType = type ? type : b.getFloatTy();
}

IRValueScope::~IRValueScope() {
  current = previous;
  currentType = previousType;
}

llvm::IRBuilder<> &IRValueScope::builder() {
  assert(current && "IRValue used outside an IRValueScope");
  return *current;
}

llvm::Type *IRValueScope::valueType() {
  assert(currentType && "IRValue used outside an IRValueScope");
  return currentType;
}

} // namespace mnc::codegen
