// The graph walk of the ONNX importer: opsets, graph inputs and their
// shapes, initializers, then one op import function per node (from the
// table in OpImporters.cpp). Problems are collected over the whole model
// and reported together, so users fix them in one round.
#include "compiler/onnx/Importer.h"
#include "compiler/onnx/OpImporters.h"
#include "ir/Verifier.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

namespace mnc {

namespace onnximport {
namespace {

/// Everything found wrong with a model, reported in one go.
struct Diagnostics {
  std::vector<std::string> lines;
  bool anyUnsupported = false;

  void add(llvm::Error err, llvm::StringRef where) {
    llvm::handleAllErrors(std::move(err), [&](const llvm::ErrorInfoBase &e) {
      anyUnsupported |= e.isA<UnsupportedError>();
      std::string text = e.message();
      llvm::SmallVector<llvm::StringRef, 2> parts;
      llvm::StringRef(text).split(parts, '\n');
      for (llvm::StringRef part : parts)
        lines.push_back(where.empty() ? part.str()
                                      : where.str() + ": " + part.str());
    });
  }
  llvm::Error take() {
    if (lines.empty())
      return llvm::Error::success();
    std::string text = llvm::join(lines, "\n");
    if (anyUnsupported)
      return llvm::make_error<UnsupportedError>(text);
    return llvm::createStringError(llvm::inconvertibleErrorCode(), text);
  }
};

/// `name` as messages show it: a name from the file may be megabytes long,
/// so one over 80 bytes is cut to its first 64 and its length.
std::string shortName(llvm::StringRef name) {
  if (name.size() <= 80)
    return name.str();
  return fmt::format("{}... ({} bytes)", name.take_front(64).str(),
                     name.size());
}

std::string describeNode(const onnx::NodeProto &node, int index) {
  std::string domain = node.domain().empty() || node.domain() == "ai.onnx"
                           ? ""
                           : node.domain() + ".";
  return fmt::format("node #{} '{}' ({}{})", index, shortName(node.name()),
                     shortName(domain), shortName(node.op_type()));
}

class GraphImporter {
public:
  GraphImporter(const onnx::ModelProto &model, TensorReader &reader,
                const ImportOptions &opts)
      : model(model), graph(model.graph()), reader(reader), opts(opts) {
    g.limits = reader.getLimits();
    g.reader = &reader;
  }

  llvm::Expected<Module> run();

private:
  void readOpsets();
  void checkNodes(const onnx::GraphProto &graph, llvm::StringRef where);
  void addInputs();
  llvm::Error addInitializers(const onnx::GraphProto &graph);
  void importNodes(const onnx::GraphProto &graph, llvm::StringRef where);
  llvm::Error importNode(NodeContext &ctx, const OpImport &row);
  llvm::Error importIf(NodeContext &ctx, llvm::StringRef where);
  llvm::Error addResults();
  llvm::Expected<TensorType> inputType(const onnx::ValueInfoProto &input);
  llvm::Error bindInput(const onnx::ValueInfoProto &input, const Tensor &value);
  /// The --input-shape entry for input `name`, or the end of the list.
  auto pinnedShape(const std::string &name) const
      -> decltype(ImportOptions::inputShapes)::const_iterator;
  void checkBindings(const llvm::StringSet<> &inputNames);
  int64_t opsetOf(const onnx::NodeProto &node) const;

