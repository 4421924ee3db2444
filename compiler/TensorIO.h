// Reading and writing tensors as files: the `.npy` files users pass on the
// command line and the ONNX TensorProto `.pb` files of the ONNX node tests.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace mnc {

/// Reads a `.npy` file (format v1-v3, little-endian, C order) or a
/// serialized ONNX TensorProto (`.pb`); the format is decided by the file's
/// magic bytes. Element kinds f32, i64, i32, i8 and u8.
llvm::Expected<Tensor> readTensorFile(llvm::StringRef path);

/// Parses `.npy` bytes; `name` is used in messages.
llvm::Expected<Tensor> parseNpy(llvm::StringRef bytes, llvm::StringRef name);

/// Writes `t` as a `.npy` v1 file with its storage element kind.
llvm::Error writeNpy(llvm::StringRef path, const Tensor &t);

} // namespace mnc
