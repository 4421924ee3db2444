// The table of ONNX ops mnc imports: op type, domain and opset range, each
// mapped to one import function. Functions are grouped by kind in
// NNOps.cpp, ShapeOps.cpp, Resize.cpp and QuantOps.cpp; the table itself is
// in OpImporters.cpp.
#pragma once

#include "compiler/onnx/NodeContext.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace mnc::onnximport {

using ImportFn = llvm::Error (*)(NodeContext &);

struct OpImport {
  llvm::StringRef domain; ///< "" is the default ONNX domain.
  llvm::StringRef opType;
  int64_t firstOpset;
  int64_t lastOpset;
  ImportFn import;
};

llvm::ArrayRef<OpImport> opImportTable();

/// The importer of (domain, opType) at `opset`, or null.
const OpImport *findOpImport(llvm::StringRef domain, llvm::StringRef opType,
                             int64_t opset);

/// Why an op outside the table is unsupported (a hint for post-processing
/// ops such as TopK), or the generic message.
std::string unsupportedOpMessage(llvm::StringRef domain, llvm::StringRef opType,
                                 int64_t opset, llvm::StringRef nodeName);

/// Window attributes of Conv and the pools, resolved against input `x`
/// (auto_pad applied); kernel from the weight or kernel_shape.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;
};
llvm::Expected<Window> windowAttrs(NodeContext &ctx, const TensorType &x,
                                   std::vector<int64_t> kernel);
/// An f32 avg_pool of `x` with the node's AveragePool attributes.
llvm::Expected<ValueId> buildAveragePool(NodeContext &ctx, ValueId x);
/// A reduction of `x` over all dims after the first two, keeping them.
llvm::Expected<ValueId> buildGlobalPool(NodeContext &ctx, ValueId x,
                                        OpKind kind);

/// Builds the product of two operands of rank >= 2.
using MatMulBuilder =
    llvm::function_ref<llvm::Expected<ValueId>(ValueId, ValueId)>;
/// numpy matmul of `a` and `b` built by `matmul`: a 1-D lhs is multiplied
/// as [1, K] and a 1-D rhs as [K, 1], and the added dim is dropped from the
/// result.
llvm::Expected<ValueId> buildNumpyMatMul(NodeContext &ctx, ValueId a, ValueId b,
                                         MatMulBuilder matmul);

#define MNC_IMPORT(fn) llvm::Error fn(NodeContext &ctx);
// NNOps.cpp
MNC_IMPORT(importConv)
MNC_IMPORT(importBatchNorm)
MNC_IMPORT(importUnary)
MNC_IMPORT(importClip)
MNC_IMPORT(importLeakyRelu)
MNC_IMPORT(importHardSigmoid)
MNC_IMPORT(importBinary)
MNC_IMPORT(importVariadic)
MNC_IMPORT(importMaxPool)
MNC_IMPORT(importAveragePool)
MNC_IMPORT(importGlobalPool)
MNC_IMPORT(importReduce)
MNC_IMPORT(importArgMax)
MNC_IMPORT(importGemm)
MNC_IMPORT(importMatMul)
MNC_IMPORT(importSoftmax)
// ShapeOps.cpp
MNC_IMPORT(importIdentity)
MNC_IMPORT(importConstant)
MNC_IMPORT(importConstantOfShape)
MNC_IMPORT(importShape)
MNC_IMPORT(importCast)
MNC_IMPORT(importReshape)
MNC_IMPORT(importFlatten)
MNC_IMPORT(importSqueeze)
MNC_IMPORT(importUnsqueeze)
MNC_IMPORT(importTranspose)
MNC_IMPORT(importConcat)
MNC_IMPORT(importSplit)
MNC_IMPORT(importSlice)
MNC_IMPORT(importPad)
MNC_IMPORT(importResize)
MNC_IMPORT(importGather)
MNC_IMPORT(importTile)
// QuantOps.cpp
MNC_IMPORT(importQuantizeLinear)
MNC_IMPORT(importDequantizeLinear)
MNC_IMPORT(importQLinearConv)
MNC_IMPORT(importQLinearMatMul)
MNC_IMPORT(importQLinearBinary)
MNC_IMPORT(importQLinearUnary)
MNC_IMPORT(importQLinearPool)
MNC_IMPORT(importQLinearConcat)
// Detection.cpp
MNC_IMPORT(importCompare)
MNC_IMPORT(importNonZero)
MNC_IMPORT(importTopK)
MNC_IMPORT(importNonMaxSuppression)
MNC_IMPORT(importGatherND)
MNC_IMPORT(importRange)
MNC_IMPORT(importCeil)
MNC_IMPORT(importReduceFold)
MNC_IMPORT(importExpand)
#undef MNC_IMPORT

/// Imports a node some of whose inputs have data-dependent lengths or
/// run-time elements (NodeContext::boundOf): `plain`, the node's import
/// function, computes the capacity form, and the rule of the node's op
/// carries the counts to its outputs.
llvm::Error importBounded(NodeContext &ctx, ImportFn plain);

/// The axes a Reduce* node names (its attribute, or its input 1 from the
/// opset that made it one), empty if none.
llvm::Expected<std::vector<int64_t>> namedReduceAxes(NodeContext &ctx);
/// `axes` normalized for `rank`, sorted and unique; every axis if empty.
llvm::Expected<std::vector<int64_t>> reductionAxes(std::vector<int64_t> axes,
                                                   int64_t rank);

} // namespace mnc::onnximport
