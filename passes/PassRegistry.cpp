// The pass table from passes/Passes.def.
#include "passes/Passes.h"

#include <type_traits>

namespace mnc {

/// Runs pass `F`, with the options if it takes them.
template <auto F> llvm::Error runPass(Module &m, const PassOptions &opts) {
  if constexpr (std::is_invocable_v<decltype(F), Module &, const PassOptions &>)
    return F(m, opts);
  else
    return F(m);
}

static const PassInfo passInfos[] = {
#define MNC_PASS(functionName, flag, description)                              \
  {flag, description, runPass<functionName>},
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
