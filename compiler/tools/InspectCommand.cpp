// `mnc inspect`: a per-layer table of a model as compiled for a target (op,
// output type, MACs, parameters, where the output lives in the scratch
// arena and the bytes live at that step) with totals: peak scratch (the
// header's NAME_SCRATCH_SIZE for the same flags), weight bytes in the object
// and MACs; for a schedule that runs blocks patch by patch (fuse-blocks),
// each op's patch, the MACs the patches recompute and the arena layer by
// layer, and with --plot the memory timeline of both. Also the list of
// ONNX ops the importer supports.
#include "backends/Compile.h"
#include "backends/HeaderWriter.h"
#include "compiler/onnx/Importer.h"
#include "compiler/tools/Command.h"
#include "compiler/tools/MemoryPlot.h"
#include "ir/Printer.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <limits>
#include <optional>

namespace mnc::tool {
namespace {
namespace cl = llvm::cl;

cl::SubCommand inspectCommand("inspect",
                              "Print a per-layer summary of a model: MACs, "
                              "parameters, arena placement, peak RAM");

cl::opt<std::string> modelPath(cl::Positional,
                               cl::desc("<MODEL.onnx|MODEL.mnir>"),
                               cl::sub(inspectCommand));
TargetFlags target(inspectCommand,
                   "Plan memory and pack weights as `mnc compile --target "
                   "TRIPLE` does (default: host)");
cl::opt<bool> listSupportedOps(
    "list-supported-ops",
    cl::desc("List the ONNX ops (domain, type, opsets) mnc imports"),
    cl::sub(inspectCommand), cl::cat(outputOptions()));
cl::opt<bool> printIR("print-ir",
                      cl::desc("Print the module as imported, before the pass "
                               "pipeline, as IR text instead of the table "
                               "(constants over 16 elements elided)"),
                      cl::sub(inspectCommand), cl::cat(outputOptions()));
cl::opt<std::string>
    plotPath("plot",
             cl::desc("Also draw the memory timeline (arena bytes live at "
                      "each step) of the schedule and of layer-by-layer "
                      "execution as an SVG chart"),
             cl::value_desc("FILE.svg"), cl::sub(inspectCommand),
             cl::cat(outputOptions()));
enum class Format { Text, Json };
cl::opt<Format>
    format("format", cl::desc("How to print the summary"),
           cl::init(Format::Text),
           cl::values(clEnumValN(Format::Text, "text", "a table (default)"),
                      clEnumValN(Format::Json, "json", "JSON, for scripts")),
           cl::sub(inspectCommand), cl::cat(outputOptions()));

/// One row of the table: an op other than a constant.
struct Layer {
  const Op *op = nullptr;
  int64_t macs = 0, params = 0;
  /// Arena offset and bytes of the first result; offset -1 when the result
  /// is written straight into a caller's output buffer.
  int64_t offset = -1, bytes = 0;
  int64_t liveBytes = 0;
  /// The layer that computes this one as its epilogue, or -1.
  int fusedInto = -1;
  /// The kernel select-kernels chose, if any.
  std::string kernel;
  /// Whether it computes in f32 on dequantized int8 values: a QDQ pattern
  /// fold-qdq has no integer form for.
  bool floatOnDequantized = false;
  /// The op's `patch` attribute (segment, patch, rows, cols), or empty.
  std::vector<int64_t> patch;
};

struct Summary {
  std::vector<Layer> layers;
  int64_t macs = 0, params = 0, scratchBytes = 0, liveBytes = 0,
          weightBytes = 0;
};

/// The same model scheduled layer by layer, when the schedule patches.
struct LayerByLayer {
  int64_t macs = 0, scratchBytes = 0;
  MemoryTimeline timeline;
};

MemoryTimeline timelineOf(const Summary &s, std::string label) {
  MemoryTimeline t{std::move(label), {}, {}, s.macs, s.scratchBytes};
  int64_t done = 0;
  for (const Layer &l : s.layers) {
    t.macsBefore.push_back(done);
    t.liveBytes.push_back(l.liveBytes);
    done += l.macs;
  }
  return t;
}

Summary summarize(const Function &f, const CompileResult &compiled) {
  const MemoryPlan &plan = compiled.plan;
  std::vector<int> def = f.definingOps();
  std::vector<int> layerOf(f.ops.size(), -1);
  llvm::DenseSet<ValueId> counted;
  Summary s;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op &op = f.ops[i];
    if (op.kind == OpKind::Constant)
      continue;
    Layer l;
    l.op = &op;
    for (ValueId v : op.operands)
      if (def[v] >= 0 && f.ops[def[v]].kind == OpKind::Constant &&
          counted.insert(v).second)
        l.params += f.type(v).numElements();
    l.macs = opMacs(f, op);
    l.offset = plan.offsets[op.results[0]];
    l.bytes = f.type(op.results[0]).byteSize();
    l.liveBytes = plan.liveBytes[i];
    if (plan.producerOf[i] >= 0)
      l.fusedInto = layerOf[plan.producerOf[i]];
    if (auto it = op.attrs.find("ukernel"); it != op.attrs.end())
      l.kernel = std::get<std::string>(it->second);
    // Reading dequantize's result, or dequantizing as it reads (a
    // reduction).
    l.floatOnDequantized =
        op.kind != OpKind::Quantize && op.kind != OpKind::Dequantize &&
        f.type(op.results[0]).elem == ElemKind::F32 &&
        llvm::any_of(op.operands, [&](ValueId v) {
          return (def[v] >= 0 && f.ops[def[v]].kind == OpKind::Dequantize) ||
                 f.type(v).isQuantized();
        });
    if (auto it = op.attrs.find("patch"); it != op.attrs.end())
      l.patch = std::get<std::vector<int64_t>>(it->second);
    layerOf[i] = static_cast<int>(s.layers.size());
    s.macs += l.macs;
    s.params += l.params;
    s.liveBytes = std::max(s.liveBytes, l.liveBytes);
    s.layers.push_back(l);
  }
  s.scratchBytes = plan.size;
  s.weightBytes = compiled.weightBytes;
  return s;
}

/// Patched segments in the schedule.
int64_t segmentCount(const Summary &s) {
  int64_t count = 0;
  for (const Layer &l : s.layers)
    if (!l.patch.empty())
      count = std::max(count, l.patch[0] + 1);
  return count;
}

std::string signature(const Function &f) {
  std::string s = "@" + f.name + ":";
  for (size_t i = 0; i < f.args.size(); ++i)
    s += fmt::format(" {} {}", f.argNames[i], toString(f.type(f.args[i])));
  s += " ->";
  for (size_t i = 0; i < f.results.size(); ++i)
    s +=
        fmt::format(" {} {}", f.resultNames[i], toString(f.type(f.results[i])));
  return s;
}

void printText(const Function &f, const Summary &s,
               const std::optional<LayerByLayer> &layered) {
  auto row = [](const auto &...columns) {
    return fmt::format("{:>5}  {:<14} {:<34} {:>12} {:>9} {:>10} {:>10} {:>10}",
                       columns...);
  };
  llvm::raw_ostream &os = llvm::outs();
  os << signature(f) << '\n';
  os << row("#", "op", "output", "MACs", "params", "offset", "bytes", "live")
     << '\n';
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const Layer &l = s.layers[i];
    std::string out = toString(f.type(l.op->results[0]));
    if (l.op->results.size() > 1)
      out += fmt::format(" (+{})", l.op->results.size() - 1);
    std::string offset =
        l.offset >= 0 ? std::to_string(l.offset) : std::string("output");
    os << row(i, mnemonic(l.op->kind).str(), out, l.macs, l.params, offset,
              l.bytes, l.liveBytes);
    if (!l.kernel.empty())
      os << "  " << l.kernel;
    if (l.fusedInto >= 0)
      os << fmt::format("  fused into #{}", l.fusedInto);
    if (!l.patch.empty())
      os << fmt::format("  patch {} of {}x{} (segment {})", l.patch[1],
                        l.patch[2], l.patch[3], l.patch[0]);
    os << '\n';
  }
  std::vector<std::string> floats;
  for (size_t i = 0; i < s.layers.size(); ++i)
    if (s.layers[i].floatOnDequantized)
      floats.push_back(
          fmt::format("{} #{}", mnemonic(s.layers[i].op->kind).str(), i));
  if (!floats.empty())
    os << fmt::format("note: {} {} in f32 on dequantized values (no integer "
                      "form in mnc): {}\n",
                      floats.size(),
                      floats.size() == 1 ? "layer computes" : "layers compute",
                      fmt::join(floats, ", "));
  os << fmt::format("total: {} ops, {} MACs, {} params\n", s.layers.size(),
                    s.macs, s.params);
  os << fmt::format("scratch: {} bytes peak (the header's NAME_SCRATCH_SIZE), "
                    "at most {} bytes live at once\n",
                    s.scratchBytes, s.liveBytes);
  os << fmt::format("weights: {} bytes in the object's read-only data\n",
                    s.weightBytes);
  if (layered)
    os << fmt::format("patches: {} segments run patch by patch, recomputing "
                      "{} MACs (+{:.1f}%); layer by layer the scratch is {} "
                      "bytes\n",
                      segmentCount(s), s.macs - layered->macs,
                      100.0 * (s.macs - layered->macs) / layered->macs,
                      layered->scratchBytes);
}

