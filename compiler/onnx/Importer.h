// The ONNX importer: turns an ONNX model (fp32, QDQ int8 or ONNX Runtime
// QOperator int8) into a verified mnc module with static shapes. ONNX op
// names, attribute defaults and opset differences live only in this folder.
#pragma once

#include "ir/Errors.h"
#include "ir/IR.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace mnc {

struct ImportOptions {
  /// Pins the shape of graph inputs by name (`--input-shape`).
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// Freezes graph inputs to constants by name (`--bind`); a bound input
  /// is not an argument of the imported function.
  std::vector<std::pair<std::string, Tensor>> bindings;
};

/// Reads and imports an ONNX model: one function "main" whose argNames and
/// resultNames are the ONNX graph input and output names. Before failing,
/// the importer reports every problem it finds in the model, one per line.
llvm::Expected<Module> importOnnxFile(llvm::StringRef path,
                                      const ImportOptions &opts = {});

/// One line per supported ONNX op: "domain op_type opsets FIRST-LAST".
std::vector<std::string> supportedOnnxOps();

} // namespace mnc
