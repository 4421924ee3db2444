// The report of `mnc run --profile`: the median time of each kernel call
// of a profiling build and the totals per MobileNet layer kind.
#pragma once

#include "backends/Compile.h"

#include <string>

namespace mnc::tool {

/// What layer of a MobileNet op `op` of `f` is: "stem" (the first conv),
/// "expand" and "project" (1x1 convs widening or narrowing the channels),
/// "depthwise" (grouped convs), "squeeze-excite" (1x1 convs on a 1x1
/// image), "conv" (any other conv), "tail" (everything after the last conv
/// with a spatial output: global pool, classifier) or "other"
/// (elementwise, data movement, quantization).
llvm::StringRef layerKind(const Function &f, size_t op);

/// The table of `profile`'s steps (median over its runs) and the totals per
/// layer kind.
std::string profileReport(const Function &f, const RunProfile &profile);

} // namespace mnc::tool
