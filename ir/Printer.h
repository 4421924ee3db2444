// Textual form of the mnc IR. One generic syntax serves every op, derived
// from the op table, so the printer never needs to know an op:
//
//   func @main(%arg0: f32[1,3,8,8] "input") -> (f32[1,4,8,8] "output") {
//     %0 = constant {value=dense_blob<@blob0>} : f32[4,3,3,3]
//     %1 = conv2d %arg0, %0 {dilations=[1,1], group=1, ...} : f32[1,4,8,8]
//     return %1
//   }
//   blobs {
//     @blob0 = "0000803F..."
//   }
//
// Values are renumbered in definition order (%argN for arguments, %N for op
// results) and attributes are sorted, so print(parse(print(m))) == print(m)
// byte for byte. Argument and result names (the quoted strings) are
// optional; a function's results are named in its signature and listed by
// `return`. Quantized types read `i8<0.5:-3>[4]` (scale:zero point) or
// `i8<axis=0:0.5:0,0.25:1>[2,8]` (per channel). Tensor attributes take the
// type of the op's first result; small ones are written inline as
// `dense<[1.0, 2.0]>` (row-major, integers for integer kinds), larger ones
// as little-endian hex in the module's trailing `blobs` section. `//`
// starts a comment that runs to the end of the line.
#pragma once

#include "ir/IR.h"

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mnc {

struct PrintOptions {
  /// Tensor attributes with more elements are printed as `dense_elided`,
  /// which the parser rejects; -1 prints every tensor in full.
  int64_t elideConstantsLargerThan = -1;
  /// Tensor attributes with more elements go to the `blobs` section.
  int64_t inlineConstantsUpTo = 16;
};

/// Prints `m` in the textual IR syntax.
void printModule(const Module &m, llvm::raw_ostream &os,
                 const PrintOptions &opts = {});
/// printModule into a string.
std::string toText(const Module &m, const PrintOptions &opts = {});

/// Writes `text` as a double-quoted IR string: printable ASCII other than
/// '"' and '\' as is, everything else as \XX hex.
void printQuoted(llvm::raw_ostream &os, llvm::StringRef text);

} // namespace mnc
