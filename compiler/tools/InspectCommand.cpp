// `mnc inspect`: a per-layer table of a model (op, output type, MACs,
// parameters) with totals, and the list of ONNX ops the importer supports.
#include "compiler/onnx/Importer.h"
#include "compiler/tools/Command.h"
#include "ir/Printer.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

namespace mnc::tool {
namespace {
namespace cl = llvm::cl;

cl::SubCommand inspectCommand("inspect",
                              "Print a per-layer summary of a model");

cl::opt<std::string> modelPath(cl::Positional,
                               cl::desc("<MODEL.onnx|MODEL.mnir>"),
                               cl::sub(inspectCommand));
cl::opt<bool> listSupportedOps(
    "list-supported-ops",
    cl::desc("List the ONNX ops (domain, type, opsets) mnc imports"),
    cl::sub(inspectCommand));
cl::opt<bool> printIR("print-ir",
                      cl::desc("Print the imported module as IR text instead "
                               "of the table (constants over 16 elements "
                               "elided)"),
                      cl::sub(inspectCommand));

/// Multiply-accumulates of conv2d and matmul; other ops count none.
int64_t macsOf(const Function &f, const Op &op) {
  int64_t out = f.type(op.results[0]).numElements();
  const TensorType &w =
      f.type(op.operands.size() > 1 ? op.operands[1] : op.operands[0]);
  switch (op.kind) {
  case OpKind::Conv2d:
    return out * w.shape[1] * w.shape[2] * w.shape[3];
  case OpKind::MatMul:
    return out * w.shape[w.rank() - 2];
  default:
    return 0;
  }
}

void printTable(const Function &f) {
  std::vector<int> def = f.definingOps();
  llvm::DenseSet<ValueId> counted;
  int64_t totalMacs = 0, totalParams = 0, layers = 0;
  llvm::outs() << fmt::format("{:>5}  {:<14} {:<28} {:>14} {:>10}\n", "#", "op",
                              "output", "MACs", "params");
  for (const Op &op : f.ops) {
    if (op.kind == OpKind::Constant)
      continue;
    int64_t params = 0;
    for (ValueId v : op.operands)
      if (def[v] >= 0 && f.ops[def[v]].kind == OpKind::Constant &&
          counted.insert(v).second)
        params += f.type(v).numElements();
    int64_t macs = macsOf(f, op);
    std::string out = toString(f.type(op.results[0]));
    if (op.results.size() > 1)
      out += fmt::format(" (+{})", op.results.size() - 1);
    llvm::outs() << fmt::format("{:>5}  {:<14} {:<28} {:>14} {:>10}\n",
                                layers++, mnemonic(op.kind).str(), out, macs,
                                params);
    totalMacs += macs;
    totalParams += params;
  }
  llvm::outs() << fmt::format("total: {} ops, {} MACs, {} params\n", layers,
                              totalMacs, totalParams);
}

int inspect() {
  if (listSupportedOps) {
    for (const std::string &line : supportedOnnxOps())
      llvm::outs() << line << '\n';
    return Success;
  }
  if (modelPath.empty())
    return reportError(llvm::createStringError(
        llvm::inconvertibleErrorCode(), "no model given; see mnc inspect "
                                        "--help"));
  auto module = loadModel(modelPath);
  if (!module)
    return reportError(module.takeError());
  if (printIR) {
    PrintOptions opts;
    opts.elideConstantsLargerThan = 16;
    printModule(*module, llvm::outs(), opts);
    return Success;
  }
  for (const Function &f : module->functions) {
    llvm::outs() << "@" << f.name << ":";
    for (size_t i = 0; i < f.args.size(); ++i)
      llvm::outs() << " " << f.argNames[i] << " "
                   << toString(f.type(f.args[i]));
    llvm::outs() << " ->";
    for (size_t i = 0; i < f.results.size(); ++i)
      llvm::outs() << " " << f.resultNames[i] << " "
                   << toString(f.type(f.results[i]));
    llvm::outs() << "\n";
    printTable(f);
  }
  return Success;
}

Registration registration(inspectCommand, inspect);

} // namespace
} // namespace mnc::tool