llvm::json::Array tensors(const Function &f, llvm::ArrayRef<std::string> names,
                          llvm::ArrayRef<ValueId> values) {
  llvm::json::Array a;
  for (size_t i = 0; i < values.size(); ++i)
    a.push_back(llvm::json::Object{{"name", names[i]},
                                   {"type", toString(f.type(values[i]))}});
  return a;
}

void printJson(const Function &f, const Summary &s,
               const std::optional<LayerByLayer> &layered) {
  llvm::json::Array layers;
  for (const Layer &l : s.layers) {
    llvm::json::Object row{
        {"op", mnemonic(l.op->kind)},
        {"output", toString(f.type(l.op->results[0]))},
        {"results", static_cast<int64_t>(l.op->results.size())},
        {"macs", l.macs},
        {"params", l.params},
        {"offset", l.offset >= 0 ? llvm::json::Value(l.offset) : nullptr},
        {"bytes", l.bytes},
        {"live_bytes", l.liveBytes},
        {"fused_into",
         l.fusedInto >= 0 ? llvm::json::Value(l.fusedInto) : nullptr},
        {"kernel", l.kernel.empty() ? llvm::json::Value(nullptr)
                                    : llvm::json::Value(l.kernel)},
        {"f32_on_dequantized", l.floatOnDequantized},
        {"patch", l.patch.empty() ? llvm::json::Value(nullptr)
                                  : llvm::json::Value(l.patch)}};
    layers.push_back(std::move(row));
  }
  llvm::json::Object top{{"function", f.name},
                         {"inputs", tensors(f, f.argNames, f.args)},
                         {"outputs", tensors(f, f.resultNames, f.results)},
                         {"layers", std::move(layers)},
                         {"macs", s.macs},
                         {"params", s.params},
                         {"scratch_bytes", s.scratchBytes},
                         {"max_live_bytes", s.liveBytes},
                         {"weight_bytes", s.weightBytes}};
  if (layered)
    top["layer_by_layer"] =
        llvm::json::Object{{"macs", layered->macs},
                           {"scratch_bytes", layered->scratchBytes}};
  llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(top)))
               << '\n';
}

