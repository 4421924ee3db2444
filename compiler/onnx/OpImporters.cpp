// The one table mapping ONNX ops (domain, op type, opset range) to import
// functions. Opset ranges say which versions of an op's definition the
// import function understands; a model outside them is reported, not
// guessed at.
#include "compiler/onnx/OpImporters.h"

namespace mnc::onnximport {

static constexpr int64_t kLast = 21; // Newest default-domain opset handled.
static constexpr llvm::StringRef ms = "com.microsoft";

static const OpImport table[] = {
    // Neural network ops.
    {"", "Conv", 1, kLast, importConv},
    {"", "BatchNormalization", 7, kLast, importBatchNorm},
    {"", "Relu", 6, kLast, importUnary},
    {"", "Sigmoid", 6, kLast, importUnary},
    {"", "Tanh", 6, kLast, importUnary},
    {"", "Exp", 6, kLast, importUnary},
    {"", "Log", 6, kLast, importUnary},
    {"", "Sqrt", 6, kLast, importUnary},
    {"", "Neg", 6, kLast, importUnary},
    {"", "Abs", 6, kLast, importUnary},
    {"", "HardSwish", 14, kLast, importUnary},
    {"", "HardSigmoid", 6, kLast, importHardSigmoid},
    {"", "LeakyRelu", 6, kLast, importLeakyRelu},
    {"", "PRelu", 7, kLast, importBinary},
    {"", "Clip", 6, kLast, importClip},
    {"", "Add", 7, kLast, importBinary},
    {"", "Sub", 7, kLast, importBinary},
    {"", "Mul", 7, kLast, importBinary},
    {"", "Div", 7, kLast, importBinary},
    {"", "Max", 8, kLast, importVariadic},
    {"", "Min", 8, kLast, importVariadic},
    {"", "Sum", 8, kLast, importVariadic},
    {"", "MaxPool", 1, kLast, importMaxPool},
    {"", "AveragePool", 7, kLast, importAveragePool},
    {"", "GlobalAveragePool", 1, kLast, importGlobalPool},
    {"", "GlobalMaxPool", 1, kLast, importGlobalPool},
    {"", "ReduceMean", 1, kLast, importReduce},
    {"", "ReduceMax", 1, kLast, importReduce},
    {"", "ReduceSum", 1, kLast, importReduce},
    {"", "ArgMax", 1, kLast, importArgMax},
    {"", "Gemm", 7, kLast, importGemm},
    {"", "MatMul", 1, kLast, importMatMul},
    {"", "Softmax", 1, kLast, importSoftmax},
    {"", "LogSoftmax", 1, kLast, importSoftmax},
    // Shapes, constants and data movement.
    {"", "Identity", 1, kLast, importIdentity},
    {"", "Dropout", 7, kLast, importIdentity},
    {"", "Constant", 1, kLast, importConstant},
    {"", "ConstantOfShape", 9, kLast, importConstantOfShape},
    {"", "Shape", 1, kLast, importShape},
    {"", "Cast", 6, kLast, importCast},
    {"", "Reshape", 5, kLast, importReshape},
    {"", "Flatten", 1, kLast, importFlatten},
    {"", "Squeeze", 1, kLast, importSqueeze},
    {"", "Unsqueeze", 1, kLast, importUnsqueeze},
    {"", "Transpose", 1, kLast, importTranspose},
    {"", "Concat", 4, kLast, importConcat},
    {"", "Split", 2, kLast, importSplit},
    {"", "Slice", 1, kLast, importSlice},
    {"", "Pad", 2, kLast, importPad},
    {"", "Resize", 10, kLast, importResize},
    {"", "Upsample", 7, 9, importResize},
    {"", "Gather", 1, kLast, importGather},
    {"", "Tile", 6, kLast, importTile},
    {"", "Expand", 8, kLast, importExpand},
    {"", "Range", 11, kLast, importRange},
    {"", "Ceil", 6, kLast, importCeil},
    {"", "ReduceMin", 1, kLast, importReduceFold},
    {"", "ReduceProd", 1, kLast, importReduceFold},
    // Detection post-processing, with data-dependent lengths held at a
    // static capacity plus a count; If is imported by the graph walk.
    {"", "Equal", 7, kLast, importCompare},
    {"", "Greater", 7, kLast, importCompare},
    {"", "Less", 7, kLast, importCompare},
    {"", "NonZero", 9, kLast, importNonZero},
    {"", "TopK", 1, kLast, importTopK},
    {"", "NonMaxSuppression", 10, kLast, importNonMaxSuppression},
    {"", "GatherND", 11, kLast, importGatherND},
    {"", "If", 1, kLast, nullptr},
    // Quantization.
    {"", "QuantizeLinear", 10, kLast, importQuantizeLinear},
    {"", "DequantizeLinear", 10, kLast, importDequantizeLinear},
    {"", "QLinearConv", 10, kLast, importQLinearConv},
    {"", "QLinearMatMul", 10, kLast, importQLinearMatMul},
    {ms, "QLinearAdd", 1, 1, importQLinearBinary},
    {ms, "QLinearMul", 1, 1, importQLinearBinary},
    {ms, "QLinearSigmoid", 1, 1, importQLinearUnary},
    {ms, "QLinearLeakyRelu", 1, 1, importQLinearUnary},
    {ms, "QLinearGlobalAveragePool", 1, 1, importQLinearPool},
    {ms, "QLinearAveragePool", 1, 1, importQLinearPool},
    {ms, "QLinearConcat", 1, 1, importQLinearConcat},
};

llvm::ArrayRef<OpImport> opImportTable() { return table; }

const OpImport *findOpImport(llvm::StringRef domain, llvm::StringRef opType,
                             int64_t opset) {
  if (domain == "ai.onnx")
    domain = "";
  for (const OpImport &row : table)
    if (row.domain == domain && row.opType == opType &&
        row.firstOpset <= opset && opset <= row.lastOpset)
      return &row;
  return nullptr;
}

std::string unsupportedOpMessage(llvm::StringRef domain, llvm::StringRef opType,
                                 int64_t opset, llvm::StringRef nodeName) {
  // Ops whose output shape depends on the data and has no static bound.
  static constexpr llvm::StringRef unbounded[] = {"Unique"};
  if (llvm::is_contained(unbounded, opType))
    return fmt::format("{} is not supported (data-dependent output shape "
                       "without a static bound); cut the graph before node "
                       "{} and run it in the application",
                       opType.str(), nodeName.str());
  for (const OpImport &row : table)
    if (row.domain == domain && row.opType == opType)
      return fmt::format("opset {} of {} is not supported (opsets {}-{} "
                         "are)",
                         opset, opType.str(), row.firstOpset, row.lastOpset);
  return fmt::format("op {} is not supported", opType.str());
}

} // namespace mnc::onnximport