  const onnx::ModelProto &model;
  const onnx::GraphProto &graph;
  TensorReader &reader;
  const ImportOptions &opts;
  GraphState g;
  Diagnostics diags;
  std::map<std::string, int64_t> opsets;
  /// Tensors whose producer failed; their consumers are skipped silently.
  llvm::StringSet<> poisoned;
};

void GraphImporter::readOpsets() {
  for (const auto &o : model.opset_import())
    opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  // IR version 3 models without opset_import use opset 1.
  if (!opsets.count(""))
    opsets[""] = 1;
  int64_t v = opsets[""];
  if (v < 7 || v > 21)
    diags.add(unsupported("default-domain opset {} is not supported (7-21 "
                          "are)",
                          v),
              "model");
}

int64_t GraphImporter::opsetOf(const onnx::NodeProto &node) const {
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto it = opsets.find(domain);
  return it == opsets.end() ? 1 : it->second;
}

void GraphImporter::checkNodes(const onnx::GraphProto &graph,
                               llvm::StringRef where) {
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    int64_t opset = opsetOf(node);
    if (findOpImport(node.domain(), node.op_type(), opset)) {
      for (const auto &a : node.attribute())
        if (a.type() == onnx::AttributeProto::GRAPH)
          checkNodes(a.g(), fmt::format("{}in {} of {}: ", where.str(),
                                        a.name(), describeNode(node, i)));
      continue;
    }
    std::string name =
        !node.name().empty() ? fmt::format("'{}'", shortName(node.name()))
        : node.output_size()
            ? fmt::format("#{} (output '{}')", i, shortName(node.output(0)))
            : fmt::format("#{}", i);
    diags.add(
        unsupported("{}", unsupportedOpMessage(node.domain(), node.op_type(),
                                               opset, name)),
        where.str() + describeNode(node, i));
  }
}

/// The element kind a graph input declares; only tensor inputs have one.
static llvm::Expected<ElemKind> declaredElem(const onnx::ValueInfoProto &input,
                                             const std::string &what) {
  if (!input.type().has_tensor_type())
    return unsupported("{}: only tensor inputs are supported", what);
  return elemKindFromOnnx(input.type().tensor_type().elem_type(), what);
}

auto GraphImporter::pinnedShape(const std::string &name) const
    -> decltype(ImportOptions::inputShapes)::const_iterator {
  return llvm::find_if(opts.inputShapes,
                       [&](const auto &p) { return p.first == name; });
}

llvm::Expected<TensorType>
GraphImporter::inputType(const onnx::ValueInfoProto &input) {
  std::string what = fmt::format("graph input '{}'", input.name());
  auto elem = declaredElem(input, what);
  if (!elem)
    return elem.takeError();
  const auto &tt = input.type().tensor_type();
  auto pinned = pinnedShape(input.name());
  if (pinned != opts.inputShapes.end()) {
    if (tt.has_shape() &&
        static_cast<size_t>(tt.shape().dim_size()) != pinned->second.size())
      return invalid("{}: --input-shape gives rank {}, the model says {}", what,
                     pinned->second.size(), tt.shape().dim_size());
    if (auto err = checkShape(pinned->second, g.limits, what))
      return err;
    return TensorType(*elem, pinned->second);
  }
  if (!tt.has_shape())
    return invalid("{} has no shape; pin it with --input-shape {}=DIMS", what,
                   input.name());
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<std::string> unresolved;
  for (int d = 0; d < tt.shape().dim_size(); ++d) {
    const auto &dim = tt.shape().dim(d);
    if (dim.has_dim_value()) {
      shape.push_back(dim.dim_value());
    } else if (d == 0) {
      shape.push_back(1); // A symbolic batch defaults to 1.
    } else {
      shape.push_back(-1);
      unresolved.push_back(fmt::format("dim {} ('{}')", d, dim.dim_param()));
    }
  }
  if (!unresolved.empty()) {
    std::vector<std::string> hint;
    for (int64_t d : shape)
      hint.push_back(d < 0 ? "N" : std::to_string(d));
    return invalid("{}: {} {} not static; pin it with --input-shape {}={}",
                   what, llvm::join(unresolved, ", "),
                   unresolved.size() == 1 ? "is" : "are", input.name(),
                   llvm::join(hint, "x"));
  }
  if (auto err = checkShape(shape, g.limits, what))
    return err;
  return TensorType(*elem, shape);
}

// A bound value must have the input's element kind and a shape that agrees
// with every static dim the model declares.
llvm::Error GraphImporter::bindInput(const onnx::ValueInfoProto &input,
                                     const Tensor &value) {
  std::string what = fmt::format("--bind {}", input.name());
  if (pinnedShape(input.name()) != opts.inputShapes.end())
    return invalid("{}: the input is also given --input-shape", what);
  auto elem = declaredElem(input, what);
  if (!elem)
    return elem.takeError();
  const auto &tt = input.type().tensor_type();
  bool fits = *elem == value.type.elem;
  if (tt.has_shape()) {
    fits &= static_cast<size_t>(tt.shape().dim_size()) == value.type.rank();
    for (int d = 0; fits && d < tt.shape().dim_size(); ++d)
      fits &= !tt.shape().dim(d).has_dim_value() ||
              tt.shape().dim(d).dim_value() == value.type.shape[d];
  }
  if (!fits) {
    std::vector<std::string> dims;
    for (const auto &dim : tt.shape().dim())
      dims.push_back(dim.has_dim_value() ? std::to_string(dim.dim_value())
                                         : dim.dim_param());
    return invalid("{}: the file holds {}, the model declares {}[{}]", what,
                   toString(value.type), elemName(*elem).str(),
                   llvm::join(dims, ","));
  }
  if (auto err = checkShape(value.type.shape, g.limits, what))
    return err;
  if (auto err = reader.reserve(value.bytes.size(), what))
    return err;
  Builder b(g.f);
  ValueId v = b.constant(value);
  g.constants[v] =
      std::get<std::shared_ptr<const Tensor>>(g.f.ops.back().attrs["value"]);
  g.values[input.name()] = v;
  return llvm::Error::success();
}

void GraphImporter::checkBindings(const llvm::StringSet<> &inputNames) {
  llvm::StringSet<> bound;
  for (const auto &[name, value] : opts.bindings) {
    if (!inputNames.count(name)) {
      std::vector<std::string> names;
      for (const auto &input : graph.input())
        if (inputNames.count(input.name()))
          names.push_back(fmt::format("'{}'", input.name()));
      diags.add(invalid("--bind names '{}', which is not a graph input; the "
                        "model's inputs are: {}",
                        name, names.empty() ? "none" : llvm::join(names, ", ")),
                "");
    } else if (!bound.insert(name).second) {
      diags.add(invalid("--bind gives input '{}' twice", name), "");
    }
  }
}

void GraphImporter::addInputs() {
  llvm::StringSet<> initializers;
  for (const auto &init : graph.initializer())
    initializers.insert(init.name());
  llvm::StringSet<> inputNames;
  Builder b(g.f);
  for (const auto &input : graph.input()) {
    // Initializers listed as inputs (IR version < 4) are weights.
    if (initializers.count(input.name()))
      continue;
    if (!inputNames.insert(input.name()).second) {
      diags.add(invalid("graph input '{}' is declared twice", input.name()),
                "");
      continue;
    }
    auto binding = llvm::find_if(
        opts.bindings, [&](const auto &p) { return p.first == input.name(); });
    if (binding != opts.bindings.end()) {
      if (auto err = bindInput(input, binding->second)) {
        diags.add(std::move(err), "");
        poisoned.insert(input.name());
      }
      continue;
    }
    auto type = inputType(input);
    if (!type) {
      diags.add(type.takeError(), "");
      poisoned.insert(input.name());
      continue;
    }
    g.values[input.name()] = b.addArg(*type, input.name());
  }
  for (const auto &[name, shape] : opts.inputShapes)
    if (!inputNames.count(name))
      diags.add(invalid("--input-shape names '{}', which is not a graph "
                        "input",
                        name),
                "");
  checkBindings(inputNames);
}

llvm::Error GraphImporter::addInitializers(const onnx::GraphProto &graph) {
  for (const auto &init : graph.initializer()) {
    std::string what = fmt::format("initializer '{}'", init.name());
    if (g.values.count(init.name()))
      return invalid("{}: the name is defined twice", what);
    auto t = reader.read(init, what);
    if (!t)
      return t.takeError();
    Builder b(g.f);
    ValueId v = b.constant(std::move(*t));
    g.constants[v] =
        std::get<std::shared_ptr<const Tensor>>(g.f.ops.back().attrs["value"]);
    g.values[init.name()] = v;
  }
  return llvm::Error::success();
}

void GraphImporter::importNodes(const onnx::GraphProto &graph,
                                llvm::StringRef prefix) {
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    std::string where = prefix.str() + describeNode(node, i);
    auto poisonOutputs = [&] {
      for (const std::string &out : node.output())
        poisoned.insert(out);
    };
    bool skip = false;
    for (const std::string &in : node.input()) {
      if (in.empty() || g.values.count(in))
        continue;
      if (!poisoned.count(in))
        diags.add(invalid("input '{}' is not a graph input, initializer or "
                          "output of an earlier node",
                          in),
                  where);
      skip = true;
    }
    for (const std::string &out : node.output())
      if (!out.empty() && (g.values.count(out) || poisoned.count(out))) {
        diags.add(invalid("output '{}' is defined twice", out), where);
        skip = true;
      }
    if (skip) {
      poisonOutputs();
      continue;
    }
    NodeContext ctx(g, node, opsetOf(node));
    const OpImport *row =
        findOpImport(node.domain(), node.op_type(), ctx.opset());
    // An attribute of the wrong type is the cause of whatever the import
    // then made of its default value, so it is the error reported.
    llvm::Error err =
        row->import ? importNode(ctx, *row) : importIf(ctx, where);
    if (llvm::Error attrErr = ctx.takeAttrError()) {
      llvm::consumeError(std::move(err));
      err = std::move(attrErr);
    }
    if (err) {
      diags.add(std::move(err), where);
      poisonOutputs();
      continue;
    }
    for (int k = 0; k < node.output_size(); ++k)
      if (!node.output(k).empty() && !g.values.count(node.output(k))) {
        diags.add(
            unsupported("output {} ('{}') is not supported", k, node.output(k)),
            where);
        poisonOutputs();
        break;
      }
  }
}

llvm::Error GraphImporter::importNode(NodeContext &ctx, const OpImport &row) {
  bool dataDependent = false;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    dataDependent |= ctx.isDataDependent(i);
  llvm::Error err =
      dataDependent ? importBounded(ctx, row.import) : row.import(ctx);
  if (err)
    return err;
  if (std::optional<unsigned> i = ctx.unhandledInput())
    return unsupported("input {} ('{}') has a data-dependent length, which "
                       "{} does not support",
                       *i, ctx.node.input(*i), ctx.node.op_type());
  return llvm::Error::success();
}

// If with a constant condition is its taken branch. With a condition
// computed from data-dependent lengths (as "is this bounded tensor
// empty?"), one branch must yield empty tensors: the result is the other
// branch's, with a count of 0 where the empty branch is taken.
llvm::Error GraphImporter::importIf(NodeContext &ctx, llvm::StringRef where) {
  const onnx::AttributeProto *branches[2] = {ctx.attr("then_branch"),
                                             ctx.attr("else_branch")};
  for (const onnx::AttributeProto *a : branches)
    if (!a || a->type() != onnx::AttributeProto::GRAPH)
      return invalid("If needs graph attributes then_branch and else_branch");
  auto cond = ctx.input(0);
  if (!cond)
    return cond.takeError();
  const RuntimeInts *runtime = ctx.runtimeIntsOf(0);
  const Tensor *known = ctx.constant(*cond);
  if (!known || known->numElements() != 1)
    return unsupported("If with a condition computed at run time");
  size_t before = diags.lines.size();
  std::vector<std::vector<ValueId>> outs;
  for (int taken = 0; taken < 2; ++taken) {
    bool thenBranch = taken == 0;
    if (!runtime && bool(known->getAsInt(0)) != thenBranch) {
      outs.emplace_back();
      continue;
    }
    const onnx::GraphProto &branch = branches[taken]->g();
    if (auto err = addInitializers(branch))
      return err;
    importNodes(branch, fmt::format("{}: in {}: ", where.str(),
                                    branches[taken]->name()));
    if (diags.lines.size() != before)
      return llvm::Error::success(); // Reported; the outputs stay unbound.
    if (branch.output_size() != ctx.node.output_size())
      return invalid("{} has {} outputs, the If node {}",
                     branches[taken]->name(), branch.output_size(),
                     ctx.node.output_size());
    outs.emplace_back();
    for (const auto &o : branch.output()) {
      auto it = g.values.find(o.name());
      if (it == g.values.end())
        return invalid("{} output '{}' is not produced by any node",
                       branches[taken]->name(), o.name());
      outs.back().push_back(it->second);
    }
  }
  for (int k = 0; k < ctx.node.output_size(); ++k) {
    if (!runtime) {
      ctx.setOutput(k, outs[known->getAsInt(0) ? 0 : 1][k]);
      continue;
    }
    bool thenEmpty = ctx.typeOf(outs[0][k]).numElements() == 0;
    ValueId full = outs[thenEmpty ? 1 : 0][k];
    if (ctx.typeOf(outs[thenEmpty ? 0 : 1][k]).numElements() != 0 ||
        ctx.typeOf(full).rank() == 0)
      return unsupported("If on a run-time condition whose branches both "
                         "produce data");
    auto bound = g.bounds.find(full);
    Bound b = bound != g.bounds.end()
                  ? bound->second
                  : Bound{0, ctx.constant(makeTensor(
                                 ElemKind::I32, {},
                                 {double(ctx.typeOf(full).shape[0])}))};
    // count = cond ? 0 : n (then empty), or cond ? n : 0.
    ValueId c = *(*runtime)[0];
    if (thenEmpty) {
      auto notCond = ctx.create(
          OpKind::Sub, {ctx.constant(makeTensor(ElemKind::I32, {}, {1.0})), c});
      if (!notCond)
        return notCond.takeError();
      c = *notCond;
    }
    auto count = ctx.create(OpKind::Mul, {b.count, c});
    if (!count)
      return count.takeError();
    ctx.setOutput(k, full);
    g.bounds[full] = Bound{b.axis, *count};
  }
  return llvm::Error::success();
}

// Graph outputs with a data-dependent length (along dim 0) are held at
// their capacity, each followed in the results by its count.
llvm::Error GraphImporter::addResults() {
  Builder b(g.f);
  std::vector<std::pair<ValueId, std::string>> counts;
  for (const auto &output : graph.output()) {
    auto it = g.values.find(output.name());
    if (it == g.values.end()) {
      if (!poisoned.count(output.name()))
        diags.add(invalid("graph output '{}' is not produced by any node",
                          output.name()),
                  "");
      continue;
    }
    b.addResult(it->second, output.name());
    auto bound = g.bounds.find(it->second);
    if (bound == g.bounds.end())
      continue;
    if (bound->second.axis != 0)
      return unsupported("graph output '{}' has a data-dependent length "
                         "along dim {}; only dim 0 is supported",
                         output.name(), bound->second.axis);
    auto count = b.create(OpKind::Reshape, {bound->second.count},
                          {{"shape", std::vector<int64_t>{1}}});
    if (!count)
      return count.takeError();
    counts.emplace_back(*count, countResultName(output.name()));
  }
  for (auto &[v, name] : counts) {
    if (llvm::is_contained(g.f.resultNames, name))
      return invalid("graph output '{}' clashes with the count of a "
                     "data-dependent output",
                     name);
    b.addResult(v, name);
  }
  return llvm::Error::success();
}

llvm::Expected<Module> GraphImporter::run() {
  readOpsets();
  checkNodes(graph, "");
  addInputs();
  // Unsupported ops and unresolved inputs are reported before anything is
  // read or computed.
  if (auto err = diags.take())
    return err;
  if (auto err = addInitializers(graph))
    return err;
  importNodes(graph, "");
  if (diags.lines.empty())
    if (auto err = addResults())
      return err;
  if (auto err = diags.take())
    return err;
  if (g.f.results.empty())
    return invalid("the graph has no outputs");
  g.f.compact();
  Module m;
  m.functions.push_back(std::move(g.f));
  if (auto err = verifyModule(m))
    return invalid("the imported module does not verify: {}",
                   llvm::toString(std::move(err)));
  return m;
}

} // namespace
} // namespace onnximport

llvm::Expected<Module> importOnnxFile(llvm::StringRef path,
                                      const ImportOptions &opts) {
  onnximport::Limits limits;
  auto model = onnximport::readModelProto(path, limits);
  if (!model)
    return model.takeError();
  onnximport::TensorReader reader(
      llvm::sys::path::parent_path(path).empty()
          ? "."
          : llvm::sys::path::parent_path(path).str(),
      limits);
  onnximport::GraphImporter importer(*model, reader, opts);
  return importer.run();
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> lines;
  for (const onnximport::OpImport &row : onnximport::opImportTable())
    lines.push_back(fmt::format("{} {} opsets {}-{}",
                                row.domain.empty() ? "ai.onnx" : row.domain,
                                row.opType, row.firstOpset, row.lastOpset));
  return lines;
}

} // namespace mnc