/// The summary of `module` compiled (without emitting code) for the
/// target.
llvm::Expected<Summary> summarizeModule(Module &module) {
  CompileOptions opts;
  opts.target = target.spec();
  auto compiled = compileModule(module, opts, EmitKind::Nothing);
  if (!compiled)
    return compiled.takeError();
  auto f = entryFunction(module);
  if (!f)
    return f.takeError();
  return summarize(**f, *compiled);
}

/// The model scheduled with a budget every schedule meets: layer by layer.
llvm::Expected<LayerByLayer> layerByLayer() {
  PipelineOptions pipeline;
  pipeline.maxRam = std::numeric_limits<int64_t>::max();
  auto module = loadScheduled(modelPath, target.spec(), pipeline);
  if (!module)
    return module.takeError();
  auto s = summarizeModule(*module);
  if (!s)
    return s.takeError();
  return LayerByLayer{s->macs, s->scratchBytes,
                      timelineOf(*s, "layer by layer")};
}

llvm::Error inspectModel() {
  auto module =
      printIR ? loadModel(modelPath) : loadScheduled(modelPath, target.spec());
  if (!module)
    return module.takeError();
  if (printIR) {
    PrintOptions opts;
    opts.elideConstantsLargerThan = 16;
    printModule(*module, llvm::outs(), opts);
    return llvm::Error::success();
  }
  auto s = summarizeModule(*module);
  if (!s)
    return s.takeError();
  std::optional<LayerByLayer> layered;
  if (segmentCount(*s) > 0 || !plotPath.empty()) {
    auto l = layerByLayer();
    if (!l)
      return l.takeError();
    layered = std::move(*l);
  }
  auto entry = entryFunction(*module);
  if (!entry)
    return entry.takeError();
  const Function &f = **entry;
  if (format == Format::Json)
    printJson(f, *s, layered);
  else
    printText(f, *s, layered);
  if (plotPath.empty())
    return llvm::Error::success();
  std::vector<MemoryTimeline> timelines = {layered->timeline};
  if (segmentCount(*s) > 0)
    timelines.push_back(timelineOf(*s, "patch by patch"));
  return writeMemoryPlot(plotPath,
                         fmt::format("{}: arena bytes live per step",
                                     llvm::sys::path::filename(modelPath).str()),
                         timelines);
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
  if (auto err = inspectModel())
    return reportError(std::move(err));
  return Success;
}

Registration registration(inspectCommand, inspect);

} // namespace
} // namespace mnc::tool
