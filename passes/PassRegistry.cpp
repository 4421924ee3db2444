// The pass table from passes/Passes.def.
#include "passes/Passes.h"

namespace mnc {

static const PassInfo passInfos[] = {
#define MNC_PASS(functionName, flag, description)                              \
  {flag, description, functionName},
#include "passes/Passes.def"
};

llvm::ArrayRef<PassInfo> allPasses() { return passInfos; }

const PassInfo *lookupPass(llvm::StringRef flag) {
  for (const PassInfo &info : passInfos)
    if (info.flag == flag)
      return &info;
  return nullptr;
}

} // namespace mnc
