// Reading ONNX protobufs defensively: the model file, tensors (inline or in
// external data files next to the model) and element types. Every size
// that comes from the file is checked against Limits before anything is
// allocated, so hostile files fail with a message instead of exhausting
// memory.
#pragma once

#include "ir/IR.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <onnx/onnx_pb.h>

#include <string>

namespace mnc::onnximport {

/// Caps on what a model may ask for.
struct Limits {
  /// Model files and the sum of all weight bytes (protobuf itself cannot
  /// parse messages over 2 GiB).
  uint64_t maxTotalBytes = uint64_t(2) << 30;
  /// Elements of any one tensor, constant or activation.
  int64_t maxElements = maxTensorElements;
  /// Rank of any tensor.
  size_t maxRank = 8;
  /// Outputs of any one node (Split): each is a value to plan and check,
  /// and MobileNets split into a handful.
  int64_t maxOutputs = 1024;
};

/// The element kind of ONNX TensorProto data type `dataType`, or an
/// UnsupportedError naming `what`.
llvm::Expected<ElemKind> elemKindFromOnnx(int32_t dataType,
                                          llvm::StringRef what);
/// The ONNX data type name (e.g. "FLOAT16") for messages.
std::string onnxTypeName(int32_t dataType);

/// Checks a shape from a file: dims non-negative, rank and element count
/// within `limits`.
llvm::Error checkShape(llvm::ArrayRef<int64_t> shape, const Limits &limits,
                       llvm::StringRef what);

/// Parses a whole ModelProto from `path`.
llvm::Expected<onnx::ModelProto> readModelProto(llvm::StringRef path,
                                                const Limits &limits);

/// Converts TensorProtos to Tensors, counting the bytes of all of them
/// against Limits::maxTotalBytes. External data is read relative to
/// `baseDir` and must stay inside it.
class TensorReader {
public:
  TensorReader(std::string baseDir, Limits limits)
      : baseDir(std::move(baseDir)), limits(limits) {}

  llvm::Expected<Tensor> read(const onnx::TensorProto &proto,
                              llvm::StringRef what);
  const Limits &getLimits() const { return limits; }
  /// Counts `bytes` of other constant data (e.g. folded constants) against
  /// Limits::maxTotalBytes before they are allocated.
  llvm::Error reserve(uint64_t bytes, llvm::StringRef what);

private:
  llvm::Expected<std::string> readExternal(const onnx::TensorProto &proto,
                                           uint64_t byteSize,
                                           llvm::StringRef what);

  std::string baseDir;
  Limits limits;
  uint64_t totalBytes = 0;
};

} // namespace mnc::onnximport
