// Helpers for checking the interpreter against the ONNX backend node tests
// (Debian libonnx-testdata): reading their TensorProto files, running a
// small function and comparing results.
#pragma once

#include "ir/IR.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace mnc::test {

/// Reads an ONNX TensorProto file (f32, u8, i8, i32 or i64).
llvm::Expected<Tensor> readTensorProto(const std::string &path);

struct NodeTestData {
  std::vector<Tensor> inputs, outputs;
};

/// Loads test_data_set_0 of the ONNX node test `name`.
llvm::Expected<NodeTestData> loadNodeTest(const std::string &name);

/// Loads test_data_set_0 of a case laid out like an ONNX node test in
/// `dir` (e.g. the ONNX Runtime cases in test/unit/data).
llvm::Expected<NodeTestData> loadTestDir(const std::string &dir);

/// Same element kind and shape (quantization parameters are not compared:
/// the ONNX files carry none); f32 elements within 1e-5 absolute plus 1e-5
/// relative, integers exact.
::testing::AssertionResult tensorsMatch(const Tensor &actual,
                                        const Tensor &expected);

/// Adds ops to a function whose arguments are given, returning its results.
using BuildFn = std::function<llvm::Expected<llvm::SmallVector<ValueId, 1>>(
    Builder &, llvm::ArrayRef<ValueId>)>;

/// Builds a function with one argument per input (of the input's type),
/// interprets it on `inputs` and compares the results with `expected`.
::testing::AssertionResult runsLike(llvm::ArrayRef<Tensor> inputs,
                                    const BuildFn &build,
                                    llvm::ArrayRef<Tensor> expected);

/// The ONNX node tests of Resize with the attributes the importer gives
/// them (scales and sizes folded, defaults filled in).
std::vector<std::pair<std::string, Attrs>> resizeNodeTests();

/// `t` with its type carrying per-tensor quantization parameters.
Tensor withQuant(Tensor t, float scale, int32_t zeroPoint);

} // namespace mnc::test
