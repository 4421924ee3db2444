// Dead code elimination: an op is live when a function result depends on
// it. Function::compact does the work; every op is side-effect free.
#include "passes/Passes.h"

namespace mnc {

llvm::Error deadCodeElimination(Module &m) {
  for (Function &f : m.functions)
    f.compact();
  return llvm::Error::success();
}

} // namespace mnc
